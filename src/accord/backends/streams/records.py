"""The stream operations of the seam for record stores (memory, SQLite): each one
transaction around the rule of ``rule.py``. :meth:`StreamRecords._stream_add` is the
append inside a transaction, for the approvals to audit a decision in the same one."""

from __future__ import annotations

import abc

from accord.backends._record_base import RecordBase
from accord.backends.streams import rule
from accord.backends.streams.rule import StreamEntry, StreamMeta


class StreamRecords(RecordBase):
    """Streams over record storage; storage always inside _transaction()."""

    @abc.abstractmethod
    def _load_stream_meta(self, stream: str) -> StreamMeta | None: ...

    @abc.abstractmethod
    def _save_stream_meta(self, stream: str, meta: StreamMeta) -> None: ...

    @abc.abstractmethod
    def _add_stream_entry(self, stream: str, entry: StreamEntry) -> None: ...

    @abc.abstractmethod
    def _drop_stream_entries(self, stream: str, upto: int) -> None:
        """Delete the entries with ids up to ``upto`` (retention)."""

    @abc.abstractmethod
    def _stream_entries(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        """Up to ``limit`` entries above id ``after``, oldest first."""

    def _stream_add(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        """Append inside the running transaction."""
        meta = self._load_stream_meta(stream) or StreamMeta()
        entry = rule.append(meta, source, data, round(self._wall() * 1_000_000))
        self._add_stream_entry(stream, entry)
        cut = rule.trim_to(meta, keep)
        if cut:
            self._drop_stream_entries(stream, cut)
        self._save_stream_meta(stream, meta)
        return entry

    # the seam -----------------------------------------------------------------------
    def stream_append(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        with self._transaction():
            return self._stream_add(stream, source, data, keep)

    def stream_read(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        with self._transaction(write=False):
            return self._stream_entries(stream, after, limit)

    def stream_meta(self, streams: list[str]) -> list[StreamMeta]:
        with self._transaction(write=False):
            found = [self._load_stream_meta(s) or StreamMeta() for s in streams]
            return [StreamMeta(m.last, m.head, m.base) for m in found]  # copies, as read
