"""Backends behind one seam, chosen by URL scheme.

=====================  ====================================================
``memory://[name]``    one process; stores with one name are shared in it
``sqlite:///rel/path`` one machine, many processes (path relative to the cwd)
``sqlite:////abs/path`` the same with an absolute path
``redis://...``        many machines (``rediss://`` for TLS), as redis-py reads it
=====================  ====================================================

A store of your own joins them with :func:`register`: it declares the capabilities it
implements in a ``capabilities`` frozenset (:data:`CAPABILITIES`: ``leases``,
``state``, ``rate_limits``, ``events``, ``signals``, ``tasks``, ``streams``,
``approvals``, ``agents``) and implements their protocols (:class:`Leases`,
:class:`StateStore`, :class:`RateLimits`, :class:`EventLog`, :class:`Signals`,
:class:`Tasks`, :class:`Streams`, :class:`ApprovalStore`, :class:`Agents`, each on
:class:`Store`, and their async twins; :class:`Backend` is all of them). A primitive
of a capability the store lacks raises ``Unsupported``
(:func:`require`), and ``accord.testing`` runs the part of the conformance suite of
the capabilities the store declares. A
package that names the registering module as an ``accord.backends`` entry point under
its scheme (``mystore = "mystore.register"``) is imported the first time a URL of
that scheme is opened, so the CLI opens it too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path

from accord.backends._async.protocol import (
    AsyncAgents,
    AsyncApprovalStore,
    AsyncBackend,
    AsyncEventLog,
    AsyncLeases,
    AsyncMailbox,
    AsyncRateLimits,
    AsyncSignals,
    AsyncStateStore,
    AsyncStore,
    AsyncStreams,
    AsyncTasks,
)
from accord.backends._capabilities import (
    AGENTS,
    APPROVALS,
    CAPABILITIES,
    EVENTS,
    LEASES,
    RATE_LIMITS,
    SIGNALS,
    STATE,
    STREAMS,
    TASKS,
    capabilities_of,
    require,
)
from accord.backends._redact import redact
from accord.backends._sqlite_path import absolute_url, default_url
from accord.backends._sync.protocol import (
    Agents,
    ApprovalStore,
    Backend,
    EventLog,
    Leases,
    Mailbox,
    RateLimits,
    Signals,
    StateStore,
    Store,
    Streams,
    Tasks,
)
from accord.errors import ConfigError

__all__ = [
    "AGENTS", "APPROVALS", "CAPABILITIES", "EVENTS", "LEASES", "RATE_LIMITS", "SIGNALS",
    "STATE", "STREAMS", "TASKS", "Agents", "ApprovalStore", "AsyncAgents",
    "AsyncApprovalStore", "AsyncBackend", "AsyncEventLog", "AsyncLeases",
    "AsyncMailbox", "AsyncRateLimits", "AsyncSignals", "AsyncStateStore", "AsyncStore",
    "AsyncStreams", "AsyncTasks", "Backend", "EventLog", "Leases", "Mailbox",
    "RateLimits", "Signals", "StateStore", "Store", "Streams", "Tasks",
    "capabilities_of", "open_async_backend", "open_backend", "redact", "register",
    "require", "resolve_url",
]  # fmt: skip

ACCEPTED = (
    "memory://, sqlite:///relative/path.db, sqlite:////absolute/path.db, "
    "redis://[:password@]host[:port][/db] or rediss://..."
)
_BUILT_IN = ("memory", "sqlite", "redis", "rediss")
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
# Openers take (url, namespace) and return a backend bound to that namespace.
_Openers = tuple[Callable[[str, str], Backend], Callable[[str, str], AsyncBackend]]
_REGISTERED: dict[str, _Openers] = {}


def register(
    scheme: str,
    open_sync: Callable[[str, str], Backend],
    open_async: Callable[[str, str], AsyncBackend],
) -> None:
    """Let ``connect()`` and ``connect_async()`` open ``<scheme>://`` URLs with a store
    of your own: ``open_sync(url, namespace)`` returns a ``Backend``,
    ``open_async(url, namespace)`` an ``AsyncBackend``. Registering a scheme again
    replaces its openers; a built-in scheme or a malformed one raises ConfigError."""
    if not isinstance(scheme, str) or not _SCHEME.match(scheme):
        raise ConfigError(
            f"bad scheme {scheme!r}: use a lowercase letter, then letters, digits, '+', '-' or '.'"
        )
    if scheme in _BUILT_IN:
        raise ConfigError(f"scheme {scheme!r} is built in; register your store under another name")
    if not callable(open_sync) or not callable(open_async):
        raise ConfigError("register() takes two openers: open_sync(url, namespace) and "
                          "open_async(url, namespace)")
    _REGISTERED[scheme] = (open_sync, open_async)


def resolve_url(url: str | None) -> str:
    """The argument, else ``ACCORD_URL``, else the default SQLite store (the nearest
    ``.accord/`` upward, see ``_sqlite_path``); a relative SQLite path made absolute."""
    if url is None:
        url = os.environ.get("ACCORD_URL") or default_url()
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"the store URL must be a non-empty string; accepted: {ACCEPTED}")
    return absolute_url(url.strip())


def _discover(scheme: str) -> bool:
    """Import the module an installed package names for ``scheme`` in its
    ``accord.backends`` entry points (importing it registers the scheme); True if
    the scheme is registered then."""
    for point in entry_points(group="accord.backends"):
        if point.name == scheme:
            try:
                point.load()
            except Exception as exc:  # whatever its import raised: the store is not there
                raise ConfigError(
                    f"the store for {scheme}:// ({point.value}, an accord.backends entry "
                    f"point) failed to import: {type(exc).__name__}: {exc}"
                ) from exc
            break
    return scheme in _REGISTERED


def _scheme(url: str) -> str:
    scheme, sep, _ = url.partition("://")
    known = bool(sep) and (scheme in _BUILT_IN or scheme in _REGISTERED or _discover(scheme))
    if not known:
        accepted = ", ".join([ACCEPTED, *(f"{s}://..." for s in sorted(_REGISTERED))])
        raise ConfigError(f"unsupported store URL {redact(url)!r}; accepted: {accepted}")
    return scheme


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite:///`` URL."""
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/" or "?" in rest:
        raise ConfigError(f"bad SQLite URL {redact(url)!r}; use sqlite:///relative/path.db or "
                          "sqlite:////absolute/path.db")
    return Path(rest[1:])


