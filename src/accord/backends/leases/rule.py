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

Modes (locks only, ``limit=1``): ``""`` is exclusive; ``S`` a read lease, ``IS`` and
``IX`` the intent leases a file lease takes on the directories above it. A request
fits when it is compatible with every holder (:data:`COMPATIBLE`); an exclusive one
when the holders are fewer than ``limit`` (so a lock with any holder refuses it). The
queue is served strictly in order: a reader behind a queued writer waits, so writers
are not starved. Counters for ``coord.metrics()`` gather in ``LeaseRecord.counted``
(not stored in the record: the stores add them to their metrics) on the paths that
wait, time out, deadlock, lose or revoke a lease, never on an uncontended cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from accord._models import (
    MODES,
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
COMPATIBLE = frozenset({
    ("S", "S"), ("S", "IS"), ("IS", "S"), ("IS", "IS"), ("IS", "IX"), ("IX", "IS"),
    ("IX", "IX"),
})  # fmt: skip
"""Pairs of shared modes that may hold one lock at once (exclusive fits none)."""
# Counters of coord.metrics(), by index in LeaseRecord.counted
WAITS, WAIT_TOTAL, WAIT_MAX, TIMEOUTS, DEADLOCKS, LOST, REVOKED = range(7)
METRICS = ("waits", "total_wait", "max_wait", "timeouts", "deadlocks", "lost_leases", "revoked")


@dataclass(slots=True)
class Holder:
    agent: str
    token: int
    ttl: float
    expires_at: float
    mode: str = ""
    intent: str = ""


@dataclass(slots=True)
class QueuedWaiter:
    waiter: str
    holder: str
    agent: str
    ttl: float
    expires_at: float
    mode: str = ""
    intent: str = ""
    since: float = 0.0  # when it first queued (the wait that metrics count)


@dataclass
class LeaseRecord:
    """Everything stored for one lease key; ``counted`` is not stored (see above)."""

    limit: int = 1
    token: int = 0
    holders: dict[str, Holder] = field(default_factory=dict)
    queue: list[QueuedWaiter] = field(default_factory=list)
    counted: list[float] | None = None

    def to_json(self) -> list[Any]:
        """``[limit, token, [[holder, agent, token, ttl, expires_at]...],
        [[waiter, holder, agent, ttl, expires_at, mode, intent, since]...]]``: arrays,
        as they encode and decode faster than objects (SQLite reads and writes one on
        every operation). A holder's ``mode`` and ``intent`` follow only when set."""
        return [
            self.limit,
            self.token,
            [
                [k, h.agent, h.token, h.ttl, h.expires_at, h.mode, h.intent]
                if h.mode or h.intent
                else [k, h.agent, h.token, h.ttl, h.expires_at]
                for k, h in self.holders.items()
            ],
            [
                [w.waiter, w.holder, w.agent, w.ttl, w.expires_at, w.mode, w.intent, w.since]
                for w in self.queue
            ],
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> LeaseRecord:
        limit, token, holders, queue = data
        return cls(
            limit,
            token,
            {h[0]: Holder(*h[1:]) for h in holders},
            [QueuedWaiter(*w) for w in queue],
        )

    def count(self, what: int, amount: float = 1.0) -> None:
        """Add ``amount`` to counter ``what`` (WAIT_MAX keeps the largest)."""
        if self.counted is None:
            self.counted = [0.0] * len(METRICS)
        if what == WAIT_MAX:
            self.counted[what] = max(self.counted[what], amount)
        else:
            self.counted[what] += amount


def _purge(rec: LeaseRecord, now: float) -> None:
    holders = rec.holders
    for key, h in list(holders.items()) if holders else ():
        if h.expires_at <= now:
            del holders[key]
            rec.count(LOST)
    if rec.queue:
        rec.queue = [w for w in rec.queue if w.expires_at > now]


def _grant(
    rec: LeaseRecord, holder: str, agent: str, ttl: float, now: float, mode: str = "",
    intent: str = "",
) -> int:
    rec.token += 1
    rec.holders.pop(holder, None)  # a fresh grant goes last: holders stay in token order
    if mode or intent:
        rec.holders[holder] = Holder(agent, rec.token, ttl, now + ttl, mode, intent)
    else:
        rec.holders[holder] = Holder(agent, rec.token, ttl, now + ttl)
    return rec.token


def fits(rec: LeaseRecord, mode: str) -> bool:
    """Whether a request of ``mode`` may hold now, beside the current holders."""
    if not mode:
        return len(rec.holders) < rec.limit
    return all((h.mode, mode) in COMPATIBLE for h in rec.holders.values())


def _promote(rec: LeaseRecord, now: float) -> list[Signal]:
    """Hand free slots to the head of the queue, in order; return whom to wake."""
    signals: list[Signal] = []
    while rec.queue and fits(rec, rec.queue[0].mode):
        w = rec.queue.pop(0)
        token = _grant(rec, w.holder, w.agent, w.ttl, now, w.mode, w.intent)
        signals.append((w.waiter, str(token)))
        waited = now - w.since
        rec.count(WAIT_TOTAL, waited)
        rec.count(WAIT_MAX, waited)
    return signals


def settle(rec: LeaseRecord, now: float) -> list[Signal]:
    """Drop what expired and promote waiters into free slots."""
    _purge(rec, now)
    return _promote(rec, now)


def _retry_in(rec: LeaseRecord, now: float) -> float:
    if not rec.holders:
        return 0.0
    return max(0.0, min(h.expires_at for h in rec.holders.values()) - now)


def _waiting(rec: LeaseRecord, now: float) -> Waiting:
    if not rec.holders:
        return Waiting(None, 0.0)
    first = next(iter(rec.holders.values()))
    return Waiting(first.agent, _retry_in(rec, now), first.intent)


def acquire(
    rec: LeaseRecord, req: LeaseRequest, now: float
) -> tuple[AcquireResult, list[Signal]]:
    """Grant, queue or refuse ``req``. Call :func:`find_cycle` first for locks."""
    rec.limit = req.limit
    signals = settle(rec, now)
    mine = rec.holders.get(req.holder)
    if mine is not None and any(m == str(mine.token) for _, m in signals):
        return Granted(mine.token, mine.ttl), signals  # promoted by this very call
    if mine is not None or (
        not rec.queue
        and (len(rec.holders) < rec.limit if not req.mode else fits(rec, req.mode))
    ):
        # A holder asking again lost track of its lease (a hand-off it has not heard of
        # yet, a release that failed on the way): it gets a fresh grant, with a new token
        # and the ttl it asks for now, never the rest of the old lease.
        token = _grant(rec, req.holder, req.agent, req.ttl, now, req.mode, req.intent)
        return Granted(token, req.ttl), signals
    if req.wait:
        for w in rec.queue:
            if w.waiter == req.waiter:
                w.expires_at = now + req.ttl
                break
        else:
            rec.queue.append(QueuedWaiter(
                req.waiter, req.holder, req.agent, req.ttl, now + req.ttl, req.mode,
                req.intent, now,
            ))
            rec.count(WAITS)
    return _waiting(rec, now), signals


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


def abandon(
    rec: LeaseRecord, waiter: str, holder: str, now: float, timed_out: bool = True
) -> list[Signal]:
    """A waiter gives up: leave the queue, and pass on a slot handed to it meanwhile."""
    before = len(rec.queue)
    rec.queue = [w for w in rec.queue if w.waiter != waiter]
    if timed_out and len(rec.queue) < before:
        rec.count(TIMEOUTS)
    rec.holders.pop(holder, None)
    return settle(rec, now)


def force_release(rec: LeaseRecord, now: float) -> tuple[list[str], list[Signal], int]:
    """Drop every holder (an operator's force release); return their agents, whom to
    wake and the highest token revoked (0: none), below which fenced writes are
    refused from now on (the store keeps it: its *fence floor*)."""
    _purge(rec, now)
    agents = [h.agent for h in rec.holders.values()]
    floor = max((h.token for h in rec.holders.values()), default=0)
    rec.holders.clear()
    if agents:
        rec.count(REVOKED, len(agents))
    return agents, _promote(rec, now), floor


def revoke(rec: LeaseRecord, prefix: str, now: float) -> tuple[int, list[Signal], int]:
    """Drop the holders and waiters whose holder id starts with ``prefix`` (one
    session's leases: a kill, or a dead session reaped); return how many went, whom
    to wake and the highest token revoked (see :func:`force_release`)."""
    _purge(rec, now)
    gone = [k for k in rec.holders if k.startswith(prefix)]
    floor = max((rec.holders[k].token for k in gone), default=0)
    for k in gone:
        del rec.holders[k]
    before = len(rec.queue)
    rec.queue = [w for w in rec.queue if not w.holder.startswith(prefix)]
    if gone:
        rec.count(REVOKED, len(gone))
    return len(gone) + before - len(rec.queue), _promote(rec, now), floor


def statistics(rec: LeaseRecord, name: str, kind: str, now: float) -> LeaseStatistics:
    live = sorted(
        (h for h in rec.holders.items() if h[1].expires_at > now), key=lambda h: h[1].token
    )
    return LeaseStatistics(
        name=name,
        kind=kind,
        limit=rec.limit,
        holders=tuple(
            HolderInfo(h.agent, k, h.token, h.expires_at - now, MODES[h.mode], h.intent)
            for k, h in live
        ),
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
