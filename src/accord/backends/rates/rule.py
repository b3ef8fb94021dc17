"""The rate-limit rule (GCRA) of the memory and SQLite stores, free of I/O; Redis runs
it in ``lua/rate.lua`` beside this file."""

from __future__ import annotations


def gcra(tat: float, now: float, interval: float, burst: int, cost: int) -> tuple[float, float]:
    """Return (new theoretical arrival time, seconds to wait); wait 0 means admitted.

    ``interval`` is ``per / rate``; ``burst`` calls may pass at once, then one per
    interval. When the wait is above 0 nothing is consumed (``tat`` is returned as is).
    """
    start = max(tat, now)
    new_tat = start + cost * interval
    # small terms first: ``new_tat - burst * interval - now`` rounds at the clock's
    # magnitude, and refused a full burst of long intervals
    wait = (start - now) + (cost - burst) * interval
    if wait > 1e-9:
        return tat, wait
    return new_tat, 0.0
