"""The streams' storage in memory: a mixin of ``MemoryBackend`` over its namespace's
:class:`StreamSpace` (``_Space.streams``)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from accord.backends.streams.records import StreamRecords
from accord.backends.streams.rule import StreamEntry, StreamMeta


@dataclass
class StreamSpace:
    """The streams of one namespace: meta and entries (oldest first) by name."""

    meta: dict[str, StreamMeta] = field(default_factory=dict)
    entries: dict[str, deque[StreamEntry]] = field(default_factory=dict)


class MemoryStreams(StreamRecords):
    """Stream storage hooks; ``_streams`` is the namespace's StreamSpace."""

    _space: Any  # memory's _Space of this namespace

    @property
    def _streams(self) -> StreamSpace:
        found: StreamSpace = self._space.streams
        return found

    def _load_stream_meta(self, stream: str) -> StreamMeta | None:
        return self._streams.meta.get(stream)  # moved on in place, under the store's lock

    def _save_stream_meta(self, stream: str, meta: StreamMeta) -> None:
        self._streams.meta[stream] = meta

    def _add_stream_entry(self, stream: str, entry: StreamEntry) -> None:
        entries = self._streams.entries.get(stream)
        if entries is None:
            entries = self._streams.entries[stream] = deque()
        entries.append(entry)

    def _drop_stream_entries(self, stream: str, upto: int) -> None:
        entries = self._streams.entries[stream]
        while entries and entries[0].id <= upto:
            entries.popleft()

    def _stream_entries(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        entries = self._streams.entries.get(stream)
        if not entries:
            return []
        # ids are consecutive unless someone deleted one: guess the place, then step
        start = max(0, min(after - entries[0].id + 1, len(entries)))
        while start > 0 and entries[start - 1].id > after:
            start -= 1
        while start < len(entries) and entries[start].id <= after:
            start += 1
        return [entries[i] for i in range(start, min(start + limit, len(entries)))]
