"""Every error accord raises, in one tree.

```
AccordError
├── ConfigError            a bad URL, option or environment value
├── InvalidName            an empty, too long or control-character name
├── PayloadTooLarge        a value over the coordinator's ``max_payload``
├── BackendUnavailable     the store cannot be reached (never a silent fallback)
├── Unsupported            the store does not implement a capability (leases, state ...)
├── LockTimeout            a lock, semaphore or rate limit was not granted in time
├── AgentExists            a live session already has this agent name in the namespace
├── AgentKilled            an operator killed this agent; its leases were revoked
├── UnknownAgent           no agent of that name is registered in the namespace
├── Halted                 the namespace is halted: acquisitions and emits are refused
├── DeadlockError          waiting would close a cycle of owners waiting on each other
├── LeaseLost              a lease expired and may have been taken by someone else
├── WouldBlockLoop         a sync call would wait inside a running asyncio event loop
├── VersionConflict        compare-and-set saw another version
├── StaleFence             a newer fencing token already wrote this key
├── SchemaError            an event payload failed the schema of its name
├── RequestTimeout         no responder answered a request in time
├── RemoteError            the responder raised; its type and message are attached
├── BarrierTimeout         a barrier did not fill in time (and is broken)
│   └── BarrierBroken      another waiter's timeout broke the barrier
├── TaskNotFound           no task of that id in the queue (or a depends_on id)
├── DependencyCycle        depends_on would make a task wait for itself
├── TaskStateError         the task's status does not allow that (retry a done task...)
├── TaskTimeout            Task.wait() ended before the task finished
├── NoTaskClaimed          ``with queue.claim(...)`` found no task to enter (also a TypeError)
├── TaskFailed             the awaited task is dead (its attempts ran out)
├── TaskCancelled          the awaited task was cancelled
├── NotFound               no approval request or board thread has that id
├── ApprovalClosed         an approval request was already decided (or expired)
├── NotAnApprover          this agent may not decide that approval request
└── ApprovalTimeout        an approval request was still pending when the wait ended
```

A value that is not JSON data raises the built-in ``TypeError``. Each error carries
the context a caller needs (``.name``, ``.holder``, ``.current`` ...) and a message
that says what happened and what to do about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord._models import Entry
    from accord._people import Decision

__all__ = [
    "AccordError",
    "AgentExists",
    "AgentKilled",
    "ApprovalClosed",
    "ApprovalTimeout",
    "BackendUnavailable",
    "BarrierBroken",
    "BarrierTimeout",
    "ConfigError",
    "DeadlockError",
    "DependencyCycle",
    "Halted",
    "InvalidName",
    "LeaseLost",
    "LockTimeout",
    "NoTaskClaimed",
    "NotAnApprover",
    "NotFound",
    "PayloadTooLarge",
    "RemoteError",
    "RequestTimeout",
    "SchemaError",
    "StaleFence",
    "TaskCancelled",
    "TaskFailed",
    "TaskNotFound",
    "TaskStateError",
    "TaskTimeout",
    "UnknownAgent",
    "Unsupported",
    "VersionConflict",
    "WouldBlockLoop",
]


class AccordError(Exception):
    """Base class of every accord error."""


class ConfigError(AccordError):
    """A URL, option or environment value is not usable."""


class InvalidName(AccordError, ValueError):
    """A lock, map, key or namespace name is not acceptable."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        shown = name if len(name) <= 60 else name[:57] + "..."
        super().__init__(
            f"invalid name {shown!r}: {reason}; use 1-512 printable characters"
        )


