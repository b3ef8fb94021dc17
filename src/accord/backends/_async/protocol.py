"""The backend seam: the only operations the primitives ask of a store, by capability.

Each operation is atomic: one Lua script on Redis, one transaction on SQLite, one
critical section in memory. A backend instance is bound to one namespace, and keys
never cross namespaces. Retry loops, waiting, re-entrance, renewal and validation
live above this seam, once, in the primitives.

The seam is split into small protocols, one per capability, each in its feature
folder with its rule, SQL and Lua (see ``accord.backends._capabilities``):

==============================  ==============  =====================================
protocol                        capability      operations
==============================  ==============  =====================================
``AsyncStore`` (every store)    —               ``open_mailbox``, ``aclose``
``leases.AsyncLeases``          ``leases``      acquire, release, extend, abandon,
                                                lease_statistics, list_leases,
                                                barrier_arrive, barrier_break
``state.AsyncStateStore``       ``state``       state_get/set/incr/delete/items/history
``rates.AsyncRateLimits``       ``rate_limits`` rate_acquire
``events.AsyncEventLog``        ``events``      event_append/read/tail/history,
                                                group_create/read/ack, interrupt_reads
``signals.AsyncSignals``        ``signals``     post
``tasks.AsyncTasks``            ``tasks``       task_put/claim/extend/complete/fail/
                                                release/cancel/retry/get/list/stats/
                                                watch/unwatch/unwait/prune/revoke
``streams.AsyncStreams``        ``streams``     stream_append/read/meta
``approvals.                    ``approvals``   approval_create/get/decide/pending
AsyncApprovalStore``
``agents.AsyncAgents``          ``agents``      agent_join/beat/leave/get/page/hung/
                                                reap/kill, halt, resume, halt_reason,
                                                drop_namespace
==============================  ==============  =====================================

``AsyncBackend`` is all of them: what memory, SQLite and Redis implement. A store of
your own implements the protocols of the capabilities it declares in
``capabilities``. ``AsyncBackend`` is the source; ``Backend`` in
``backends/_sync/protocol.py`` is generated from it by ``scripts/unasync.py``.

Errors: any failure to reach the store raises ``BackendUnavailable``.
"""

from __future__ import annotations

from typing import Protocol

# re-exported ("as"): the protocols of every capability, from their folders
from accord.backends._async.store import AsyncMailbox as AsyncMailbox
from accord.backends._async.store import AsyncStore as AsyncStore
from accord.backends.agents import AsyncAgents as AsyncAgents
from accord.backends.approvals import AsyncApprovalStore as AsyncApprovalStore
from accord.backends.events import AsyncEventLog as AsyncEventLog
from accord.backends.leases import AsyncLeases as AsyncLeases
from accord.backends.rates import AsyncRateLimits as AsyncRateLimits
from accord.backends.signals import AsyncSignals as AsyncSignals
from accord.backends.state import AsyncStateStore as AsyncStateStore
from accord.backends.streams import AsyncStreams as AsyncStreams
from accord.backends.tasks import AsyncTasks as AsyncTasks


class AsyncBackend(
    AsyncLeases, AsyncStateStore, AsyncRateLimits, AsyncEventLog, AsyncSignals, AsyncTasks,
    AsyncStreams, AsyncApprovalStore, AsyncAgents, Protocol,
):
    """A store of every capability, bound to one namespace (see the module docstring)."""
