"""The async twin of the approval operations of a record store (memory, SQLite): a
mixin of ``_adapter.AsyncEventRecordBackend``, each operation run by its runner."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.backends.approvals.rule import ApprovalRecord

if TYPE_CHECKING:
    from accord.backends.approvals.records import ApprovalRecords


class AsyncApprovalCalls:
    """``approval_*`` of ``self.store``, awaited through ``self._call``."""

    store: ApprovalRecords
    _call: Any  # the backend's Runner

    async def approval_create(
        self,
        approval: str,
        action: str,
        details: str,
        requested_by: str,
        approvers: list[str] | None,
        ttl: float,
    ) -> ApprovalRecord:
        rec: ApprovalRecord = await self._call(
            self.store.approval_create, approval, action, details, requested_by, approvers, ttl
        )
        return rec

    async def approval_get(
        self, approval: str, observer: str, audit_keep: int | None, mailbox: str = ""
    ) -> ApprovalRecord | None:
        rec: ApprovalRecord | None = await self._call(
            self.store.approval_get, approval, observer, audit_keep, mailbox
        )
        return rec

    async def approval_decide(
        self,
        approval: str,
        status: str,
        by: str,
        reason: str | None,
        audit_keep: int | None,
    ) -> tuple[str, ApprovalRecord | None]:
        found: tuple[str, ApprovalRecord | None] = await self._call(
            self.store.approval_decide, approval, status, by, reason, audit_keep
        )
        return found

    async def approval_pending(
        self, observer: str, audit_keep: int | None, limit: int
    ) -> tuple[list[ApprovalRecord], bool]:
        found: tuple[list[ApprovalRecord], bool] = await self._call(
            self.store.approval_pending, observer, audit_keep, limit
        )
        return found
