# Generated from src/accord/_async/_lease.py by scripts/unasync.py: do not edit.
"""Leases and the one wait loop every blocking lease primitive shares.

Waiting is pushed, not polled: a waiter opens a mailbox, joins the FIFO queue in the
store, and sleeps until a release hands it the lease (the new token arrives in the
mailbox) or until the current lease would expire. It asks the store again only then,
or every ``ttl / 2`` to keep its place in the queue alive. An acquisition first asks
without queueing (so a free lock needs no mailbox), except right after one of the same
lock had to wait (see :class:`ContendedKeys`).
"""

from __future__ import annotations

import logging
import time
from types import TracebackType
from typing import Any, Generic, Protocol, TypeVar

from accord import _json, _validate
from accord._sync import _rt, audit
from accord._contended import ContendedKeys
from accord._context import Context
from accord._models import Deadlocked, Granted, LeaseRequest, Waiting
from accord.backends import EVENTS, Backend, capabilities_of
from accord.errors import AccordError, DeadlockError, LeaseLost, LockTimeout

log = logging.getLogger("accord")

MIN_PAUSE = 0.001
T = TypeVar("T")


class Fencing(Protocol):
    """What ``state().set(fence=...)`` takes: a Lease, or a task's Claim."""

    @property
    def fence(self) -> tuple[str, int]:
        """(fence name, token): the name of what is held, and its fencing token."""
        ...


class OwnerStacks(Generic[T]):
    """What each thread or task entered with ``with``, so that leaving the block
    releases that owner's own lease even when many owners share one primitive."""

    def __init__(self) -> None:
        self._stacks: dict[str, list[T]] = {}

    def push(self, item: T) -> T:
        self._stacks.setdefault(_rt.current_owner_key(), []).append(item)
        return item

    def pop(self) -> T:
        key = _rt.current_owner_key()
        stack = self._stacks[key]
        item = stack.pop()
        if not stack:
            del self._stacks[key]
        return item


def notify(ctx: Context[Backend], name: str, payload: dict[str, Any]) -> None:
    """Emit a system event (``lease_lost``, ``agent_dead``...) as ``ctx.agent``, if the
    store keeps events; a failure (a halted namespace, an outage) is logged, never
    raised: the event reports something that already happened."""
    store: Any = ctx.store
    store = getattr(store, "unwatched", store)  # a killed session still reports
    if EVENTS not in capabilities_of(store):
        return
    try:
        store.event_append(name, _json.dumps_record(payload), ctx.agent, ctx.max_events)
    except AccordError as exc:
        log.warning("accord: event %s not emitted: %s", name, exc)


