"""The task operations of the seam for record stores (memory, SQLite): each one
transaction around the rule of ``rule.py`` over the storage hooks below (records and
the indexes of ``schema.sql``); mailboxes are posted and bells rung after it commits.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from accord import _json
from accord._event import EventRecord
from accord._task import (
    CANCELLED,
    CLAIMED,
    DEAD,
    DONE,
    FAILED,
    FINISHED,
    READY,
    WAITING,
    ClaimRequest,
    ClaimResult,
    TaskRecord,
    TaskSpec,
)
from accord.backends._sync.store import Mailbox
from accord.backends.signals.rule import Signal
from accord.backends.streams.records import StreamRecords
from accord.backends.streams.rule import AUDIT
from accord.backends.tasks import rule
from accord.errors import DependencyCycle, TaskNotFound

CYCLE_WALK = 10_000  # tasks a put looks through for a cycle at most


class _Step:
    """What one operation does besides its records: who acts, the clocks, the
    mailboxes to post and whether it appended events, for after the commit."""

    __slots__ = (
        "agent", "asking", "ended", "handed", "logged", "max_events", "now", "signals", "wall"
    )

    def __init__(self, agent: str, max_events: int, now: float, wall: float) -> None:
        self.agent, self.max_events, self.now, self.wall = agent, max_events, now, wall
        self.signals: list[Signal] = []
        self.handed: list[tuple[str, TaskRecord, str]] = []  # (waiter, claim, message)
        self.asking = ""  # the waiter of the claim running, if any
        self.ended: list[TaskRecord] = []  # finished tasks whose dependents are to tell
        self.logged = False


class TaskRecords(StreamRecords):
    """Task queues over record storage; storage always inside _transaction(). A task
    that goes dead is audited in the same transaction (``rule.audit_dead``)."""

    if TYPE_CHECKING:  # the store's (every store opens mailboxes)

        def open_mailbox(self) -> Mailbox: ...

    # storage hooks -------------------------------------------------------------------
    @abc.abstractmethod
    def _task_load(self, task_id: int) -> TaskRecord | None: ...

    @abc.abstractmethod
    def _task_save(self, rec: TaskRecord, before: str | None) -> None:
        """Store ``rec``; ``before`` is the status it was stored with (None: new)."""

    @abc.abstractmethod
    def _task_delete(self, rec: TaskRecord) -> None: ...

    @abc.abstractmethod
    def _task_counter(self) -> int:
        """The next number of the namespace's task counter (ids and tokens)."""

    @abc.abstractmethod
    def _task_key(self, queue: str, key: str, task_id: int | None = None) -> int | None:
        """The task of idempotency key ``key``; with ``task_id``, record it as that
        (0: forget the key)."""

    @abc.abstractmethod
    def _ready_add(self, rec: TaskRecord, lanes: list[str]) -> None: ...

    @abc.abstractmethod
    def _ready_drop(self, rec: TaskRecord, lanes: list[str]) -> None: ...

    @abc.abstractmethod
    def _ready_first(self, queue: str, lanes: list[str]) -> int | None:
        """The id of the best ready task of these lanes (highest priority, lowest id)."""

    def _ready_take(self, queue: str, lanes: list[str]) -> TaskRecord | None:
        """The best ready task of these lanes, loaded (a store may do both at once)."""
        task_id = self._ready_first(queue, lanes)
        return None if task_id is None else self._task_load(task_id)

    def _due_by(self, queue: str, now: float, limit: int) -> list[tuple[float, int]]:
        """The ``limit`` soonest (run_at, id) of the queue due by ``now``."""
        return [(run_at, i) for run_at, i in self._due_first(queue, limit) if run_at <= now]

    @abc.abstractmethod
    def _due_add(self, queue: str, run_at: float, task_id: int) -> None:
        """List a timed change of the task, due at ``run_at``."""

    @abc.abstractmethod
    def _due_drop(self, queue: str, run_at: float, task_id: int) -> None: ...

    @abc.abstractmethod
    def _due_first(self, queue: str, limit: int) -> list[tuple[float, int]]:
        """The ``limit`` soonest (run_at, id) of the queue."""

    @abc.abstractmethod
    def _waiter_set(self, queue: str, waiter: str, lanes: list[str], expires: float) -> None:
        """Register (or keep registered, in its place) a waiting claimer."""

    @abc.abstractmethod
    def _waiter_drop(self, queue: str, waiter: str) -> None: ...

    @abc.abstractmethod
    def _waiters(self, queue: str, limit: int) -> list[tuple[str, list[str], float]]:
        """The first ``limit`` registered waiters: (mailbox, lanes, expires)."""

    @abc.abstractmethod
    def _claim_of(self, holder: str) -> int | None:
        """The id of a claimed task whose holder is ``holder`` (None: none)."""

    @abc.abstractmethod
    def _task_post(self, waiter: str, message: str) -> bool:
        """Post a claim handed to ``waiter``, after the commit; False when its mailbox
        has no reader (the waiter closed it or died): the claim is then given back."""

    @abc.abstractmethod
    def _claims_of(self, holder_prefix: str) -> list[int]:
        """The ids of the claimed tasks whose holder starts with ``holder_prefix``."""

    @abc.abstractmethod
    def _task_page(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]: ...

    @abc.abstractmethod
    def _task_counts(self, queue: str) -> dict[str, int]: ...

    @abc.abstractmethod
    def _append_event(
        self, name: str, data: str, source: str, time: float, max_events: int
    ) -> EventRecord: ...

    @abc.abstractmethod
    def _ring(self) -> None: ...

    # one operation ---------------------------------------------------------------------
    @contextmanager
    def _task_step(self, agent: str = "", max_events: int = 0) -> Iterator[_Step]:
        with self._transaction():
            step = _Step(agent, max_events, self._now(), self._wall())
            yield step
            while step.ended:  # a loop, not recursion: a chain of dependents may be long
                self._task_finish(step.ended.pop(), step)
        given_back = [rec for waiter, rec, message in step.handed  # first: they wait
                      if not self._task_post(waiter, message)]
        self._post(step.signals)
        if step.logged:
            self._ring()
        for rec in given_back:
            self._task_give_back(rec)

    def _task_give_back(self, handed: TaskRecord) -> None:
        """Release a claim handed to a waiter that could not be told (ready again, the
        attempt not counted), unless the waiter picked it up (``task_unwait``)."""
        with self._task_step() as step:
            rec = self._task_claimed(handed.id, handed.token, step)
            if rec is not None and rec.holder == handed.holder:
                self._task_leave(rec)
                rule.release(rec, step.wall)
                self._task_enter(rec, CLAIMED, step)

    def _task_emit(self, step: _Step, name: str, rec: TaskRecord, **extra: object) -> None:
        self._task_log(step, step.agent, step.max_events, name, rec, **extra)

    def _task_log(self, step: _Step, agent: str, max_events: int, name: str, rec: TaskRecord,
                  **extra: object) -> None:
        """Append a lifecycle event by ``agent`` (``_task_emit``: the one acting)."""
        if max_events > 0:
            data = rule.event(name, rec, agent, **extra)
            self._append_event(name, data, agent, step.wall, max_events)
            step.logged = True

    def _task_audit_dead(self, rec: TaskRecord, error: str, claimed_by: str, step: _Step) -> None:
        """The audit entry of a task gone dead, in this step: exactly one per death,
        whoever's call found it (its source). Retention is left to the next append
        made with ``audit_keep``."""
        source = step.agent or claimed_by  # an extend carries no agent: the claimant
        self._stream_add(AUDIT, source, rule.audit_dead(rec, error, claimed_by), None)

    def _task_hand(self, rec: TaskRecord, step: _Step) -> None:
        """A task that just became ready: claim it for the first registered waiter that
        may take it (``rule.waiting``), to be posted after the commit, so that the
        waiter has it when it wakes; a waiter registered without its claim (by an older
        accord) is only woken."""
        wanted = set(rule.lanes(rec.tags, rec.to))
        for waiter, theirs, expires in self._waiters(rec.queue, rule.WAKE_SCAN):
            if expires <= step.now:
                self._waiter_drop(rec.queue, waiter)
            elif waiter != step.asking and wanted.intersection(theirs):
                self._waiter_drop(rec.queue, waiter)
                claim = rule.waiting_claim(theirs[0])
                if claim is None:
                    step.signals.append((waiter, "t"))
                    return
                holder, agent, lease, max_events = claim
                rule.claim(rec, rule.handed(holder, waiter), agent, self._task_counter(), lease,
                           step.now, step.wall)
                self._task_log(step, agent, max_events, "task_claimed", rec)
                text = _json.dumps_record(rec.to_json())
                step.handed.append((waiter, rec, rule.handed_message(rec, text)))
                return

    def _task_leave(self, rec: TaskRecord) -> None:
        """Take ``rec`` out of the index of its status (before it changes)."""
        if rec.status == READY:
            self._ready_drop(rec, rule.lanes(rec.tags, rec.to))
        elif rule.timed(rec):
            self._due_drop(rec.queue, rec.run_at, rec.id)

    def _task_enter(self, rec: TaskRecord, before: str | None, step: _Step) -> None:
        """Store ``rec`` in its new status, with the index and the follow-ups it needs."""
        if rec.status in FINISHED:
            step.signals += [(w, "t") for w in rec.watchers]
            rec.watchers = []
            if rec.dependents:
                step.ended.append(rec)
        if rec.status == READY:
            self._task_hand(rec, step)
        self._task_save(rec, before)
        if rec.status == READY:
            self._ready_add(rec, rule.lanes(rec.tags, rec.to))
        elif rule.timed(rec):
            self._due_add(rec.queue, rec.run_at, rec.id)

    def _task_finish(self, rec: TaskRecord, step: _Step) -> None:
        """Pass the end of ``rec`` on to the tasks waiting for it."""
        for dep_id in rec.dependents:
            dep = self._task_load(dep_id)
            if dep is None or dep.status != WAITING:
                continue
            before = dep.status
            if rec.status == DONE:
                self._task_leave(dep)
                rule.dependency_done(dep, step.now)
                self._task_enter(dep, before, step)
            else:
                self._task_leave(dep)
                rule.cancel(dep, f"dependency {rec.id} is {rec.status}", step.wall)
                self._task_emit(step, "task_cancelled", dep, error=dep.error)
                self._task_enter(dep, before, step)

    def _task_expire(self, rec: TaskRecord, error: str, step: _Step) -> None:
        """A claim that ended without a word (its lease ran out, or it was revoked)."""
        before = rec.status
        self._task_leave(rec)
        agent = rec.claimed_by
        status = rule.end_attempt(rec, error, True, 0.0, step.now, step.wall)
        name = "task_dead" if status == DEAD else "task_failed"
        self._task_emit(step, name, rec, error=error, claimed_by=agent)
        if status == DEAD:
            self._task_audit_dead(rec, error, agent, step)
        self._task_enter(rec, before, step)

    def _task_promote(self, queue: str, step: _Step) -> None:
        """Apply the queue's due timed changes (at most PROMOTE_MAX)."""
        for run_at, task_id in self._due_by(queue, step.now, rule.PROMOTE_MAX):
            rec = self._task_load(task_id)
            if rec is None or not rule.timed(rec):
                self._due_drop(queue, run_at, task_id)  # an entry left behind
            elif rec.status == CLAIMED:
                self._task_expire(rec, rule.EXPIRED, step)
            else:  # waiting out a delay, or failed: ready now
                self._due_drop(queue, run_at, task_id)
                before, rec.status = rec.status, READY
                self._task_enter(rec, before, step)

    def _task_claimed(self, task_id: int, token: int, step: _Step) -> TaskRecord | None:
        """The task if claim ``token`` still holds it; a lease found run out ends here."""
        rec = self._task_load(task_id)
        if rec is None or rec.status != CLAIMED or rec.token != token:
            return None
        if rec.run_at <= step.now:
            self._task_expire(rec, rule.EXPIRED, step)
            return None
        return rec

    # the seam ------------------------------------------------------------------------
    def task_put(
        self, queue: str, spec: TaskSpec, agent: str, max_events: int
    ) -> tuple[TaskRecord, bool]:
        with self._task_step(agent, max_events) as step:
            if spec.key is not None:
                found = self._task_key(queue, spec.key)
                rec = None if found is None else self._task_load(found)
                if rec is not None:
                    self._check_cycle(rec, spec.depends_on)
                    return rec, False
            deps = []
            for dep_id in spec.depends_on:
                dep = self._task_load(dep_id)
                if dep is None:
                    raise TaskNotFound(queue, str(dep_id), " (named in depends_on)")
                deps.append(dep)
            rec = rule.new_task(queue, self._task_counter(), spec, agent, deps, step.now,
                                step.wall)
            for dep in deps:
                if dep.status not in FINISHED:
                    dep.dependents.append(rec.id)
                    self._task_save(dep, dep.status)
            if spec.key is not None:
                self._task_key(queue, spec.key, rec.id)
            self._task_emit(step, "task_put", rec, priority=rec.priority, tags=rec.tags, to=rec.to)
            if rec.status == CANCELLED:
                self._task_emit(step, "task_cancelled", rec, error=rec.error)
            self._task_enter(rec, None, step)
            return rec, True

    def _check_cycle(self, rec: TaskRecord, depends_on: list[int]) -> None:
        """DependencyCycle if any of ``depends_on`` is ``rec`` or waits for it."""
        seen: set[int] = set()
        stack = list(depends_on)
        while stack and len(seen) < CYCLE_WALK:
            task_id = stack.pop()
            if task_id == rec.id:
                raise DependencyCycle(rec.queue, str(rec.id), str(task_id))
            if task_id in seen:
                continue
            seen.add(task_id)
            found = self._task_load(task_id)
            if found is not None:
                stack += found.deps

    def task_mailbox(self) -> Mailbox:
        return self.open_mailbox()

    def task_claim(self, req: ClaimRequest, max_events: int) -> ClaimResult:
        with self._task_step(req.agent, max_events) as step:
            if req.waiter:  # a claim handed to it since it last asked, else none now
                rec = self._task_handed(req.holder, req.waiter, step)
                if rec is not None:
                    return ClaimResult(rec)
                step.asking = req.waiter  # not handed what this claim may take itself
            self._task_promote(req.queue, step)
            rec = self._ready_take(req.queue, req.lanes)
            if rec is None:
                if req.waiter:
                    lanes = [rule.waiting(req, max_events), *req.lanes]
                    self._waiter_set(req.queue, req.waiter, lanes, step.now + rule.WAITER_TTL)
                first = self._due_first(req.queue, 1)
                return ClaimResult(None, max(first[0][0] - step.now, 0.0) if first else None)
            self._task_leave(rec)
            rule.claim(rec, req.holder, req.agent, self._task_counter(), req.lease, step.now,
                       step.wall)
            self._task_enter(rec, READY, step)
            if req.waiter:
                self._waiter_drop(req.queue, req.waiter)
            self._task_emit(step, "task_claimed", rec)
            return ClaimResult(rec)

    def _task_handed(self, holder: str, waiter: str, step: _Step) -> TaskRecord | None:
        """The live claim handed to ``waiter`` (claiming for ``holder``), if any, taken
        up: its holder is ``holder`` again, so that it is no more given back."""
        task_id = self._claim_of(rule.handed(holder, waiter))
        rec = None if task_id is None else self._task_load(task_id)
        if rec is None or not rule.holds(rec, rec.token, step.now):
            return None
        rec.holder = holder
        self._task_save(rec, CLAIMED)
        return rec

    def task_unwait(self, queue: str, waiter: str, holder: str) -> TaskRecord | None:
        with self._task_step() as step:
            self._waiter_drop(queue, waiter)
            return self._task_handed(holder, waiter, step)

    def task_handed(self, message: str) -> TaskRecord | None:
        handed = rule.handed_claim(message)
        if handed is None:
            return None
        if handed[2]:  # the task came with the claim, as the handing step left it
            return TaskRecord.from_json(_json.loads(handed[2]))
        with self._transaction(write=False):
            rec = self._task_load(handed[0])
        held = rec is not None and rec.status == CLAIMED and rec.token == handed[1]
        return rec if held else None

    def task_extend(self, task_id: int, token: int, lease: float) -> bool:
        with self._task_step() as step:
            rec = self._task_claimed(task_id, token, step)
            if rec is not None:
                self._due_drop(rec.queue, rec.run_at, rec.id)
                rec.run_at, rec.lease = step.now + lease, lease
                self._task_enter(rec, CLAIMED, step)
            return rec is not None

    def task_complete(
        self, task_id: int, token: int, result: str, agent: str, max_events: int
    ) -> bool:
        with self._task_step(agent, max_events) as step:
            rec = self._task_claimed(task_id, token, step)
            if rec is not None:
                self._task_leave(rec)
                rule.complete(rec, result, step.wall)
                self._task_emit(step, "task_done", rec, result=_json.loads(result))
                self._task_enter(rec, CLAIMED, step)
            return rec is not None

    def task_fail(
        self, task_id: int, token: int, error: str, retry: bool, delay: float, agent: str,
        max_events: int,
    ) -> bool:
        with self._task_step(agent, max_events) as step:
            rec = self._task_claimed(task_id, token, step)
            if rec is not None:
                self._task_leave(rec)
                status = rule.end_attempt(rec, error, retry, delay, step.now, step.wall)
                name = "task_dead" if status == DEAD else "task_failed"
                self._task_emit(step, name, rec, error=error, claimed_by=agent)
                if status == DEAD:
                    self._task_audit_dead(rec, error, agent, step)
                self._task_enter(rec, CLAIMED, step)
            return rec is not None

    def task_release(self, task_id: int, token: int, agent: str) -> bool:
        with self._task_step(agent) as step:
            rec = self._task_claimed(task_id, token, step)
            if rec is not None:
                self._task_leave(rec)
                rule.release(rec, step.wall)
                self._task_enter(rec, CLAIMED, step)
            return rec is not None

    def task_get(self, task_id: int) -> TaskRecord | None:
        with self._transaction(write=False):
            return self._task_load(task_id)

    def task_cancel(
        self, task_id: int, reason: str, agent: str, max_events: int
    ) -> TaskRecord | None:
        with self._task_step(agent, max_events) as step:
            rec = self._task_load(task_id)
            if rec is None or rec.status in FINISHED:
                return rec
            before = rec.status
            self._task_leave(rec)
            rule.cancel(rec, reason, step.wall)
            self._task_emit(step, "task_cancelled", rec, error=reason)
            self._task_enter(rec, before, step)
            return rec

    def task_retry(self, task_id: int, agent: str, max_events: int) -> TaskRecord | None:
        with self._task_step(agent, max_events) as step:
            rec = self._task_load(task_id)
            if rec is None or rec.status not in (DEAD, FAILED):
                return rec
            before = rec.status
            self._task_leave(rec)
            rule.retry(rec, step.wall)
            self._task_enter(rec, before, step)
            return rec

    def task_watch(self, task_id: int, mailbox: str) -> TaskRecord | None:
        with self._task_step():
            rec = self._task_load(task_id)
            if rec is not None and rec.status not in FINISHED and mailbox not in rec.watchers:
                rec.watchers.append(mailbox)
                self._task_save(rec, rec.status)
            return rec

    def task_unwatch(self, task_id: int, mailbox: str) -> None:
        with self._task_step():
            rec = self._task_load(task_id)
            if rec is not None and mailbox in rec.watchers:
                rec.watchers.remove(mailbox)
                self._task_save(rec, rec.status)

    def task_list(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]:
        with self._transaction(write=False):
            return self._task_page(queue, status, after, limit)

    def task_stats(self, queue: str) -> dict[str, int]:
        with self._transaction(write=False):
            return self._task_counts(queue)

    def task_prune(
        self, queue: str, status: str, before: float, after: int, limit: int
    ) -> tuple[int, int | None]:
        with self._task_step():
            found, cursor = self._task_page(queue, status, after, limit)
            old = [rec for rec in found if rec.updated_at < before and rec.status == status]
            for rec in old:
                if rec.key is not None and self._task_key(queue, rec.key) == rec.id:
                    self._task_key(queue, rec.key, 0)
                self._task_delete(rec)
            return len(old), cursor

    def task_claims(self, holder_prefix: str, limit: int) -> list[tuple[str, int, str]]:
        with self._transaction(write=False):
            found = []
            for task_id in self._claims_of(holder_prefix):
                rec = self._task_load(task_id)
                if rec is not None and rec.status == CLAIMED:
                    found.append((rec.claimed_by, rec.id, rec.queue))
                    if len(found) == limit:
                        break
            return found

    def task_revoke(
        self, holder_prefix: str, agent: str, max_events: int, give_back: bool = False
    ) -> int:
        with self._task_step(agent, max_events) as step:
            revoked = 0
            for task_id in self._claims_of(holder_prefix):
                rec = self._task_load(task_id)
                if rec is not None and rec.status == CLAIMED:
                    if give_back:
                        self._task_leave(rec)
                        rule.release(rec, step.wall)
                        self._task_enter(rec, CLAIMED, step)
                    else:
                        self._task_expire(rec, rule.REVOKED, step)
                    revoked += 1
            return revoked

