"""The backend seam: the only operations the primitives ask of a store.

Each operation is atomic: one Lua script on Redis, one transaction on SQLite, one
critical section in memory. A backend instance is bound to one namespace, and keys
never cross namespaces. Retry loops, waiting, re-entrance, renewal and validation
live above this seam, once, in the primitives.

``AsyncBackend`` is the source; ``Backend`` in ``backends/_sync/protocol.py`` is
generated from it by ``scripts/unasync.py`` with the same names, minus ``await``.

Leases are identified by a ``key`` the primitives choose (``lock/<name>``,
``sem/<name>``). A waiter first opens a :class:`AsyncMailbox`, then calls
``acquire`` with ``wait=True``; when a hand-off makes it a holder, the backend posts
the new fencing token to that mailbox after the change is committed.

Errors: ``release``/``extend`` return False when the lease is lost (the caller raises
``LeaseLost``); ``state_*`` raise ``VersionConflict``, ``StaleFence`` or ``TypeError``
with nothing written; any failure to reach the store raises ``BackendUnavailable``.
"""

from __future__ import annotations

from typing import Protocol

from accord._event import EventRecord
from accord._models import AcquireResult, Entry, LeaseRequest, LeaseStatistics


class AsyncMailbox(Protocol):
    """Where one waiter is woken. Open it before the ``acquire`` that may queue."""

    id: str

    async def wait(self, timeout: float) -> str | None:
        """A message (a fencing token as text), or None after ``timeout`` seconds."""
        ...

    async def aclose(self) -> None:
        """Release the mailbox; messages posted later are dropped."""
        ...


class AsyncBackend(Protocol):
    """A store bound to one namespace. See the module docstring for the contract."""

    name: str
    namespace: str

    async def open_mailbox(self) -> AsyncMailbox:
        """A fresh mailbox with a unique id."""
        ...

    # leases ---------------------------------------------------------------------
    async def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        """Grant, queue (``req.wait``) or refuse; Deadlocked if waiting closes a cycle."""
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

    # versioned state ------------------------------------------------------------
    async def state_get(self, map_name: str, key: str) -> Entry | None:
        """The live entry, or None."""
        ...

    async def state_set(
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

    async def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        """Add ``delta`` to a number (absent counts as 0); TypeError if not a number."""
        ...

    async def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        """Delete (a tombstone version); False if the key was absent."""
        ...

    async def state_items(self, map_name: str, prefix: str) -> list[tuple[str, Entry]]:
        """Live keys starting with ``prefix`` and their entries, sorted by key."""
        ...

    async def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        """The newest ``limit`` versions, newest first (deletes have ``deleted=True``)."""
        ...

    # rate limits ----------------------------------------------------------------
    async def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        """GCRA: 0.0 if admitted (consumed when ``consume``), else seconds to wait."""
        ...

    # the event log ----------------------------------------------------------------
    async def event_append(
        self, name: str, data: str, source: str, max_events: int
    ) -> EventRecord:
        """Append an event (``data`` is JSON text); keep only the newest ``max_events``."""
        ...

    async def event_read(self, after: str | None, limit: int, timeout: float) -> list[EventRecord]:
        """Events after id ``after`` (None: the oldest kept), oldest first; when there
        are none, wait up to ``timeout`` seconds for one (pushed, never polled)."""
        ...

    async def event_tail(self) -> str:
        """The id of the newest event (a lowest id when the log is empty)."""
        ...

    async def event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        """The newest ``limit`` events of that name and source, newest first."""
        ...

    async def group_create(self, group: str) -> None:
        """Create consumer group ``group`` at the end of the log, if it does not exist."""
        ...

    async def group_read(
        self, group: str, consumer: str, visibility: float, limit: int, timeout: float,
        skip_to: str | None = None,
    ) -> list[EventRecord]:
        """Claim up to ``limit`` events for ``consumer`` for ``visibility`` seconds:
        claims that expired unacknowledged first, then new events; wait up to
        ``timeout`` seconds when there are none.

        ``skip_to``, an event id: no event up to it is for this group (the caller read
        them, and none matches its pattern), so the group's cursor may move on to it
        first, if it is behind, without claiming them: a group with a narrow pattern
        does not walk the events of everyone else."""
        ...

    async def group_ack(self, group: str, ids: list[str]) -> None:
        """Acknowledge handled events: they are never delivered to the group again."""
        ...

    async def post(self, mailbox: str, message: str) -> None:
        """Deliver a short message to a mailbox (dropped if it is gone)."""
        ...

    async def interrupt_reads(self) -> bool:
        """End the event_read and group_read calls in progress on this backend without
        waiting out their timeout (they return what they find, maybe nothing); later
        reads wait as usual. close() uses it to stop a coordinator's readers at once.
        Readers elsewhere on the namespace may wake once. True when the reads end now,
        so that close() waits for them before closing the store; False when they end
        only at close() (Redis: a read blocked in the server ends when close()
        disconnects the pool)."""
        ...

    async def barrier_arrive(self, name: str, parties: int, waiter: str) -> int:
        """Join the current round of a barrier; return the arrival index. The last of
        ``parties`` arrivals posts ``go`` to every waiter's mailbox."""
        ...

    async def barrier_break(self, name: str, waiter: str) -> bool:
        """Break the round ``waiter`` is in (post ``broken`` to the others); False if
        that round was already released."""
        ...

    # lifecycle ------------------------------------------------------------------
    async def aclose(self) -> None:
        """Release connections and files. Idempotent."""
        ...
