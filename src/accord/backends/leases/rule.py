"""The lease rule of the memory and SQLite stores, free of I/O.

Both stores load a record, call one function here and store the result inside one
critical section (a mutex in memory, one ``BEGIN IMMEDIATE`` transaction in SQLite).
The Redis store implements the same rule in ``lua/`` beside this file; the
conformance suite holds all three to the same behaviour.

Leases (locks are leases with ``limit=1``, semaphores with ``limit=n``):

* an expired holder or waiter is dropped by the first operation that sees it;
* free slots go to the queue in FIFO order (``promote``), so a releaser that comes
  straight back queues behind the waiters instead of barging in;
* a promoted waiter is told through its mailbox (``Signal``), so hand-off is pushed;
* a holder that asks again gets a fresh grant (new token, the ttl asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accord._models import (
    AcquireResult,
    Deadlocked,
    Granted,
    HolderInfo,
    LeaseRequest,
    LeaseStatistics,
    Waiting,
)
from accord.backends.signals.rule import Signal

MAX_CYCLE = 64  # the longest wait-for cycle followed


@dataclass(slots=True)
class Holder:
    agent: str
    token: int
    ttl: float
    expires_at: float


@dataclass(slots=True)
class QueuedWaiter:
    waiter: str
    holder: str
    agent: str
    ttl: float
    expires_at: float


@dataclass
class LeaseRecord:
    """Everything stored for one lease key."""

    limit: int = 1
    token: int = 0
    holders: dict[str, Holder] = field(default_factory=dict)
    queue: list[QueuedWaiter] = field(default_factory=list)

    def to_json(self) -> list[Any]:
        """``[limit, token, [[holder, agent, token, ttl, expires_at]...],
        [[waiter, holder, agent, ttl, expires_at]...]]``: arrays, as they encode and
        decode faster than objects (SQLite reads and writes one on every operation)."""
        return [
            self.limit,
            self.token,
            [[k, h.agent, h.token, h.ttl, h.expires_at] for k, h in self.holders.items()],
            [[w.waiter, w.holder, w.agent, w.ttl, w.expires_at] for w in self.queue],
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> LeaseRecord:
        limit, token, holders, queue = data
        return cls(
            limit,
            token,
            {h[0]: Holder(h[1], h[2], h[3], h[4]) for h in holders},
            [QueuedWaiter(*w) for w in queue],
        )


def _purge(rec: LeaseRecord, now: float) -> None:
    holders = rec.holders
    for key, h in list(holders.items()) if holders else ():
        if h.expires_at <= now:
            del holders[key]
    if rec.queue:
        rec.queue = [w for w in rec.queue if w.expires_at > now]


def _grant(rec: LeaseRecord, holder: str, agent: str, ttl: float, now: float) -> int:
    rec.token += 1
    rec.holders.pop(holder, None)  # a fresh grant goes last: holders stay in token order
    rec.holders[holder] = Holder(agent, rec.token, ttl, now + ttl)
    return rec.token


def _promote(rec: LeaseRecord, now: float) -> list[Signal]:
    """Hand free slots to the head of the queue; return whom to wake."""
    signals: list[Signal] = []
    while rec.queue and len(rec.holders) < rec.limit:
        w = rec.queue.pop(0)
        token = _grant(rec, w.holder, w.agent, w.ttl, now)
        signals.append((w.waiter, str(token)))
    return signals


def settle(rec: LeaseRecord, now: float) -> list[Signal]:
    """Drop what expired and promote waiters into free slots."""
    _purge(rec, now)
    return _promote(rec, now)


def _retry_in(rec: LeaseRecord, now: float) -> float:
    if not rec.holders:
        return 0.0
    return max(0.0, min(h.expires_at for h in rec.holders.values()) - now)


def _first_agent(rec: LeaseRecord) -> str | None:
    return next(iter(rec.holders.values())).agent if rec.holders else None


def acquire(
    rec: LeaseRecord, req: LeaseRequest, now: float
) -> tuple[AcquireResult, list[Signal]]:
    """Grant, queue or refuse ``req``. Call :func:`find_cycle` first for locks."""
    rec.limit = req.limit
    signals = settle(rec, now)
    mine = rec.holders.get(req.holder)
    if mine is not None and any(m == str(mine.token) for _, m in signals):
        return Granted(mine.token, mine.ttl), signals  # promoted by this very call
    if mine is not None or (len(rec.holders) < rec.limit and not rec.queue):
        # A holder asking again lost track of its lease (a hand-off it has not heard of
        # yet, a release that failed on the way): it gets a fresh grant, with a new token
        # and the ttl it asks for now, never the rest of the old lease.
        return Granted(_grant(rec, req.holder, req.agent, req.ttl, now), req.ttl), signals
    if req.wait:
        for w in rec.queue:
            if w.waiter == req.waiter:
                w.expires_at = now + req.ttl
                break
        else:
            waiter = QueuedWaiter(req.waiter, req.holder, req.agent, req.ttl, now + req.ttl)
            rec.queue.append(waiter)
    return Waiting(_first_agent(rec), _retry_in(rec, now)), signals


def release(rec: LeaseRecord, holder: str, token: int, now: float) -> list[Signal] | None:
    """Free ``holder``'s slot; None when it does not hold ``token`` (LeaseLost)."""
    _purge(rec, now)
    mine = rec.holders.get(holder)
    if mine is None or mine.token != token:
        return None
    del rec.holders[holder]
    return _promote(rec, now)


def extend(rec: LeaseRecord, holder: str, token: int, ttl: float, now: float) -> bool:
    """Push the expiry of a live lease to ``now + ttl``; False when it is lost."""
    _purge(rec, now)
    mine = rec.holders.get(holder)
    if mine is None or mine.token != token:
        return False
    mine.ttl = ttl
    mine.expires_at = now + ttl
    return True


def abandon(rec: LeaseRecord, waiter: str, holder: str, now: float) -> list[Signal]:
    """A waiter gives up: leave the queue, and pass on a slot handed to it meanwhile."""
    rec.queue = [w for w in rec.queue if w.waiter != waiter]
    rec.holders.pop(holder, None)
    return settle(rec, now)


def statistics(rec: LeaseRecord, name: str, kind: str, now: float) -> LeaseStatistics:
    live = sorted(
        (h for h in rec.holders.items() if h[1].expires_at > now), key=lambda h: h[1].token
    )
    return LeaseStatistics(
        name=name,
        kind=kind,
        limit=rec.limit,
        holders=tuple(HolderInfo(h.agent, k, h.token, h.expires_at - now) for k, h in live),
        waiters=tuple(w.agent for w in rec.queue if w.expires_at > now),
        last_token=rec.token,
    )


def find_cycle(
    key: str,
    me: str,
    my_agent: str,
    holder_of: Callable[[str], tuple[str, str] | None],
    waiting_on: Callable[[str], str | None],
) -> Deadlocked | None:
    """Follow holder -> the key it waits for -> its holder ... back to ``me``.

    ``holder_of(key)`` gives (holder id, agent) of a held lock, ``waiting_on(holder)``
    the key a holder is queued for. Only single-holder locks take part.
    """
    steps = [(my_agent, key)]
    for _ in range(MAX_CYCLE):
        found = holder_of(key)
        if found is None:
            return None
        holder, agent = found
        if holder == me:
            return Deadlocked(tuple(steps))
        nxt = waiting_on(holder)
        if nxt is None:
            return None
        steps.append((agent, nxt))
        key = nxt
    return None
