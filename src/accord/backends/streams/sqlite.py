"""The streams' storage on SQLite: a mixin of ``SqliteBackend`` running the named
queries of ``queries.sql`` on the calling thread's connection.

An append reads the stream's meta, adds the entry and writes the meta back: three
statements. When this process appended last to the stream it knows the meta already,
so it skips the read: it writes the meta on from the one it knows only if the file
still has that one (one conditional UPDATE), and else appends the long way."""

from __future__ import annotations

from typing import Any

from accord.backends._sql import queries
from accord.backends.streams import rule
from accord.backends.streams.records import StreamRecords
from accord.backends.streams.rule import StreamEntry, StreamMeta

_Q = queries("streams")
KNOWN_LIMIT = 1024  # streams whose meta a process remembers (all forgotten past it)


class SqliteStreams(StreamRecords):
    """Stream storage hooks, always inside a transaction of the backend."""

    _local: Any  # the backend's per-thread connection state (``_sqlite_file._Local``)
    namespace: str
    _known: dict[str, StreamMeta] | None = None  # meta this process wrote last, by stream

    def _stream_add(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        known = self._known
        if known is None or len(known) > KNOWN_LIMIT:
            known = self._known = {}
        seen = known.pop(stream, None)
        if seen is not None:
            meta = StreamMeta(seen.last, seen.head, seen.base)
            entry = rule.append(meta, source, data, round(self._wall() * 1_000_000))
            cut = rule.trim_to(meta, keep)
            row = (meta.last, meta.head, meta.base, self.namespace, stream, *_fields(seen))
            if self._local.cur.execute(_Q["ADVANCE_STREAM"], row).rowcount:
                self._add_stream_entry(stream, entry)
                if cut:
                    self._drop_stream_entries(stream, cut)
                known[stream] = meta
                return entry
        return super()._stream_add(stream, source, data, keep)  # its save notes the meta

    def _load_stream_meta(self, stream: str) -> StreamMeta | None:
        row = self._local.cur.execute(_Q["LOAD_STREAM"], (self.namespace, stream)).fetchone()
        return None if row is None else StreamMeta(*row)

    def _save_stream_meta(self, stream: str, meta: StreamMeta) -> None:
        row = (self.namespace, stream, meta.last, meta.head, meta.base)
        self._local.cur.execute(_Q["SAVE_STREAM"], row)
        if self._known is not None:
            self._known[stream] = StreamMeta(meta.last, meta.head, meta.base)

    def _add_stream_entry(self, stream: str, entry: StreamEntry) -> None:
        self._local.cur.execute(_Q["ADD_STREAM_ENTRY"], (self.namespace, stream, *entry))

    def _drop_stream_entries(self, stream: str, upto: int) -> None:
        self._local.cur.execute(_Q["DROP_STREAM_ENTRIES"], (self.namespace, stream, upto))

    def _stream_entries(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        rows = self._local.cur.execute(
            _Q["STREAM_ENTRIES"], (self.namespace, stream, after, limit)
        ).fetchall()
        return [StreamEntry(*row) for row in rows]


def _fields(meta: StreamMeta) -> tuple[int, str, int]:
    return meta.last, meta.head, meta.base
