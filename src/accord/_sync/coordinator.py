# Generated from src/accord/_async/coordinator.py by scripts/unasync.py: do not edit.
"""The coordinator: one store, one namespace, one agent identity, every primitive."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterator, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from accord import _lifecycle, _validate
from accord._sync import _rt, agents
from accord._sync.agency import Agency
from accord._sync.approvals import Approvals
from accord._sync.audit import Audit
from accord._sync.barrier import Barrier
from accord._sync.board import Board, BoardThread
from accord._sync.events import Events
from accord._sync.files import FileLock
from accord._sync.handoffs import Handoffs
from accord._sync.lock import Lock, MultiLock
from accord._sync.queue import Claim, Queue, Task
from accord._sync.ratelimit import RateLimit
from accord._sync.semaphore import Semaphore
from accord._sync.session import Session
from accord._sync.state import StateMap
from accord._context import Context, Watch, Watched
from accord._event import Event
from accord._models import LeaseStatistics
from accord._people import AuditEntry, Decision
from accord.backends import (
    APPROVALS,
    EVENTS,
    LEASES,
    RATE_LIMITS,
    SIGNALS,
    STATE,
    STREAMS,
    TASKS,
    Backend,
    redact,
    require,
)

F = TypeVar("F", bound=Callable[..., Any])


class Coordinator(Agency):
    """Locks, semaphores, rate limits and state on one store and namespace.

    Build it with :func:`accord.connect`. Every name is scoped to
    ``namespace``; ``agent`` is the name people see (CLI, ``updated_by``, holders).
    A thin front: it builds the :class:`~accord._context.Context` its primitives share
    and hands it to each of them.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        agent: str,
        url: str,
        max_payload: int,
        max_events: int,
        audit_locks: bool = False,
        audit_keep: int | None = None,
    ) -> None:
        if audit_locks:
            require(backend, STREAMS)
        self._ctx: Context[Backend] = Context(
            backend, agent, _rt.current_owner_key, max_payload, max_events,
            audit_locks=audit_locks, audit_keep=audit_keep,
        )
        self._url = url
        self.agent = agent
        self.url = redact(url)
        self.namespace = backend.namespace
        self.max_payload = max_payload
        self.max_events = max_events
        self.events = Events(self._ctx)
        """The event log: ``emit``, ``history``, ``read``, ``subscribe``, ``schema``."""
        self._people = (Audit(self._ctx), Approvals(self._ctx),
                        Board(self._ctx, self.events))  # fmt: skip
        self._session: Session | None = None
        self._owns_store = True
        self._views: list[Coordinator] = []

    @property
    def _backend(self) -> Backend:
        """The store (tests swap it for a spy: primitives read it from the context)."""
        return self._ctx.store

    @_backend.setter
    def _backend(self, store: Backend) -> None:
        self._ctx.store = store

    def lock(
        self,
        name: str,
        *,
        ttl: float = 30.0,
        timeout: float | None = None,
        auto_renew: bool = False,
        shared: bool = False,
        alert_after: float | None = None,
    ) -> Lock:
        """A lock leased for ``ttl`` seconds; ``timeout`` bounds waiting (None: for ever).

        ``auto_renew=True`` extends the lease every ttl/3 while it is held.
        ``shared=True`` makes it a read lease: many readers at once or one writer,
        served first come first served (a reader behind a queued writer waits, so
        writers are not starved). A waiter that waited ``alert_after`` seconds
        (default twice the ttl) emits ``lock_wait_long``.
        """
        require(self._ctx.store, LEASES)
        return Lock(self._ctx, name, ttl, timeout, auto_renew, shared, alert_after)

    def lock_file(
        self,
        path: str | os.PathLike[str],
        *,
        intent: str,
        ttl: float = 300.0,
        timeout: float | None = None,
        shared: bool = False,
        auto_renew: bool = True,
    ) -> FileLock:
        """A lease on a file or directory of the repository, with what you mean to do
        with it (``intent``, shown to others). ``path`` in any spelling (relative,
        ``./``, ``..``, absolute, through a symlink) is one lease, named from the git
        top level (else the working directory); a directory (existing, or ending in
        ``/``) conflicts with every lease under it. ``shared=True``: a read lease."""
        require(self._ctx.store, LEASES)
        return FileLock(self._ctx, [path], intent=intent, ttl=ttl, timeout=timeout,
                             shared=shared, auto_renew=auto_renew)

    def lock_files(
        self,
        paths: list[str | os.PathLike[str]],
        *,
        intent: str,
        ttl: float = 300.0,
        timeout: float | None = None,
        shared: bool = False,
        auto_renew: bool = True,
    ) -> FileLock:
        """Leases on several files or directories, taken in one global order (so two
        agents asking for overlapping sets cannot deadlock); see :meth:`lock_file`."""
        if isinstance(paths, (str, os.PathLike)):
            raise TypeError("lock_files() takes a list of paths; use lock_file() for one")
        require(self._ctx.store, LEASES)
        return FileLock(self._ctx, list(paths), intent=intent, ttl=ttl,
                             timeout=timeout, shared=shared, auto_renew=auto_renew)

    def locks(
        self, names: list[str], *, ttl: float = 30.0, timeout: float | None = None
    ) -> MultiLock:
        """Several locks acquired in one global order (their sorted names)."""
        if isinstance(names, str):
            raise TypeError("locks() takes a list of names; use lock() for one")
        unique = dict.fromkeys(names)
        return MultiLock([self.lock(n, ttl=ttl, timeout=timeout) for n in unique])

    def semaphore(
        self, name: str, *, limit: int, ttl: float = 30.0, timeout: float | None = None
    ) -> Semaphore:
        """At most ``limit`` holders at once, anywhere; permits are leases of ``ttl``."""
        require(self._ctx.store, LEASES)
        return Semaphore(self._ctx, name, limit, ttl, timeout)

    def rate_limit(
        self, name: str, *, rate: float, per: float = 1.0, burst: int | None = None
    ) -> RateLimit:
        """``rate`` calls per ``per`` seconds shared by every process; ``burst`` at once."""
        require(self._ctx.store, RATE_LIMITS)
        return RateLimit(self._ctx, name, rate, per, burst)

    def state(self, name: str) -> StateMap:
        """A named map of versioned JSON entries."""
        require(self._ctx.store, STATE)
        return StateMap(self._ctx, name)

    def list_locks(self) -> list[LeaseStatistics]:
        """Every lock, semaphore and file lease of the namespace with holders or
        waiters (the intent leases a file lease takes on the directories above it are
        left out), with each holder's mode and intent."""
        require(self._ctx.store, LEASES)
        store = self._ctx.store
        found = store.list_leases("lock/") + store.list_leases("sem/")
        for stats in store.list_leases("file/"):
            held = tuple(h for h in stats.holders if not h.mode.startswith("intent"))
            if held or stats.waiters:
                found.append(dataclasses.replace(stats, holders=held))
        return found

    def barrier(self, name: str, parties: int, *, timeout: float | None = None) -> Barrier:
        """A barrier that releases ``parties`` waiters at once, in any processes."""
        require(self._ctx.store, LEASES)
        return Barrier(self._ctx, name, parties, timeout)

    # --- task queues and handoffs --------------------------------------------------
    def queue(self, name: str = "default") -> Queue:
        """A named task queue: ``put``, ``claim`` (a lease with a fencing token),
        ``get``, ``list``, ``cancel``, ``retry``, ``stats``, ``work``."""
        require(self._ctx.store, TASKS)
        return Queue(self._ctx, name)

    def create_task(
        self,
        title: str,
        *,
        description: str = "",
        priority: int = 0,
        tags: list[str] | None = None,
        depends_on: list[str] | None = None,
        data: Any = None,
    ) -> Task:
        """Put a task on the default queue (``queue().put``) and return it."""
        return self.queue().put(
            title, description=description, priority=priority, tags=tags,
            depends_on=depends_on, data=data,
        )

    def claim_task(
        self, *, tags: list[str] | None = None, lease: float = 60.0, timeout: float | None = 0.0
    ) -> Claim | None:
        """Claim a task of the default queue (``queue().claim``): None if none is ready."""
        return self.queue().claim(tags=tags, lease=lease, timeout=timeout)

    @property
    def handoffs(self) -> Handoffs:
        """Handoffs: ``handoffs.claim(agent, timeout=)`` takes an offer made with
        :meth:`handoff` (exactly one claimant each)."""
        require(self._ctx.store, TASKS)
        return Handoffs(self._ctx)

    def handoff(
        self, to: str, context: Any = None, *, title: str | None = None, priority: int = 0
    ) -> Task:
        """Offer work to the agent or role ``to`` with ``context``; ``wait()`` on the
        returned task gives the claimant's result."""
        return self.handoffs.offer(to, context, title=title, priority=priority)

    # --- events and agents ---------------------------------------------------------
    def emit(self, name: str, data: Any = None) -> str:
        """Append an event (JSON payload, default ``{}``) and return its id."""
        require(self._ctx.store, EVENTS)
        return self.events.emit(name, data)

    def when(
        self, pattern: str, *, group: str | None = None, visibility: float = 30.0
    ) -> Callable[[F], F]:
        """Register the decorated function as a handler of events matching ``pattern``
        (a name or a glob like ``order.*``). With ``group``, each event goes to one
        member of the group (at least once; re-delivered after ``visibility`` seconds
        if that member dies before its handler returns)."""
        require(self._ctx.store, EVENTS)

        def register(fn: F) -> F:
            self.events.register(fn, pattern, group, visibility)
            return fn

        return register

    def coordinate(
        self,
        agent: str,
        lock_name: str | None = None,
        *,
        ttl: float = 30.0,
        timeout: float | None = None,
        semaphore: Semaphore | None = None,
        rate_limit: RateLimit | None = None,
        auto_renew: bool = False,
    ) -> Callable[[F], F]:
        """Run the decorated function as agent ``agent``: under ``lock_name`` (and the
        semaphore and rate limit, if given), emitting ``<agent>_started``,
        ``<agent>_complete`` (with its result) or ``<agent>_failed`` (and re-raising).

        ``auto_renew=True`` extends the lock every ttl/3 while the function runs; without
        it a run longer than ``ttl`` loses the lock and ends in ``_failed`` with
        LeaseLost (its result is not reported as complete)."""
        require(self._ctx.store, EVENTS)
        spec = _lifecycle.make_spec(
            agent, lock_name, ttl, timeout, semaphore, rate_limit, auto_renew
        )

        def decorate(fn: F) -> F:
            run = functools.partial(self._run_coordinated, spec)
            wrapped: F = _rt.coordinated(spec, fn, run)  # type: ignore[assignment]
            return wrapped

        return decorate

    def _run_coordinated(
        self,
        spec: _lifecycle.Spec,
        fn: Callable[..., Any],
        args: Any,
        kwargs: Any,
        proceed: Callable[[], None] | None = None,
    ) -> Any:
        """One run of a ``@coordinate`` function (see ``agents.run_coordinated``)."""
        return agents.run_coordinated(
            self._ctx, self.events, spec, fn, args, kwargs, proceed
        )

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every handler triggered so far (and what it triggered) finished."""
        _rt.check_may_block("this coordinator's handlers", "wait_idle")
        return self.events.wait_idle(timeout)

    def subscribe(
        self, pattern: str = "*", *, timeout: float | None = None, after: str | None = None
    ) -> Iterator[Event]:
        """Iterate over events matching ``pattern``; see ``events.subscribe``."""
        require(self._ctx.store, EVENTS)
        return self.events.subscribe(pattern, timeout=timeout, after=after)

    def request(self, agent: str, payload: Any = None, timeout: float = 30.0) -> Any:
        """Ask the responder of ``agent`` (in any process) and return its reply.

        RequestTimeout if none answers in ``timeout`` seconds; RemoteError carries the
        responder's exception type and message."""
        require(self._ctx.store, SIGNALS)
        timeout = _validate.positive(timeout, "timeout")
        return agents.request(self._ctx, self.events, agent, payload, timeout)

    def responder(self, agent: str) -> Callable[[F], F]:
        """Answer ``request(agent, payload)`` with the decorated ``fn(payload)``; with
        several responders for one agent, each request is answered by exactly one."""
        require(self._ctx.store, SIGNALS)
        name = agents.request_event(agent)

        def register(fn: F) -> F:
            handler = agents.responder_handler(self._ctx, fn)
            self.events.register(handler, name, f"accord.responders.{agent}", 30.0)
            return fn

        return register

    def as_agent(self, name: str) -> Coordinator:
        """A cheap view over this coordinator's connection that acts as agent ``name``:
        lock holders, ``updated_by`` and event sources show ``name``. It shares the
        store (closing it closes nothing but its own handlers). On a session it is
        also an agent of the registry, joined with the session's next heartbeat
        (within ``heartbeat / 3`` seconds) and beaten by it until the session ends:
        ``agents.kill(name)`` revokes the view's leases and stops its calls, and
        killing the session stops its views too."""
        name = _validate.name(name, "agent")
        view = Coordinator(
            self._ctx.store, agent=name, url=self._url, max_payload=self.max_payload,
            max_events=self.max_events, audit_locks=self._ctx.audit_locks,
            audit_keep=self._ctx.audit_keep,
        )
        view._owns_store = False
        if self._session is not None:
            watch = Watch(name)  # its calls are progress of both, and a kill of either stops it
            view._ctx.store = cast(Backend, Watched(self._ctx.store, watch))
            self._session.add_view(name, view._ctx.id, watch)
        self._views.append(view)
        return view

    # --- people in the loop: the audit log, approvals, the board ----------------------
    @property
    def audit(self) -> Audit:
        """The audit log: ``log``, ``read``, ``verify``, ``export`` (needs ``streams``)."""
        require(self._ctx.store, STREAMS)
        return self._people[0]

    @property
    def approvals(self) -> Approvals:
        """Approval requests: ``request``, ``approve``, ``deny``, ``get``, ``pending``."""
        require(self._ctx.store, APPROVALS)
        return self._people[1]

    @property
    def board(self) -> Board:
        """The message board: ``post``, ``thread``, ``threads``, ``unread``, ``mark_read``."""
        for capability in (STATE, STREAMS, EVENTS):
            require(self._ctx.store, capability)
        return self._people[2]

    def log_decision(
        self, decision_type: str, context: Any = None, reason: Any = None, **details: Any
    ) -> AuditEntry:
        """``audit.log(decision_type, context=..., reason=..., **details)``."""
        return self.audit.log(decision_type, context=context, reason=reason, **details)

    def request_approval(
        self,
        action: str,
        description: str | None = None,
        *,
        timeout: float = 300.0,
        approvers: list[str] | None = None,
        details: Any = None,
    ) -> Decision:
        """Request approval of ``action`` and wait for the decision (a timeout denies,
        status ``expired``); ``description`` goes into the details."""
        _rt.check_may_block("an approval decision", "request_approval")  # before asking
        if description is not None:
            details = {**(details or {}), "description": description}
        request = self.approvals.request(
            action, details=details, timeout=timeout, approvers=approvers
        )
        return request.wait()

    def post_thread(
        self,
        title: str,
        message: str,
        priority: str = "normal",
        *,
        tags: list[str] | tuple[str, ...] = (),
        to: str | None = None,
    ) -> BoardThread:
        """``board.post(title, message, priority=..., tags=..., to=...)``."""
        return self.board.post(title, message, priority=priority, tags=tags, to=to)

    def close(self) -> None:
        """Let running handlers finish, then close the store connection. A session
        releases its leases and deregisters first.

        Held leases of a plain coordinator are not released (they expire)."""
        try:
            for view in self._views:
                view.events.close()
            self.events.close()
        finally:
            try:
                if self._session is not None and self._owns_store:
                    session, self._session = self._session, None
                    session.leave()
            finally:
                if self._owns_store:
                    self._ctx.store.close()

    def __enter__(self) -> Coordinator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Coordinator {self.url} namespace={self.namespace!r} agent={self.agent!r}>"

