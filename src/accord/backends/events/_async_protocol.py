"""The ``events`` capability: the namespace's durable event log and its consumer groups.

Reads that find nothing wait for a new event (pushed, never polled): memory and SQLite
sleep on a bell (``backends/_async/waiting.py``), Redis blocks in the server.
"""

from __future__ import annotations

from typing import Protocol

from accord._event import EventRecord
from accord.backends._async.store import AsyncStore


class AsyncEventLog(AsyncStore, Protocol):
    """An append-only log capped at ``max_events``, read by id; consumer groups."""

    async def event_append(
        self, name: str, data: str, source: str, max_events: int
    ) -> EventRecord:
        """Append an event (``data`` is JSON text); keep only the newest ``max_events``."""
        ...

    async def event_read(self, after: str | None, limit: int, timeout: float) -> list[EventRecord]:
        """Events after id ``after`` (None: the oldest kept), oldest first; when there
        are none, wait up to ``timeout`` seconds for one (pushed, never polled)."""
        ...

    async def event_tail(self) -> str:
        """The id of the newest event (a lowest id when the log is empty)."""
        ...

    async def event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        """The newest ``limit`` events of that name and source, newest first."""
        ...

    async def group_create(self, group: str) -> None:
        """Create consumer group ``group`` at the end of the log, if it does not exist."""
        ...

    async def group_read(
        self, group: str, consumer: str, visibility: float, limit: int, timeout: float,
        skip_to: str | None = None,
    ) -> list[EventRecord]:
        """Claim up to ``limit`` events for ``consumer`` for ``visibility`` seconds:
        claims that expired unacknowledged first, then new events; wait up to
        ``timeout`` seconds when there are none.

        ``skip_to``, an event id: no event up to it is for this group (the caller read
        them, and none matches its pattern), so the group's cursor may move on to it
        first, if it is behind, without claiming them: a group with a narrow pattern
        does not walk the events of everyone else."""
        ...

    async def group_ack(self, group: str, ids: list[str]) -> None:
        """Acknowledge handled events: they are never delivered to the group again."""
        ...

    async def interrupt_reads(self) -> bool:
        """End the event_read and group_read calls in progress on this backend without
        waiting out their timeout (they return what they find, maybe nothing); later
        reads wait as usual. close() uses it to stop a coordinator's readers at once.
        Readers elsewhere on the namespace may wake once. True when the reads end now,
        so that close() waits for them before closing the store; False when they end
        only at close() (Redis: a read blocked in the server ends when close()
        disconnects the pool)."""
        ...
