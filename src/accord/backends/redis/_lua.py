"""The Lua scripts of ``lua/``, shared by both twins: loaded once, called by SHA."""

from __future__ import annotations

import hashlib
from importlib import resources

from accord.backends._core import HISTORY_KEEP, MAX_CYCLE, MAX_FENCES, TRIM_SLACK

MAILBOX_TTL_MS = 60_000


class Script:
    """A script of ``lua/`` with the constants in front and its shared helpers
    (``prelude``) at its ``-- @helpers`` line, else in front: a fast path placed
    before that line does not pay for defining them."""

    HEADER = (
        f"local HISTORY_KEEP, TRIM_SLACK, MAX_CYCLE, MAILBOX_TTL_MS, MAX_FENCES = "
        f"{HISTORY_KEEP}, {TRIM_SLACK}, {MAX_CYCLE}, {MAILBOX_TTL_MS}, {MAX_FENCES}\n"
    )

    def __init__(self, name: str, prelude: str = "") -> None:
        self.name = name
        lua = resources.files("accord.backends.redis") / "lua"
        body = (lua / f"{name}.lua").read_text()
        helpers = (lua / f"{prelude}.lua").read_text() if prelude else ""
        before, marker, after = body.rpartition("-- @helpers")
        self.source = self.HEADER + before + helpers + marker + after
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
