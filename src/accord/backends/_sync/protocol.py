# Generated from src/accord/backends/_async/protocol.py by scripts/unasync.py: do not edit.
"""The backend seam: the only operations the primitives ask of a store.

Each operation is atomic: one Lua script on Redis, one transaction on SQLite, one
critical section in memory. A backend instance is bound to one namespace, and keys
never cross namespaces. Retry loops, waiting, re-entrance, renewal and validation
live above this seam, once, in the primitives.

``Backend`` is the source; ``Backend`` in ``backends/_sync/protocol.py`` is
generated from it by ``scripts/unasync.py`` with the same names, minus ``await``.

Leases are identified by a ``key`` the primitives choose (``lock/<name>``,
``sem/<name>``). A waiter first opens a :class:`Mailbox`, then calls
``acquire`` with ``wait=True``; when a hand-off makes it a holder, the backend posts
the new fencing token to that mailbox after the change is committed.

Errors: ``release``/``extend`` return False when the lease is lost (the caller raises
``LeaseLost``); ``state_*`` raise ``VersionConflict``, ``StaleFence`` or ``TypeError``
with nothing written; any failure to reach the store raises ``BackendUnavailable``.
"""

from __future__ import annotations

from typing import Protocol

from accord._models import AcquireResult, Entry, LeaseRequest, LeaseStatistics


class Mailbox(Protocol):
    """Where one waiter is woken. Open it before the ``acquire`` that may queue."""

    id: str

    def wait(self, timeout: float) -> str | None:
        """A message (a fencing token as text), or None after ``timeout`` seconds."""
        ...

    def close(self) -> None:
        """Release the mailbox; messages posted later are dropped."""
        ...


class Backend(Protocol):
    """A store bound to one namespace. See the module docstring for the contract."""

    name: str
    namespace: str

    def open_mailbox(self) -> Mailbox:
        """A fresh mailbox with a unique id."""
        ...

    # leases ---------------------------------------------------------------------
    def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        """Grant, queue (``req.wait``) or refuse; Deadlocked if waiting closes a cycle."""
        ...

    def release(self, key: str, holder: str, token: int) -> bool:
        """Free the lease and hand its slot to the next waiter; False if it was lost."""
        ...

    def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        """Make the lease expire ``ttl`` seconds from now; False if it was lost."""
        ...

    def abandon(self, key: str, waiter: str, holder: str) -> None:
        """Leave the queue; a slot handed over meanwhile goes to the next waiter."""
        ...

    def lease_statistics(self, key: str) -> LeaseStatistics:
        """Holders, waiters and last token of one lease key."""
        ...

    def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        """Every lease key starting with ``prefix`` that has holders or waiters."""
        ...

    # versioned state ------------------------------------------------------------
    def state_get(self, map_name: str, key: str) -> Entry | None:
        """The live entry, or None."""
        ...

    def state_set(
        self,
        map_name: str,
        key: str,
        value: str,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
    ) -> Entry:
        """Write JSON text ``value`` as the next version, after the checks."""
        ...

    def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        """Add ``delta`` to a number (absent counts as 0); TypeError if not a number."""
        ...

    def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        """Delete (a tombstone version); False if the key was absent."""
        ...

    def state_items(self, map_name: str, prefix: str) -> list[tuple[str, Entry]]:
        """Live keys starting with ``prefix`` and their entries, sorted by key."""
        ...

    def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        """The newest ``limit`` versions, newest first (deletes have ``deleted=True``)."""
        ...

    # rate limits ----------------------------------------------------------------
    def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        """GCRA: 0.0 if admitted (consumed when ``consume``), else seconds to wait."""
        ...

    # lifecycle ------------------------------------------------------------------
    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...
