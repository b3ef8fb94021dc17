"""The task queue's records and requests, shared by the primitives and the stores.

A :class:`TaskRecord` is everything a store keeps of one task; the public ``Task``
(``_async/queue.py``) is made from it. Times: ``run_at`` is in the store's clock
(when a waiting or failed task becomes ready, when a claim's lease ends),
``created_at`` and ``updated_at`` are Unix time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

WAITING, READY, CLAIMED, DONE = "waiting", "ready", "claimed", "done"
FAILED, DEAD, CANCELLED = "failed", "dead", "cancelled"
STATUSES = (WAITING, READY, CLAIMED, DONE, FAILED, DEAD, CANCELLED)
FINISHED = frozenset({DONE, DEAD, CANCELLED})
"""Statuses a task never leaves by itself (``retry`` takes a dead one back)."""
MIN_PRIORITY, MAX_PRIORITY = -(2**31 - 1), 2**31 - 1
MAX_TAGS = 32
MAX_DEPENDENCIES = 1000
MAX_TITLE = 1000


@dataclass(slots=True)
class TaskSpec:
    """What ``put`` asks of the store (checked above the seam)."""

    title: str
    description: str
    data: str  # JSON text
    priority: int
    tags: list[str]
    depends_on: list[int]
    key: str | None
    max_attempts: int
    delay: float
    to: str | None


@dataclass(slots=True)
class TaskRecord:
    """Everything a store keeps of one task."""

    id: int
    queue: str
    title: str
    description: str = ""
    data: str = "null"
    priority: int = 0
    tags: list[str] = field(default_factory=list)
    to: str | None = None
    key: str | None = None
    deps: list[int] = field(default_factory=list)
    pending: int = 0  # dependencies not done yet
    dependents: list[int] = field(default_factory=list)
    status: str = WAITING
    attempts: int = 0  # claims so far (a release gives one back)
    max_attempts: int = 3
    run_at: float = 0.0  # store clock: ready at (waiting, failed), lease end (claimed)
    token: int = 0  # the newest claim's fencing token
    holder: str = ""  # the claim's holder while claimed
    claimed_by: str = ""  # the agent of the newest claim
    lease: float = 0.0  # the newest claim's ttl
    created_by: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0
    result: str | None = None  # JSON text, once done
    error: str | None = None  # why it failed, died or was cancelled
    watchers: list[str] = field(default_factory=list)  # mailboxes of Task.wait

    def to_json(self) -> list[Any]:
        """Every field in order: an array encodes and decodes faster than an object."""
        return list(_ALL_FIELDS(self))

    @classmethod
    def from_json(cls, data: list[Any]) -> TaskRecord:
        return cls(*data)


_FIELDS = [f for f in TaskRecord.__dataclass_fields__]
_ALL_FIELDS = attrgetter(*_FIELDS)  # one C call for the tuple of every field


@dataclass(slots=True)
class ClaimRequest:
    """What ``claim`` asks: the lanes to take from (see ``tasks/rule.py``), who holds
    the claim and for how long; ``waiter`` a mailbox to register when nothing is ready
    ("" to register none)."""

    queue: str
    lanes: list[str]
    holder: str
    agent: str
    lease: float
    waiter: str


@dataclass(slots=True)
class ClaimResult:
    """The claimed task (None: nothing ready), and when nothing is ready, the seconds
    until the queue's next timed change (a delay ends, a lease runs out), if any."""

    task: TaskRecord | None
    retry_in: float | None = None


@dataclass(frozen=True)
class QueueStats:
    """How many tasks of a queue are in each status, read from the store at once."""

    queue: str
    waiting: int
    ready: int
    claimed: int
    done: int
    failed: int
    dead: int
    cancelled: int

    @property
    def total(self) -> int:
        """Every task of the queue the store keeps (pruned ones are gone)."""
        return sum(getattr(self, s) for s in STATUSES)
