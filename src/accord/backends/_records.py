"""The seam operations for stores that can load and save records in a transaction.

Memory and SQLite differ only in where records live and how a transaction is made;
every operation here runs the rule of its feature (``leases/rule.py`` ...) inside one
``_transaction`` and posts the hand-off signals only after it committed.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Iterator
from contextlib import AbstractContextManager

from accord._models import (
    AcquireResult,
    Deadlocked,
    Entry,
    LeaseRequest,
    LeaseStatistics,
    Waiting,
)
from accord.backends.leases import rule as _lease
from accord.backends.leases.rule import LeaseRecord
from accord.backends.rates.rule import gcra
from accord.backends.signals.rule import Signal
from accord.backends.state import rule as _state
from accord.backends.state.rule import Refused, Stored
from accord.errors import StaleFence, VersionConflict


class RecordBackend(abc.ABC):
    """A sync backend built from record storage; subclasses give storage and time."""

    name: str
    namespace: str
    capabilities: frozenset[str]

    # storage, always called inside _transaction() ---------------------------------
    @abc.abstractmethod
    def _transaction(self, write: bool = True) -> AbstractContextManager[None]:
        """One atomic step; ``write=False`` for reads that need no write lock."""

    @abc.abstractmethod
    def _now(self) -> float: ...

    @abc.abstractmethod
    def _wall(self) -> float: ...

    @abc.abstractmethod
    def _load_lease(self, key: str) -> LeaseRecord | None: ...

    @abc.abstractmethod
    def _save_lease(self, key: str, rec: LeaseRecord) -> None: ...

    @abc.abstractmethod
    def _lease_keys(self, prefix: str) -> Iterator[str]: ...

    @abc.abstractmethod
    def _waiting_on(self, holder: str) -> tuple[str, float] | None:
        """(key, expires_at) of the queue ``holder`` waits in."""

    @abc.abstractmethod
    def _set_waiting(self, holder: str, key: str | None, expires_at: float) -> None: ...

    @abc.abstractmethod
    def _load_current(self, map_name: str, key: str) -> Stored | None:
        """The newest version (a tombstone after a delete), or None if never written."""

    @abc.abstractmethod
    def _load_history(self, map_name: str, key: str, limit: int) -> list[Stored]:
        """The newest ``limit`` versions, newest first."""

    @abc.abstractmethod
    def _append_version(self, map_name: str, key: str, version: Stored) -> None: ...

    @abc.abstractmethod
    def _live_items(self, map_name: str, prefix: str) -> list[tuple[str, Stored]]: ...

    @abc.abstractmethod
    def _load_tat(self, key: str) -> float: ...

    @abc.abstractmethod
    def _save_tat(self, key: str, tat: float) -> None: ...

    @abc.abstractmethod
    def _post(self, signals: list[Signal]) -> None:
        """Deliver hand-off messages; called after the transaction committed."""

    # leases -----------------------------------------------------------------------
    def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        with self._transaction():
            now = self._now()
            rec = self._load_lease(req.key) or LeaseRecord(limit=req.limit)
            result, signals = _lease.acquire(rec, req, now)
            if isinstance(result, Waiting) and req.wait and detect_deadlock:
                cycle = self._find_cycle(req, now)
                if cycle is not None:
                    signals += _lease.abandon(rec, req.waiter, req.holder, now)
                    result = cycle
            self._save_lease(req.key, rec)
            if req.wait:  # only a waiter has an entry in the wait-for graph
                queued = isinstance(result, Waiting)
                self._set_waiting(req.holder, req.key if queued else None, now + req.ttl)
            self._mark_granted(signals, rec)
        self._post(signals)
        return result

    def _find_cycle(self, req: LeaseRequest, now: float) -> Deadlocked | None:
        def holder_of(key: str) -> tuple[str, str] | None:
            rec = self._load_lease(key)
            if rec is None or rec.limit != 1:
                return None
            live = [(k, h.agent) for k, h in rec.holders.items() if h.expires_at > now]
            return live[0] if live else None

        def waiting_on(holder: str) -> str | None:
            found = self._waiting_on(holder)
            return found[0] if found and found[1] > now else None

        return _lease.find_cycle(req.key, req.holder, req.agent, holder_of, waiting_on)

    def release(self, key: str, holder: str, token: int) -> bool:
        with self._transaction():
            rec = self._load_lease(key)
            signals = None if rec is None else _lease.release(rec, holder, token, self._now())
            if rec is None or signals is None:
                return False
            self._save_lease(key, rec)
            self._mark_granted(signals, rec)
        self._post(signals)
        return True

    def _mark_granted(self, signals: list[Signal], rec: LeaseRecord) -> None:
        if not signals:
            return
        by_token = {str(h.token): k for k, h in rec.holders.items()}
        for _, token in signals:
            self._set_waiting(by_token[token], None, 0.0)

    def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        with self._transaction():
            rec = self._load_lease(key)
            if rec is None or not _lease.extend(rec, holder, token, ttl, self._now()):
                return False
            self._save_lease(key, rec)
        return True

    def abandon(self, key: str, waiter: str, holder: str) -> None:
        with self._transaction():
            rec = self._load_lease(key)
            if rec is None:
                return
            signals = _lease.abandon(rec, waiter, holder, self._now())
            self._save_lease(key, rec)
            self._set_waiting(holder, None, 0.0)
            self._mark_granted(signals, rec)
        self._post(signals)

    def lease_statistics(self, key: str) -> LeaseStatistics:
        with self._transaction(write=False):
            rec = self._load_lease(key) or LeaseRecord()
            now = self._now()
        return _statistics(key, rec, now)

    def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        with self._transaction(write=False):
            now = self._now()
            records = [(k, self._load_lease(k)) for k in sorted(self._lease_keys(prefix))]
        found = [_statistics(k, rec, now) for k, rec in records if rec is not None]
        return [s for s in found if s.holders or s.waiters]

    # state --------------------------------------------------------------------------
    def state_get(self, map_name: str, key: str) -> Entry | None:
        with self._transaction(write=False):
            cur = self._load_current(map_name, key)
        return cur.entry() if cur else None

    def _write(
        self,
        map_name: str,
        key: str,
        value: str | None,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
        delta: int | float | None = None,
    ) -> Stored:
        with self._transaction():
            cur = self._load_current(map_name, key)
            try:
                if delta is not None:
                    value = _state.incremented(cur, delta)
                new = _state.write(cur, value, agent, self._wall(), expected_version, fence)
            except Refused as exc:
                raise self._refusal(exc, map_name, key, cur, expected_version, fence) from None
            self._append_version(map_name, key, new)
        return new

    @staticmethod
    def _refusal(
        exc: Refused,
        map_name: str,
        key: str,
        cur: Stored | None,
        expected: int | None,
        fence: tuple[str, int] | None,
    ) -> Exception:
        if exc.kind == "version":
            return VersionConflict(map_name, key, expected or 0, cur.entry() if cur else None)
        if exc.kind == "fence" and fence is not None:
            return StaleFence(map_name, key, fence[1], exc.detail)
        shown = json.loads(cur.value) if cur and cur.value else None
        return TypeError(
            f"{map_name}[{key!r}] holds {type(shown).__name__}, not a number; incr() "
            "needs an int or float (or an absent key, counted as 0)"
        )

    def state_set(
        self,
        map_name: str,
        key: str,
        value: str,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
    ) -> Entry:
        return self._write(map_name, key, value, agent, expected_version, fence).version_entry()

    def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        return self._write(map_name, key, None, agent, None, None, delta).version_entry()

    def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        with self._transaction():
            cur = self._load_current(map_name, key)
            if cur is None or cur.value is None:
                if expected_version not in (None, 0):
                    raise VersionConflict(map_name, key, expected_version or 0, None)
                return False
            try:
                new = _state.write(cur, None, agent, self._wall(), expected_version)
            except Refused as exc:
                raise self._refusal(exc, map_name, key, cur, expected_version, None) from None
            self._append_version(map_name, key, new)
        return True

    def state_items(self, map_name: str, prefix: str) -> list[tuple[str, Entry]]:
        with self._transaction(write=False):
            found = self._live_items(map_name, prefix)
        return sorted((k, s.version_entry()) for k, s in found)

    def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        with self._transaction(write=False):
            versions = self._load_history(map_name, key, limit)
        return [v.version_entry() for v in versions]

    # rate limits --------------------------------------------------------------------
    def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        with self._transaction():
            tat = self._load_tat(key)
            new_tat, wait = gcra(tat, self._now(), interval, burst, cost)
            if consume and wait == 0.0:
                self._save_tat(key, new_tat)
        return wait

    @abc.abstractmethod
    def close(self) -> None:
        """Release files and connections."""


def _statistics(key: str, rec: LeaseRecord, now: float) -> LeaseStatistics:
    kind, _, name = key.partition("/")
    return _lease.statistics(rec, name, kind, now)
