# Generated from src/accord/_async/queue.py by scripts/unasync.py: do not edit.
"""Task queues: work handed out exactly once, in priority order, to whoever may do it,
and given back when the one doing it dies.

A claim is a lease with a fencing token, like a lock::

    worker A: claim (token 7) ... pauses past its lease (GC, a slow LLM call) ...
    worker B:        lease of A ends -> the task is ready again -> claim (token 9)
    A: complete() -> LeaseLost, nothing changes; state.set(..., fence=claim) -> StaleFence
       if B's claim already wrote the key

Ordering: higher priority first, then first put first (ids come from one counter of
the namespace; wall time plays no part). Waiting is pushed and direct: a claimer with
nothing to take registers its mailbox in the store with the claim it asks for, and the
step that makes a task ready it may take claims it for the waiter and posts the claim
and the task to it (one waiter per task, first come first served), so the waiter
returns without asking the store again::

    waiter:  claim(timeout=10): nothing ready -> registered (lanes, lease) ... wakes
    putter:  put: insert, claim for the first waiter, COMMIT -> post "c<id>.<token> <task>"

It also wakes when a delay or a lease of the queue ends, the only changes that come
with time. A claim handed to a waiter that stopped waiting is taken along by its
unregistering (``task_unwait``). ``Task.wait`` registers a mailbox on the task,
posted to when it finishes.
"""

from __future__ import annotations

import builtins
import contextlib
import logging
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from accord import _json, _validate
from accord._sync import _rt
from accord._callsite import entered_by_caller
from accord._context import Context
from accord._task import (
    CANCELLED,
    CLAIMED,
    DEAD,
    DONE,
    FAILED,
    FINISHED,
    MAX_DEPENDENCIES,
    MAX_PRIORITY,
    MAX_TAGS,
    MAX_TITLE,
    MIN_PRIORITY,
    READY,
    STATUSES,
    ClaimRequest,
    QueueStats,
    TaskRecord,
    TaskSpec,
)
from accord.backends import Backend
from accord.backends.tasks import rule
from accord.errors import (
    BackendUnavailable,
    ConfigError,
    LeaseLost,
    NoTaskClaimed,
    TaskCancelled,
    TaskFailed,
    TaskNotFound,
    TaskStateError,
    TaskTimeout,
)

log = logging.getLogger("accord")

MIN_PAUSE = 0.001
LONG_WAIT = 30.0  # a waiter asks the store again at least this often
WORK_SLICE = 5.0  # a work() loop's claim waits this long at most before it looks at its limits
PAGE = 100


class Task:
    """A task as the store last reported it (``status``, ``attempts`` ... do not
    change by themselves: ``queue.get(task.id)`` reads it again).

    ``id`` names it in its queue; ``data`` and ``result`` are JSON data; ``depends_on``
    holds the ids it waits for; ``error`` says why it failed, died or was cancelled."""

    __slots__ = (
        "_ctx", "attempts", "claimed_by", "created_at", "created_by", "data", "depends_on",
        "description", "error", "id", "key", "max_attempts", "priority", "queue", "result",
        "status", "tags", "title", "to", "updated_at",
    )  # fmt: skip

    def __init__(self, ctx: Context[Backend], rec: TaskRecord) -> None:
        self._ctx = ctx
        self.id = str(rec.id)
        self.queue = rec.queue
        self.title = rec.title
        self.description = rec.description
        self.data: Any = _json.loads(rec.data)
        self.priority = rec.priority
        self.tags = tuple(rec.tags)
        self.to = rec.to
        self.key = rec.key
        self.depends_on = tuple(str(d) for d in rec.deps)
        self.status = rec.status
        self.attempts = rec.attempts
        self.max_attempts = rec.max_attempts
        self.created_by = rec.created_by
        self.created_at = rec.created_at
        self.updated_at = rec.updated_at
        self.claimed_by = rec.claimed_by or None
        self.result: Any = None if rec.result is None else _json.loads(rec.result)
        self.error = rec.error

    def wait(self, timeout: float | None = None) -> Any:
        """The task's result once it is done (pushed, not polled). TaskFailed if it
        died, TaskCancelled if it was cancelled, TaskTimeout after ``timeout`` seconds
        (None: wait for ever)."""
        timeout = _validate.timeout(timeout)
        store, task_id = self._ctx.store, int(self.id)
        rec = store.task_get(task_id)
        if rec is not None and rec.status in FINISHED:
            return _outcome(rec)
        _rt.check_may_block(f"task {self.id!r} of queue {self.queue!r}", "queue(...).get(...).wait")
        deadline = None if timeout is None else time.monotonic() + timeout
        mailbox = store.open_mailbox()
        try:
            while True:
                rec = store.task_watch(task_id, mailbox.id)
                if rec is None:
                    raise TaskNotFound(self.queue, self.id)
                if rec.status in FINISHED:
                    return _outcome(rec)
                left = LONG_WAIT if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    raise TaskTimeout(self.queue, self.id, rec.status, timeout or 0.0)
                mailbox.wait(min(left, LONG_WAIT))
        finally:
            with contextlib.suppress(BackendUnavailable):
                store.task_unwatch(task_id, mailbox.id)
            mailbox.close()

    def __repr__(self) -> str:
        return f"<Task {self.id} of {self.queue!r} {self.status} {self.title!r}>"


