"""The ``leases`` capability: locks, semaphores and barriers.

Leases are identified by a ``key`` the primitives choose (``lock/<name>``,
``sem/<name>``). A waiter first opens a :class:`AsyncMailbox` (``open_mailbox``),
then calls ``acquire`` with ``wait=True``; when a hand-off makes it a holder, the store
posts the new fencing token to that mailbox after the change is committed.
``release``/``extend`` return False when the lease is lost (the caller raises
``LeaseLost``). While the namespace is halted (the ``agents`` capability), ``acquire``
raises ``Halted``; releases still work. Each operation is atomic: one Lua script on
Redis, one transaction on SQLite, one critical section in memory.
"""

from __future__ import annotations

from typing import Protocol

from accord._models import AcquireResult, LeaseRequest, LeaseStatistics
from accord.backends._async.store import AsyncStore


class AsyncLeases(AsyncStore, Protocol):
    """Leases with fencing tokens, FIFO waiters and deadlock detection; barriers."""

    async def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        """Grant, queue (``req.wait``) or refuse. ``detect_deadlock`` (a lock's waiter
        that holds a lock): record in the wait-for graph which key the holder waits
        for, and return Deadlocked instead if waiting would close a cycle of locks.
        Without it the wait is not recorded (a waiter holding no lock is in no cycle),
        which spares the store that work on every contended acquisition."""
        ...

    async def release(self, key: str, holder: str, token: int) -> bool:
        """Free the lease and hand its slot to the next waiter; False if it was lost."""
        ...

    async def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        """Make the lease expire ``ttl`` seconds from now; False if it was lost."""
        ...

    async def abandon(self, key: str, waiter: str, holder: str) -> None:
        """Leave the queue; a slot handed over meanwhile goes to the next waiter."""
        ...

    async def lease_statistics(self, key: str) -> LeaseStatistics:
        """Holders, waiters and last token of one lease key."""
        ...

    async def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        """Every lease key starting with ``prefix`` that has holders or waiters."""
        ...

    async def force_release(self, key: str) -> list[str]:
        """Drop every holder of ``key`` (an operator's force release) and hand the lease
        to the next waiter, who gets the next token; return the agents dropped."""
        ...

    async def revoke_holders(self, prefix: str) -> int:
        """Drop, on every live lease, the holders and waiters whose holder id starts
        with ``prefix`` (``<agent>#<session>:``: one session's leases, for a kill or a
        dead session); the next waiters proceed. Returns how many went."""
        ...

    async def lease_metrics(self, prefix: str) -> list[tuple[str, int, list[float]]]:
        """(key, last token, counters in the order of ``leases.rule.METRICS``) of
        every lease key starting with ``prefix`` ever used; the last token counts
        its acquisitions."""
        ...

    async def barrier_arrive(self, name: str, parties: int, waiter: str) -> int:
        """Join the current round of a barrier; return the arrival index. The last of
        ``parties`` arrivals posts ``go`` to every waiter's mailbox."""
        ...

    async def barrier_break(self, name: str, waiter: str) -> bool:
        """Break the round ``waiter`` is in (post ``broken`` to the others); False if
        that round was already released."""
        ...
