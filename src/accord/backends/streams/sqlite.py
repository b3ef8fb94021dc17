"""The streams' storage on SQLite: a mixin of ``SqliteBackend`` running the named
queries of ``queries.sql`` on the calling thread's connection."""

from __future__ import annotations

from typing import Any

from accord.backends._sql import queries
from accord.backends.streams.records import StreamRecords
from accord.backends.streams.rule import StreamEntry, StreamMeta

_Q = queries("streams")


class SqliteStreams(StreamRecords):
    """Stream storage hooks, always inside a transaction of the backend."""

    _local: Any  # the backend's per-thread connection state (``_sqlite_file._Local``)
    namespace: str

    def _load_stream_meta(self, stream: str) -> StreamMeta | None:
        row = self._local.cur.execute(_Q["LOAD_STREAM"], (self.namespace, stream)).fetchone()
        return None if row is None else StreamMeta(*row)

    def _save_stream_meta(self, stream: str, meta: StreamMeta) -> None:
        row = (self.namespace, stream, meta.last, meta.head, meta.base)
        self._local.cur.execute(_Q["SAVE_STREAM"], row)

    def _add_stream_entry(self, stream: str, entry: StreamEntry) -> None:
        self._local.cur.execute(_Q["ADD_STREAM_ENTRY"], (self.namespace, stream, *entry))

    def _drop_stream_entries(self, stream: str, upto: int) -> None:
        self._local.cur.execute(_Q["DROP_STREAM_ENTRIES"], (self.namespace, stream, upto))

    def _stream_entries(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        rows = self._local.cur.execute(
            _Q["STREAM_ENTRIES"], (self.namespace, stream, after, limit)
        ).fetchall()
        return [StreamEntry(*row) for row in rows]