def wait_for_grant(
    backend: Backend,
    req: LeaseRequest,
    timeout: float | None,
    *,
    kind: str,
    name: str,
    contended: ContendedKeys,
    may_deadlock: bool = False,
    ctx: Context[Backend] | None = None,
    alert_after: float | None = None,
    refused_at: float | None = None,
) -> Granted:
    """Acquire ``req`` (made with ``wait=False``) within ``timeout`` seconds
    (None: for ever, 0: no waiting). ``may_deadlock``: the owner holds a lock, so its
    wait could close a wait-for cycle; only then does the store record the wait and
    look for one (a waiter that holds no lock is in no cycle). With ``ctx``, a wait
    longer than ``alert_after`` seconds emits ``lock_wait_long`` once. ``refused_at``:
    the caller already asked once without waiting (``timeout`` not 0), at this
    monotonic time, and was refused."""
    start = time.monotonic() if refused_at is None else refused_at
    queue_at_once = (
        refused_at is None and timeout != 0 and req.key in contended
        and not _rt.blocking_forbidden()
    )
    if refused_at is None and not queue_at_once:
        first = backend.acquire(req, detect_deadlock=False)
        if isinstance(first, Granted):
            return first
        if timeout == 0:
            raise _timed_out(first, kind, name, 0.0)
    _rt.check_may_block(f"{kind} {name!r}", kind)
    mailbox = backend.open_mailbox()
    req = LeaseRequest(
        req.key, req.holder, req.agent, mailbox.id, req.ttl, req.limit, True, req.mode,
        req.intent,
    )
    waited = not queue_at_once  # the first try was refused
    alert = float("inf") if ctx is None or alert_after is None else alert_after
    try:
        while True:
            result = backend.acquire(req, detect_deadlock=may_deadlock)
            if isinstance(result, Granted):
                contended.note(req.key, waited)
                return result
            if isinstance(result, Deadlocked):
                raise DeadlockError(name, [_step(agent, key) for agent, key in result.cycle])
            waited = True
            elapsed = time.monotonic() - start
            remaining = float("inf") if timeout is None else timeout - elapsed
            if remaining <= 0:
                contended.note(req.key, True)
                raise _timed_out(result, kind, name, elapsed)
            if elapsed > alert and ctx is not None:
                alert = float("inf")
                notify(ctx, "lock_wait_long", {
                    "name": name, "kind": kind, "agent": req.agent, "waited_s": elapsed,
                    "holder": result.holder, "intent": result.intent,
                })  # fmt: skip
            pause = min(remaining, result.retry_in + MIN_PAUSE, req.ttl / 2, alert - elapsed)
            message = mailbox.wait(max(pause, MIN_PAUSE))
            if message is not None:
                contended.note(req.key, True)
                return Granted(int(message), req.ttl)
            if timeout is not None and time.monotonic() - start >= timeout:
                # no last ask past the deadline: on a store that stopped answering it
                # would wait for its reply, and the timeout bounds the whole call
                contended.note(req.key, True)
                raise _timed_out(result, kind, name, time.monotonic() - start)
    except BaseException:
        backend.abandon(req.key, req.waiter, req.holder)
        raise
    finally:
        mailbox.close()


def _step(agent: str, key: str) -> str:
    return f"{agent} waits for {key.partition('/')[2]!r}"


def _timed_out(result: object, kind: str, name: str, waited: float) -> LockTimeout:
    if isinstance(result, Waiting):
        return LockTimeout(
            name, waited, result.holder, result.retry_in, kind=kind, intent=result.intent
        )
    return LockTimeout(name, waited, kind=kind)


