"""The approval rule of the memory and SQLite stores, free of I/O; Redis runs it in
``lua/_approvals.lua`` beside this file.

One state machine per request, decided atomically in the store::

    pending --approve--> approved
            --deny-----> denied
            --deadline-> expired      (a timeout denies: nothing approves by default)

Exactly one decision wins; any later one is refused (``CLOSED``). Expiry is decided
lazily by the store, with its own clock: the first operation that finds a pending
request past its deadline (a read, a wait, a decision, a listing) expires it. The
requester cannot decide its own request (``OWN``); with ``approvers`` only a decider
one of whose identities (its agent name, and the role its agent registered with while
it is live, read by the store in the same step) is listed can (``NOT_APPROVER``).
Every decision, expiry included, is appended to the audit stream in the same step
(:func:`audit_data`), and the mailboxes of the waiters (``watchers``) are posted ``d``
once it is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from accord.backends.signals.rule import Signal
from accord.backends.streams.rule import json_str

PENDING, APPROVED, DENIED, EXPIRED = "pending", "approved", "denied", "expired"
DECIDED, CLOSED, UNKNOWN, OWN, NOT_APPROVER = "decided", "closed", "unknown", "own", "not_approver"
MAX_WATCHERS = 256
"""Waiters' mailboxes a request keeps (the oldest go first); a waiter not posted to
still learns the outcome at the deadline."""
SWEEP = 100
"""Overdue requests a listing expires per store call (so no script runs long)."""
DECIDED_KIND = "accord.approval_decided"


@dataclass
class ApprovalRecord:
    """One request as stored (times in microseconds of the store's wall clock)."""

    id: str
    action: str
    details: str  # JSON text
    requested_by: str
    approvers: list[str] | None
    created_us: int
    deadline_us: int
    status: str = PENDING
    decided_by: str | None = None
    reason: str | None = None
    decided_us: int = 0
    watchers: list[str] = field(default_factory=list)

    def to_json(self) -> list[Any]:
        return [self.id, self.action, self.details, self.requested_by, self.approvers,
                self.created_us, self.deadline_us, self.status, self.decided_by,
                self.reason, self.decided_us, self.watchers]  # fmt: skip

    @classmethod
    def from_json(cls, data: list[Any]) -> ApprovalRecord:
        return cls(*data)


def expire_due(rec: ApprovalRecord, now_us: int) -> bool:
    """Expire ``rec`` if it is pending past its deadline; True if it did now."""
    if rec.status != PENDING or now_us < rec.deadline_us:
        return False
    rec.status, rec.decided_us = EXPIRED, rec.deadline_us
    return True


def decide(
    rec: ApprovalRecord,
    status: str,
    by: str,
    identities: list[str],
    reason: str | None,
    now_us: int,
) -> str:
    """Decide ``rec`` (``status``: approved or denied) as ``by``; the outcome. A request
    found past its deadline is expired first (``CLOSED``: check ``expire_due`` before)."""
    if rec.status != PENDING:
        return CLOSED
    if by == rec.requested_by:
        return OWN
    if rec.approvers is not None and not any(i in rec.approvers for i in identities):
        return NOT_APPROVER
    rec.status, rec.decided_by, rec.reason, rec.decided_us = status, by, reason, now_us
    return DECIDED


def watch(rec: ApprovalRecord, mailbox: str) -> None:
    """Have ``mailbox`` posted to when ``rec`` is decided."""
    if mailbox not in rec.watchers:
        rec.watchers.append(mailbox)
        del rec.watchers[:-MAX_WATCHERS]


def woken(rec: ApprovalRecord) -> list[Signal]:
    """The posts to the waiters of a request just decided (they are forgotten)."""
    signals = [(w, "d") for w in rec.watchers]
    rec.watchers = []
    return signals


def audit_data(rec: ApprovalRecord) -> str:
    """The audit entry of a decision, canonical JSON (keys sorted: action, approval,
    kind, reason, status); ``_approvals.lua`` builds the same text."""
    reason = "null" if rec.reason is None else json_str(rec.reason)
    return (
        f'{{"action":{json_str(rec.action)},"approval":"{rec.id}","kind":"{DECIDED_KIND}",'
        f'"reason":{reason},"status":"{rec.status}"}}'
    )
