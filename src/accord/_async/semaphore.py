"""Semaphores: at most ``limit`` holders anywhere, each permit a lease.

A holder that dies gives its permit back when its ttl runs out. Waiters are served
first come, first served; a release hands the permit straight to the next waiter.
"""

from __future__ import annotations

import uuid
from types import TracebackType

from accord import _validate
from accord._async._lease import AsyncLease, OwnerStacks, wait_for_grant
from accord._context import Context
from accord._models import LeaseRequest, LeaseStatistics
from accord.backends import AsyncBackend


class AsyncSemaphore:
    """A named counting semaphore; see :meth:`AsyncCoordinator.semaphore`."""

    def __init__(
        self, ctx: Context[AsyncBackend], name: str, limit: int, ttl: float, timeout: float | None
    ) -> None:
        self.name = _validate.name(name, "semaphore name")
        self.limit = _validate.count(limit, "limit")
        self.ttl = _validate.positive(ttl, "ttl")
        self.timeout = _validate.timeout(timeout)
        self._ctx = ctx
        self._key = f"sem/{name}"
        self._entered: OwnerStacks[AsyncLease] = OwnerStacks()

    async def acquire(self, timeout: float | None = _validate.DEFAULT) -> AsyncLease:
        """Wait up to ``timeout`` seconds (default: the semaphore's) for a permit."""
        timeout = _validate.timeout_or(timeout, self.timeout)
        return await self._acquire(timeout)

    async def try_acquire(self) -> AsyncLease | None:
        """A permit if one is free right now (and nobody queues), else None."""
        try:
            return await self._acquire(0.0)
        except TimeoutError:
            return None

    async def _acquire(self, timeout: float | None) -> AsyncLease:
        ctx = self._ctx
        holder = f"{ctx.owner()}/{uuid.uuid4().hex[:12]}"
        req = LeaseRequest(self._key, holder, ctx.agent, "", self.ttl, self.limit, False)
        granted = await wait_for_grant(
            ctx.store, req, timeout, kind="semaphore", name=self.name, contended=ctx.contended,
            ctx=ctx, alert_after=2 * self.ttl,
        )
        return AsyncLease(ctx.store, self._key, holder, ctx.agent, granted, ctx)

    async def statistics(self) -> LeaseStatistics:
        """Holders, waiters in order and the last token, read from the store."""
        return await self._ctx.store.lease_statistics(self._key)

    async def __aenter__(self) -> AsyncLease:
        return self._entered.push(await self.acquire())

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._entered.pop().release()

    def __repr__(self) -> str:
        return f"<Semaphore {self.name!r} limit={self.limit}>"
