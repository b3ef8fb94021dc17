"""Store URLs made safe to show: in messages, logs and the CLI."""

from __future__ import annotations

import re

_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|pass|pwd)=)[^&#]*")


def redact(url: str) -> str:
    """``url`` with its credentials replaced by ``***``, safe for messages and logs.

    Everything between ``//`` and the last ``@`` is hidden (user and password, even
    one holding ``@``, ``:``, ``/``, ``#`` or ``?``), and so is a ``?password=`` query
    parameter. Works on URLs that do not parse too: without ``//``, everything before
    the last ``@`` is hidden. A ``sqlite:///`` path and a ``memory://`` name are
    shown as they are.
    """
    if url.startswith(("sqlite:///", "memory:")) and "://" in url:
        return url  # a path or a name, no credentials; it may hold '@'
    head, sep, rest = url.partition("//")
    if not sep:
        head, rest = "", url
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return _QUERY_SECRET.sub(r"\1***", head + sep + rest)
