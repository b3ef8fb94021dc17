"""What a primitive may know of the coordinator that made it: the narrow context.

Locks, semaphores, rate limits, state, barriers, events and the agent helpers take a
:class:`Context`, never the coordinator, so they import nothing above them. It holds
the store, who acts (``agent``, :meth:`Context.owner`), the leases this coordinator
holds (for re-entrance), the contention hint, the limits (``max_payload``,
``max_events``) and the audit options. The coordinator builds one and hands it to
every primitive.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from accord._contended import ContendedKeys

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
