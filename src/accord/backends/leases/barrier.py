"""The barrier rule of the memory and SQLite stores, free of I/O.

Arrivals join the current round; the last arrival releases the round (every waiter's
mailbox gets ``go``); a waiter that times out breaks the round (``broken``). Redis runs
it in ``lua/barrier_*.lua`` beside this file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accord.backends.signals.rule import Signal


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