def _outcome(rec: TaskRecord) -> Any:
    if rec.status == DONE:
        return None if rec.result is None else _json.loads(rec.result)
    if rec.status == DEAD:
        raise TaskFailed(rec.queue, str(rec.id), rec.error, rec.attempts)
    raise TaskCancelled(rec.queue, str(rec.id), rec.error)


class Claim:
    """A claimed task: yours until ``complete``, ``fail`` or ``release``, or until its
    lease runs out (then LeaseLost, and the task goes back to the queue).

    ``token`` is its fencing token (it only grows): pass ``fence=claim`` to
    ``state().set`` so that a write of a claim that lost its task is refused. With
    ``with``: the body gets the task; leaving completes it (result None), an
    exception fails it (with a retry) and is raised again."""

    def __init__(self, ctx: Context[Backend], rec: TaskRecord) -> None:
        self._ctx = ctx
        self.task = Task(ctx, rec)
        self.token = rec.token
        self.lease = rec.lease
        self._deadline = time.monotonic() + rec.lease
        self._ended: str | None = None  # what ended it here: completed, failed, released
        self._renewer: _rt.Renewer | None = None

    @property
    def id(self) -> str:
        """The task's id."""
        return self.task.id

    @property
    def title(self) -> str:
        """The task's title."""
        return self.task.title

    @property
    def priority(self) -> int:
        """The task's priority."""
        return self.task.priority

    @property
    def tags(self) -> tuple[str, ...]:
        """The task's tags."""
        return self.task.tags

    @property
    def data(self) -> Any:
        """The task's data (a handoff's context)."""
        return self.task.data

    @property
    def fence(self) -> tuple[str, int]:
        """(fence name, token): what ``state().set(fence=claim)`` records."""
        return (f"task/{self.task.queue}/{self.task.id}", self.token)

    @property
    def expires_in(self) -> float:
        """Seconds left on the lease as this process last knew it (0 once ended)."""
        return 0.0 if self._ended else max(0.0, self._deadline - time.monotonic())

    def extend(self, lease: float | None = None) -> None:
        """Make the lease end ``lease`` (default: its lease) seconds from now, or LeaseLost."""
        lease = self.lease if lease is None else _validate.positive(lease, "lease")
        self._check("extend")
        if not self._ctx.store.task_extend(int(self.id), self.token, lease):
            raise self._lost()
        self.lease, self._deadline = lease, time.monotonic() + lease

    def complete(self, result: Any = None) -> None:
        """Done, with ``result`` (JSON data, at most ``max_payload``): its dependents may
        start, ``Task.wait`` returns it. LeaseLost if the claim had lost the task."""
        text = _validate.encode(result, self._ctx.max_payload)
        self._check("complete")
        self._stop_renewing()
        ctx = self._ctx
        if not ctx.store.task_complete(
            int(self.id), self.token, text, ctx.agent, ctx.max_events
        ):
            raise self._lost()
        self._ended = "completed"

    def fail(self, error: str = "", *, retry: bool = True, delay: float = 0.0) -> None:
        """End this attempt: with ``retry`` and attempts left the task is ready again
        after ``delay`` seconds (``failed`` meanwhile), else ``dead`` (the dead letters:
        ``queue.list(status="dead")``, ``queue.retry(id)``). LeaseLost if the claim
        had lost the task."""
        if not isinstance(error, str):
            raise TypeError(f"error must be a str saying why, not {type(error).__name__}")
        delay = 0.0 if delay == 0 else _validate.positive(delay, "delay")
        self._check("fail")
        self._stop_renewing()
        ctx = self._ctx
        if not ctx.store.task_fail(
            int(self.id), self.token, error[:2000], bool(retry), delay, ctx.agent, ctx.max_events
        ):
            raise self._lost()
        self._ended = "failed"

    def release(self) -> None:
        """Give the task back unfinished: ready again, and this attempt does not count."""
        self._check("release")
        self._stop_renewing()
        if not self._ctx.store.task_release(int(self.id), self.token, self._ctx.agent):
            raise self._lost()
        self._ended = "released"

    def renew_in_background(self) -> None:
        """Extend the lease every lease/3 until the claim ends (``work`` does this)."""
        self._renewer = _rt.Renewer(self.lease / 3, self._renew_once)

    def _renew_once(self) -> bool:
        if self._ended:
            return False
        held = self._ctx.store.task_extend(int(self.id), self.token, self.lease)
        if held:
            self._deadline = time.monotonic() + self.lease
        return held

    def _stop_renewing(self) -> None:
        if self._renewer is not None:
            renewer, self._renewer = self._renewer, None
            renewer.stop()

    def _check(self, wanted: str) -> None:
        if self._ended == "lost":
            raise self._lost()
        if self._ended:
            raise TaskStateError(
                self.task.queue, self.id, f"{self._ended} by this claim", wanted,
                "a claim ends once; queue.get(id) tells what became of the task",
            )

    def _lost(self) -> LeaseLost:
        self._ended = "lost"
        return LeaseLost(f"task {self.id} of queue {self.task.queue}", self.token)

    def __enter__(self) -> Task:
        return self.task

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ended:
            return
        if exc is None:
            self.complete()
        elif isinstance(exc, Exception):
            self.fail(f"{type(exc).__name__}: {exc}", retry=True)
        else:  # cancelled or interrupted: not the task's fault
            self.release()

    def __repr__(self) -> str:
        return f"<Claim of task {self.id} of {self.task.queue!r} token={self.token}>"