class PayloadTooLarge(AccordError, ValueError):
    """A value is larger than the coordinator's ``max_payload``."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"payload of {size} bytes exceeds the limit of {limit} bytes; store a "
            "reference (a path or an id) instead, or raise max_payload on connect()"
        )


class BackendUnavailable(AccordError):
    """The store did not answer; accord never falls back to another store."""

    RETRY = (
        "the call may or may not have taken effect: retry once the store is back (a "
        "write with expected_version is safe to retry)"
    )

    def __init__(self, backend: str, detail: str, remedy: str = RETRY) -> None:
        self.backend = backend
        super().__init__(f"{backend} store is unavailable ({detail}); {remedy}")


class Unsupported(AccordError):
    """The store does not declare the capability a primitive needs (see
    ``accord.backends.CAPABILITIES``); raised when the primitive is made, before any
    effect."""

    def __init__(self, capability: str, store: str, declared: frozenset[str]) -> None:
        self.capability = capability
        self.store = store
        have = ", ".join(sorted(declared)) or "none"
        super().__init__(
            f"the {store} store does not support {capability!r} (it declares: {have}); "
            f"use a store that declares {capability!r} (memory, sqlite and redis "
            "declare every capability)"
        )


class LockTimeout(AccordError, TimeoutError):
    """A lock, semaphore permit or rate-limit slot was not granted in time."""

    def __init__(
        self,
        name: str,
        waited: float,
        holder: str | None = None,
        expires_in: float | None = None,
        kind: str = "lock",
        intent: str = "",
    ) -> None:
        self.name = name
        self.holder = holder
        self.waited = waited
        self.expires_in = expires_in
        self.intent = intent
        held = ""
        if holder is not None:
            held = f" is held by {holder}"
            if intent:
                held += f" ({intent})"
            if expires_in is not None:
                held += f" for {expires_in:.1f} s more"
        super().__init__(
            f"{kind} {name!r}{held}; gave up after {waited:.1f} s. Raise timeout=, "
            "or check the holder with `accord locks`"
        )


class AgentExists(AccordError):
    """Another live session holds this agent name in the namespace."""

    def __init__(self, name: str, namespace: str, host: str, pid: int) -> None:
        self.name = name
        self.namespace = namespace
        self.host = host
        self.pid = pid
        super().__init__(
            f"agent {name!r} is already running in namespace {namespace!r} (host {host}, "
            f"pid {pid}); pick another name, or end that session (the name is free again "
            "once it ends or its heartbeat lapses)"
        )


class AgentKilled(AccordError):
    """An operator killed this agent (``coord.agents.kill``): every lease it held was
    revoked and each of its calls raises this."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(
            f"agent {name!r} was killed by an operator: {reason}; its leases were revoked "
            "and its late fenced writes are refused. Stop this agent; start a new session "
            "to work again"
        )


class UnknownAgent(AccordError, LookupError):
    """No agent of that name is registered in the namespace."""

    def __init__(self, name: str, namespace: str) -> None:
        self.name = name
        self.namespace = namespace
        super().__init__(
            f"no agent {name!r} is registered in namespace {namespace!r}; see "
            "coord.agents.list() or `accord agents` for the agents there"
        )


class Halted(AccordError):
    """The namespace is halted (``coord.halt``): acquisitions, claims and emits are
    refused until ``coord.resume()``; reads and releases still work."""

    def __init__(self, namespace: str, reason: str) -> None:
        self.namespace = namespace
        self.reason = reason
        super().__init__(
            f"namespace {namespace!r} is halted: {reason}; acquisitions and emits are "
            "refused until an operator calls coord.resume() (reads and releases still work)"
        )


class DeadlockError(AccordError):
    """Waiting would close a cycle; this waiter was refused so the others proceed."""

    def __init__(self, name: str, cycle: list[str]) -> None:
        self.name = name
        self.cycle = cycle
        super().__init__(
            f"deadlock while waiting for {name!r}: {' -> '.join(cycle)}; this waiter "
            "was refused so the others can proceed. Release what you hold and retry, "
            "or take several locks at once with coord.locks([...])"
        )


class LeaseLost(AccordError):
    """The lease expired or was never held, so exclusivity is not guaranteed."""

    def __init__(
        self, name: str, token: int, holder: str | None = None, *, nested: bool = False
    ) -> None:
        self.name = name
        self.token = token
        self.holder = holder
        now = f"; it is now held by {holder}" if holder else ""
        what = f"lease {token} on {name!r}"
        if nested:
            what = f"nested acquisition of lock {name!r} refused: the outer {what}"
        super().__init__(
            f"{what} was lost (expired or released){now}. Work done "
            "since may have overlapped another holder; use a longer ttl, extend() or "
            "auto_renew=True"
        )


