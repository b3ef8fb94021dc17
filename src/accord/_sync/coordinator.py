# Generated from src/accord/_async/coordinator.py by scripts/unasync.py: do not edit.
"""The coordinator: one store, one namespace, one agent identity, every primitive."""

from __future__ import annotations

import uuid
from types import TracebackType

from accord._sync import _rt
from accord._sync._lease import Lease
from accord._sync.lock import Lock, MultiLock
from accord._sync.ratelimit import RateLimit
from accord._sync.semaphore import Semaphore
from accord._sync.state import StateMap
from accord._models import LeaseStatistics
from accord.backends._sync.protocol import Backend


class Coordinator:
    """Locks, semaphores, rate limits and state on one store and namespace.

    Build it with :func:`accord.connect_async`. Every name is scoped to
    ``namespace``; ``agent`` is the name people see (CLI, ``updated_by``, holders).
    """

    def __init__(
        self, backend: Backend, *, agent: str, url: str, max_payload: int
    ) -> None:
        self._backend = backend
        self.agent = agent
        self.url = url
        self.namespace = backend.namespace
        self.max_payload = max_payload
        self._id = uuid.uuid4().hex[:10]
        self._held: dict[tuple[str, str], Lease] = {}

    def _owner(self) -> str:
        """The lock owner right now: this agent in this thread or task."""
        return f"{self.agent}#{self._id}:{_rt.current_owner_key()}"

    def lock(
        self,
        name: str,
        *,
        ttl: float = 30.0,
        timeout: float | None = None,
        auto_renew: bool = False,
    ) -> Lock:
        """A lock leased for ``ttl`` seconds; ``timeout`` bounds waiting (None: for ever).

        ``auto_renew=True`` extends the lease every ttl/3 while it is held.
        """
        return Lock(self, name, ttl, timeout, auto_renew)

    def locks(
        self, names: list[str], *, ttl: float = 30.0, timeout: float | None = None
    ) -> MultiLock:
        """Several locks acquired in one global order (their sorted names)."""
        if isinstance(names, str):
            raise TypeError("locks() takes a list of names; use lock() for one")
        unique = dict.fromkeys(names)
        return MultiLock([self.lock(n, ttl=ttl, timeout=timeout) for n in unique])

    def semaphore(
        self, name: str, *, limit: int, ttl: float = 30.0, timeout: float | None = None
    ) -> Semaphore:
        """At most ``limit`` holders at once, anywhere; permits are leases of ``ttl``."""
        return Semaphore(self, name, limit, ttl, timeout)

    def rate_limit(
        self, name: str, *, rate: float, per: float = 1.0, burst: int | None = None
    ) -> RateLimit:
        """``rate`` calls per ``per`` seconds shared by every process; ``burst`` at once."""
        return RateLimit(self, name, rate, per, burst)

    def state(self, name: str) -> StateMap:
        """A named map of versioned JSON entries."""
        return StateMap(self, name)

    def list_locks(self) -> list[LeaseStatistics]:
        """Every lock and semaphore of the namespace with holders or waiters."""
        found = self._backend.list_leases("lock/")
        return found + self._backend.list_leases("sem/")

    def close(self) -> None:
        """Close the store connection. Held leases are not released (they expire)."""
        self._backend.close()

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Coordinator {self.url} namespace={self.namespace!r} agent={self.agent!r}>"

