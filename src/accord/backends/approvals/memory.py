"""The approvals' storage in memory: a mixin of ``MemoryBackend`` over its namespace's
:class:`ApprovalSpace` (``_Space.approvals``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.backends.approvals.records import ApprovalRecords
from accord.backends.approvals.rule import PENDING, ApprovalRecord


@dataclass
class ApprovalSpace:
    """The requests of one namespace (as stored: JSON forms), and the pending ones'
    deadlines."""

    records: dict[str, list[Any]] = field(default_factory=dict)
    pending: dict[str, int] = field(default_factory=dict)


class MemoryApprovals(ApprovalRecords):
    """Approval storage hooks; records are copied in and out, as a store would."""

    _space: Any  # memory's _Space of this namespace

    @property
    def _approvals(self) -> ApprovalSpace:
        found: ApprovalSpace = self._space.approvals
        return found

    def _load_approval(self, approval: str) -> ApprovalRecord | None:
        data = self._approvals.records.get(approval)
        return None if data is None else ApprovalRecord.from_json(_copy(data))

    def _save_approval(self, rec: ApprovalRecord) -> None:
        space = self._approvals
        space.records[rec.id] = _copy(rec.to_json())
        if rec.status == PENDING:
            space.pending[rec.id] = rec.deadline_us
        else:
            space.pending.pop(rec.id, None)

    def _overdue_approvals(self, now_us: int, limit: int) -> list[str]:
        due = sorted((d, a) for a, d in self._approvals.pending.items() if d <= now_us)
        return [a for _, a in due[:limit]]

    def _pending_approvals(self, now_us: int, limit: int) -> list[ApprovalRecord]:
        live = sorted((d, a) for a, d in self._approvals.pending.items() if d > now_us)
        found = [self._load_approval(a) for _, a in live[:limit]]
        return [rec for rec in found if rec is not None]


def _copy(data: list[Any]) -> list[Any]:
    """A copy of a record's JSON form (its lists are not shared)."""
    return [list(v) if isinstance(v, list) else v for v in data]
