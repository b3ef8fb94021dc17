"""What a primitive may know of the coordinator that made it: the narrow context.

Locks, semaphores, rate limits, state, barriers, events and the agent helpers take a
:class:`Context`, never the coordinator, so they import nothing above them. It holds
the store, who acts (``agent``, :meth:`Context.owner`), the leases this coordinator
holds (for re-entrance), the contention hint, the limits (``max_payload``,
``max_events``) and the audit options. The coordinator builds one and hands it to
every primitive.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from accord._contended import ContendedKeys
from accord.errors import AgentKilled

S = TypeVar("S")


@dataclass(eq=False)
class Context(Generic[S]):
    """One coordinator's store, identity, bookkeeping and limits.

    ``S`` is the store's type: ``AsyncBackend`` for the async primitives, ``Backend``
    for the sync ones. ``owner_key`` names the running thread or task (the flavour's
    ``_rt.current_owner_key``).
    """

    store: S
    agent: str
    owner_key: Callable[[], str]
    max_payload: int
    max_events: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    # held locks by (key, owner): what makes a lock re-entrant for its owner
    held: dict[tuple[str, str], object] = field(default_factory=dict)
    contended: ContendedKeys = field(default_factory=ContendedKeys)
    # the audit log: lock acquisitions and releases audited too; its retention (None: all)
    audit_locks: bool = False
    audit_keep: int | None = None

    def __post_init__(self) -> None:
        self._owner_prefix = f"{self.agent}#{self.id}:"

    def owner(self) -> str:
        """The lock owner right now: this agent in this coordinator, thread or task."""
        return self._owner_prefix + self.owner_key()


@dataclass(eq=False)
class Watch:
    """What a session knows of its agent between heartbeats: when it last made
    progress (monotonic), and whether it was killed (the reason)."""

    name: str
    progress_at: float = field(default_factory=time.monotonic)
    killed: str | None = None

    def check(self) -> None:
        """Raise AgentKilled once the agent was killed."""
        if self.killed is not None:
            raise AgentKilled(self.name, self.killed)


class Watched:
    """A session's store as its primitives see it: each call first raises AgentKilled
    once the agent was killed, then counts as progress; what runs by itself (renewals,
    the event reader's reads: ``QUIET``) does neither, as it would make a stuck agent
    look busy. A wrapped method is kept after its first use, so a call costs a check."""

    QUIET = frozenset({
        "extend", "event_read", "event_tail", "group_read", "group_ack", "group_create",
        "interrupt_reads", "open_bell",
    })  # fmt: skip
    FREE = frozenset({"close", "aclose", "name", "namespace", "capabilities"})

    def __init__(self, store: Any, watch: Watch) -> None:
        self._store = store
        self._watch = watch

    @property
    def unwatched(self) -> Any:
        """The store itself."""
        return getattr(self._store, "unwatched", self._store)

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._store, attr)
        if attr in self.FREE or not callable(target):
            return target
        watch, quiet = self._watch, attr in self.QUIET

        if quiet:
            self.__dict__[attr] = target
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            if watch.killed is not None:
                watch.check()
            watch.progress_at = time.monotonic()
            return target(*args, **kwargs)

        self.__dict__[attr] = call
        return call
