"""The event-log operations of the seam for record stores (memory, SQLite).

Like the other features' ``records.py``, each operation is one transaction around
the rule of ``rule.py``; wake-ups go out after the commit. A reader with nothing to
read opens a *bell* (a mailbox rung by every append), reads once more so that no
append is missed, and then sleeps on it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

from accord._event import EventRecord
from accord.backends._record_base import RecordBase
from accord.backends._sync.store import Mailbox
from accord.backends._sync.waiting import read_or_wait
from accord.backends.events import rule as rules
from accord.backends.events.rule import GroupRecord
from accord.errors import ConfigError, Halted

LAST_ID = 2**63 - 1  # SQLite's largest integer: no event of a record store is above it


def event_id(value: str | None) -> int:
    """The integer behind an event id of a record store (None: before the first).

    An id past any possible event reads as the last one (nothing comes after it)."""
    if value is None:
        return 0
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise ConfigError(
            f"event id {value!r} is not an event id of this store: here an id is the "
            "digits of an Event's .id ('17')"
        )
    return min(int(value), LAST_ID)


class EventRecords(RecordBase):
    """Event log and consumer groups over record storage."""

    interrupts = 0  # interrupt_reads calls so far: a read that sees it change ends

    @abc.abstractmethod
    def open_bell(self) -> Mailbox:
        """A mailbox that gets a message after every append to this namespace's log."""

    @abc.abstractmethod
    def _ring(self) -> None:
        """Ring every open bell of the namespace (after the append committed)."""

    @abc.abstractmethod
    def _append_event(
        self, name: str, data: str, source: str, time: float, max_events: int
    ) -> EventRecord:
        """Store the next event (ids grow by one) and trim the oldest beyond max_events."""

    @abc.abstractmethod
    def _events_after(self, after: int, limit: int) -> list[EventRecord]: ...

    @abc.abstractmethod
    def _event_by_id(self, event: int) -> EventRecord | None: ...

    @abc.abstractmethod
    def _event_tail(self) -> int: ...

    @abc.abstractmethod
    def _event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        """Newest first."""

    @abc.abstractmethod
    def _load_group(self, group: str) -> GroupRecord | None: ...

    @abc.abstractmethod
    def _halt_reason(self) -> str | None:
        """Why the namespace is halted (appends are refused then), or None."""

    @abc.abstractmethod
    def _save_group(self, group: str, rec: GroupRecord) -> None: ...

    # the seam -------------------------------------------------------------------
    def event_append(self, name: str, data: str, source: str, max_events: int) -> EventRecord:
        with self._transaction():
            reason = self._halt_reason()
            if reason is not None:
                raise Halted(self.namespace, reason)
            record = self._append_event(name, data, source, self._wall(), max_events)
        self._ring()
        return record

    def event_read(self, after: str | None, limit: int, timeout: float) -> list[EventRecord]:
        start = event_id(after)

        def read() -> list[EventRecord]:
            with self._transaction(write=False):
                return self._events_after(start, limit)

        return read_or_wait(read, self.open_bell, timeout, self.interrupted_since())

    def interrupted_since(self) -> Callable[[], bool]:
        """True once interrupt_reads is called after now."""
        since = self.interrupts
        return lambda: self.interrupts != since

    def event_tail(self) -> str:
        with self._transaction(write=False):
            return str(self._event_tail())

    def event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        with self._transaction(write=False):
            return self._event_history(name, source, limit)

    def group_create(self, group: str) -> None:
        with self._transaction():
            if self._load_group(group) is None:
                self._save_group(group, GroupRecord(self._event_tail()))

    def group_read(
        self, group: str, consumer: str, visibility: float, limit: int, timeout: float,
        skip_to: str | None = None,
    ) -> list[EventRecord]:
        skip = event_id(skip_to)

        def claim() -> list[EventRecord]:
            with self._transaction():
                rec = self._load_group(group) or GroupRecord(self._event_tail())
                found = rules.group_claim(
                    rec, consumer, self._now(), visibility, limit, self._events_after,
                    self._event_by_id, skip,
                )
                self._save_group(group, rec)
            return found

        return read_or_wait(claim, self.open_bell, timeout, self.interrupted_since())

    def group_ack(self, group: str, ids: list[str]) -> None:
        with self._transaction():
            rec = self._load_group(group)
            if rec is None:
                return
            for eid in ids:
                rec.pending.pop(event_id(eid), None)
            self._save_group(group, rec)

    def interrupt_reads(self) -> bool:
        self.interrupts += 1
        self._ring()
        return True


