"""The lease and barrier operations of the seam for record stores (memory, SQLite):
each one transaction around the rule of ``rule.py`` or ``barrier.py``."""

from __future__ import annotations

import abc
from collections.abc import Iterator

from accord._models import AcquireResult, Deadlocked, LeaseRequest, LeaseStatistics, Waiting
from accord.backends._record_base import RecordBase
from accord.backends.leases import barrier
from accord.backends.leases import rule as _lease
from accord.backends.leases.barrier import BarrierRecord
from accord.backends.leases.rule import LeaseRecord
from accord.backends.signals.rule import Signal
from accord.errors import Halted


class LeaseRecords(RecordBase):
    """Leases and barriers over record storage; storage always inside _transaction()."""

    @property
    def _halt_box(self) -> list[str | None] | None:
        """A store that keeps the halt reason in memory shares it here (one shared
        list), so the acquire reads it without a call; others give ``_halt_reason()``."""
        return None

    @abc.abstractmethod
    def _load_lease(self, key: str) -> LeaseRecord | None: ...

    @abc.abstractmethod
    def _save_lease(self, key: str, rec: LeaseRecord) -> None: ...

    def _new_lease(self, limit: int = 1) -> LeaseRecord:
        """The record of a lease never stored yet (a store picks how it keeps holders)."""
        return LeaseRecord(limit=limit)

    @abc.abstractmethod
    def _lease_keys(self, prefix: str) -> Iterator[str]:
        """The listed keys starting with ``prefix``: every lease with holders or waiters,
        and those idle since the last listing (which unlists them, ``_unlist``). A
        listing so costs what is live and what changed since, not every name ever used
        (a released lease's record stays for its token), and a lock cycle writes no
        index entry (its key stays listed until a listing)."""

    @abc.abstractmethod
    def _unlist(self, keys: list[str]) -> None:
        """Take the keys of these idle leases off the list (those idle still)."""

    @abc.abstractmethod
    def _waiting_on(self, holder: str) -> tuple[str, float] | None:
        """(key, expires_at) of the queue ``holder`` waits in."""

    @abc.abstractmethod
    def _set_waiting(self, holder: str, key: str | None, expires_at: float) -> None: ...

    @abc.abstractmethod
    def _halt_reason(self) -> str | None:
        """Why the namespace is halted, or None (the ``agents`` feature keeps it)."""

    @abc.abstractmethod
    def _add_metrics(self, key: str, counted: list[float]) -> None:
        """Add a lease operation's counters (``LeaseRecord.counted``) to the key's."""

    @abc.abstractmethod
    def _load_metrics(self, prefix: str) -> dict[str, list[float]]:
        """The counters of every key starting with ``prefix`` that has any."""

    @abc.abstractmethod
    def _raise_floor(self, key: str, token: int) -> None:
        """Refuse fenced writes with ``token`` or older of lease ``key`` from now on
        (the state feature's ``_fence_floor`` reads it)."""

    @abc.abstractmethod
    def _lease_records(self, prefix: str) -> Iterator[tuple[str, LeaseRecord]]:
        """Every stored lease record whose key starts with ``prefix`` (for metrics)."""

    @abc.abstractmethod
    def _load_barrier(self, name: str) -> BarrierRecord | None: ...

    @abc.abstractmethod
    def _save_barrier(self, name: str, rec: BarrierRecord) -> None: ...

    # leases -----------------------------------------------------------------------
    def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        with self._transaction():
            box = self._halt_box
            reason = box[0] if box is not None else self._halt_reason()
            if reason is not None:
                raise Halted(self.namespace, reason)
            now = self._now()
            rec = self._load_lease(req.key) or self._new_lease(req.limit)
            result, signals = _lease.acquire(rec, req, now)
            if isinstance(result, Waiting) and req.wait and detect_deadlock:
                cycle = self._find_cycle(req, now)
                if cycle is not None:
                    signals += _lease.abandon(rec, req.waiter, req.holder, now, False)
                    rec.count(_lease.DEADLOCKS)
                    result = cycle
            self._save_lease(req.key, rec)
            if rec.counted is not None:
                self._counted(req.key, rec)
            # Only a waiter that may deadlock enters the wait-for graph; any other
            # outcome of a wait leaves it.
            if req.wait and not isinstance(result, Waiting):
                self._set_waiting(req.holder, None, 0.0)
            elif req.wait and detect_deadlock:
                self._set_waiting(req.holder, req.key, now + req.ttl)
            if signals:
                self._mark_granted(req.key, signals, rec)
        if signals:
            self._post(signals)
        return result

    def _find_cycle(self, req: LeaseRequest, now: float) -> Deadlocked | None:
        def holder_of(key: str) -> tuple[str, str] | None:
            rec = self._load_lease(key)
            if rec is None or rec.limit != 1:
                return None
            first = rec.holders.first()  # the oldest grant, unless it expired meanwhile
            if first is not None and first[1].expires_at > now:
                return first[0], first[1].agent
            live = (k_h for k_h in rec.holders.items() if k_h[1].expires_at > now)
            return next(((k, h.agent) for k, h in live), None)

        def waiting_on(holder: str) -> str | None:
            found = self._waiting_on(holder)
            return found[0] if found and found[1] > now else None

        return _lease.find_cycle(req.key, req.holder, req.agent, holder_of, waiting_on)

    def release(self, key: str, holder: str, token: int) -> bool:
        with self._transaction():
            rec = self._load_lease(key)
            signals = None if rec is None else _lease.release(rec, holder, token, self._now())
            if rec is None or signals is None:
                if rec is not None and rec.counted is not None:  # it found one expired
                    self._save_lease(key, rec)
                    self._counted(key, rec)
                return False
            self._save_lease(key, rec)
            if rec.counted is not None:
                self._counted(key, rec)
            if signals:
                self._mark_granted(key, signals, rec)
        if signals:
            self._post(signals)
        return True

    def _counted(self, key: str, rec: LeaseRecord) -> None:
        """Store what this operation counted for ``coord.metrics()`` (nothing, mostly)."""
        if rec.counted is not None:
            self._add_metrics(key, rec.counted)
            rec.counted = None

    def _mark_granted(self, key: str, signals: list[Signal], rec: LeaseRecord) -> None:
        """A promoted waiter (``rec.promoted``) leaves the wait-for graph if it is there
        for ``key``."""
        promoted, rec.promoted = rec.promoted, None
        if not signals or not promoted:
            return
        for holder in promoted:
            found = self._waiting_on(holder)
            if found is not None and found[0] == key:
                self._set_waiting(holder, None, 0.0)

    def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        with self._transaction():
            rec = self._load_lease(key)
            if rec is None or not _lease.extend(rec, holder, token, ttl, self._now()):
                if rec is not None and rec.counted is not None:
                    self._save_lease(key, rec)
                    self._counted(key, rec)
                return False
            self._save_lease(key, rec)
            self._counted(key, rec)
        return True

    def abandon(self, key: str, waiter: str, holder: str) -> None:
        with self._transaction():
            rec = self._load_lease(key)
            if rec is None:
                return
            signals = _lease.abandon(rec, waiter, holder, self._now())
            self._save_lease(key, rec)
            self._counted(key, rec)
            self._set_waiting(holder, None, 0.0)
            self._mark_granted(key, signals, rec)
        self._post(signals)

    def force_release(self, key: str) -> list[str]:
        with self._transaction():
            rec = self._load_lease(key)
            if rec is None:
                return []
            agents, signals, floor = _lease.force_release(rec, self._now())
            if floor:
                self._raise_floor(key, floor)
            self._save_lease(key, rec)
            self._counted(key, rec)
            self._mark_granted(key, signals, rec)
        self._post(signals)
        return agents

    def revoke_holders(self, prefix: str) -> int:
        """One transaction per live lease key (a kill is rare; each key stays atomic)."""
        with self._transaction(write=False):
            keys = sorted(self._lease_keys(""))
        revoked = 0
        for key in keys:
            with self._transaction():
                rec = self._load_lease(key)
                if rec is None:
                    continue
                gone, signals, floor = _lease.revoke(rec, prefix, self._now())
                if not gone:
                    continue
                if floor:
                    self._raise_floor(key, floor)
                revoked += gone
                self._save_lease(key, rec)
                self._counted(key, rec)
                self._mark_granted(key, signals, rec)
            self._post(signals)
        return revoked

    def lease_metrics(self, prefix: str) -> list[tuple[str, int, list[float]]]:
        with self._transaction(write=False):
            counted = self._load_metrics(prefix)
            tokens = {k: rec.token for k, rec in self._lease_records(prefix)}
        empty = [0.0] * len(_lease.METRICS)
        return [(k, tokens.get(k, 0), counted.get(k, empty)) for k in sorted(tokens)]

    def lease_statistics(self, key: str) -> LeaseStatistics:
        with self._transaction(write=False):  # holders may be read from the store
            rec = self._load_lease(key) or self._new_lease()
            return _statistics(key, rec, self._now())

    def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        idle, found = [], []
        with self._transaction(write=False):
            now = self._now()
            for k in sorted(self._lease_keys(prefix)):
                rec = self._load_lease(k)
                if rec is None or not (rec.holders or rec.queue):
                    idle.append(k)
                if rec is not None:
                    found.append(_statistics(k, rec, now))
        if idle:
            with self._transaction():
                self._unlist(idle)
        return [s for s in found if s.holders or s.waiters]

    # barriers ---------------------------------------------------------------------
    def barrier_arrive(self, name: str, parties: int, waiter: str) -> int:
        with self._transaction():
            rec = self._load_barrier(name) or BarrierRecord()
            index, signals = barrier.barrier_arrive(rec, parties, waiter)
            self._save_barrier(name, rec)
        self._post(signals)
        return index

    def barrier_break(self, name: str, waiter: str) -> bool:
        with self._transaction():
            rec = self._load_barrier(name) or BarrierRecord()
            broke, signals = barrier.barrier_break(rec, waiter)
            self._save_barrier(name, rec)
        self._post(signals)
        return broke


def _statistics(key: str, rec: LeaseRecord, now: float) -> LeaseStatistics:
    kind, _, name = key.partition("/")
    return _lease.statistics(rec, name, kind, now)
