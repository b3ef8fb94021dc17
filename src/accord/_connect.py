"""``connect()`` and ``connect_async()``: a URL in, a coordinator out; ``session()``
and ``session_async()``: the same, registered as an agent with a heartbeat."""

from __future__ import annotations

import os
import socket
from collections.abc import Generator
from types import TracebackType
from typing import Any

from accord import _validate
from accord._async.coordinator import AsyncCoordinator
from accord._sync.coordinator import Coordinator
from accord.backends import open_async_backend, open_backend, resolve_url
from accord.errors import ConfigError

DEFAULT_MAX_EVENTS = 100_000


def default_agent() -> str:
    """``<hostname>:<pid>``, the agent name when none is given."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _options(namespace: str, agent: str | None, max_payload: int) -> tuple[str, str, int]:
    _validate.name(namespace, "namespace")
    agent = _validate.name(agent if agent is not None else default_agent(), "agent")
    if isinstance(max_payload, bool) or not isinstance(max_payload, int) or max_payload < 1:
        raise ConfigError(f"max_payload must be a whole number of bytes >= 1, got {max_payload!r}")
    return namespace, agent, max_payload


def connect(
    url: str | None = None,
    *,
    namespace: str = "default",
    agent: str | None = None,
    max_payload: int = _validate.DEFAULT_MAX_PAYLOAD,
    max_events: int = DEFAULT_MAX_EVENTS,
    audit_locks: bool = False,
    audit_keep: int | None = None,
) -> Coordinator:
    """A coordinator on ``url``, else ``ACCORD_URL``, else the default SQLite store:
    ``.accord/accord.db`` in the nearest directory upward from the working directory
    that has ``.accord/``, else at the top of the git repository, else in the working
    directory. A relative SQLite path is made absolute here, once (``coord.url``
    shows it).

    ``namespace`` isolates everything; ``agent`` is the name people see (default
    ``<hostname>:<pid>``); ``max_payload`` caps a stored value or event payload in
    bytes (1 MiB); ``max_events`` bounds the event log (the oldest are trimmed).
    ``audit_locks=True`` writes every lock acquisition and release to the audit log;
    ``audit_keep`` keeps its newest N entries (None: all; the event log's cap never
    trims it). Raises ConfigError for an unknown scheme or a bad URL.
    """
    namespace, agent, max_payload = _options(namespace, agent, max_payload)
    _validate.count(max_events, "max_events")
    _audit_options(audit_locks, audit_keep)
    url = resolve_url(url)
    backend = open_backend(url, namespace)
    return Coordinator(
        backend, agent=agent, url=url, max_payload=max_payload, max_events=max_events,
        audit_locks=audit_locks, audit_keep=audit_keep,
    )


def connect_async(
    url: str | None = None,
    *,
    namespace: str = "default",
    agent: str | None = None,
    max_payload: int = _validate.DEFAULT_MAX_PAYLOAD,
    max_events: int = DEFAULT_MAX_EVENTS,
    audit_locks: bool = False,
    audit_keep: int | None = None,
) -> AsyncCoordinator:
    """The asyncio twin of :func:`connect`: same arguments, awaitable methods."""
    namespace, agent, max_payload = _options(namespace, agent, max_payload)
    _validate.count(max_events, "max_events")
    _audit_options(audit_locks, audit_keep)
    url = resolve_url(url)
    backend = open_async_backend(url, namespace)
    return AsyncCoordinator(
        backend, agent=agent, url=url, max_payload=max_payload, max_events=max_events,
        audit_locks=audit_locks, audit_keep=audit_keep,
    )


def _audit_options(audit_locks: bool, audit_keep: int | None) -> None:
    if not isinstance(audit_locks, bool):
        raise ConfigError(f"audit_locks must be True or False, got {audit_locks!r}")
    if audit_keep is not None:
        _validate.count(audit_keep, "audit_keep")


def session(
    url: str | None = None,
    *,
    name: str,
    role: str = "",
    working_on: str = "",
    namespace: str = "default",
    capabilities: tuple[str, ...] = (),
    heartbeat: float = 10.0,
    max_payload: int = _validate.DEFAULT_MAX_PAYLOAD,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> Coordinator:
    """A coordinator that is agent ``name``'s session: it registers the agent (role,
    what it works on, capabilities, host and pid), keeps a heartbeat lease of
    ``heartbeat`` seconds alive, counts every coordination call as progress, and on
    ``close()`` (or leaving ``with``) releases its leases and deregisters. Raises
    AgentExists while another live session has the name in the namespace."""
    coord = connect(url, namespace=namespace, agent=name, max_payload=max_payload,
                    max_events=max_events)
    try:
        coord._start_session(role=role, working_on=working_on, capabilities=capabilities,
                             heartbeat=heartbeat)
    except BaseException:
        coord.close()
        raise
    return coord


class _Opening:
    """``session_async(...)``: ``await`` it for the coordinator, or ``async with`` it
    (which closes the session at the end)."""

    def __init__(self, coord: AsyncCoordinator, options: dict[str, Any]) -> None:
        self._coord = coord
        self._options = options

    async def _start(self) -> AsyncCoordinator:
        try:
            await self._coord._start_session(**self._options)
        except BaseException:
            await self._coord.aclose()
            raise
        return self._coord

    def __await__(self) -> Generator[Any, None, AsyncCoordinator]:
        return self._start().__await__()

    async def __aenter__(self) -> AsyncCoordinator:
        return await self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._coord.aclose()


def session_async(
    url: str | None = None,
    *,
    name: str,
    role: str = "",
    working_on: str = "",
    namespace: str = "default",
    capabilities: tuple[str, ...] = (),
    heartbeat: float = 10.0,
    max_payload: int = _validate.DEFAULT_MAX_PAYLOAD,
    max_events: int = DEFAULT_MAX_EVENTS,
) -> _Opening:
    """The asyncio twin of :func:`session`: ``async with accord.session_async(...) as
    coord`` or ``coord = await accord.session_async(...)`` (then ``await
    coord.aclose()``). The heartbeat runs as a task of the loop that opened it."""
    coord = connect_async(url, namespace=namespace, agent=name, max_payload=max_payload,
                          max_events=max_events)
    return _Opening(coord, {"role": role, "working_on": working_on,
                            "capabilities": capabilities, "heartbeat": heartbeat})