class Lease:
    """A held lock or semaphore permit.

    ``token`` is the fencing token: it only grows for a name, so a store that keeps
    the highest token it has seen can refuse writes from a holder whose lease expired
    (pass ``fence=lease`` to ``state().set``). Use as ``with`` to release.
    """

    mode = ""  # a lease mode (see backends/leases/rule.py): "" is exclusive
    _refs = 1  # this handle and its nested ones not released yet; 0 once given back
    _counts = False  # nested handles keep it (file leases); a lock's outermost frees it
    _told = False  # lease_lost was emitted and audited
    _renewer: _rt.Renewer | None = None  # auto_renew's, once started
    released = False

    def __init__(
        self,
        backend: Backend,
        key: str,
        holder: str,
        agent: str,
        granted: Granted,
        ctx: Context[Backend] | None = None,
    ) -> None:
        self._backend = backend
        # the coordinator's context: its held locks by (key, owner) list a lock's lease,
        # and a lost lease is reported (lease_lost) and audited
        self._ctx = ctx
        self._key = key
        self._holder = holder
        self.agent = agent
        self.token = granted.token
        self.ttl = granted.ttl
        self._deadline = time.monotonic() + granted.ttl

    @property
    def _alive(self) -> bool:
        """Whether this lease is still held here: this handle or a nested one."""
        return self._refs > 0

    @property
    def _held(self) -> dict[tuple[str, str], object] | None:
        return None if self._ctx is None else self._ctx.held

    @property
    def name(self) -> str:
        """The lock or semaphore name."""
        return self._key.partition("/")[2]

    @property
    def fence(self) -> tuple[str, int]:
        """(lease key, token), what ``state().set(fence=...)`` records."""
        return (self._key, self.token)

    @property
    def expires_in(self) -> float:
        """Seconds left as this process last knew it (0 when released)."""
        return 0.0 if self.released else max(0.0, self._deadline - time.monotonic())

    def extend(self, ttl: float | None = None) -> None:
        """Make the lease last ``ttl`` (default: its ttl) seconds from now, or LeaseLost."""
        if self.released:
            raise LeaseLost(self.name, self.token)
        self._extend(ttl)

    def _extend(self, ttl: float | None) -> None:
        """Extend the store's lease (while any handle of it is held), or LeaseLost."""
        ttl = self.ttl if ttl is None else _validate.positive(ttl, "ttl")
        ok = self._alive and self._backend.extend(
            self._key, self._holder, self.token, ttl
        )
        if not ok:
            self._lost()
            raise LeaseLost(self.name, self.token)
        self.ttl = ttl
        self._deadline = time.monotonic() + ttl

    def release(self) -> None:
        """Give the lease back and wake the next waiter; LeaseLost if it had expired.
        A lock is given back by its outermost lease; a file lease (whose directories'
        intent leases other file leases of the owner share) with the last of its
        nested handles, in whatever order they are released."""
        if self.released:
            return
        self.released = True
        if self._refs > 1:  # a nested handle is still held: the last one gives it back
            self._refs -= 1
            return
        self._refs = 0
        ctx = self._ctx
        if ctx is not None:  # out of the held locks, unless another lease took its place
            held = ctx.held
            found = held.pop((self._key, self._holder), self)
            if found is not self:
                held[self._key, self._holder] = found
        if self._renewer is not None:
            self._renewer.stop()
        if not self._backend.release(self._key, self._holder, self.token):
            self._lost()
            raise LeaseLost(self.name, self.token)
        if ctx is not None and ctx.audit_locks and self._key.startswith("lock/"):
            audit.record(ctx, "lock_released", lock=self.name, token=self.token)

    def _lost(self) -> None:
        """Emit ``lease_lost`` and audit it (``accord.lease_lost``), once: the lease is
        given up after this."""
        ctx = self._ctx
        if ctx is not None and not self._told:
            self._told = True
            kind, _, name = self._key.partition("/")
            notify(ctx, "lease_lost", {
                "name": name, "kind": kind, "agent": self.agent, "token": self.token,
            })  # fmt: skip
            noun = {"lock": "lock", "sem": "semaphore"}.get(kind, kind)
            audit.note(ctx, "lease_lost", **{noun: name}, token=self.token)

    def _confirm(self, ttl: float) -> bool:
        """Whether the store still has this lease; if so it now lasts ``ttl`` seconds
        (its own ``ttl``, what ``extend()`` uses by default, is left as it is)."""
        if not self._alive or not self._backend.extend(
            self._key, self._holder, self.token, ttl
        ):
            if not self.released:
                self._lost()
            return False
        self._deadline = time.monotonic() + ttl
        return True

    def renew_in_background(self) -> None:
        """Extend every ttl/3 until released (``auto_renew=True``)."""
        self._renewer = _rt.Renewer(self.ttl / 3, self._renew_once)

    def _renew_once(self) -> bool:
        if not self._alive:
            return False
        ok = self._backend.extend(self._key, self._holder, self.token, self.ttl)
        if ok:
            self._deadline = time.monotonic() + self.ttl
        else:
            self._lost()
        return ok

    def __enter__(self) -> Lease:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<Lease {self.name!r} token={self.token} agent={self.agent!r}>"


class NestedLease(Lease):
    """A re-entrant acquisition by the owner that already holds the lock.

    Granted only after the store confirmed the outer lease (see ``Lock``); it
    shares the outer lease's token, and releasing it only undoes this nesting level.
    """

    def __init__(self, outer: Lease) -> None:
        self.__dict__.update(outer.__dict__)
        self._outer = outer
        self._renewer = None
        self.released = False
        if outer._counts:
            outer._refs += 1

    @property
    def expires_in(self) -> float:
        return 0.0 if self.released else self._outer.expires_in

    def extend(self, ttl: float | None = None) -> None:
        if self.released:  # this level was given back, even if the outer one still holds
            raise LeaseLost(self.name, self.token)
        self._outer._extend(ttl)

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        outer = self._outer
        if not outer._counts:  # a lock's nested level: the outermost gives it back
            return
        if outer._refs == 1 and outer.released:  # the outer handle went first: give it back
            outer.released = False
            outer.release()
        else:
            outer._refs -= 1
