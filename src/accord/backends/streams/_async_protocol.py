"""The ``streams`` capability: named append-only streams, kept in full unless a
retention is given, each a hash chain (see ``rule.py``).

Streams are not the event log: the log's ``max_events`` cap never trims them, and
their ids are per stream (1, 2, 3 ... with no gap). The audit log is one
(``rule.AUDIT``); each board thread's replies are another. Each operation is atomic:
one Lua script or command on Redis, one transaction on SQLite, one critical section
in memory.
"""

from __future__ import annotations

from typing import Protocol

from accord.backends._async.store import AsyncStore
from accord.backends.streams.rule import StreamEntry, StreamMeta


class AsyncStreams(AsyncStore, Protocol):
    """Append, read after an id, and the meta (last id, head hash, base) of streams."""

    async def stream_append(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        """Append an entry (``data``: canonical JSON text) with the next id, the store's
        time and the hash chain; with ``keep``, drop the entries older than the newest
        ``keep`` in the same step."""
        ...

    async def stream_read(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        """Up to ``limit`` entries with ids above ``after``, oldest first ([] for a
        stream never written)."""
        ...

    async def stream_meta(self, streams: list[str]) -> list[StreamMeta]:
        """The meta of each stream, in order (``StreamMeta()`` for one never written):
        one round trip however many."""
        ...