class Queue:
    """A named task queue of the namespace; see :meth:`Coordinator.queue`."""

    def __init__(self, ctx: Context[Backend], name: str) -> None:
        self.name = _validate.name(name, "queue name")
        self._ctx = ctx

    def put(
        self,
        title: str,
        *,
        data: Any = None,
        description: str = "",
        priority: int = 0,
        tags: list[str] | None = None,
        depends_on: list[str] | None = None,
        key: str | None = None,
        max_attempts: int = 3,
        delay: float = 0.0,
        to: str | None = None,
    ) -> Task:
        """Add a task and return it. ``priority``: higher first (any int within
        ±(2**31 - 1)); ``tags``: who may take it (see ``claim``); ``depends_on``: ids
        (or Tasks) that must be done first; ``key``: the same key returns the task put
        with it, never a second one; ``max_attempts``: claims before it is dead;
        ``delay``: seconds before it is ready; ``to``: only that agent may claim it."""
        ctx = self._ctx
        spec = TaskSpec(
            _title(title), _text(description, "description", ctx.max_payload),
            _validate.encode(data, ctx.max_payload), _priority(priority), _tags(tags) or [],
            _ids(self.name, depends_on), None if key is None else _validate.name(key, "key"),
            _validate.count(max_attempts, "max_attempts"), _delay(delay),
            None if to is None else _validate.name(to, "to"),
        )
        rec, _ = ctx.store.task_put(self.name, spec, ctx.agent, ctx.max_events)
        return Task(ctx, rec)

    def claim(
        self, *, tags: list[str] | None = None, lease: float = 60.0, timeout: float | None = 0.0
    ) -> Claim | None:
        """The highest-priority ready task with a tag in ``tags`` (None: any task), never
        one addressed ``to`` another agent, leased for ``lease`` seconds; None when
        nothing comes within ``timeout`` seconds (0: at once; None: wait for ever).

        A claimer already waiting is handed a task as it becomes ready, in the step
        that makes it ready, so it returns without asking the store again.

        ``async with await queue.claim(...) as task:`` completes the task at the end of
        the block (see :class:`AsyncClaim`); when no task came there is nothing to
        enter, and instead of Python's TypeError about None this raises NoTaskClaimed
        (a TypeError too) saying so: test for None first where that can happen."""
        lanes = rule.claim_lanes(_tags(tags), self._ctx.agent)
        claim = self._claim(lanes, lease, timeout)
        if claim is None and entered_by_caller(sys._getframe(1)):
            raise NoTaskClaimed(self.name, timeout)
        return claim

    def _claim(
        self, lanes: list[str], lease: float, timeout: float | None
    ) -> Claim | None:
        lease = _validate.positive(lease, "lease")
        timeout = _validate.timeout(timeout)
        ctx = self._ctx
        req = ClaimRequest(self.name, lanes, ctx.owner(), ctx.agent, lease, "")
        found = ctx.store.task_claim(req, ctx.max_events)
        if found.task is not None or timeout == 0:
            return None if found.task is None else Claim(ctx, found.task)
        _rt.check_may_block(f"a task of queue {self.name!r}", "queue(...).claim")
        start = time.monotonic()
        mailbox = ctx.store.task_mailbox()
        req.waiter = mailbox.id
        try:
            while True:
                found = ctx.store.task_claim(req, ctx.max_events)
                if found.task is not None:
                    req.waiter = ""  # the store let go of the waiter with the claim
                    return Claim(ctx, found.task)
                left = LONG_WAIT if timeout is None else timeout - (time.monotonic() - start)
                if left <= 0:
                    rec, req.waiter = ctx.store.task_unwait(self.name, req.waiter,
                                                                  req.holder), ""
                    return None if rec is None else Claim(ctx, rec)  # just in time
                soonest = LONG_WAIT if found.retry_in is None else found.retry_in + MIN_PAUSE
                message = mailbox.wait(
                    max(min(left, soonest, rule.WAITER_TTL / 2), MIN_PAUSE)
                )
                rec = None if message is None else ctx.store.task_handed(message)
                if rec is not None:
                    req.waiter = ""
                    return Claim(ctx, rec)
        finally:
            if req.waiter:  # interrupted: a claim handed to it meanwhile goes back
                with contextlib.suppress(BackendUnavailable):
                    rec = ctx.store.task_unwait(self.name, req.waiter, req.holder)
                    if rec is not None:
                        ctx.store.task_release(rec.id, rec.token, ctx.agent)
            mailbox.close()

    def get(self, task_id: str) -> Task | None:
        """The task as stored now, or None (no such task in this queue; TaskNotFound
        for an id that cannot be one)."""
        rec = self._ctx.store.task_get(_id(self.name, task_id))
        return None if rec is None or rec.queue != self.name else Task(self._ctx, rec)

    def list(
        self,
        status: str | None = None,
        tags: list[str] | None = None,
        *,
        after: str | None = None,
        limit: int = 100,
    ) -> builtins.list[Task]:
        """Up to ``limit`` tasks of ``status`` (None: any) with a tag in ``tags`` (None:
        any), in the order they were put, from the id after ``after`` on."""
        if status is not None and status not in STATUSES:
            raise ConfigError(f"status must be one of {', '.join(STATUSES)} or None, "
                              f"not {status!r}")
        wanted = None if tags is None else set(_tags(tags) or [])
        limit = _validate.count(limit, "limit")
        cursor: int | None = 0 if after is None else _id(self.name, after)
        found: builtins.list[Task] = []
        while cursor is not None and len(found) < limit:
            page, cursor = self._ctx.store.task_list(self.name, status, cursor, PAGE)
            found += [
                Task(self._ctx, rec) for rec in page
                if wanted is None or wanted.intersection(rec.tags)
            ]
        return found[:limit]

    def cancel(self, task_id: str, reason: str = "cancelled") -> Task:
        """Cancel a task that has not finished (a claimed one too: its claim gets
        LeaseLost) and every task waiting for it; a cancelled task is returned as it
        is. TaskNotFound, or TaskStateError for a done or dead task."""
        ctx = self._ctx
        rec = ctx.store.task_cancel(
            self._own(task_id), _text(reason, "reason", 2000), ctx.agent, ctx.max_events
        )
        rec = self._found(task_id, rec)
        if rec.status in (DONE, DEAD):
            raise TaskStateError(self.name, task_id, rec.status, "cancel",
                                 "it has finished already")
        return Task(ctx, rec)

    def retry(self, task_id: str) -> Task:
        """Make a dead task (or a failed one, now) ready again, attempts from zero.
        TaskNotFound, or TaskStateError for a task in any other status."""
        ctx, own = self._ctx, self._own(task_id)
        rec = self._found(task_id, ctx.store.task_get(own))
        if rec.status in (DEAD, FAILED):  # the store checks again, atomically
            rec = self._found(task_id, ctx.store.task_retry(own, ctx.agent, ctx.max_events))
        else:
            rec.status = f"{rec.status}, not dead or failed"
        if rec.status not in (READY, CLAIMED):  # claimed: handed to a waiting claimer
            raise TaskStateError(self.name, task_id, rec.status, "retry",
                                 "only a dead or failed task is retried")
        return Task(ctx, rec)

    def stats(self) -> QueueStats:
        """How many tasks are in each status."""
        counts = self._ctx.store.task_stats(self.name)
        return QueueStats(self.name, **{s: counts.get(s, 0) for s in STATUSES})

    def prune(
        self, *, older_than: float = 0.0, statuses: tuple[str, ...] = (DONE, CANCELLED, DEAD)
    ) -> int:
        """Delete finished tasks (``statuses``: any of done, cancelled, dead) that
        changed last more than ``older_than`` seconds ago; return how many. Nothing is
        deleted otherwise: this is the retention setting. A pruned task's key may be
        used again."""
        if isinstance(statuses, str) or not set(statuses) <= FINISHED:
            raise ConfigError(
                f"statuses must be a tuple of done, cancelled, dead; got {statuses!r}"
            )
        if older_than != 0:
            _validate.positive(older_than, "older_than")
        before = time.time() - older_than
        deleted = 0
        for status in statuses:
            cursor: int | None = 0
            while cursor is not None:
                gone, cursor = self._ctx.store.task_prune(
                    self.name, status, before, cursor, PAGE
                )
                deleted += gone
        return deleted

    def work(
        self,
        fn: Callable[[Task], Any],
        *,
        tags: builtins.list[str] | None = None,
        concurrency: int = 4,
        lease: float = 60.0,
        max_tasks: int | None = None,
        idle_timeout: float | None = None,
    ) -> int:
        """Run ``fn(task)`` for each task claimed, ``concurrency`` at a time (threads
        for the sync API, tasks for the async one; a plain ``fn`` of the async API runs
        in a thread), renewing each lease while ``fn`` runs: its return value completes
        the task, an exception fails it (with a retry). Runs until cancelled or
        interrupted, until ``max_tasks`` were claimed, or until nothing came for
        ``idle_timeout`` seconds; returns how many tasks it ran."""
        lanes = rule.claim_lanes(_tags(tags), self._ctx.agent)
        workers = _validate.count(concurrency, "concurrency")
        lease = _validate.positive(lease, "lease")
        limit = None if max_tasks is None else _validate.count(max_tasks, "max_tasks")
        idle = _validate.timeout(idle_timeout)
        claimed = [0]

        def loop() -> None:
            quiet_since = time.monotonic()
            while limit is None or claimed[0] < limit:
                left = WORK_SLICE if idle is None else idle - (time.monotonic() - quiet_since)
                if left <= 0:
                    return
                claim = self._claim(lanes, lease, min(left, WORK_SLICE))
                if claim is None:
                    continue
                claimed[0] += 1
                _run_one(claim, fn)
                quiet_since = time.monotonic()

        _rt.run_all([loop] * workers)
        return claimed[0]

    def _own(self, task_id: str) -> int:
        return _id(self.name, task_id)

    def _found(self, task_id: str, rec: TaskRecord | None) -> TaskRecord:
        if rec is None or rec.queue != self.name:
            raise TaskNotFound(self.name, str(task_id))
        return rec

    def __repr__(self) -> str:
        return f"<Queue {self.name!r}>"