class WouldBlockLoop(AccordError):
    """A sync call would have to wait while this thread runs an asyncio event loop.

    Waiting would block the loop, and with it the task that holds what is waited for
    (a deadlock), so the call is refused instead (nothing is held or consumed)."""

    def __init__(self, what: str, twin: str) -> None:
        self.what = what
        self.twin = twin
        super().__init__(
            f"{what} would have to wait, and this thread runs an asyncio event loop: "
            "waiting would block the loop and every task on it. In async code use the "
            f"async API (`await acoord.{twin}(...)`, AsyncCoordinator.{twin} from "
            "accord.connect_async), or run the sync call in a thread (asyncio.to_thread)"
        )


class VersionConflict(AccordError):
    """A compare-and-set saw another version; ``.current`` is what is stored now."""

    def __init__(self, name: str, key: str, expected: int, current: Entry | None) -> None:
        self.name = name
        self.key = key
        self.expected_version = expected
        self.current = current
        found = current.version if current is not None else "absent"
        super().__init__(
            f"{name}[{key!r}] expected version {expected} but found {found}; re-read "
            "and retry, or use update() which retries for you"
        )


class StaleFence(AccordError):
    """A write fenced by an old lease arrived after a newer lease wrote the key, or
    after that lease was revoked (``.revoked``)."""

    def __init__(
        self, name: str, key: str, token: int, newest: int, *, revoked: bool = False
    ) -> None:
        self.name = name
        self.key = key
        self.token = token
        self.newest = newest
        self.revoked = revoked
        why = (
            f"the lease of token {newest} was revoked (its agent killed, or the lock "
            "force-released)" if revoked else f"token {newest} already wrote it, so your "
            "lease expired and another holder took over"
        )
        super().__init__(
            f"{name}[{key!r}] refused fencing token {token}: {why}. Re-acquire the lock "
            "and re-read before writing"
        )



class SchemaError(AccordError, ValueError):
    """An event payload failed the schema registered for its name."""

    def __init__(self, name: str, detail: str) -> None:
        self.name = name
        super().__init__(
            f"payload of event {name!r} does not match its schema: {detail}; fix the "
            "payload or the schema registered with events.schema()"
        )


class RequestTimeout(AccordError, TimeoutError):
    """No responder answered a request in time."""

    def __init__(self, agent: str, timeout: float) -> None:
        self.agent = agent
        self.timeout = timeout
        super().__init__(
            f"no reply from responder {agent!r} within {timeout:.1f} s; check that a "
            "process runs @responder(...) for it, or raise timeout="
        )


class RemoteError(AccordError):
    """A responder raised: ``.error_type`` and ``.remote_message`` say what."""

    def __init__(self, agent: str, error_type: str, message: str) -> None:
        self.agent = agent
        self.error_type = error_type
        self.remote_message = message
        super().__init__(f"responder {agent!r} raised {error_type}: {message}")


class BarrierTimeout(AccordError, TimeoutError):
    """A barrier did not fill in time; it was broken so nobody waits for ever."""

    def __init__(self, name: str, parties: int) -> None:
        self.name = name
        self.parties = parties
        super().__init__(
            f"barrier {name!r} for {parties} parties was not filled in time and is "
            "broken for every waiter; wait() again to start a new round"
        )


class BarrierBroken(BarrierTimeout):
    """Another waiter's timeout broke the barrier while this one waited."""


class TaskNotFound(AccordError, LookupError):
    """No task of that id in this queue (also a ``depends_on`` id that does not exist)."""

    def __init__(self, queue: str, task_id: str, why: str = "") -> None:
        self.queue = queue
        self.task_id = task_id
        super().__init__(
            f"no task {task_id!r} in queue {queue!r}{why}; use the .id of a Task that "
            "put() returned (a pruned task is gone)"
        )


class DependencyCycle(AccordError, ValueError):
    """``depends_on`` would make a task wait (through others) for itself."""

    def __init__(self, queue: str, task_id: str, through: str) -> None:
        self.queue = queue
        self.task_id = task_id
        super().__init__(
            f"task {task_id!r} of queue {queue!r} would wait for itself through task "
            f"{through!r}; nothing was put. Drop that id from depends_on"
        )


class TaskStateError(AccordError):
    """The task's status does not allow what was asked (retry a done task, cancel a
    done one, complete a claim twice)."""

    def __init__(self, queue: str, task_id: str, status: str, wanted: str, fix: str) -> None:
        self.queue = queue
        self.task_id = task_id
        self.status = status
        super().__init__(
            f"cannot {wanted} task {task_id!r} of queue {queue!r}: it is {status}; {fix}"
        )


