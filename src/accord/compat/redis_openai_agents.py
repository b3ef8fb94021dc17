"""redis-openai-agents' coordination API on accord:
``from accord.compat.redis_openai_agents import AgentCoordinator, AtomicOperations, EventType``.

- ``AgentCoordinator(session_id=, redis_url=)``: the session is an accord namespace.
  ``publish(EventType.X, data)`` emits an event named ``X.value``; ``async for event in
  subscribe(timeout=)`` yields the events emitted from then on (``.type``: the
  EventType, or the event's name for names outside it; ``.data``: the payload) and ends
  after ``timeout`` seconds without one; ``set_state``/``get_state``/``get_all_state``
  read and write the state map ``"state"`` of the session; ``clear()`` drops the
  session's namespace (everything in it).
- ``AtomicOperations(redis_url=)``: ``claim_handoff(session_id, agent_id)`` is True for
  exactly one claimant until ``release_handoff(session_id)`` (a create-only write of
  the state map ``"handoffs"`` in the namespace ``redis_openai_agents``, which
  ``clear()`` drops). For work handed to one agent or role with a result to wait for,
  accord's own ``coord.handoff(...)`` / ``coord.handoffs.claim(...)`` do more.

``redis_url`` takes any accord URL. No silent fallback: an unreachable store raises.
Like the seed's objects these need no closing: each call opens a connection and closes
it before it returns (a subscription holds one while it is iterated); code that makes
many calls is faster on accord's own API, with one coordinator.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from typing import Any

import accord
from accord.errors import VersionConflict

__all__ = ["AgentCoordinator", "AtomicOperations", "CoordinationEvent", "EventType"]

HANDOFFS_NAMESPACE = "redis_openai_agents"


class EventType(enum.Enum):
    """The seed's event types; the value is the accord event name."""

    HANDOFF_READY = "handoff_ready"
    AGENT_READY = "agent_ready"


class CoordinationEvent:
    """An event as ``subscribe`` yields it: ``.type``, ``.data`` (and ``.id``,
    ``.source``, ``.time`` from accord)."""

    __slots__ = ("data", "id", "source", "time", "type")

    def __init__(self, event: accord.Event) -> None:
        known = {t.value: t for t in EventType}
        self.type: EventType | str = known.get(event.name, event.name)
        self.data: Any = event.data
        self.id, self.source, self.time = event.id, event.source, event.time

    def __repr__(self) -> str:
        return f"CoordinationEvent(type={self.type!r}, data={self.data!r})"


class AgentCoordinator:
    """A coordination session: events, shared state and cleanup in namespace
    ``session_id`` of the store ``redis_url``."""

    def __init__(self, session_id: str, redis_url: str | None = None) -> None:
        self.session_id = session_id
        self._url = redis_url

    def _connect(self) -> accord.AsyncCoordinator:
        return accord.connect_async(self._url, namespace=self.session_id)

    async def publish(self, event_type: EventType, data: Any = None) -> str:
        """Emit ``event_type`` with ``data``; return the event's id."""
        if not isinstance(event_type, EventType):
            raise TypeError(f"publish() takes an EventType, not {type(event_type).__name__}")
        async with self._connect() as coord:
            return await coord.emit(event_type.value, data)

    async def subscribe(self, timeout: float | None = None) -> AsyncIterator[CoordinationEvent]:
        """The events emitted from now on; ends after ``timeout`` seconds without one."""
        async with self._connect() as coord:
            async for event in coord.events.subscribe("*", timeout=timeout):
                yield CoordinationEvent(event)

    async def set_state(self, key: str, value: Any) -> None:
        async with self._connect() as coord:
            await coord.state("state").set(key, value)

    async def get_state(self, key: str) -> Any:
        """The value of ``key``, or None when it was never set."""
        async with self._connect() as coord:
            entry = await coord.state("state").get(key)
        return None if entry is None else entry.value

    async def get_all_state(self) -> dict[str, Any]:
        async with self._connect() as coord:
            return {key: entry.value async for key, entry in coord.state("state").items()}

    async def clear(self) -> None:
        """Drop everything of the session (its namespace) from the store."""
        async with self._connect() as coord:
            await coord.drop_namespace(confirm=self.session_id)


class AtomicOperations:
    """Handoffs that exactly one agent can claim."""

    def __init__(self, redis_url: str | None = None) -> None:
        self._url = redis_url

    def _connect(self) -> accord.AsyncCoordinator:
        return accord.connect_async(self._url, namespace=HANDOFFS_NAMESPACE)

    async def claim_handoff(self, session_id: str, agent_id: str) -> bool:
        """True for exactly one claimant of ``session_id``'s handoff until it is released."""
        async with self._connect() as coord:
            try:
                await coord.state("handoffs").set(session_id, agent_id, expected_version=0)
            except VersionConflict:
                return False
        return True

    async def release_handoff(self, session_id: str) -> bool:
        """Free the handoff for the next claim; False if it was not claimed."""
        async with self._connect() as coord:
            return await coord.state("handoffs").delete(session_id)

    async def clear(self) -> None:
        """Drop every handoff claim."""
        async with self._connect() as coord:
            await coord.drop_namespace(confirm=HANDOFFS_NAMESPACE)
