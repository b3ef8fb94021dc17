# Generated from src/accord/_async/semaphore.py by scripts/unasync.py: do not edit.
"""Semaphores: at most ``limit`` holders anywhere, each permit a lease.

A holder that dies gives its permit back when its ttl runs out. Waiters are served
first come, first served; a release hands the permit straight to the next waiter.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from accord import _validate
from accord._sync._lease import Lease, OwnerStacks, wait_for_grant
from accord._context import Context
from accord._models import LeaseRequest, LeaseStatistics
from accord.backends import Backend


class Semaphore:
    """A named counting semaphore; see :meth:`Coordinator.semaphore`."""

    def __init__(
        self, ctx: Context[Backend], name: str, limit: int, ttl: float, timeout: float | None
    ) -> None:
        self.name = _validate.name(name, "semaphore name")
        self.limit = _validate.count(limit, "limit")
        self.ttl = _validate.positive(ttl, "ttl")
        self.timeout = _validate.timeout(timeout)
        self._ctx = ctx
        self._key = f"sem/{name}"
        self._entered: OwnerStacks[Lease] = OwnerStacks()

    def acquire(self, timeout: float | None = _validate.DEFAULT) -> Lease:
        """Wait up to ``timeout`` seconds (default: the semaphore's) for a permit."""
        timeout = _validate.timeout_or(timeout, self.timeout)
        return self._acquire(timeout)

    def try_acquire(self) -> Lease | None:
        """A permit if one is free right now (and nobody queues), else None."""
        try:
            return self._acquire(0.0)
        except TimeoutError:
            return None

    def _acquire(self, timeout: float | None) -> Lease:
        ctx = self._ctx
        holder = f"{ctx.owner()}/{uuid.uuid4().hex[:12]}"
        req = LeaseRequest(self._key, holder, ctx.agent, "", self.ttl, self.limit, False)
        granted = wait_for_grant(
            ctx.store, req, timeout, kind="semaphore", name=self.name, contended=ctx.contended,
            ctx=ctx, alert_after=2 * self.ttl,
        )
        return Lease(ctx.store, self._key, holder, ctx.agent, granted, ctx)

    def statistics(self) -> LeaseStatistics:
        """Holders, waiters in order and the last token, read from the store."""
        return self._ctx.store.lease_statistics(self._key)

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
        return f"<Semaphore {self.name!r} limit={self.limit}>"