class TaskTimeout(AccordError, TimeoutError):
    """``Task.wait()`` gave up before the task finished (it goes on)."""

    def __init__(self, queue: str, task_id: str, status: str, timeout: float) -> None:
        self.queue = queue
        self.task_id = task_id
        self.status = status
        super().__init__(
            f"task {task_id!r} of queue {queue!r} is still {status} after {timeout:.1f} s; "
            "raise timeout=, or check that a worker claims from this queue"
        )


class NoTaskClaimed(AccordError, TypeError):
    """``with queue.claim(...) as task:`` got no claim: ``claim`` returns None when no
    task came, and None is no context manager (Python would raise a TypeError)."""

    def __init__(self, queue: str, timeout: float | None) -> None:
        self.queue = queue
        self.timeout = timeout
        within = "" if not timeout else f" within {timeout:g} s"
        super().__init__(
            f"no task of queue {queue!r} came{within}, so claim() returned None and "
            "there is nothing to enter; write `claim = queue.claim(...)`, then `if claim "
            "is not None: with claim as task: ...` (or run tasks with queue.work(fn))"
        )


class TaskFailed(AccordError):
    """The awaited task is dead: every attempt failed. ``.error`` says the last why."""

    def __init__(self, queue: str, task_id: str, error: str | None, attempts: int) -> None:
        self.queue = queue
        self.task_id = task_id
        self.error = error
        self.attempts = attempts
        super().__init__(
            f"task {task_id!r} of queue {queue!r} is dead after {attempts} attempt(s): "
            f"{error or 'no reason given'}; fix the cause, then queue.retry({task_id!r})"
        )


class TaskCancelled(AccordError):
    """The awaited task was cancelled (by ``cancel``, or a dependency that died)."""

    def __init__(self, queue: str, task_id: str, reason: str | None) -> None:
        self.queue = queue
        self.task_id = task_id
        self.reason = reason
        super().__init__(
            f"task {task_id!r} of queue {queue!r} was cancelled: {reason or 'no reason given'}"
            "; put it again to run it"
        )


class NotFound(AccordError, LookupError):
    """No approval request or board thread of the namespace has that id."""

    def __init__(self, kind: str, id: str, hint: str) -> None:
        self.kind = kind
        self.id = id
        shown = id if len(id) <= 60 else id[:57] + "..."
        super().__init__(
            f"no {kind} {shown!r} in this namespace; check the id (and the namespace): "
            f"{hint}"
        )


class ApprovalClosed(AccordError):
    """The approval request was decided already: ``.decision`` is the one that stood."""

    def __init__(self, action: str, decision: Decision) -> None:
        self.id = decision.id
        self.decision = decision
        if decision.status == "expired":
            what = "expired without a decision (a timeout denies)"
        else:
            what = f"was already {decision.status} by {decision.by}"
        super().__init__(
            f"approval request {decision.id!r} ({action}) {what}; a decision is final: "
            "make a new request if it must be decided again"
        )


class NotAnApprover(AccordError, PermissionError):
    """This agent may not decide the approval request: it asked for it, or it is not
    among its ``approvers``."""

    def __init__(
        self,
        approval: str,
        action: str,
        agent: str,
        approvers: tuple[str, ...] | None,
        own: bool,
    ) -> None:
        self.id = approval
        self.agent = agent
        self.approvers = approvers
        self.own = own
        if own:
            why = "it made the request, and a requester cannot decide its own: another agent must"
        else:
            why = f"only {', '.join(approvers or ())} may decide it: ask one of them"
        super().__init__(
            f"agent {agent!r} may not decide approval request {approval!r} ({action}): {why}; "
            "nothing was changed"
        )


class ApprovalTimeout(AccordError, TimeoutError):
    """The wait ended while the approval request was still pending (it stays pending
    until decided or until it expires)."""

    def __init__(self, approval: str, action: str, waited: float, expires_in: float) -> None:
        self.id = approval
        self.waited = waited
        self.expires_in = expires_in
        super().__init__(
            f"approval request {approval!r} ({action}) is still pending after {waited:.1f} s "
            f"of waiting; it expires in {expires_in:.1f} s unless decided: wait again, or "
            "wait without a timeout (it then ends at the latest when the request expires)"
        )
