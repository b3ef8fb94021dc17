"""Event-log rules of the memory and SQLite backends, free of I/O.

Consumer groups: each event after the group's cursor is claimed by one consumer for
``visibility`` seconds; an acknowledged claim is dropped, an expired one is claimed
again by the next reader (at-least-once delivery when a consumer dies).

Barriers: arrivals join the current round; the last arrival releases the round (every
waiter's mailbox gets ``go``); a waiter that times out breaks the round (``broken``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accord._event import EventRecord
from accord.backends._core import Signal


@dataclass
class GroupRecord:
    cursor: int
    pending: dict[int, tuple[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"cursor": self.cursor, "pending": [[k, *v] for k, v in self.pending.items()]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupRecord:
        return cls(data["cursor"], {k: (c, d) for k, c, d in data["pending"]})


def group_claim(
    rec: GroupRecord,
    consumer: str,
    now: float,
    visibility: float,
    limit: int,
    after: Callable[[int, int], list[EventRecord]],
    by_id: Callable[[int], EventRecord | None],
    skip: int = 0,
) -> list[EventRecord]:
    """Claim expired claims first (oldest first), then new events after the cursor,
    which first moves on to ``skip`` if it is behind: the caller knows that no event
    up to ``skip`` is for this group."""
    out: list[EventRecord] = []
    for eid in sorted(rec.pending):
        if len(out) >= limit:
            break
        if rec.pending[eid][1] > now:
            continue
        event = by_id(eid)
        if event is None:  # trimmed by retention: nothing left to deliver
            del rec.pending[eid]
            continue
        rec.pending[eid] = (consumer, now + visibility)
        out.append(event)
    if len(out) < limit:
        rec.cursor = max(rec.cursor, skip)
        for event in after(rec.cursor, limit - len(out)):
            rec.pending[int(event.id)] = (consumer, now + visibility)
            rec.cursor = int(event.id)
            out.append(event)
    return out


@dataclass
class BarrierRecord:
    round: int = 0
    waiters: list[str] = field(default_factory=list)


def barrier_arrive(rec: BarrierRecord, parties: int, waiter: str) -> tuple[int, list[Signal]]:
    """Join the round; return the arrival index and, for the last, whom to release."""
    if waiter not in rec.waiters:
        rec.waiters.append(waiter)
    index = rec.waiters.index(waiter)
    if len(rec.waiters) < parties:
        return index, []
    signals = [(w, "go") for w in rec.waiters]
    rec.round += 1
    rec.waiters = []
    return index, signals


def barrier_break(rec: BarrierRecord, waiter: str) -> tuple[bool, list[Signal]]:
    """Break the round ``waiter`` is in; False if that round was already released."""
    if waiter not in rec.waiters:
        return False, []
    signals = [(w, "broken") for w in rec.waiters if w != waiter]
    rec.round += 1
    rec.waiters = []
    return True, signals
