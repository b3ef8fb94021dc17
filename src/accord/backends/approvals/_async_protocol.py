"""The ``approvals`` capability: requests that one decision settles, atomically in the
store (the state machine of ``rule.py``), each decision appended to the audit stream
in the same step. Needs ``streams``.

Every operation that may find a request past its deadline expires it there, as
``observer`` (the agent whose call it is; the audit entry's source), appending to the
audit stream with retention ``audit_keep``. A decision posts ``d`` to the mailboxes
of the waiters (``approval_get(..., mailbox=...)``) after it is committed: waiting is
pushed, across processes.
"""

from __future__ import annotations

from typing import Protocol

from accord.backends._async.store import AsyncStore
from accord.backends.approvals.rule import ApprovalRecord


class AsyncApprovalStore(AsyncStore, Protocol):
    """The approval state machine; records stay readable once decided."""

    async def approval_create(
        self,
        approval: str,
        action: str,
        details: str,
        requested_by: str,
        approvers: list[str] | None,
        ttl: float,
    ) -> ApprovalRecord:
        """Store a pending request that expires ``ttl`` seconds from now (store time)."""
        ...

    async def approval_get(
        self, approval: str, observer: str, audit_keep: int | None, mailbox: str = ""
    ) -> ApprovalRecord | None:
        """The request (expired first if past its deadline), None if unknown. With a
        ``mailbox`` and the request pending, that mailbox is posted when it is decided."""
        ...

    async def approval_decide(
        self,
        approval: str,
        status: str,
        by: str,
        reason: str | None,
        audit_keep: int | None,
    ) -> tuple[str, ApprovalRecord | None]:
        """Approve or deny (``status``) as ``by``. The approvers are matched against
        ``by`` and, while ``by`` is live in this store's agent registry (not dead, not
        killed), the role it registered with, read in the same step as the decision:
        a kill or a reap that lands first takes the role away. The outcome (``rule.DECIDED``,
        ``CLOSED``, ``UNKNOWN``, ``OWN``, ``NOT_APPROVER``) and the request as it is
        now; only ``DECIDED`` changed it (``CLOSED`` may have expired it)."""
        ...

    async def approval_pending(
        self, observer: str, audit_keep: int | None, limit: int
    ) -> tuple[list[ApprovalRecord], bool]:
        """Expire up to ``rule.SWEEP`` overdue requests, then list up to ``limit``
        pending ones, soonest deadline first; True as well if overdue ones are left
        (call again)."""
        ...
