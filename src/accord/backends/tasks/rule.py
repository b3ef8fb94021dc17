"""The task rule of the memory and SQLite stores, free of I/O.

``records.py`` loads the records an operation needs, calls the functions here and
stores the result, inside one transaction. The Redis store implements the same rule
in ``lua/`` beside this file; the conformance suite holds all three to it.

Statuses and what moves a task between them::

    put ──> waiting ──(dependencies done, delay over)──> ready ──claim──> claimed
                                                           ^                 │
                      failed ──(its delay over)────────────┤   complete ──> done
                        ^                                  │   fail, lease end ──> failed,
                        └──────────────────────────────────┴── ready or dead (attempts used)
    cancel, or a dependency dead or cancelled ──> cancelled;  retry: dead ──> ready

Order. Ready tasks sit in *lanes*, each an index ordered by (priority descending, id):
ids come from one counter per namespace, so within a priority the first put is the
first claimed, whenever it became ready (wall time plays no part). A task is in the
lane of each of its tags and in the lane of any tag ("" ), or, addressed ``to`` an
agent, in that agent's lanes (``a\\t<agent>`` and ``a\\t<agent>\\t<tag>``) instead. A
claim looks at the head of each lane it may take from (one per tag asked, twice when
addressed tasks count) and takes the best: O(tags x log n) in the ready tasks.
"""

from __future__ import annotations

from typing import Any

from accord import _json
from accord._task import (
    CANCELLED,
    CLAIMED,
    DEAD,
    DONE,
    FAILED,
    FINISHED,
    MAX_PRIORITY,
    READY,
    WAITING,
    ClaimRequest,
    TaskRecord,
    TaskSpec,
)

WAITER_TTL = 10.0
"""Seconds a claimer waiting for work stays registered without asking again."""
PROMOTE_MAX = 64
"""Timed changes (delays over, leases ended) one operation applies at most; more wait
for the next operations (a waiting claimer wakes for each)."""
WAKE_SCAN = 64
"""Registered waiters a newly ready task looks through for one that may take it."""
EXPIRED = "its claim's lease ran out"
REVOKED = "its claim was revoked"
ANY = ""  # the lane of every task not addressed to an agent


def lanes(tags: list[str], to: str | None) -> list[str]:
    """The lanes a ready task is listed in."""
    if to is None:
        return [ANY, *(f"t\t{t}" for t in tags)]
    return [f"a\t{to}", *(f"a\t{to}\t{t}" for t in tags)]


def claim_lanes(tags: list[str] | None, agent: str) -> list[str]:
    """The lanes a claim by ``agent`` for ``tags`` (None: any) takes from."""
    if tags is None:
        return [ANY, f"a\t{agent}"]
    return [f"t\t{t}" for t in tags] + [f"a\t{agent}\t{t}" for t in tags]


def waiting(req: ClaimRequest, max_events: int) -> str:
    """The first line of a waiter's registration, before its lanes: the claim to make
    for it when a task it may take becomes ready (no lane starts with ``c``)."""
    return f"c\t{req.lease!r}\t{max_events}\t{req.agent}\t{req.holder}"


def waiting_claim(line: str) -> tuple[str, str, float, int] | None:
    """(holder, agent, lease, max_events) of a registration's first line (``waiting``);
    None for a waiter registered by an older accord (its first line is a lane)."""
    if not line.startswith("c\t"):
        return None
    _, lease, max_events, agent, holder = line.split("\t", 4)
    return holder, agent, float(lease), int(max_events)


def handed(holder: str, waiter: str) -> str:
    """The holder of a claim made for a waiter (its holder, then its mailbox): the
    claims of ``holder`` start with it still, and the waiter finds the claim by it."""
    return f"{holder}\x1f{waiter}"


HANDED_WITH_TASK = 3800
"""A handed claim's message carries the task when it is this short at most (one pipe
write of SQLite's wake-ups stays whole up to 4096 bytes)."""


def handed_message(rec: TaskRecord, text: str = "") -> str:
    """What a waiter is posted with the claim made for it: ``c<id>.<token>``, then
    after a space the task as stored (``text``), when short, so that it reads none."""
    claim = f"c{rec.id}.{rec.token}"
    return f"{claim} {text}" if text and len(text) <= HANDED_WITH_TASK else claim


def handed_claim(message: str | None) -> tuple[int, int, str] | None:
    """(task id, token, the task as stored or "") of a ``handed_message``; None for
    any other message."""
    if not message or message[0] != "c":
        return None
    claim, _, rest = message[1:].partition(" ")
    task_id, _, token = claim.partition(".")
    return int(task_id), int(token), rest


def ready_key(priority: int, task_id: int) -> str:
    """A string that sorts ready tasks: higher priority first, then lower id."""
    return f"{MAX_PRIORITY - priority:010d}{task_id:020d}"