def _run_one(claim: Claim, fn: Callable[[Task], Any]) -> None:
    """One task of ``work``: ``fn`` under a renewed lease, then complete or fail."""
    claim.renew_in_background()
    try:
        result = _rt.call(fn, claim.task)
    except Exception as exc:
        log.warning("accord: task %s of queue %r failed", claim.id, claim.task.queue,
                    exc_info=True)
        with contextlib.suppress(LeaseLost):
            claim.fail(f"{type(exc).__name__}: {exc}", retry=True)
        return
    except BaseException:
        with contextlib.suppress(LeaseLost, BackendUnavailable):
            claim.release()
        raise
    try:
        claim.complete(result)
    except LeaseLost:
        log.warning("accord: task %s of queue %r outlived its claim; its result is dropped",
                    claim.id, claim.task.queue)


# --- checks on what put() and claim() are given, before any call of the store ---------
def _title(title: object) -> str:
    if not isinstance(title, str) or not title.strip():
        raise ConfigError(f"a task's title must be a non-empty str, not {title!r}")
    if len(title) > MAX_TITLE:
        raise ConfigError(f"a task's title has {len(title)} characters, over {MAX_TITLE}; "
                          "put the rest in description= or data=")
    _validate.encode(title, MAX_TITLE * 4)
    return title


