# Generated from src/accord/backends/redis/_async_tasks.py by scripts/unasync.py: do not edit.
"""The task queues on Redis (async source): each operation one script of
``tasks/lua/`` (see ``_tasks.lua`` for the keys), applying the rule of ``tasks/rule.py``
with the server clock.

``_sync_tasks.py`` is generated from this file by ``scripts/unasync.py``; the backend
class mixes :class:`AsyncRedisTasks` in. No script's run grows with the number of tasks
of a queue: a claim reads the head of each of its lanes (``ZRANGE 0 0``), applies at
most ``PROMOTE_MAX`` due timed changes and looks at most at ``WAKE_SCAN`` waiters;
listings, pruning and revocation work a page a script. What does grow is the work a
task asks for itself: its tags (one lane each), and on completion or death its
dependents (each told in the same script).
"""

from __future__ import annotations

from typing import Any

from accord import _json
from accord._task import CLAIMED, STATUSES, ClaimRequest, ClaimResult, TaskRecord, TaskSpec
from accord.backends.redis._sync_host import RedisHost, C
from accord.backends.redis._sync_io import RedisMailbox
from accord.backends.redis._lua import Script
from accord.backends.redis._task_lua import (
    CLAIM,
    PUT,
    READ,
    STEP,
    SWEEP,
    new_task,
    task,
    task_row,
    us,
)
from accord.backends.tasks import rule
from accord.errors import DependencyCycle, TaskNotFound

REVOKE_PAGE = 100


class RedisTasks(RedisHost[C]):
    """The task operations of the seam, for ``RedisBackend``."""

    _silent: bool  # the backend's: the server did not answer the last command

    def _tasks(self, conns: C, script: Script, agent: str, events: int, *args: Any) -> Any:
        keys = self._keys
        return self._eval(conns, script, [keys.prefix + "tseq"], keys.prefix, agent,
                                events, *args)

    def _step(self, step: str, task_id: int | str, *args: Any, agent: str = "",
                    events: int = 0) -> TaskRecord | None:
        return task(self._tasks(self._leases, STEP, agent, events, step, task_id, *args))

    def task_put(
        self, queue: str, spec: TaskSpec, agent: str, max_events: int
    ) -> tuple[TaskRecord, bool]:
        deps = ",".join(map(str, spec.depends_on))
        reply = self._tasks(
            self._leases, PUT, agent, max_events, queue, spec.title, spec.description, spec.data,
            spec.priority, "\t".join(spec.tags), deps, spec.key or "", spec.max_attempts,
            us(spec.delay) if spec.delay > 0 else 0, spec.to or "", _json.dumps_record(queue),
            _json.dumps_record(spec.title),
        )
        kind = reply[0].decode()
        if kind == "missing":
            raise TaskNotFound(queue, reply[1].decode(), " (named in depends_on)")
        if kind == "cycle":
            keyed = self._plain(self._data, "HGET", self._keys.prefix + f"tk:"
                                      f"{len(queue.encode())}:{queue}", spec.key or "")
            raise DependencyCycle(queue, (keyed or b"?").decode(), reply[1].decode())
        if kind == "new":
            return new_task(queue, spec, agent, reply[1:]), True
        rec = task(reply[1])
        assert rec is not None
        return rec, False

    def task_mailbox(self) -> RedisMailbox:
        return RedisMailbox(self, self._keys.prefix, alive=True)

    def task_claim(self, req: ClaimRequest, max_events: int) -> ClaimResult:
        reply = self._tasks(
            self._leases, CLAIM, req.agent, max_events, req.queue, req.holder, us(req.lease),
            req.waiter, *req.lanes,
        )
        if reply[0] == 1:
            return ClaimResult(task_row(reply[1]))
        return ClaimResult(None, None if reply[1] < 0 else reply[1] / 1e6)

    def task_unwait(self, queue: str, waiter: str, holder: str) -> TaskRecord | None:
        return self._step("unwait", queue, waiter, holder)

    def task_handed(self, message: str) -> TaskRecord | None:
        handed = rule.handed_claim(message)
        if handed is None:
            return None
        if handed[2]:  # the task came with the claim, as the handing script left it
            return task([v.encode() for v in _json.loads(handed[2])])
        rec = self.task_get(handed[0])
        held = rec is not None and rec.status == CLAIMED and rec.token == handed[1]
        return rec if held else None

    def _held(self, step: str, task_id: int, *args: Any, agent: str = "",
                    events: int = 0) -> bool:
        """A step of a claim: whether the claim still held the task."""
        return bool(self._tasks(self._leases, STEP, agent, events, step, task_id, *args))

    def task_extend(self, task_id: int, token: int, lease: float) -> bool:
        return self._held("extend", task_id, token, us(lease))

    def task_complete(
        self, task_id: int, token: int, result: str, agent: str, max_events: int
    ) -> bool:
        return self._held("complete", task_id, token, result, agent=agent,
                                events=max_events)

    def task_fail(
        self, task_id: int, token: int, error: str, retry: bool, delay: float, agent: str,
        max_events: int,
    ) -> bool:
        return self._held("fail", task_id, token, error, int(retry),
                                us(delay) if delay > 0 else 0, agent=agent, events=max_events)

    def task_release(self, task_id: int, token: int, agent: str) -> bool:
        return self._held("release", task_id, token, agent=agent)

    def task_get(self, task_id: int) -> TaskRecord | None:
        return task(self._plain(self._data, "HGETALL", f"{self._keys.prefix}task:{task_id}"))

    def task_cancel(
        self, task_id: int, reason: str, agent: str, max_events: int
    ) -> TaskRecord | None:
        return self._step("cancel", task_id, reason, agent=agent, events=max_events)

    def task_retry(self, task_id: int, agent: str, max_events: int) -> TaskRecord | None:
        return self._step("retry", task_id, agent=agent, events=max_events)

    def task_watch(self, task_id: int, mailbox: str) -> TaskRecord | None:
        return self._step("watch", task_id, mailbox)

    def task_unwatch(self, task_id: int, mailbox: str) -> None:
        self._step("unwatch", task_id, mailbox)

    def task_list(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]:
        reply = self._tasks(self._data, READ, "", 0, "page", queue, status or "", after,
                                  limit)
        found = [rec for rec in map(task, reply[1:]) if rec is not None]
        return found, int(reply[0]) if reply[0] else None

    def task_stats(self, queue: str) -> dict[str, int]:
        counts = self._tasks(self._data, READ, "", 0, "stats", queue, *STATUSES)
        return dict(zip(STATUSES, counts, strict=True))

    def task_prune(
        self, queue: str, status: str, before: float, after: int, limit: int
    ) -> tuple[int, int | None]:
        deleted, cursor = self._tasks(self._data, SWEEP, "", 0, "prune", queue, status,
                                            repr(before), after, limit)
        return int(deleted), int(cursor) if cursor else None

    def task_claims(self, holder_prefix: str, limit: int) -> list[tuple[str, int, str]]:
        reply = self._tasks(self._data, READ, "", 0, "claims", holder_prefix, limit)
        return [(h.decode(), int(i), q.decode()) for h, i, q in zip(*[iter(reply)] * 3,
                                                                  strict=True)]

    def task_revoke(
        self, holder_prefix: str, agent: str, max_events: int, give_back: bool = False
    ) -> int:
        revoked = 0
        while True:
            count, more = self._tasks(self._data, SWEEP, agent, max_events, "revoke",
                                            holder_prefix, REVOKE_PAGE, int(give_back))
            revoked += int(count)
            if not more:
                return revoked
