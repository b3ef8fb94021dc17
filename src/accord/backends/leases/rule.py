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

Holders are read and changed only through :class:`~accord.backends.leases.holders.Holders`
(get, add, remove, extend, count, soonest expiry, drop the expired, oldest grant, the
modes held), which each store keeps so that an operation costs O(log holders): a
heap of expiries in memory, indexed rows in SQLite (``holders.py``,
``sqlite_holders.py``). Only listings, revocations and force releases walk them all.
The queue of waiters is a list in the record: an operation costs O(waiters).
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
from accord.backends.leases.holders import Holder, Holders, InlineHolders
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
    """Everything stored for one lease key; ``counted`` and ``promoted`` are not stored
    (see above, and :func:`_promote`)."""

    limit: int = 1
    token: int = 0
    holders: Holders = field(default_factory=InlineHolders)
    queue: list[QueuedWaiter] = field(default_factory=list)
    counted: list[float] | None = None
    promoted: list[str] | None = None

    def to_json(self) -> list[Any]:
        """``[limit, token, holders, [[waiter, holder, agent, ttl, expires_at, mode,
        intent, since]...]]``: arrays, as they encode and decode faster than objects
        (SQLite reads and writes one on every operation). ``holders`` is what
        ``Holders.to_json`` gives: ``[[holder, agent, token, ttl, expires_at(, mode,
        intent)]...]`` for holders kept in the record, an object for those in rows."""
        return [
            self.limit,
            self.token,
            self.holders.to_json(),
            [
                [w.waiter, w.holder, w.agent, w.ttl, w.expires_at, w.mode, w.intent, w.since]
                for w in self.queue
            ],
        ]

    @classmethod
    def from_json(
        cls, data: list[Any], rows: Callable[[dict[str, Any]], Holders] | None = None
    ) -> LeaseRecord:
        """The record of :meth:`to_json`; ``rows`` makes the holders of a record that
        keeps them elsewhere (its holders' part is an object)."""
        limit, token, holders, queue = data
        if type(holders) is dict:
            if rows is None:
                raise ValueError("a lease record whose holders are in rows needs rows=")
            found: Holders = rows(holders)
        else:
            found = InlineHolders.from_json(holders)
        return cls(limit, token, found, [QueuedWaiter(*w) for w in queue])

    def count(self, what: int, amount: float = 1.0) -> None:
        """Add ``amount`` to counter ``what`` (WAIT_MAX keeps the largest)."""
        if self.counted is None:
            self.counted = [0.0] * len(METRICS)
        if what == WAIT_MAX:
            self.counted[what] = max(self.counted[what], amount)
        else:
            self.counted[what] += amount


def _purge(rec: LeaseRecord, now: float) -> None:
    lost = rec.holders.pop_expired(now)
    if lost:
        rec.count(LOST, lost)
    if rec.queue:
        rec.queue = [w for w in rec.queue if w.expires_at > now]


def _grant(
    rec: LeaseRecord, holder: str, agent: str, ttl: float, now: float, mode: str = "",
    intent: str = "",
) -> int:
    rec.token += 1
    holders = rec.holders
    if holder in holders:  # a fresh grant goes last: holders stay in token order
        holders.remove(holder)
    if mode or intent:
        holders.add(holder, Holder(agent, rec.token, ttl, now + ttl, mode, intent))
    else:
        holders.add(holder, Holder(agent, rec.token, ttl, now + ttl))
    return rec.token


def fits(rec: LeaseRecord, mode: str) -> bool:
    """Whether a request of ``mode`` may hold now, beside the current holders: O(modes)."""
    if not mode:
        return len(rec.holders) < rec.limit
    return all((held, mode) in COMPATIBLE for held in rec.holders.modes())


