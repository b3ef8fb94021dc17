# Generated from src/accord/_async/lock.py by scripts/unasync.py: do not edit.
"""Locks as leases: expiry, fencing tokens, FIFO hand-off, re-entrance, deadlocks.

A lock is held by an *owner*: the coordinator's agent plus the current thread (sync;
plus the asyncio task when the sync API is called inside a running event loop) or
asyncio task (async). The same owner may acquire again: a nested lease, granted only
once the store confirms the outer lease is still held (else LeaseLost); the lock frees
when the outermost is released. Another thread or task waits its turn.

Race the lease closes::

    agent A: acquire (token 7) ... pauses 40 s (GC, slow LLM call) ... set(fence=lease)
    agent B:            lease of A expires -> acquire (token 8) -> set(fence=lease)
    A's late write carries token 7 < 8 and is refused with StaleFence.
"""

from __future__ import annotations

import contextlib
from types import TracebackType

from accord import _validate
from accord._sync import audit
from accord._sync._lease import Lease, NestedLease, OwnerStacks, wait_for_grant
from accord._context import Context
from accord._models import LeaseRequest, LeaseStatistics
from accord.backends import Backend
from accord.errors import DeadlockError, LeaseLost


class Lock:
    """A named, leased, re-entrant lock; see :meth:`Coordinator.lock`."""

    def __init__(
        self,
        ctx: Context[Backend],
        name: str,
        ttl: float,
        timeout: float | None,
        auto_renew: bool,
    ) -> None:
        self.name = _validate.name(name, "lock name")
        self.ttl = _validate.positive(ttl, "ttl")
        self.timeout = _validate.timeout(timeout)
        self.auto_renew = auto_renew
        self._ctx = ctx
        self._key = f"lock/{name}"
        self._entered: OwnerStacks[Lease] = OwnerStacks()

    def acquire(self, timeout: float | None = _validate.DEFAULT) -> Lease:
        """Wait up to ``timeout`` seconds (default: the lock's) for a lease, else LockTimeout.

        Raises DeadlockError when waiting would close a cycle of owners.
        """
        timeout = _validate.timeout_or(timeout, self.timeout)
        return self._acquire(timeout)

    def try_acquire(self) -> Lease | None:
        """A lease if the lock is free right now (and nobody queues for it), else None."""
        try:
            return self._acquire(0.0)
        except TimeoutError:
            return None

    def _acquire(self, timeout: float | None) -> Lease:
        ctx = self._ctx
        owner = ctx.owner()
        held = ctx.held.get((self._key, owner))
        if isinstance(held, Lease) and not held.released:
            return self._nest(held)
        req = LeaseRequest(self._key, owner, ctx.agent, "", self.ttl, 1, False)
        holds_a_lock = any(o == owner for _, o in ctx.held)
        try:
            granted = wait_for_grant(
                ctx.store, req, timeout, kind="lock", name=self.name, contended=ctx.contended,
                may_deadlock=holds_a_lock,
            )
        except DeadlockError as exc:
            audit.note(ctx, "deadlock", lock=self.name, cycle=exc.cycle)
            raise
        lease = Lease(ctx.store, self._key, owner, ctx.agent, granted, ctx)
        ctx.held[self._key, owner] = lease
        lease._held = ctx.held  # the release takes it out (the lock frees)
        if ctx.audit_locks:
            self._audit_acquired(lease)
        if self.auto_renew:
            lease.renew_in_background()
        return lease

    def _audit_acquired(self, lease: Lease) -> None:
        """``accord.lock_acquired``; if it cannot be written, no lease is kept."""
        try:
            audit.record(self._ctx, "lock_acquired", lock=self.name, token=lease.token)
        except BaseException:
            lease._ctx = None  # its release is not audited either
            with contextlib.suppress(Exception):  # the first error is the one to raise
                lease.release()
            raise

    def _nest(self, outer: Lease) -> NestedLease:
        """A nested lease, once the store confirms the outer one: it must still hold
        the outer token (else LeaseLost, and the outer lease is forgotten here so that
        the next acquisition is a fresh one), and it then lasts at least this lock's
        ttl (never less than it had left)."""
        if not outer._confirm(max(outer.expires_in, self.ttl)):
            held = self._ctx.held
            if held.get((self._key, outer._holder)) is outer:
                del held[self._key, outer._holder]
            stats = self.statistics()
            raise LeaseLost(self.name, outer.token, stats.holder, nested=True)
        return NestedLease(outer)

    def statistics(self) -> LeaseStatistics:
        """Holder, token, seconds left and waiters in order, read from the store."""
        return self._ctx.store.lease_statistics(self._key)

    def locked(self) -> bool:
        """True while someone holds the lock."""
        return (self.statistics()).locked

    def __enter__(self) -> Lease:
        return self._entered.push(self.acquire())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._entered.pop().release()

    def __repr__(self) -> str:
        return f"<Lock {self.name!r} ttl={self.ttl}>"


class MultiLock:
    """Several locks taken in one global (sorted) order, so two agents asking for the
    same set in different orders cannot deadlock; released in reverse order."""

    def __init__(self, locks: list[Lock]) -> None:
        self.locks = sorted(locks, key=lambda lock: lock.name)
        self._entered: OwnerStacks[list[Lease]] = OwnerStacks()

    def acquire(self, timeout: float | None = _validate.DEFAULT) -> list[Lease]:
        """All the leases, in name order; on failure none is kept."""
        leases: list[Lease] = []
        try:
            for lock in self.locks:
                leases.append(lock.acquire(timeout))
        except BaseException:
            _release_all(leases)
            raise
        return leases

    def __enter__(self) -> list[Lease]:
        return self._entered.push(self.acquire())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        _release_all(self._entered.pop())


def _release_all(leases: list[Lease]) -> None:
    """Release in reverse order; the first LeaseLost is raised after all are tried."""
    lost: BaseException | None = None
    for lease in reversed(leases):
        try:
            lease.release()
        except Exception as exc:
            lost = lost or exc
    if lost is not None:
        raise lost
