"""accord: coordination primitives for AI agents.

Leased locks with fencing tokens, FIFO hand-off and deadlock detection, semaphores,
rate limits and versioned state, on ``memory://``, ``sqlite:///path`` or
``redis://``, with a sync API (:func:`connect`) and its asyncio twin
(:func:`connect_async`).
"""

from accord import errors, events
from accord._async._lease import AsyncLease
from accord._async.approvals import AsyncApprovalRequest, AsyncApprovals
from accord._async.audit import AsyncAudit
from accord._async.barrier import AsyncBarrier
from accord._async.board import AsyncBoard, AsyncBoardThread
from accord._async.coordinator import AsyncCoordinator
from accord._async.events import AsyncEvents
from accord._async.files import AsyncFileLease, AsyncFileLock
from accord._async.handoffs import AsyncHandoffs
from accord._async.lock import AsyncLock, AsyncMultiLock
from accord._async.queue import AsyncClaim, AsyncQueue, AsyncTask
from accord._async.ratelimit import AsyncRateLimit
from accord._async.registry import AsyncAgentRegistry
from accord._async.semaphore import AsyncSemaphore
from accord._async.state import MISSING, AsyncStateMap
from accord._connect import connect, connect_async, session, session_async
from accord._default import configure, coordinate, emit, wait_idle, when
from accord._event import Event
from accord._models import (
    AgentInfo,
    ConnectSpec,
    Entry,
    HolderInfo,
    LeaseStatistics,
    LockMetrics,
    Page,
    RateLimitStatistics,
)
from accord._people import Approval, AuditBreak, AuditEntry, Decision, Message
from accord._sync._lease import Lease
from accord._sync.approvals import ApprovalRequest, Approvals
from accord._sync.audit import Audit
from accord._sync.barrier import Barrier
from accord._sync.board import Board, BoardThread
from accord._sync.coordinator import Coordinator
from accord._sync.events import Events
from accord._sync.files import FileLease, FileLock
from accord._sync.handoffs import Handoffs
from accord._sync.lock import Lock, MultiLock
from accord._sync.queue import Claim, Queue, Task
from accord._sync.ratelimit import RateLimit
from accord._sync.registry import AgentRegistry
from accord._sync.semaphore import Semaphore
from accord._sync.state import StateMap
from accord._task import QueueStats
from accord._version import __version__
from accord.errors import (
    AccordError,
    AgentExists,
    AgentKilled,
    ApprovalClosed,
    ApprovalTimeout,
    BackendUnavailable,
    BarrierBroken,
    BarrierTimeout,
    ConfigError,
    DeadlockError,
    DependencyCycle,
    Halted,
    InvalidName,
    LeaseLost,
    LockTimeout,
    NotAnApprover,
    NoTaskClaimed,
    NotFound,
    PayloadTooLarge,
    RemoteError,
    RequestTimeout,
    SchemaError,
    StaleFence,
    TaskCancelled,
    TaskFailed,
    TaskNotFound,
    TaskStateError,
    TaskTimeout,
    UnknownAgent,
    Unsupported,
    VersionConflict,
    WouldBlockLoop,
)

__all__ = [
    "MISSING",
    "AccordError",
    "AgentExists",
    "AgentInfo",
    "AgentKilled",
    "AgentRegistry",
    "Approval",
    "ApprovalClosed",
    "ApprovalRequest",
    "ApprovalTimeout",
    "Approvals",
    "AsyncAgentRegistry",
    "AsyncApprovalRequest",
    "AsyncApprovals",
    "AsyncAudit",
    "AsyncBarrier",
    "AsyncBoard",
    "AsyncBoardThread",
    "AsyncClaim",
    "AsyncCoordinator",
    "AsyncEvents",
    "AsyncFileLease",
    "AsyncFileLock",
    "AsyncHandoffs",
    "AsyncLease",
    "AsyncLock",
    "AsyncMultiLock",
    "AsyncQueue",
    "AsyncRateLimit",
    "AsyncSemaphore",
    "AsyncStateMap",
    "AsyncTask",
    "Audit",
    "AuditBreak",
    "AuditEntry",
    "BackendUnavailable",
    "Barrier",
    "BarrierBroken",
    "BarrierTimeout",
    "Board",
    "BoardThread",
    "Claim",
    "ConfigError",
    "ConnectSpec",
    "Coordinator",
    "DeadlockError",
    "Decision",
    "DependencyCycle",
    "Entry",
    "Event",
    "Events",
    "FileLease",
    "FileLock",
    "Halted",
    "Handoffs",
    "HolderInfo",
    "InvalidName",
    "Lease",
    "LeaseLost",
    "LeaseStatistics",
    "Lock",
    "LockMetrics",
    "LockTimeout",
    "Message",
    "MultiLock",
    "NoTaskClaimed",
    "NotAnApprover",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "Queue",
    "QueueStats",
    "RateLimit",
    "RateLimitStatistics",
    "RemoteError",
    "RequestTimeout",
    "SchemaError",
    "Semaphore",
    "StaleFence",
    "StateMap",
    "Task",
    "TaskCancelled",
    "TaskFailed",
    "TaskNotFound",
    "TaskStateError",
    "TaskTimeout",
    "UnknownAgent",
    "Unsupported",
    "VersionConflict",
    "WouldBlockLoop",
    "__version__",
    "configure",
    "connect",
    "connect_async",
    "coordinate",
    "emit",
    "errors",
    "events",
    "session",
    "session_async",
    "wait_idle",
    "when",
]
