"""The memory store's task storage: the hooks of ``records.py`` over dicts and
sorted indexes (``state/index.py``), so a claim costs O(log n) in the ready tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord._task import STATUSES, TaskRecord
from accord.backends.state.index import SortedKeys
from accord.backends.tasks import rule
from accord.backends.tasks.records import TaskRecords


@dataclass
class TaskSpace:
    """The tasks of one namespace."""

    last: int = 0  # the counter of ids and tokens
    tasks: dict[int, TaskRecord] = field(default_factory=dict)
    keys: dict[tuple[str, str], int] = field(default_factory=dict)
    ready: dict[tuple[str, str], SortedKeys] = field(default_factory=dict)  # (queue, lane)
    due: dict[str, SortedKeys] = field(default_factory=dict)  # queue -> rule.due_key
    by_status: dict[tuple[str, str | None], SortedKeys] = field(default_factory=dict)
    waiters: dict[str, dict[str, tuple[list[str], float]]] = field(default_factory=dict)
    claims: SortedKeys = field(default_factory=SortedKeys)  # "<holder>\n<id>"


def _clone(rec: TaskRecord) -> TaskRecord:
    """A copy that shares nothing mutable with ``rec`` (its lists are the only such);
    built from its fields (``copy.copy`` of a slotted record costs three times more)."""
    new = TaskRecord.from_json(rec.to_json())
    new.tags, new.deps = list(rec.tags), list(rec.deps)
    new.dependents, new.watchers = list(rec.dependents), list(rec.watchers)
    return new


def _id_key(task_id: int) -> str:
    return f"{task_id:020d}"


class MemoryTasks(TaskRecords):
    """Task storage of the memory store (``_tasks``: the namespace's TaskSpace)."""

    _tasks: TaskSpace

    def _task_load(self, task_id: int) -> TaskRecord | None:
        rec = self._tasks.tasks.get(task_id)
        # a copy: a record changes only when saved, as in the other stores
        return None if rec is None else _clone(rec)

    def _task_save(self, rec: TaskRecord, before: str | None) -> None:
        space = self._tasks
        old = space.tasks.get(rec.id)
        space.tasks[rec.id] = _clone(rec)
        if before != rec.status:
            if before is not None:
                self._listing(rec.queue, before).discard(_id_key(rec.id))
            else:
                self._listing(rec.queue, None).add(_id_key(rec.id))
            self._listing(rec.queue, rec.status).add(_id_key(rec.id))
        if old is not None and old.holder and old.holder != rec.holder:
            space.claims.discard(f"{old.holder}\n{rec.id}")
        if rec.holder:
            space.claims.add(f"{rec.holder}\n{rec.id}")

    def _listing(self, queue: str, status: str | None) -> SortedKeys:
        return self._tasks.by_status.setdefault((queue, status), SortedKeys())

    def _task_delete(self, rec: TaskRecord) -> None:
        self._tasks.tasks.pop(rec.id, None)
        for status in (rec.status, None):
            self._listing(rec.queue, status).discard(_id_key(rec.id))

    def _task_counter(self) -> int:
        self._tasks.last += 1
        return self._tasks.last

    def _task_key(self, queue: str, key: str, task_id: int | None = None) -> int | None:
        keys = self._tasks.keys
        if task_id == 0:
            keys.pop((queue, key), None)
        elif task_id is not None:
            keys[queue, key] = task_id
        return keys.get((queue, key))

    def _ready_add(self, rec: TaskRecord, lanes: list[str]) -> None:
        entry = rule.ready_key(rec.priority, rec.id)
        for lane in lanes:
            self._tasks.ready.setdefault((rec.queue, lane), SortedKeys()).add(entry)

    def _ready_drop(self, rec: TaskRecord, lanes: list[str]) -> None:
        entry = rule.ready_key(rec.priority, rec.id)
        for lane in lanes:
            index = self._tasks.ready.get((rec.queue, lane))
            if index is not None:
                index.discard(entry)

    def _ready_first(self, queue: str, lanes: list[str]) -> int | None:
        best: str | None = None
        for lane in lanes:
            index = self._tasks.ready.get((queue, lane))
            head = next(index.from_key("", True), None) if index is not None else None
            if head is not None and (best is None or head < best):
                best = head
        return None if best is None else int(best[10:])

    def _due_add(self, queue: str, run_at: float, task_id: int) -> None:
        self._tasks.due.setdefault(queue, SortedKeys()).add(rule.due_key(run_at, task_id))

    def _due_drop(self, queue: str, run_at: float, task_id: int) -> None:
        index = self._tasks.due.get(queue)
        if index is not None:
            index.discard(rule.due_key(run_at, task_id))

    def _due_first(self, queue: str, limit: int) -> list[tuple[float, int]]:
        index = self._tasks.due.get(queue)
        found: list[tuple[float, int]] = []
        for entry in index.from_key("", True) if index is not None else ():
            if len(found) == limit:
                break
            found.append((float(entry[:20]), int(entry[20:])))
        return found

    def _waiter_set(self, queue: str, waiter: str, lanes: list[str], expires: float) -> None:
        self._tasks.waiters.setdefault(queue, {})[waiter] = (lanes, expires)

    def _waiter_drop(self, queue: str, waiter: str) -> None:
        self._tasks.waiters.get(queue, {}).pop(waiter, None)

    def _waiters(self, queue: str, limit: int) -> list[tuple[str, list[str], float]]:
        found: list[tuple[str, list[str], float]] = []
        for waiter, (lanes, expires) in self._tasks.waiters.get(queue, {}).items():
            if len(found) == limit:
                break
            found.append((waiter, lanes, expires))
        return found

    def _claim_of(self, holder: str) -> int | None:
        entry = next(self._tasks.claims.from_key(f"{holder}\n", True), None)
        if entry is None or entry.rpartition("\n")[0] != holder:
            return None
        return int(entry.rpartition("\n")[2])

    def _task_post(self, waiter: str, message: str) -> bool:
        store: Any = self.__dict__["_store"]  # the MemoryStore (memory.py): mailboxes by id
        deliver = store.mailboxes.get(waiter)
        if deliver is not None:
            deliver(message)
        return deliver is not None

    def _claims_of(self, holder_prefix: str) -> list[int]:
        found = []
        for entry in self._tasks.claims.from_key(holder_prefix, True):
            if not entry.startswith(holder_prefix):
                break
            found.append(int(entry.rpartition("\n")[2]))
        return found

    def _task_page(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]:
        listing = self._tasks.by_status.get((queue, status))
        found: list[TaskRecord] = []
        for entry in listing.from_key(_id_key(after), False) if listing is not None else ():
            if len(found) == limit:
                return found, found[-1].id
            rec = self._task_load(int(entry))
            if rec is not None:
                found.append(rec)
        return found, None

    def _task_counts(self, queue: str) -> dict[str, int]:
        by_status = self._tasks.by_status
        return {s: len(by_status[queue, s]) if (queue, s) in by_status else 0 for s in STATUSES}
