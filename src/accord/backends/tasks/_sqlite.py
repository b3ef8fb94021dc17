"""The SQLite store's task storage: the hooks of ``records.py`` as the named queries
of ``queries.sql`` over the tables of ``schema.sql``, on the transaction's cursor."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from accord import _json
from accord._task import MAX_PRIORITY, STATUSES, TaskRecord
from accord.backends._pipes import post
from accord.backends._sql import queries
from accord.backends.tasks.records import TaskRecords

Q = queries("tasks")
RETURNING = sqlite3.sqlite_version_info >= (3, 35)


def forget_boot(conn: sqlite3.Connection) -> None:
    """Monotonic times of another boot mean nothing now (see ``_forget_boot``)."""
    conn.execute(Q["FORGET_BOOT_DUE"])
    conn.execute(Q["FORGET_BOOT_WAITERS"])


_TAKE_READY: dict[int, str] = {}


def _take_ready(lanes: int) -> str:
    """TAKE_READY for ``lanes`` lanes (the lane heads joined), made once per count."""
    heads = " UNION ALL ".join(
        Q["LANE_HEAD"].replace("?LANE", f"?{3 + i}") for i in range(lanes)
    )
    sql = _TAKE_READY[lanes] = Q["TAKE_READY"].replace("LANE_HEADS", heads)
    return sql


def _record(text: str) -> TaskRecord:
    return TaskRecord.from_json(_json.loads(text))


class SqliteTasks(TaskRecords):
    """Task storage of the SQLite store (``_local.cur``: the running transaction's)."""

    namespace: str
    wake_dir: Path
    _local: Any

    def _task_sql(self, name: str, *args: Any) -> sqlite3.Cursor:
        cur: sqlite3.Cursor = self._local.cur
        return cur.execute(Q[name], (self.namespace, *args))

    def _task_load(self, task_id: int) -> TaskRecord | None:
        row = self._task_sql("LOAD_TASK", task_id).fetchone()
        return None if row is None else _record(row[0])

    def _task_save(self, rec: TaskRecord, before: str | None) -> None:
        text = _json.dumps_record(rec.to_json())
        holder = rec.holder or None
        if before is None:
            self._task_sql("INSERT_TASK", rec.id, rec.queue, rec.status, holder, text)
        else:
            cur: sqlite3.Cursor = self._local.cur
            cur.execute(Q["UPDATE_TASK"], (rec.status, holder, text, self.namespace, rec.id))

    def _task_delete(self, rec: TaskRecord) -> None:
        self._task_sql("DELETE_TASK", rec.id)

    def _task_counter(self) -> int:
        if RETURNING:
            return int(self._task_sql("NEXT_COUNTER").fetchone()[0])
        if not self._task_sql("BUMP_COUNTER").rowcount:
            self._task_sql("START_COUNTER")
        return int(self._task_sql("READ_COUNTER").fetchone()[0])

    def _task_key(self, queue: str, key: str, task_id: int | None = None) -> int | None:
        if task_id == 0:
            self._task_sql("DROP_KEY", queue, key)
        elif task_id is not None:
            self._task_sql("SAVE_KEY", queue, key, task_id)
        row = self._task_sql("LOAD_KEY", queue, key).fetchone()
        return None if row is None else int(row[0])

    def _ready_add(self, rec: TaskRecord, lanes: list[str]) -> None:
        rank, ns = MAX_PRIORITY - rec.priority, self.namespace
        rows = [(ns, rec.queue, lane, rank, rec.id) for lane in lanes]
        self._local.cur.executemany(Q["ADD_READY"], rows)

    def _ready_drop(self, rec: TaskRecord, lanes: list[str]) -> None:
        rank, ns = MAX_PRIORITY - rec.priority, self.namespace
        rows = [(ns, rec.queue, lane, rank, rec.id) for lane in lanes]
        self._local.cur.executemany(Q["DROP_READY"], rows)

    def _ready_first(self, queue: str, lanes: list[str]) -> int | None:
        best: tuple[int, int] | None = None
        for lane in lanes:
            row = self._task_sql("FIRST_READY", queue, lane).fetchone()
            if row is not None and (best is None or tuple(row) < best):
                best = (row[0], row[1])
        return None if best is None else best[1]

    def _ready_take(self, queue: str, lanes: list[str]) -> TaskRecord | None:
        sql = _TAKE_READY.get(len(lanes)) or _take_ready(len(lanes))
        row = self._local.cur.execute(sql, (self.namespace, queue, *lanes)).fetchone()
        return None if row is None else _record(row[0])

    def _due_by(self, queue: str, now: float, limit: int) -> list[tuple[float, int]]:
        rows = self._task_sql("DUE_BY", queue, now, limit).fetchall()
        return [(row[0], row[1]) for row in rows]

    def _due_add(self, queue: str, run_at: float, task_id: int) -> None:
        self._task_sql("ADD_DUE", queue, run_at, task_id)

    def _due_drop(self, queue: str, run_at: float, task_id: int) -> None:
        self._task_sql("DROP_DUE", queue, run_at, task_id)

    def _due_first(self, queue: str, limit: int) -> list[tuple[float, int]]:
        return [(row[0], row[1]) for row in self._task_sql("FIRST_DUE", queue, limit).fetchall()]

    def _waiter_set(self, queue: str, waiter: str, lanes: list[str], expires: float) -> None:
        self._task_sql("SET_WAITER", queue, waiter, self._now(), "\n".join(lanes), expires)

    def _waiter_drop(self, queue: str, waiter: str) -> None:
        self._task_sql("DROP_WAITER", queue, waiter)

    def _waiters(self, queue: str, limit: int) -> list[tuple[str, list[str], float]]:
        rows = self._task_sql("FIRST_WAITERS", queue, limit).fetchall()
        return [(w, lanes.split("\n"), expires) for w, lanes, expires in rows]

    def _claim_of(self, holder: str) -> int | None:
        row = self._task_sql("CLAIM_OF", holder).fetchone()
        return None if row is None else int(row[0])

    def _task_post(self, waiter: str, message: str) -> bool:
        return waiter.isalnum() and post(os.path.join(self.wake_dir, waiter), message)

    def _claims_of(self, holder_prefix: str) -> list[int]:
        rows = self._task_sql("CLAIMS").fetchall()
        return [task_id for task_id, holder in rows if holder.startswith(holder_prefix)]

    def _task_page(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]:
        if status is not None:
            rows = self._task_sql("PAGE_OF_STATUS", queue, status, after, limit).fetchall()
            found = [_record(text) for (text,) in rows]
            return found, found[-1].id if len(rows) == limit else None
        rows = self._task_sql("PAGE_OF_ALL", after, limit).fetchall()
        found = [_record(text) for _, q, text in rows if q == queue]
        return found, rows[-1][0] if len(rows) == limit else None

    def _task_counts(self, queue: str) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        counts.update(dict(self._task_sql("COUNTS", queue).fetchall()))
        return counts
