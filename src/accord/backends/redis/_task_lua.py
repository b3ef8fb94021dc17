"""The task scripts of the Redis store (``tasks/lua/``) and their replies, shared by
both twins (nothing here does I/O): the rule's constants go in front of each script."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from accord._task import TaskRecord, TaskSpec
from accord.backends.redis._lua import MAILBOX_ALIVE_MS, Library, Script
from accord.backends.tasks import rule
from accord.backends.tasks.records import CYCLE_WALK


class TaskScript(Script):
    """A script of ``tasks/lua/`` after ``_tasks.lua``, with the task rule's constants."""

    TASK_HEADER = (
        f"local EXPIRED, REVOKED, PROMOTE_MAX, WAKE_SCAN, WAITER_TTL_US, CYCLE_WALK, "
        f"ALIVE_MS = {json.dumps(rule.EXPIRED)}, {json.dumps(rule.REVOKED)}, "
        f"{rule.PROMOTE_MAX}, {rule.WAKE_SCAN}, "
        f"{round(rule.WAITER_TTL * 1e6)}, {CYCLE_WALK}, {MAILBOX_ALIVE_MS}\n"
        f"local PROMOTE_LIMIT, WAKE_LAST = '{rule.PROMOTE_MAX}', '{rule.WAKE_SCAN - 1}'\n"
    )

    def __init__(self, name: str) -> None:
        super().__init__(name, "_streams", "_tasks")  # a task gone dead is audited
        self.head = self.TASK_HEADER + self.head
        self.source = self.TASK_HEADER + self.source
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()


PUT, CLAIM, STEP, READ, SWEEP = (
    TaskScript(n) for n in ("task_put", "task_claim", "task_step", "task_read", "task_sweep")
)
LIBRARY = Library("tasks", (PUT, CLAIM, STEP, READ, SWEEP))
"""The task scripts as one function library: called by FCALL where the server allows."""


def us(seconds: float) -> int:
    return max(1, round(seconds * 1_000_000))


def _ids(text: str) -> list[int]:
    return [int(i) for i in text.split(",")] if text else []


ROW = (
    "id", "q", "ti", "de", "da", "pr", "tg", "dp", "pe", "dn", "s", "a", "m", "r", "tk", "h",
    "cb", "ls", "by", "ca", "ua", "w", "qj", "tj", "to", "k", "re", "er",
)
"""The fields of a task in the order of ``_tasks.lua``'s FIELDS then OPTIONAL: ``row()``."""


def task(raw: Any) -> TaskRecord | None:
    """A task as ``_tasks.lua`` replies it (or HGETALL gives it): field, value, ..."""
    if not raw:
        return None
    pairs = raw.items() if isinstance(raw, dict) else zip(raw[::2], raw[1::2], strict=True)
    return _record({k.decode(): v.decode() for k, v in pairs})


def task_row(raw: list[Any]) -> TaskRecord:
    """A task as ``_tasks.lua``'s ``row()`` replies it: its values in the order of ROW
    (None: an optional field absent)."""
    return _record({k: v.decode() for k, v in zip(ROW, raw, strict=True) if v is not None})


def _record(f: dict[str, str]) -> TaskRecord:
    return TaskRecord(
        int(f["id"]), f["q"], f["ti"], f["de"], f["da"], int(f["pr"]),
        f["tg"].split("\t") if f["tg"] else [], f.get("to"), f.get("k"), _ids(f["dp"]),
        int(f["pe"]), _ids(f["dn"]), f["s"], int(f["a"]), int(f["m"]), int(f["r"]) / 1e6,
        int(f["tk"]), f["h"], f["cb"], int(f["ls"]) / 1e6, f["by"], float(f["ca"]),
        float(f["ua"]), f.get("re"), f.get("er"), f["w"].split(",") if f["w"] else [],
    )  # fmt: skip


def new_task(queue: str, spec: TaskSpec, agent: str, reply: list[Any]) -> TaskRecord:
    """The task ``task_put.lua`` added: what was given, and what its reply says."""
    task_id, wall, status, run_at, pending, attempts, token, holder, by, lease, error = (
        v.decode() for v in reply
    )
    at = float(wall)
    return TaskRecord(
        int(task_id), queue, spec.title, spec.description, spec.data, spec.priority,
        list(spec.tags), spec.to, spec.key, list(spec.depends_on), int(pending), [], status,
        int(attempts), spec.max_attempts, int(run_at) / 1e6, int(token), holder, by,
        int(lease) / 1e6, agent, at, at, None, error or None, [],
    )  # fmt: skip
