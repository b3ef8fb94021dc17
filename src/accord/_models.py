"""Frozen value objects shared by the primitives, the backends and the surfaces."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    """One version of a key in a state map.

    ``version`` starts at 1 and grows by exactly one with every write (a delete too,
    so a re-created key never repeats an old version). ``updated_at`` is Unix time.
    ``deleted`` is True only for the delete versions listed by ``history()``.
    """

    value: Any
    version: int
    updated_by: str
    updated_at: float
    deleted: bool = False

    # Every write returns one, so it is made by filling __dict__ directly: a third of
    # the frozen dataclass __init__'s time (which sets each field by object.__setattr__).
    def __init__(
        self, value: Any, version: int, updated_by: str, updated_at: float, deleted: bool = False
    ) -> None:
        fields = self.__dict__
        fields["value"] = value
        fields["version"] = version
        fields["updated_by"] = updated_by
        fields["updated_at"] = updated_at
        fields["deleted"] = deleted


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing, such as :meth:`StateMap.keys_page`.

    ``results`` holds the page in order; ``next`` is the ``after=`` that asks for the
    following page, or None when this page is the last. A page is iterable::

        page = inv.keys_page(limit=100)
        while True:
            show(page)
            if page.next is None:
                break
            page = inv.keys_page(after=page.next, limit=100)
    """

    results: tuple[T, ...]
    next: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


MODES = {"": "exclusive", "S": "shared", "IS": "intent-shared", "IX": "intent-exclusive"}
"""Lease modes as stored ("" is exclusive) and as shown. The intent modes mark the
directories above a file lease (see ``coord.lock_file``)."""


@dataclass(frozen=True)
class HolderInfo:
    """A current holder of a lock or semaphore permit.

    ``mode`` is ``"exclusive"``, ``"shared"`` (a read lease), or for the directories
    above a file lease ``"intent-shared"`` / ``"intent-exclusive"``; ``intent`` is what
    the holder said it is doing (``lock_file(..., intent=...)``), or ``""``.
    """

    agent: str
    owner: str
    token: int
    expires_in: float
    mode: str = "exclusive"
    intent: str = ""

    @property
    def shared(self) -> bool:
        """True for a read lease (``shared=True``)."""
        return self.mode == "shared"


@dataclass(frozen=True)
class LeaseStatistics:
    """A snapshot of a lock or semaphore, cheap on every backend.

    ``holders`` are the current (unexpired) leases, ``waiters`` the agents queued in
    the order they will be served, ``last_token`` the newest fencing token issued.
    """

    name: str
    kind: str
    limit: int
    holders: tuple[HolderInfo, ...]
    waiters: tuple[str, ...]
    last_token: int

    @property
    def locked(self) -> bool:
        """True when no more holders can enter."""
        return len(self.holders) >= self.limit

    @property
    def holder(self) -> str | None:
        """The agent of the first holder, or None when free."""
        return self.holders[0].agent if self.holders else None

    @property
    def token(self) -> int | None:
        """The fencing token of the first holder, or None when free."""
        return self.holders[0].token if self.holders else None

    @property
    def expires_in(self) -> float | None:
        """Seconds left on the first holder's lease, or None when free."""
        return self.holders[0].expires_in if self.holders else None

    @property
    def intent(self) -> str:
        """The intent of the first holder (``""`` when free or none was given)."""
        return self.holders[0].intent if self.holders else ""


@dataclass(frozen=True)
class LockMetrics:
    """Counters of one lock or semaphore since the store started, kept in the store.

    ``acquisitions`` (grants, a hand-off included), ``waits`` (acquisitions that
    queued), ``total_wait``/``max_wait`` (seconds queued before a grant), ``timeouts``
    (waiters that gave up), ``deadlocks`` (waits refused as closing a cycle),
    ``lost_leases`` (leases that expired before their release) and ``revoked``
    (leases taken by a kill or a force release).
    """

    name: str
    kind: str
    acquisitions: int
    waits: int = 0
    total_wait: float = 0.0
    max_wait: float = 0.0
    timeouts: int = 0
    deadlocks: int = 0
    lost_leases: int = 0
    revoked: int = 0


class ConnectSpec(dict[str, Any]):
    """What ``accord.connect(**spec)`` needs to reopen a coordinator in another process
    (``coord.spec()``): ``url``, ``namespace``, ``agent``, ``max_payload``,
    ``max_events``. A plain picklable dict, whose repr hides the URL's password."""

    def __init__(self, shown: str, **fields: Any) -> None:
        super().__init__(**fields)
        self.shown = shown

    def __repr__(self) -> str:
        return repr({**self, "url": self.shown})

    def __reduce__(self) -> Any:
        return (_spec, (self.shown, dict(self)))


def _spec(shown: str, fields: dict[str, Any]) -> ConnectSpec:
    return ConnectSpec(shown, **fields)


@dataclass(frozen=True)
class AgentInfo:
    """One agent of the registry (``coord.agents.list()`` / ``.get(name)``).

    ``status`` is ``active`` (alive, with something in ``working_on``), ``idle``
    (alive, nothing in ``working_on``), ``hung`` (alive, but no progress for the hung
    threshold), ``dead`` (its heartbeat lease lapsed) or ``killed``. Times are Unix
    times; ``holds`` lists what it holds now: ``"lock <name> (<intent>)"``,
    ``"semaphore <name>"``, ``"file <path> (<intent>)"``, ``"task <id> (<queue>)"``.
    """

    name: str
    role: str
    status: str
    working_on: str
    capabilities: tuple[str, ...]
    host: str
    pid: int
    started_at: float
    last_heartbeat: float
    last_progress: float
    holds: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class RateLimitStatistics:
    """A snapshot of a rate limit: ``wait`` is how long a call of cost 1 would wait now."""

    name: str
    rate: float
    per: float
    burst: int
    wait: float


# --- results of the backend seam -------------------------------------------------
# Plain slotted dataclasses, not frozen ones: one of each is made on every acquire,
# and a frozen dataclass's __init__ costs about 0.8 us more (object.__setattr__).


@dataclass(slots=True)
class Granted:
    """The lease is yours: ``token`` is its fencing token, valid for ``ttl`` seconds."""

    token: int
    ttl: float


@dataclass(slots=True)
class Waiting:
    """Not granted; queued when asked to wait.

    ``retry_in`` is when the earliest current lease expires (the latest a waiter
    should sleep before asking again), ``holder`` the first holder's agent.
    """

    holder: str | None
    retry_in: float
    intent: str = ""


@dataclass(slots=True)
class Deadlocked:
    """Waiting would close a cycle: each step is (agent, lease key it waits for)."""

    cycle: tuple[tuple[str, str], ...]


AcquireResult = Granted | Waiting | Deadlocked


@dataclass(slots=True)
class LeaseRequest:
    """What a caller asks of ``acquire`` on the seam.

    ``holder`` identifies this lease (the owner for a lock, a fresh id for a permit),
    ``waiter`` the mailbox to signal on hand-off, ``limit`` the number of concurrent
    holders (1 for a lock), ``wait`` whether to join the FIFO queue when refused,
    ``mode`` a key of :data:`MODES` (``""``: exclusive), ``intent`` what the holder
    says it does (stored with the lease, shown by statistics).
    """

    key: str
    holder: str
    agent: str
    waiter: str
    ttl: float
    limit: int
    wait: bool
    mode: str = ""
    intent: str = ""
