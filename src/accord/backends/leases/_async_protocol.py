"""The ``leases`` capability: locks, semaphores and barriers.

Leases are identified by a ``key`` the primitives choose (``lock/<name>``,
``sem/<name>``). A waiter first opens a :class:`AsyncMailbox` (``open_mailbox``),
then calls ``acquire`` with ``wait=True``; when a hand-off makes it a holder, the store
posts the new fencing token to that mailbox after the change is committed.
``release``/``extend`` return False when the lease is lost (the caller raises
``LeaseLost``). Each operation is atomic: one Lua script on Redis, one transaction on
SQLite, one critical section in memory.
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

    async def barrier_arrive(self, name: str, parties: int, waiter: str) -> int:
        """Join the current round of a barrier; return the arrival index. The last of
        ``parties`` arrivals posts ``go`` to every waiter's mailbox."""
        ...

    async def barrier_break(self, name: str, waiter: str) -> bool:
        """Break the round ``waiter`` is in (post ``broken`` to the others); False if
        that round was already released."""
        ...
