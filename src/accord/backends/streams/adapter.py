"""The async twin of the stream operations of a record store (memory, SQLite): a
mixin of ``_adapter.AsyncEventRecordBackend``, each operation run by its runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.backends.streams.rule import StreamEntry, StreamMeta

if TYPE_CHECKING:
    from accord.backends.streams.records import StreamRecords


class AsyncStreamCalls:
    """``stream_*`` of ``self.store``, awaited through ``self._call``."""

    store: StreamRecords
    _call: Any  # the backend's Runner

    async def stream_append(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        entry: StreamEntry = await self._call(self.store.stream_append, stream, source, data, keep)
        return entry

    async def stream_read(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        found: list[StreamEntry] = await self._call(self.store.stream_read, stream, after, limit)
        return found

    async def stream_meta(self, streams: list[str]) -> list[StreamMeta]:
        found: list[StreamMeta] = await self._call(self.store.stream_meta, streams)
        return found
