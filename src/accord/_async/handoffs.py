"""Handoffs: work offered to one agent or role, taken by exactly one claimant.

Built on the task queue (the queue ``accord.handoffs``), not beside it: an offer is a
task addressed ``to`` the agent or role, so it is claimed once, leased, given back
when its claimant dies, and its result is awaited with ``Task.wait``::

    h = coord.handoff(to="billing_specialist", context={"order": 42})
    # in the billing specialist, any process:
    claim = coord.handoffs.claim("billing_specialist", timeout=30)
    claim.data                  # {"order": 42}
    claim.complete({"refund": 10})      # or claim.release(): back for another claimant
    # the offerer:
    h.wait(timeout=60)          # {"refund": 10}

Parallel handoffs (one request to several specialists, each taking its part once,
gathered) are one offer each, then a wait on each (see the README's recipe).
"""

from __future__ import annotations

from typing import Any

from accord import _validate
from accord._async.queue import AsyncClaim, AsyncQueue, AsyncTask
from accord._context import Context
from accord.backends import AsyncBackend
from accord.backends.tasks import rule

QUEUE = "accord.handoffs"


class AsyncHandoffs:
    """Offers to agents or roles, and their claims; see :meth:`AsyncCoordinator.handoff`."""

    def __init__(self, ctx: Context[AsyncBackend]) -> None:
        self.queue = AsyncQueue(ctx, QUEUE)

    async def offer(
        self,
        to: str,
        context: Any = None,
        *,
        title: str | None = None,
        priority: int = 0,
        key: str | None = None,
        max_attempts: int = 3,
    ) -> AsyncTask:
        """Offer work to the agent or role ``to`` with ``context`` (JSON data); return
        the task (``wait()`` for its result). ``key`` makes the offer idempotent."""
        to = _validate.name(to, "to")
        return await self.queue.put(
            title or f"handoff to {to}", data=context, priority=priority, key=key,
            max_attempts=max_attempts, to=to,
        )

    async def claim(
        self, agent: str, *, timeout: float | None = 0.0, lease: float = 60.0
    ) -> AsyncClaim | None:
        """Take the oldest highest-priority offer to ``agent`` (an agent or role name):
        exactly one claimant gets each offer. None when none comes within ``timeout``
        seconds (None: wait for ever)."""
        agent = _validate.name(agent, "agent")
        return await self.queue._claim(rule.lanes([], agent), lease, timeout)

    def __repr__(self) -> str:
        return f"<Handoffs on queue {QUEUE!r}>"
