"""The coordinator: one store, one namespace, one agent identity, every primitive."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any, TypeVar, cast

from accord import _lifecycle, _validate
from accord._async import _rt, agents
from accord._async.agency import AsyncAgency
from accord._async.approvals import AsyncApprovals
from accord._async.audit import AsyncAudit
from accord._async.barrier import AsyncBarrier
from accord._async.board import AsyncBoard, AsyncBoardThread
from accord._async.events import AsyncEvents
from accord._async.files import AsyncFileLock
from accord._async.handoffs import AsyncHandoffs
from accord._async.lock import AsyncLock, AsyncMultiLock
from accord._async.queue import AsyncClaim, AsyncQueue, AsyncTask
from accord._async.ratelimit import AsyncRateLimit
from accord._async.semaphore import AsyncSemaphore
from accord._async.session import AsyncSession
from accord._async.state import AsyncStateMap
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
    AsyncBackend,
    redact,
    require,
)

F = TypeVar("F", bound=Callable[..., Any])


class AsyncCoordinator(AsyncAgency):
    """Locks, semaphores, rate limits and state on one store and namespace.

    Build it with :func:`accord.connect_async`. Every name is scoped to
    ``namespace``; ``agent`` is the name people see (CLI, ``updated_by``, holders).
    A thin front: it builds the :class:`~accord._context.Context` its primitives share
    and hands it to each of them.
    """

    def __init__(
        self,
        backend: AsyncBackend,
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
        self._ctx: Context[AsyncBackend] = Context(
            backend, agent, _rt.current_owner_key, max_payload, max_events,
            audit_locks=audit_locks, audit_keep=audit_keep,
        )
        self._url = url
        self.agent = agent
        self.url = redact(url)
        self.namespace = backend.namespace
        self.max_payload = max_payload
        self.max_events = max_events
        self.events = AsyncEvents(self._ctx)
        """The event log: ``emit``, ``history``, ``read``, ``subscribe``, ``schema``."""
        self._people = (AsyncAudit(self._ctx), AsyncApprovals(self._ctx),
                        AsyncBoard(self._ctx, self.events))  # fmt: skip
        self._session: AsyncSession | None = None
        self._owns_store = True
        self._views: list[AsyncCoordinator] = []

    @property
    def _backend(self) -> AsyncBackend:
        """The store (tests swap it for a spy: primitives read it from the context)."""
        return self._ctx.store

    @_backend.setter
    def _backend(self, store: AsyncBackend) -> None:
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
    ) -> AsyncLock:
        """A lock leased for ``ttl`` seconds; ``timeout`` bounds waiting (None: for ever).

        ``auto_renew=True`` extends the lease every ttl/3 while it is held.
        ``shared=True`` makes it a read lease: many readers at once or one writer,
        served first come first served (a reader behind a queued writer waits, so
        writers are not starved). A waiter that waited ``alert_after`` seconds
        (default twice the ttl) emits ``lock_wait_long``.
        """
        require(self._ctx.store, LEASES)
        return AsyncLock(self._ctx, name, ttl, timeout, auto_renew, shared, alert_after)

    def lock_file(
        self,
        path: str | os.PathLike[str],
        *,
        intent: str,
        ttl: float = 300.0,
        timeout: float | None = None,
        shared: bool = False,
        auto_renew: bool = True,
    ) -> AsyncFileLock:
        """A lease on a file or directory of the repository, with what you mean to do
        with it (``intent``, shown to others). ``path`` in any spelling (relative,
        ``./``, ``..``, absolute, through a symlink) is one lease, named from the git
        top level (else the working directory); a directory (existing, or ending in
        ``/``) conflicts with every lease under it. ``shared=True``: a read lease."""
        require(self._ctx.store, LEASES)
        return AsyncFileLock(self._ctx, [path], intent=intent, ttl=ttl, timeout=timeout,
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
    ) -> AsyncFileLock:
        """Leases on several files or directories, taken in one global order (so two
        agents asking for overlapping sets cannot deadlock); see :meth:`lock_file`."""
        if isinstance(paths, (str, os.PathLike)):
            raise TypeError("lock_files() takes a list of paths; use lock_file() for one")
        require(self._ctx.store, LEASES)
        return AsyncFileLock(self._ctx, list(paths), intent=intent, ttl=ttl,
                             timeout=timeout, shared=shared, auto_renew=auto_renew)

    def locks(
        self, names: list[str], *, ttl: float = 30.0, timeout: float | None = None
    ) -> AsyncMultiLock:
        """Several locks acquired in one global order (their sorted names)."""
        if isinstance(names, str):
            raise TypeError("locks() takes a list of names; use lock() for one")
        unique = dict.fromkeys(names)
        return AsyncMultiLock([self.lock(n, ttl=ttl, timeout=timeout) for n in unique])

    def semaphore(
        self, name: str, *, limit: int, ttl: float = 30.0, timeout: float | None = None
    ) -> AsyncSemaphore:
        """At most ``limit`` holders at once, anywhere; permits are leases of ``ttl``."""
        require(self._ctx.store, LEASES)
        return AsyncSemaphore(self._ctx, name, limit, ttl, timeout)

    def rate_limit(
        self, name: str, *, rate: float, per: float = 1.0, burst: int | None = None
    ) -> AsyncRateLimit:
        """``rate`` calls per ``per`` seconds shared by every process; ``burst`` at once."""
        require(self._ctx.store, RATE_LIMITS)
        return AsyncRateLimit(self._ctx, name, rate, per, burst)

    def state(self, name: str) -> AsyncStateMap:
        """A named map of versioned JSON entries."""
        require(self._ctx.store, STATE)
        return AsyncStateMap(self._ctx, name)

    async def list_locks(self) -> list[LeaseStatistics]:
        """Every lock, semaphore and file lease of the namespace with holders or
        waiters (the intent leases a file lease takes on the directories above it are
        left out), with each holder's mode and intent."""
        require(self._ctx.store, LEASES)
        store = self._ctx.store
        found = await store.list_leases("lock/") + await store.list_leases("sem/")
        for stats in await store.list_leases("file/"):
            held = tuple(h for h in stats.holders if not h.mode.startswith("intent"))
            if held or stats.waiters:
                found.append(dataclasses.replace(stats, holders=held))
        return found

    def barrier(self, name: str, parties: int, *, timeout: float | None = None) -> AsyncBarrier:
        """A barrier that releases ``parties`` waiters at once, in any processes."""
        require(self._ctx.store, LEASES)
        return AsyncBarrier(self._ctx, name, parties, timeout)

    # --- task queues and handoffs --------------------------------------------------
    def queue(self, name: str = "default") -> AsyncQueue:
        """A named task queue: ``put``, ``claim`` (a lease with a fencing token),
        ``get``, ``list``, ``cancel``, ``retry``, ``stats``, ``work``."""
        require(self._ctx.store, TASKS)
        return AsyncQueue(self._ctx, name)

    async def create_task(
        self,
        title: str,
        *,
        description: str = "",
        priority: int = 0,
        tags: list[str] | None = None,
        depends_on: list[str] | None = None,
        data: Any = None,
    ) -> AsyncTask:
        """Put a task on the default queue (``queue().put``) and return it."""
        return await self.queue().put(
            title, description=description, priority=priority, tags=tags,
            depends_on=depends_on, data=data,
        )

    async def claim_task(
        self, *, tags: list[str] | None = None, lease: float = 60.0, timeout: float | None = 0.0
    ) -> AsyncClaim | None:
        """Claim a task of the default queue (``queue().claim``): None if none is ready."""
        return await self.queue().claim(tags=tags, lease=lease, timeout=timeout)

    @property
    def handoffs(self) -> AsyncHandoffs:
        """Handoffs: ``handoffs.claim(agent, timeout=)`` takes an offer made with
        :meth:`handoff` (exactly one claimant each)."""
        require(self._ctx.store, TASKS)
        return AsyncHandoffs(self._ctx)

    async def handoff(
        self, to: str, context: Any = None, *, title: str | None = None, priority: int = 0
    ) -> AsyncTask:
        """Offer work to the agent or role ``to`` with ``context``; ``wait()`` on the
        returned task gives the claimant's result."""
        return await self.handoffs.offer(to, context, title=title, priority=priority)

    # --- events and agents ---------------------------------------------------------
    async def emit(self, name: str, data: Any = None) -> str:
        """Append an event (JSON payload, default ``{}``) and return its id."""
        require(self._ctx.store, EVENTS)
        return await self.events.emit(name, data)

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
        semaphore: AsyncSemaphore | None = None,
        rate_limit: AsyncRateLimit | None = None,
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

    async def _run_coordinated(
        self,
        spec: _lifecycle.Spec,
        fn: Callable[..., Any],
        args: Any,
        kwargs: Any,
        proceed: Callable[[], None] | None = None,
    ) -> Any:
        """One run of a ``@coordinate`` function (see ``agents.run_coordinated``)."""
        return await agents.run_coordinated(
            self._ctx, self.events, spec, fn, args, kwargs, proceed
        )

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every handler triggered so far (and what it triggered) finished."""
        _rt.check_may_block("this coordinator's handlers", "wait_idle")
        return await self.events.wait_idle(timeout)

    def subscribe(
        self, pattern: str = "*", *, timeout: float | None = None, after: str | None = None
    ) -> AsyncIterator[Event]:
        """Iterate over events matching ``pattern``; see ``events.subscribe``."""
        require(self._ctx.store, EVENTS)
        return self.events.subscribe(pattern, timeout=timeout, after=after)

    async def request(self, agent: str, payload: Any = None, timeout: float = 30.0) -> Any:
        """Ask the responder of ``agent`` (in any process) and return its reply.

        RequestTimeout if none answers in ``timeout`` seconds; RemoteError carries the
        responder's exception type and message."""
        require(self._ctx.store, SIGNALS)
        timeout = _validate.positive(timeout, "timeout")
        return await agents.request(self._ctx, self.events, agent, payload, timeout)

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

    def as_agent(self, name: str) -> AsyncCoordinator:
        """A cheap view over this coordinator's connection that acts as agent ``name``:
        lock holders, ``updated_by`` and event sources show ``name``. It shares the
        store (closing it closes nothing but its own handlers). On a session it is
        also an agent of the registry, joined with the session's next heartbeat
        (within ``heartbeat / 3`` seconds) and beaten by it until the session ends:
        ``agents.kill(name)`` revokes the view's leases and stops its calls, and
        killing the session stops its views too."""
        name = _validate.name(name, "agent")
        view = AsyncCoordinator(
            self._ctx.store, agent=name, url=self._url, max_payload=self.max_payload,
            max_events=self.max_events, audit_locks=self._ctx.audit_locks,
            audit_keep=self._ctx.audit_keep,
        )
        view._owns_store = False
        if self._session is not None:
            watch = Watch(name)  # its calls are progress of both, and a kill of either stops it
            view._ctx.store = cast(AsyncBackend, Watched(self._ctx.store, watch))
            self._session.add_view(name, view._ctx.id, watch)
        self._views.append(view)
        return view

    # --- people in the loop: the audit log, approvals, the board ----------------------
    @property
    def audit(self) -> AsyncAudit:
        """The audit log: ``log``, ``read``, ``verify``, ``export`` (needs ``streams``)."""
        require(self._ctx.store, STREAMS)
        return self._people[0]

    @property
    def approvals(self) -> AsyncApprovals:
        """Approval requests: ``request``, ``approve``, ``deny``, ``get``, ``pending``."""
        require(self._ctx.store, APPROVALS)
        return self._people[1]

    @property
    def board(self) -> AsyncBoard:
        """The message board: ``post``, ``thread``, ``threads``, ``unread``, ``mark_read``."""
        for capability in (STATE, STREAMS, EVENTS):
            require(self._ctx.store, capability)
        return self._people[2]

    async def log_decision(
        self, decision_type: str, context: Any = None, reason: Any = None, **details: Any
    ) -> AuditEntry:
        """``audit.log(decision_type, context=..., reason=..., **details)``."""
        return await self.audit.log(decision_type, context=context, reason=reason, **details)

    async def request_approval(
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
        request = await self.approvals.request(
            action, details=details, timeout=timeout, approvers=approvers
        )
        return await request.wait()

    async def post_thread(
        self,
        title: str,
        message: str,
        priority: str = "normal",
        *,
        tags: list[str] | tuple[str, ...] = (),
        to: str | None = None,
    ) -> AsyncBoardThread:
        """``board.post(title, message, priority=..., tags=..., to=...)``."""
        return await self.board.post(title, message, priority=priority, tags=tags, to=to)

    async def aclose(self) -> None:
        """Let running handlers finish, then close the store connection. A session
        releases its leases and deregisters first.

        Held leases of a plain coordinator are not released (they expire)."""
        try:
            for view in self._views:
                await view.events.aclose()
            await self.events.aclose()
        finally:
            try:
                if self._session is not None and self._owns_store:
                    session, self._session = self._session, None
                    await session.leave()
            finally:
                if self._owns_store:
                    await self._ctx.store.aclose()

    async def __aenter__(self) -> AsyncCoordinator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<AsyncCoordinator {self.url} namespace={self.namespace!r} agent={self.agent!r}>"