def _promote(rec: LeaseRecord, now: float) -> list[Signal]:
    """Hand free slots to the head of the queue, in order; return whom to wake (and
    add the holder ids granted to ``rec.promoted``, for the store's wait-for graph)."""
    signals: list[Signal] = []
    while rec.queue and fits(rec, rec.queue[0].mode):
        w = rec.queue.pop(0)
        token = _grant(rec, w.holder, w.agent, w.ttl, now, w.mode, w.intent)
        signals.append((w.waiter, str(token)))
        if rec.promoted is None:
            rec.promoted = []
        rec.promoted.append(w.holder)
        waited = now - w.since
        rec.count(WAIT_TOTAL, waited)
        rec.count(WAIT_MAX, waited)
    return signals


def settle(rec: LeaseRecord, now: float) -> list[Signal]:
    """Drop what expired and promote waiters into free slots."""
    _purge(rec, now)
    return _promote(rec, now)


def _retry_in(rec: LeaseRecord, now: float) -> float:
    soonest = rec.holders.earliest()
    return 0.0 if soonest is None else max(0.0, soonest - now)


def _waiting(rec: LeaseRecord, now: float) -> Waiting:
    found = rec.holders.first()
    if found is None:
        return Waiting(None, 0.0)
    first = found[1]
    return Waiting(first.agent, _retry_in(rec, now), first.intent)


def acquire(
    rec: LeaseRecord, req: LeaseRequest, now: float
) -> tuple[AcquireResult, list[Signal]]:
    """Grant, queue or refuse ``req``. Call :func:`find_cycle` first for locks."""
    rec.limit = req.limit
    if not rec.holders and not rec.queue:  # the uncontended case: nothing to settle
        token = _grant(rec, req.holder, req.agent, req.ttl, now, req.mode, req.intent)
        return Granted(token, req.ttl), []
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
    holders = rec.holders
    if len(holders) == 1 and not rec.queue:  # the uncontended case: nothing to settle
        mine = holders.get(holder)
        if mine is not None and mine.token == token and mine.expires_at > now:
            holders.remove(holder)
            return []
    _purge(rec, now)
    mine = rec.holders.get(holder)
    if mine is None or mine.token != token:
        return None
    rec.holders.remove(holder)
    return _promote(rec, now)


def extend(rec: LeaseRecord, holder: str, token: int, ttl: float, now: float) -> bool:
    """Push the expiry of a live lease to ``now + ttl``; False when it is lost."""
    _purge(rec, now)
    mine = rec.holders.get(holder)
    if mine is None or mine.token != token:
        return False
    rec.holders.extend(holder, mine, ttl, now + ttl)
    return True


def abandon(
    rec: LeaseRecord, waiter: str, holder: str, now: float, timed_out: bool = True
) -> list[Signal]:
    """A waiter gives up: leave the queue, and pass on a slot handed to it meanwhile."""
    before = len(rec.queue)
    rec.queue = [w for w in rec.queue if w.waiter != waiter]
    if timed_out and len(rec.queue) < before:
        rec.count(TIMEOUTS)
    rec.holders.remove(holder)
    return settle(rec, now)


def force_release(rec: LeaseRecord, now: float) -> tuple[list[str], list[Signal], int]:
    """Drop every holder (an operator's force release); return their agents, whom to
    wake and the highest token revoked (0: none), below which fenced writes are
    refused from now on (the store keeps it: its *fence floor*)."""
    _purge(rec, now)
    held = [h for _, h in rec.holders.items()]
    agents = [h.agent for h in held]
    floor = max((h.token for h in held), default=0)
    rec.holders.clear()
    if agents:
        rec.count(REVOKED, len(agents))
    return agents, _promote(rec, now), floor


def revoke(rec: LeaseRecord, prefix: str, now: float) -> tuple[int, list[Signal], int]:
    """Drop the holders and waiters whose holder id starts with ``prefix`` (one
    session's leases: a kill, or a dead session reaped); return how many went, whom
    to wake and the highest token revoked (see :func:`force_release`)."""
    _purge(rec, now)
    gone = [(k, h.token) for k, h in rec.holders.items() if k.startswith(prefix)]
    floor = max((token for _, token in gone), default=0)
    for k, _ in gone:
        rec.holders.remove(k)
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