def memory_name(url: str) -> str:
    return url[len("memory://") :] or "default"


def open_backend(url: str, namespace: str) -> Backend:
    """A sync backend for ``url`` bound to ``namespace``."""
    scheme = _scheme(url)
    if scheme in _REGISTERED:
        return _REGISTERED[scheme][0](url, namespace)
    if scheme == "memory":
        from accord.backends.memory import MemoryBackend, shared_store

        return MemoryBackend(shared_store(memory_name(url)), namespace)
    if scheme == "sqlite":
        from accord.backends.sqlite import SqliteBackend

        return SqliteBackend(sqlite_path(url), namespace)
    _require_redis()
    from accord.backends.redis import RedisBackend

    return RedisBackend(url, namespace)


def open_async_backend(url: str, namespace: str) -> AsyncBackend:
    """An async backend for ``url`` bound to ``namespace``."""
    scheme = _scheme(url)
    if scheme in _REGISTERED:
        return _REGISTERED[scheme][1](url, namespace)
    if scheme == "memory":
        from accord.backends.memory import async_memory_backend

        return async_memory_backend(memory_name(url), namespace)
    if scheme == "sqlite":
        from accord.backends.sqlite import async_sqlite_backend

        return async_sqlite_backend(sqlite_path(url), namespace)
    _require_redis()
    from accord.backends.redis import AsyncRedisBackend

    return AsyncRedisBackend(url, namespace)


# --- Redis is an extra (accord[redis]): opening redis:// without it says so ---------------
def _require_redis() -> None:
    """ConfigError naming the extra to install when redis-py or hiredis is missing."""
    try:
        import hiredis  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"redis:// and rediss:// stores need redis-py and hiredis, and {exc.name} is "
            "not installed; install them with: pip install 'accord[redis]'"
        ) from None
