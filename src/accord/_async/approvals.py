"""Approvals: a critical operation waits for someone else to say yes.

One state machine per request, decided atomically in the store (see
``backends/approvals/rule.py``)::

    req = await coord.approvals.request("deploy", timeout=300)       pending
    other agent: await coord.approvals.approve(req.id, reason="ok")  -> approved
    nobody by the deadline: the first call to look at it             -> expired (denied)
    any later approve or deny                                        -> ApprovalClosed

Exactly one decision wins, a timeout denies (nothing approves by default, and a store
that cannot be reached raises; it never approves), the requester cannot decide its
own request, and ``approvers`` restricts who can. Each decision, expiry included, is
appended to the audit log in the store's same step. ``wait`` sleeps on a mailbox the
decision posts to (pushed, across processes) and ends at the deadline at the latest.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from accord import _validate
from accord._async import _rt
from accord._context import Context
from accord._people import Approval, Decision
from accord.backends import AsyncBackend
from accord.backends.approvals import rule
from accord.backends.approvals.rule import ApprovalRecord
from accord.errors import ApprovalClosed, ApprovalTimeout, ConfigError, NotAnApprover, NotFound

DEFAULT_TIMEOUT = 300.0
SKEWED = 0.05  # a wait past the deadline by this machine's clock, when the store's differs
_PAST = 0.001  # woken this long after the deadline, so that the store sees it passed
_LIST_HINT = "list the pending ones with coord.approvals.pending()"


def decision_of(rec: ApprovalRecord) -> Decision | None:
    """The decision of a stored request (None while pending)."""
    if rec.status == rule.PENDING:
        return None
    at = rec.decided_us / 1_000_000
    return Decision(rec.status == rule.APPROVED, rec.decided_by, rec.reason, at, rec.status, rec.id)


def approval_of(rec: ApprovalRecord) -> Approval:
    approvers = None if rec.approvers is None else tuple(rec.approvers)
    return Approval(
        rec.id, rec.action, _validate.decode(rec.details), rec.requested_by, approvers,
        rec.status, rec.created_us / 1_000_000, rec.deadline_us / 1_000_000, decision_of(rec),
    )  # fmt: skip


def _approvers(approvers: Any) -> list[str] | None:
    if approvers is None:
        return None
    if isinstance(approvers, str) or not isinstance(approvers, (list, tuple, set, frozenset)):
        raise TypeError(
            f"approvers takes a list of agent names or roles, not {type(approvers).__name__}"
        )
    names = [_validate.name(a, "approver") for a in approvers]
    if not names:
        raise ConfigError("approvers is empty, so nobody could decide: list who may, or pass None")
    return sorted(set(names))


def _id(approval: object) -> str:
    if not isinstance(approval, str):
        raise TypeError(f"an approval request id is a str, not {type(approval).__name__}")
    return _validate.name(approval, "approval request id")


class AsyncApprovalRequest:
    """A request made by this coordinator (``coord.approvals.request``): ``id``,
    ``action``, ``details``, ``approvers``, ``expires_at`` (Unix time); ``wait`` for its
    decision."""

    def __init__(self, ctx: Context[AsyncBackend], approval: Approval) -> None:
        self._ctx = ctx
        self.id = approval.id
        self.action = approval.action
        self.details = approval.details
        self.approvers = approval.approvers
        self.expires_at = approval.expires_at

    async def wait(self, timeout: float | None = None) -> Decision:
        """The decision, once someone approves or denies, or the request expires (a
        denial, status ``expired``). ``timeout`` bounds the wait: ApprovalTimeout if the
        request is still pending then (None: until decided, at most until it expires)."""
        timeout = _validate.timeout(timeout)
        ctx = self._ctx
        rec = await ctx.store.approval_get(self.id, ctx.agent, ctx.audit_keep)
        if rec is None:
            raise NotFound("approval request", self.id, _LIST_HINT)
        decided = decision_of(rec)
        if decided is not None:
            return decided
        if timeout == 0:
            raise self._timed_out(rec, 0.0)
        _rt.check_may_block(f"approval request {self.id!r}", "approvals.request(...).wait")
        return await self._wait(timeout)

    async def _wait(self, timeout: float | None) -> Decision:
        ctx = self._ctx
        start = time.monotonic()
        mailbox = await ctx.store.open_mailbox()
        try:
            while True:
                rec = await ctx.store.approval_get(self.id, ctx.agent, ctx.audit_keep, mailbox.id)
                if rec is None:
                    raise NotFound("approval request", self.id, _LIST_HINT)
                decided = decision_of(rec)
                if decided is not None:
                    return decided
                waited = time.monotonic() - start
                if timeout is not None and waited >= timeout:
                    raise self._timed_out(rec, waited)
                until = rec.deadline_us / 1_000_000 - time.time()
                pause = until + _PAST if until > 0 else SKEWED  # the store decides expiry
                if timeout is not None:
                    pause = min(pause, timeout - waited)
                await mailbox.wait(pause)
        finally:
            await mailbox.aclose()

    def _timed_out(self, rec: ApprovalRecord, waited: float) -> ApprovalTimeout:
        left = max(0.0, rec.deadline_us / 1_000_000 - time.time())
        return ApprovalTimeout(self.id, self.action, waited, left)

    async def get(self) -> Approval:
        """The request as the store holds it now (expired first if past its deadline)."""
        return await AsyncApprovals(self._ctx).get(self.id)

    def __repr__(self) -> str:
        return f"<ApprovalRequest {self.id} {self.action!r}>"


class AsyncApprovals:
    """Approval requests of the namespace (``coord.approvals``)."""

    def __init__(self, ctx: Context[AsyncBackend]) -> None:
        self._ctx = ctx

    async def request(
        self,
        action: str,
        *,
        details: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        approvers: list[str] | None = None,
    ) -> AsyncApprovalRequest:
        """Ask for approval of ``action`` (a name) with ``details`` (JSON data); it
        expires, denied, ``timeout`` seconds from now by the store's clock. With
        ``approvers`` (agent names or roles) only they may decide; never the requester.
        Bad input raises before anything is stored."""
        ctx = self._ctx
        action = _validate.name(action, "action")
        text = _validate.encode({} if details is None else details, ctx.max_payload)
        ttl = _validate.positive(timeout, "timeout")
        listed = _approvers(approvers)
        approval = secrets.token_hex(8)
        rec = await ctx.store.approval_create(approval, action, text, ctx.agent, listed, ttl)
        return AsyncApprovalRequest(ctx, approval_of(rec))

    async def approve(self, approval: str, *, reason: str | None = None) -> Decision:
        """Approve request ``approval`` as this coordinator's agent; the decision.

        ApprovalClosed if it was decided (or expired) already, NotAnApprover if this
        agent requested it or is not among its approvers, NotFound for an unknown id:
        in each case nothing changes."""
        return await self._decide(approval, rule.APPROVED, reason)

    async def deny(self, approval: str, *, reason: str | None = None) -> Decision:
        """Deny request ``approval``; the same rules and errors as :meth:`approve`."""
        return await self._decide(approval, rule.DENIED, reason)

    async def _decide(self, approval: str, status: str, reason: str | None) -> Decision:
        ctx = self._ctx
        approval = _id(approval)
        if reason is not None:
            if not isinstance(reason, str):
                raise TypeError(f"reason is a str, not {type(reason).__name__}")
            _validate.encode(reason, ctx.max_payload)
        outcome, rec = await ctx.store.approval_decide(
            approval, status, ctx.agent, reason, ctx.audit_keep
        )
        if rec is None:
            raise NotFound("approval request", approval, _LIST_HINT)
        decided = decision_of(rec)
        if outcome == rule.DECIDED and decided is not None:
            return decided
        if outcome == rule.CLOSED and decided is not None:
            raise ApprovalClosed(rec.action, decided)
        approvers = None if rec.approvers is None else tuple(rec.approvers)
        raise NotAnApprover(approval, rec.action, ctx.agent, approvers, outcome == rule.OWN)

    async def get(self, approval: str) -> Approval:
        """The request ``approval`` as stored (expired first if past its deadline), also
        long after it was decided; NotFound for an unknown id."""
        ctx = self._ctx
        approval = _id(approval)
        rec = await ctx.store.approval_get(approval, ctx.agent, ctx.audit_keep)
        if rec is None:
            raise NotFound("approval request", approval, _LIST_HINT)
        return approval_of(rec)

    async def pending(self, *, limit: int = 100) -> list[Approval]:
        """Up to ``limit`` requests still pending, soonest to expire first. Requests
        found past their deadline are expired (and audited) on the way."""
        ctx = self._ctx
        limit = _validate.count(limit, "limit")
        while True:
            found, more = await ctx.store.approval_pending(ctx.agent, ctx.audit_keep, limit)
            if not more:
                return [approval_of(rec) for rec in found]

    def __repr__(self) -> str:
        return f"<Approvals namespace={self._ctx.store.namespace!r}>"