def due_key(run_at: float, task_id: int) -> str:
    """A string that sorts timed changes by when they are due."""
    return f"{max(run_at, 0.0):020.6f}{task_id:020d}"


def new_task(
    queue: str, task_id: int, spec: TaskSpec, agent: str, deps: list[TaskRecord],
    now: float, wall: float,
) -> TaskRecord:
    """A new task: ready, waiting (for dependencies or its delay) or, when a dependency
    is dead or cancelled already, cancelled."""
    rec = TaskRecord(
        task_id, queue, spec.title, spec.description, spec.data, spec.priority,
        list(spec.tags), spec.to, spec.key, [d.id for d in deps], 0, [], WAITING, 0,
        spec.max_attempts, now + spec.delay, 0, "", "", 0.0, agent, wall, wall,
    )
    gone = [d for d in deps if d.status in (DEAD, CANCELLED)]
    if gone:
        rec.status, rec.error = CANCELLED, f"dependency {gone[0].id} is {gone[0].status}"
        return rec
    rec.pending = sum(1 for d in deps if d.status != DONE)
    if rec.pending == 0 and spec.delay <= 0:
        rec.status = READY
    return rec


def claim(rec: TaskRecord, holder: str, agent: str, token: int, lease: float,
          now: float, wall: float) -> None:
    rec.status, rec.holder, rec.claimed_by = CLAIMED, holder, agent
    rec.token, rec.lease, rec.run_at = token, lease, now + lease
    rec.attempts += 1
    rec.updated_at = wall


def holds(rec: TaskRecord | None, token: int, now: float) -> bool:
    """Whether the claim of ``token`` still holds ``rec`` (a live lease)."""
    return rec is not None and rec.status == CLAIMED and rec.token == token and rec.run_at > now


def end_attempt(rec: TaskRecord, error: str, retry: bool, delay: float, now: float,
                wall: float) -> str:
    """A claim ended without success: ``failed`` (retry after ``delay``), ``ready``
    (retry now) or ``dead`` (no retry, or attempts used up). Returns the new status."""
    rec.holder, rec.error, rec.updated_at = "", error, wall
    if not retry or rec.attempts >= rec.max_attempts:
        rec.status = DEAD
    elif delay > 0:
        rec.status, rec.run_at = FAILED, now + delay
    else:
        rec.status = READY
    return rec.status


def complete(rec: TaskRecord, result: str, wall: float) -> None:
    rec.status, rec.result, rec.holder, rec.updated_at = DONE, result, "", wall


def release(rec: TaskRecord, wall: float) -> None:
    """Give the claim back: ready again, and the attempt does not count."""
    rec.status, rec.holder, rec.updated_at = READY, "", wall
    rec.attempts = max(rec.attempts - 1, 0)


def cancel(rec: TaskRecord, reason: str, wall: float) -> None:
    rec.status, rec.error, rec.holder, rec.updated_at = CANCELLED, reason, "", wall


def retry(rec: TaskRecord, wall: float) -> None:
    """A dead task (or a failed one, without waiting out its delay) ready again, with
    its attempts counted from zero."""
    rec.status, rec.attempts, rec.error, rec.updated_at = READY, 0, None, wall


def dependency_done(rec: TaskRecord, now: float) -> bool:
    """One dependency of a waiting task is done; True when the task is ready now
    (False: still waiting for others, or for its delay: see ``rec.run_at``)."""
    rec.pending = max(rec.pending - 1, 0)
    if rec.status != WAITING or rec.pending:
        return False
    if rec.run_at <= now:
        rec.status = READY
        return True
    return False


def timed(rec: TaskRecord) -> bool:
    """Whether ``rec`` has a timed change due at ``rec.run_at``."""
    return rec.status in (FAILED, CLAIMED) or (rec.status == WAITING and rec.pending == 0)


def event(name: str, rec: TaskRecord, agent: str, **extra: Any) -> str:
    """The payload of a lifecycle event (``task_put``, ``task_claimed``, ...)."""
    data: dict[str, Any] = {
        "queue": rec.queue, "id": str(rec.id), "title": rec.title, "agent": agent,
        "attempts": rec.attempts,
    }
    data.update(extra)
    return _json.dumps_record(data)


def finished(rec: TaskRecord) -> bool:
    return rec.status in FINISHED


DEAD_KIND = "accord.task_dead"
"""The kind of the audit entry the store appends, in the same step, for each task that
goes dead (lease run out or revoked with no attempt left, or failed for the last time)."""


def audit_dead(rec: TaskRecord, error: str, claimed_by: str) -> str:
    """The audit entry of a task gone dead, canonical JSON (keys sorted: attempts,
    claimed_by, error, id, kind, queue, title); ``lua/_tasks.lua`` builds the same."""
    return _json.dumps_canonical({
        "attempts": rec.attempts, "claimed_by": claimed_by, "error": error, "id": str(rec.id),
        "kind": DEAD_KIND, "queue": rec.queue, "title": rec.title,
    })  # fmt: skip
