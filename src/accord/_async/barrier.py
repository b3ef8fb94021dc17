"""Barriers: ``wait()`` returns when ``parties`` agents arrived, in any processes.

The last arrival releases everyone at once (pushed, through each waiter's mailbox).
A waiter that times out breaks the round: it gets BarrierTimeout and every other
waiter of that round BarrierBroken, so nobody waits for a party that will not come.
The next ``wait()`` starts a new round. A waiter killed while waiting still counts
in its round (give ``timeout=`` to be safe).
"""

from __future__ import annotations

import time

from accord import _validate
from accord._async import _rt
from accord._context import Context
from accord.backends import AsyncBackend
from accord.errors import BarrierBroken, BarrierTimeout

_LONG_WAIT = 30.0


class AsyncBarrier:
    """A named barrier for ``parties`` agents; see :meth:`AsyncCoordinator.barrier`."""

    def __init__(
        self, ctx: Context[AsyncBackend], name: str, parties: int, timeout: float | None
    ) -> None:
        self.name = _validate.name(name, "barrier name")
        self.parties = _validate.count(parties, "parties")
        self.timeout = _validate.timeout(timeout)
        self._ctx = ctx

    async def wait(self, timeout: float | None = _validate.DEFAULT) -> int:
        """Arrive and wait for the others; return this arrival's index (0 = first)."""
        timeout = _validate.timeout_or(timeout, self.timeout)
        if self.parties > 1:  # it waits unless it is the last arrival: refuse before arriving
            _rt.check_may_block(f"barrier {self.name!r}", "barrier")
        backend = self._ctx.store
        mailbox = await backend.open_mailbox()
        try:
            index = await backend.barrier_arrive(self.name, self.parties, mailbox.id)
            deadline = None if timeout is None else time.monotonic() + timeout
            message = None
            while message is None:
                left = _LONG_WAIT if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    break
                message = await mailbox.wait(min(left, _LONG_WAIT))
            if message is None:
                if await backend.barrier_break(self.name, mailbox.id):
                    raise BarrierTimeout(self.name, self.parties)
                message = await mailbox.wait(_LONG_WAIT)  # released just as we gave up
        finally:
            await mailbox.aclose()
        if message != "go":
            raise BarrierBroken(self.name, self.parties)
        return index

    def __repr__(self) -> str:
        return f"<Barrier {self.name!r} parties={self.parties}>"
