"""Backends behind one seam, chosen by URL scheme.

=====================  ====================================================
``memory://[name]``    one process; stores with one name are shared in it
``sqlite:///rel/path`` one machine, many processes (path relative to the cwd)
``sqlite:////abs/path`` the same with an absolute path
``redis://...``        many machines (``rediss://`` for TLS), as redis-py reads it
=====================  ====================================================
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from accord.errors import ConfigError

if TYPE_CHECKING:
    from accord.backends._async.protocol import AsyncBackend
    from accord.backends._sync.protocol import Backend

DEFAULT_URL = "sqlite:///.accord/accord.db"
ACCEPTED = (
    "memory://, sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "redis://[:password@]host[:port][/db] or rediss://..."
)


_SECRET = re.compile(r":[^:@/?#]*@")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:password|pass|pwd)=)[^&#]*")


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe for messages and logs.

    Works on malformed URLs too (``redis//:pw@host``): whatever sits between a colon
    and an ``@`` is hidden, and so is a ``?password=`` query parameter.
    """
    return _QUERY_SECRET.sub(r"\1***", _SECRET.sub(":***@", url))


def resolve_url(url: str | None) -> str:
    """The argument, else ``ACCORD_URL``, else the SQLite default under the cwd."""
    if url is None:
        url = os.environ.get("ACCORD_URL") or DEFAULT_URL
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"the store URL must be a non-empty string; accepted: {ACCEPTED}")
    return url.strip()


def _scheme(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    if not sep or scheme not in ("memory", "sqlite", "redis", "rediss"):
        raise ConfigError(f"unsupported store URL {redact(url)!r}; accepted: {ACCEPTED}")
    return scheme


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite:///`` URL."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/" or "?" in rest:
        raise ConfigError(f"bad SQLite URL {url!r}; use sqlite:///relative/path.db or "
                          "sqlite:////absolute/path.db")
    return Path(rest[1:])


def memory_name(url: str) -> str:
    return url[len("memory://") :] or "default"


def open_backend(url: str, namespace: str) -> Backend:
    """A sync backend for ``url`` bound to ``namespace``."""
    scheme = _scheme(url)
    if scheme == "memory":
        from accord.backends.memory import MemoryBackend, shared_store

        return MemoryBackend(shared_store(memory_name(url)), namespace)
    if scheme == "sqlite":
        from accord.backends.sqlite import SqliteBackend

        return SqliteBackend(sqlite_path(url), namespace)
    from accord.backends.redis import RedisBackend

    return RedisBackend(url, namespace)


def open_async_backend(url: str, namespace: str) -> AsyncBackend:
    """An async backend for ``url`` bound to ``namespace``."""
    scheme = _scheme(url)
    if scheme == "memory":
        from accord.backends.memory import async_memory_backend

        return async_memory_backend(memory_name(url), namespace)
    if scheme == "sqlite":
        from accord.backends.sqlite import async_sqlite_backend

        return async_sqlite_backend(sqlite_path(url), namespace)
    from accord.backends.redis import AsyncRedisBackend

    return AsyncRedisBackend(url, namespace)
