"""The approvals' storage on SQLite: a mixin of ``SqliteBackend`` running the named
queries of ``queries.sql`` on the calling thread's connection."""

from __future__ import annotations

from typing import Any

from accord import _json
from accord.backends._sql import queries
from accord.backends.approvals.records import ApprovalRecords
from accord.backends.approvals.rule import PENDING, ApprovalRecord

_Q = queries("approvals")


class SqliteApprovals(ApprovalRecords):
    """Approval storage hooks, always inside a transaction of the backend."""

    _local: Any  # the backend's per-thread connection state (``_sqlite_file._Local``)
    namespace: str

    def _load_approval(self, approval: str) -> ApprovalRecord | None:
        row = self._local.cur.execute(_Q["LOAD_APPROVAL"], (self.namespace, approval)).fetchone()
        return None if row is None else ApprovalRecord.from_json(_json.loads(row[0]))

    def _save_approval(self, rec: ApprovalRecord) -> None:
        cur, ns = self._local.cur, self.namespace
        cur.execute(_Q["SAVE_APPROVAL"], (ns, rec.id, _json.dumps_record(rec.to_json())))
        listed = _Q["LIST_PENDING"] if rec.status == PENDING else _Q["UNLIST_PENDING"]
        cur.execute(listed, (ns, rec.deadline_us, rec.id))

    def _overdue_approvals(self, now_us: int, limit: int) -> list[str]:
        rows = self._local.cur.execute(_Q["OVERDUE_APPROVALS"], (self.namespace, now_us, limit))
        return [approval for (approval,) in rows.fetchall()]

    def _pending_approvals(self, now_us: int, limit: int) -> list[ApprovalRecord]:
        rows = self._local.cur.execute(_Q["PENDING_APPROVALS"], (self.namespace, now_us, limit))
        return [ApprovalRecord.from_json(_json.loads(text)) for (text,) in rows.fetchall()]