def _text(text: object, what: str, limit: int) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    _validate.encode(text, limit)
    return text


def _priority(priority: object) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConfigError(f"priority must be an int, not {type(priority).__name__}")
    if not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        raise ConfigError(f"priority must be from {MIN_PRIORITY} to {MAX_PRIORITY}, "
                          f"got {priority}")
    return priority


def _tags(tags: object) -> list[str] | None:
    if tags is None:
        return None
    if isinstance(tags, str) or not isinstance(tags, (list, tuple, set, frozenset)):
        raise TypeError(f"tags must be a list of names, not {type(tags).__name__}")
    unique = list(dict.fromkeys(_validate.name(t, "tag") for t in tags))
    if len(unique) > MAX_TAGS:
        raise ConfigError(f"a task or claim takes at most {MAX_TAGS} tags, got {len(unique)}")
    return unique


def _delay(delay: object) -> float:
    if delay == 0 and not isinstance(delay, bool):
        return 0.0
    return _validate.positive(delay, "delay")  # type: ignore[arg-type]


def _id(queue: str, task_id: object) -> int:
    """The number behind a task id ("42", as ``Task.id`` gives it)."""
    text = task_id.id if isinstance(task_id, Task) else task_id
    if isinstance(text, str) and text.isascii() and text.isdigit() and 0 < int(text) < 2**62:
        return int(text)
    raise TaskNotFound(queue, str(text), " (a task id is the .id of a Task, like '42')")


def _ids(queue: str, ids: object) -> list[int]:
    if ids is None:
        return []
    if isinstance(ids, (str, Task)) or not isinstance(ids, (list, tuple)):
        raise TypeError("depends_on must be a list of task ids (or Tasks)")
    if len(ids) > MAX_DEPENDENCIES:
        raise ConfigError(f"a task may depend on at most {MAX_DEPENDENCIES} tasks")
    return list(dict.fromkeys(_id(queue, i) for i in ids))
