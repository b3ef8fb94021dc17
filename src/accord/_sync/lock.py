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
import time
from types import TracebackType

from accord import _validate
from accord._sync import audit
from accord._sync._lease import (
    Lease,
    NestedLease,
    OwnerStacks,
    notify,
    wait_for_grant,
)
from accord._context import Context
from accord._models import MODES, Granted, LeaseRequest, LeaseStatistics
from accord.backends import Backend
from accord.backends.leases.rule import COMPATIBLE
from accord.errors import DeadlockError, LeaseLost

# which held mode serves a nested acquisition of which asked mode
_COVERS = {"": {"", "S", "IS", "IX"}, "S": {"S", "IS"}, "IX": {"IX", "IS"}, "IS": {"IS"}}
_MODES = ("", "S", "IX", "IS")  # the strongest first
_MODE_MARK = "\x1f"  # owner + mark + mode: the holder of a lease of a shared mode


class Lock:
    """A named, leased, re-entrant lock; see :meth:`Coordinator.lock`."""

    def __init__(
        self,
        ctx: Context[Backend],
        name: str,
        ttl: float,
        timeout: float | None,
        auto_renew: bool,
        shared: bool = False,
        alert_after: float | None = None,
        *,
        kind: str = "lock",
        mode: str | None = None,
        intent: str = "",
    ) -> None:
        self.name = _validate.name(name, "lock name")
        self.ttl = _validate.positive(ttl, "ttl")
        self.timeout = _validate.timeout(timeout)
        self.auto_renew = auto_renew
        self.shared = bool(shared)
        self.alert_after = (
            2 * self.ttl if alert_after is None else _validate.positive(alert_after, "alert_after")
        )
        self._ctx = ctx
        self._kind = kind
        self._key = f"{kind}/{name}"
        self._mode = ("S" if self.shared else "") if mode is None else mode
        self._intent = intent
        self._entered: OwnerStacks[Lease] = OwnerStacks()
        self._req: LeaseRequest | None = None

    def acquire(self, timeout: float | None = _validate.DEFAULT) -> Lease:
        """Wait up to ``timeout`` seconds (default: the lock's) for a lease, else LockTimeout.

        Raises DeadlockError when waiting would close a cycle of owners.
        """
        # (one function, its checks inline: this is every acquisition's path)
        timeout = self.timeout if timeout is _validate.DEFAULT else _validate.timeout(timeout)
        ctx = self._ctx
        owner = ctx.owner()
        mode = self._mode
        holder = owner if not mode else f"{owner}{_MODE_MARK}{mode}"
        holds_a_lock = False
        if ctx.held:  # an owner holding nothing (the common case) skips all this
            mine = self._mine(owner)
            if mine is not None:
                return self._nest(mine)
            holds_a_lock = any(o.partition(_MODE_MARK)[0] == owner for _, o in ctx.held)
        req = self._req  # an owner's requests are alike: reuse its last one (never changed)
        if req is None or req.holder != holder or req.ttl != self.ttl:
            req = LeaseRequest(self._key, holder, ctx.agent, "", self.ttl, 1, False, mode,
                               self._intent)
            self._req = req
        refused_at = None
        if timeout != 0 and self._key not in ctx.contended:  # a free lock's one call
            refused_at = time.monotonic()
            granted = ctx.store.acquire(req, detect_deadlock=False)
        if refused_at is None or type(granted) is not Granted:
            granted = self._wait(req, timeout, holds_a_lock, refused_at)
        lease = Lease(ctx.store, self._key, holder, ctx.agent, granted, ctx)
        if mode:
            lease.mode = mode
        if self._kind == "file":  # the directories' leases are shared by file leases
            lease._counts = True
        ctx.held[self._key, holder] = lease  # the release takes it out (the lock frees)
        if ctx.audit_locks:
            self._audit_acquired(lease)
        if self.auto_renew:
            lease.renew_in_background()
        return lease

    def try_acquire(self) -> Lease | None:
        """A lease if the lock is free right now (and nobody queues for it), else None."""
        try:
            return self.acquire(0.0)
        except TimeoutError:
            return None

    def _wait(
        self, req: LeaseRequest, timeout: float | None, may_deadlock: bool,
        refused_at: float | None,
    ) -> Granted:
        ctx = self._ctx
        try:
            return wait_for_grant(
                ctx.store, req, timeout, kind=self._kind, name=self.name,
                contended=ctx.contended, may_deadlock=may_deadlock, ctx=ctx,
                alert_after=self.alert_after, refused_at=refused_at,
            )
        except DeadlockError as exc:
            audit.note(ctx, "deadlock", lock=self.name, cycle=exc.cycle)
            raise

    def _audit_acquired(self, lease: Lease) -> None:
        """``accord.lock_acquired``; if it cannot be written, no lease is kept."""
        try:
            audit.record(self._ctx, "lock_acquired", lock=self.name, token=lease.token)
        except BaseException:
            lease._ctx = None  # its release is not audited either
            with contextlib.suppress(Exception):  # the first error is the one to raise
                lease.release()
            raise

    def _mine(self, owner: str) -> Lease | None:
        """A lease of this lock the owner holds that serves this acquisition (nested),
        None when it holds none or one of a mode that goes beside this one (a file
        read and a file write under one directory take IS and IX there). Raises
        DeadlockError for a mode it cannot hold beside its own (an upgrade)."""
        held = self._ctx.held
        for mode in _MODES:
            lease = held.get((self._key, owner if not mode else f"{owner}{_MODE_MARK}{mode}"))
            if not isinstance(lease, Lease) or not lease._alive:
                continue
            if self._mode in _COVERS[mode]:
                return lease
            if (mode, self._mode) not in COMPATIBLE:
                raise DeadlockError(self.name, [
                    f"{self._ctx.agent} holds {self.name!r} {MODES[mode]} and asks for it "
                    f"{MODES[self._mode]}: release it first"
                ])  # fmt: skip
        return None

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

    def force_release(self, *, reason: str) -> list[str]:
        """An operator's override: free the lock whoever holds it (a dead or stuck
        holder), hand it to the next waiter and return the agents dropped. The next
        holder gets a newer token, so the old holder's release raises LeaseLost and its
        fenced writes are refused once the new holder wrote. Emits ``lock_force_released``
        and writes the audit entry of that kind."""
        reason = _validate.name(reason, "reason")
        agents = self._ctx.store.force_release(self._key)
        notify(self._ctx, "lock_force_released", {
            "name": self.name, "kind": self._kind, "by": self._ctx.agent, "reason": reason,
            "holders": agents,
        })  # fmt: skip
        audit.record(self._ctx, "lock_force_released", lock=self.name, lease=self._kind,
                           reason=reason, holders=agents)
        return agents

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
        shared = " shared" if self.shared else ""
        return f"<Lock {self.name!r} ttl={self.ttl}{shared}>"


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
            release_all(leases)
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
        release_all(self._entered.pop())


def release_all(leases: list[Lease]) -> None:
    """Release in reverse order; the first LeaseLost is raised after all are tried."""
    lost: BaseException | None = None
    for lease in reversed(leases):
        try:
            lease.release()
        except Exception as exc:
            lost = lost or exc
    if lost is not None:
        raise lost
