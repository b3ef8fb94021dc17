# Generated from src/accord/backends/streams/_async_protocol.py by scripts/unasync.py: do not edit.
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

from accord.backends._sync.store import Store
from accord.backends.streams.rule import StreamEntry, StreamMeta


class Streams(Store, Protocol):
    """Append, read after an id, and the meta (last id, head hash, base) of streams."""

    def stream_append(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        """Append an entry (``data``: canonical JSON text) with the next id, the store's
        time and the hash chain; with ``keep``, drop the entries older than the newest
        ``keep`` in the same step."""
        ...

    def stream_read(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        """Up to ``limit`` entries with ids above ``after``, oldest first ([] for a
        stream never written)."""
        ...

    def stream_meta(self, streams: list[str]) -> list[StreamMeta]:
        """The meta of each stream, in order (``StreamMeta()`` for one never written):
        one round trip however many."""
        ...
