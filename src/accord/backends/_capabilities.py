"""What a store can do: the capabilities of the seam, and the one check of them.

A store declares the capabilities it implements in its ``capabilities`` attribute (a
``frozenset`` of the names below); each name stands for one protocol of the seam:

===============  ===========================  =========================================
capability       protocol                     what needs it
===============  ===========================  =========================================
``leases``       ``Leases`` / ``AsyncLeases``  locks, semaphores, barriers, list_locks
``state``        ``StateStore``               ``coord.state(...)``
``rate_limits``  ``RateLimits``               ``coord.rate_limit(...)``
``events``       ``EventLog``                 emit, ``@when``, subscribe, ``@coordinate``
``signals``      ``Signals``                  ``request`` / ``@responder`` (with events)
``tasks``        ``Tasks``                    ``coord.queue(...)``, handoffs
``streams``      ``Streams``                  ``coord.audit``, ``coord.board`` (replies)
``approvals``    ``ApprovalStore``            ``coord.approvals`` (with streams)
``agents``       ``Agents``                   ``session()``, the registry, kill, halt,
                                              ``drop_namespace``
===============  ===========================  =========================================

Every store opens mailboxes (``open_mailbox``): that is how any waiter is woken. A
store without a ``capabilities`` attribute is taken to implement them all (the one
protocol of earlier releases). :func:`require` is the check the coordinator runs when
a primitive is made: one attribute read and one set lookup.
"""

from __future__ import annotations

from typing import Any

from accord.errors import Unsupported

LEASES = "leases"
STATE = "state"
RATE_LIMITS = "rate_limits"
EVENTS = "events"
SIGNALS = "signals"
TASKS = "tasks"
STREAMS = "streams"
APPROVALS = "approvals"
AGENTS = "agents"
CAPABILITIES: frozenset[str] = frozenset(
    {LEASES, STATE, RATE_LIMITS, EVENTS, SIGNALS, TASKS, STREAMS, APPROVALS, AGENTS}
)
"""Every capability of the seam; the built-in stores declare them all."""


def capabilities_of(store: Any) -> frozenset[str]:
    """The capabilities ``store`` declares (all of them when it declares none)."""
    declared = getattr(store, "capabilities", CAPABILITIES)
    return frozenset(declared)


def require(store: Any, capability: str) -> None:
    """Raise :class:`Unsupported` unless ``store`` declares ``capability``."""
    declared = getattr(store, "capabilities", CAPABILITIES)
    if capability not in declared:
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r}; known: "
                             f"{', '.join(sorted(CAPABILITIES))}")
        name = getattr(store, "name", type(store).__name__)
        raise Unsupported(capability, str(name), frozenset(declared))
