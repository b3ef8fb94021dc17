"""File leases with intent: ``coord.lock_file(path, intent=...)`` and
``coord.lock_files(paths, ...)``.

A path is normalised to one repository-relative name (``accord._paths``), so every
spelling of a file is one lease. Directories nest: a lease on ``src/api/`` conflicts
with every lease under it, and they with it, by the intent leases of multiple-
granularity locking (as databases lock tables and rows): a file lease also takes an
intent lease (``IX``, or ``IS`` for a read lease) on each directory above it, the
root included, and a directory lease is exclusive (or shared) on the directory
itself. Intent leases share a directory with each other; an exclusive or shared
directory lease does not share it with an intent lease of the other kind (see
``backends/leases/rule.py``), so it waits for every file lease under it and they for
it, each in the FIFO order of that directory's queue.

Every lease of one call is taken in one global order (sorted names: a directory
before what is under it), so two agents locking overlapping sets cannot deadlock.
The intent is stored with the path's own lease (and, followed by the paths, with the
intent leases above them): ``statistics()``, ``list_locks()`` and ``accord locks``
show it, and a ``LockTimeout`` names the holder and its intent.
"""

from __future__ import annotations

import contextlib
import os
import time
from types import TracebackType

from accord import _paths, _validate
from accord._async._lease import AsyncLease, OwnerStacks
from accord._async.lock import AsyncLock, release_all
from accord._context import Context
from accord._models import LeaseStatistics
from accord.backends import AsyncBackend


class AsyncFileLease:
    """Held file leases: ``paths`` as normalised, ``token`` and ``fence`` of the first
    path's own lease (for ``state().set(fence=...)``); ``async with`` releases."""

    def __init__(self, paths: tuple[str, ...], leases: list[AsyncLease], first: int) -> None:
        self.paths = paths
        self.leases = leases
        self._first = leases[first]

    @property
    def path(self) -> str:
        """The first path (the only one for ``lock_file``)."""
        return self.paths[0]

    @property
    def token(self) -> int:
        """The fencing token of the first path's lease."""
        return self._first.token

    @property
    def fence(self) -> tuple[str, int]:
        """(lease key, token) of the first path, what ``state().set(fence=...)`` takes."""
        return self._first.fence

    async def extend(self, ttl: float | None = None) -> None:
        """Extend every lease of this set; LeaseLost if one was lost."""
        for lease in self.leases:
            await lease.extend(ttl)

    async def release(self) -> None:
        """Release every lease, the paths first; the first LeaseLost is raised after
        all are tried."""
        await release_all(self.leases)

    async def __aenter__(self) -> AsyncFileLease:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.release()

    def __repr__(self) -> str:
        return f"<FileLease {', '.join(self.paths)} token={self.token}>"


class AsyncFileLock:
    """Leases on files or directories of the repository; see :meth:`AsyncCoordinator.lock_file`."""

    def __init__(
        self,
        ctx: Context[AsyncBackend],
        paths: list[str | os.PathLike[str]],
        *,
        intent: str,
        ttl: float,
        timeout: float | None,
        shared: bool,
        auto_renew: bool,
    ) -> None:
        self.intent = _validate.name(intent, "intent")
        self.timeout = _validate.timeout(timeout)
        self.shared = bool(shared)
        self.paths = tuple(dict.fromkeys(_paths.normalise(p) for p in paths))
        if not self.paths:
            raise ValueError("lock_files() needs at least one path")
        steps = _paths.plan([(name, self.shared) for name in self.paths])
        below = f"{self.intent} ({', '.join(self.paths)})"  # what the intent leases say
        self._locks = [
            AsyncLock(
                ctx, name, ttl, timeout, auto_renew, kind="file", mode=mode,
                intent=self.intent if name in self.paths else below,
            )
            for name, mode in steps
        ]
        self._first = [name for name, _ in steps].index(self.paths[0])
        self._entered: OwnerStacks[AsyncFileLease] = OwnerStacks()

    async def acquire(self, timeout: float | None = _validate.DEFAULT) -> AsyncFileLease:
        """Every lease, in the global order, within ``timeout`` seconds in all (default:
        the lock's), else LockTimeout naming the holder in the way and its intent; on
        failure none is kept."""
        timeout = _validate.timeout_or(timeout, self.timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        leases: list[AsyncLease] = []
        try:
            for lock in self._locks:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                leases.append(await lock.acquire(left))
        except BaseException:
            for lease in reversed(leases):
                with contextlib.suppress(Exception):  # the first error is what to report
                    await lease.release()
            raise
        return AsyncFileLease(self.paths, leases, self._first)

    async def statistics(self) -> list[LeaseStatistics]:
        """A snapshot of each path's own lease (holders with their intent, waiters)."""
        return [await lock.statistics() for lock in self._locks if lock.name in self.paths]

    async def __aenter__(self) -> AsyncFileLease:
        return self._entered.push(await self.acquire())

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._entered.pop().release()

    def __repr__(self) -> str:
        return f"<FileLock {', '.join(self.paths)} intent={self.intent!r}>"
