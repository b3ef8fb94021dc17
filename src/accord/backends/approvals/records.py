"""The approval operations of the seam for record stores (memory, SQLite): each one
transaction around the rule of ``rule.py``, its audit entry appended in the same
transaction (``StreamRecords._stream_add``) and its waiters posted after the commit."""

from __future__ import annotations

import abc

from accord.backends.approvals import rule
from accord.backends.approvals.rule import ApprovalRecord
from accord.backends.signals.rule import Signal
from accord.backends.streams.records import StreamRecords
from accord.backends.streams.rule import AUDIT


class ApprovalRecords(StreamRecords):
    """Approvals over record storage; storage always inside _transaction()."""

    @abc.abstractmethod
    def _load_approval(self, approval: str) -> ApprovalRecord | None: ...

    @abc.abstractmethod
    def _save_approval(self, rec: ApprovalRecord) -> None:
        """Store ``rec``; a pending one is in the index of pending requests by
        deadline, any other is not."""

    @abc.abstractmethod
    def _overdue_approvals(self, now_us: int, limit: int) -> list[str]:
        """Ids of up to ``limit`` pending requests whose deadline is at or before now."""

    @abc.abstractmethod
    def _pending_approvals(self, now_us: int, limit: int) -> list[ApprovalRecord]:
        """Up to ``limit`` pending requests with a deadline after now, soonest first."""

    def _role_of(self, agent: str) -> str | None:
        """The role ``agent`` registered with while it is live (not dead, not killed),
        which approvers may name; a store without an agent registry knows none."""
        return None

    def _now_us(self) -> int:
        return round(self._wall() * 1_000_000)

    def _settle(
        self, rec: ApprovalRecord, now_us: int, observer: str, keep: int | None
    ) -> list[Signal]:
        """Expire ``rec`` if it is overdue (audited as ``observer``); whom to wake."""
        if not rule.expire_due(rec, now_us):
            return []
        return self._decided(rec, observer, keep)

    def _decided(self, rec: ApprovalRecord, source: str, keep: int | None) -> list[Signal]:
        signals = rule.woken(rec)
        self._save_approval(rec)
        self._stream_add(AUDIT, source, rule.audit_data(rec), keep)
        return signals

    # the seam -----------------------------------------------------------------------
    def approval_create(
        self,
        approval: str,
        action: str,
        details: str,
        requested_by: str,
        approvers: list[str] | None,
        ttl: float,
    ) -> ApprovalRecord:
        with self._transaction():
            now = self._now_us()
            rec = ApprovalRecord(approval, action, details, requested_by, approvers, now,
                                 now + round(ttl * 1_000_000))  # fmt: skip
            self._save_approval(rec)
        return rec

    def approval_get(
        self, approval: str, observer: str, audit_keep: int | None, mailbox: str = ""
    ) -> ApprovalRecord | None:
        with self._transaction():
            rec = self._load_approval(approval)
            if rec is None:
                return None
            signals = self._settle(rec, self._now_us(), observer, audit_keep)
            if mailbox and rec.status == rule.PENDING:
                rule.watch(rec, mailbox)
                self._save_approval(rec)
        self._post(signals)
        return rec

    def approval_decide(
        self,
        approval: str,
        status: str,
        by: str,
        reason: str | None,
        audit_keep: int | None,
    ) -> tuple[str, ApprovalRecord | None]:
        with self._transaction():
            rec = self._load_approval(approval)
            if rec is None:
                return rule.UNKNOWN, None
            now = self._now_us()
            signals = self._settle(rec, now, by, audit_keep)
            # in this transaction: a kill or reap that lands first takes the role away
            role = None if rec.approvers is None else self._role_of(by)
            identities = [by] if role is None else [by, role]
            outcome = rule.decide(rec, status, by, identities, reason, now)
            if outcome == rule.DECIDED:
                signals = self._decided(rec, by, audit_keep)
        self._post(signals)
        return outcome, rec

    def approval_pending(
        self, observer: str, audit_keep: int | None, limit: int
    ) -> tuple[list[ApprovalRecord], bool]:
        signals: list[Signal] = []
        with self._transaction():
            now = self._now_us()
            overdue = self._overdue_approvals(now, rule.SWEEP + 1)
            for approval in overdue[: rule.SWEEP]:
                rec = self._load_approval(approval)
                if rec is not None:
                    signals += self._settle(rec, now, observer, audit_keep)
            found = self._pending_approvals(now, limit)
        self._post(signals)
        return found, len(overdue) > rule.SWEEP
