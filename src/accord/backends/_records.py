"""The record stores' seam, assembled from the features' record operations
(``leases/records.py``, ``state/records.py``, ``rates/records.py``,
``events/records.py``, ``signals/records.py``, ``tasks/records.py``,
``streams/records.py``, ``approvals/records.py``, ``agents/records.py``) on
:class:`RecordBase`."""

from __future__ import annotations

from accord.backends._record_base import RecordBase
from accord.backends.agents import rule as _agents
from accord.backends.agents.records import AgentRecords
from accord.backends.approvals.records import ApprovalRecords
from accord.backends.events.records import LAST_ID, EventRecords, event_id
from accord.backends.leases.records import LeaseRecords
from accord.backends.rates.records import RateRecords
from accord.backends.signals.records import SignalRecords
from accord.backends.state.records import StateRecords
from accord.backends.tasks.records import TaskRecords

__all__ = ["LAST_ID", "RecordBackend", "RecordBase", "RecordStore", "event_id"]


class RecordBackend(LeaseRecords, StateRecords, RateRecords):
    """Leases, state and rate limits over record storage."""


class RecordStore(
    AgentRecords, RecordBackend, EventRecords, SignalRecords, TaskRecords, ApprovalRecords
):
    """A record backend with the event log, signals, agents, task queues, streams and
    approvals: what memory and SQLite are."""

    def _role_of(self, agent: str) -> str | None:
        rec = self._load_agent(agent)
        if rec is None or not rec.role:
            return None
        dead = _agents.status(rec, self._now(), self._wall()) in ("dead", "killed")
        return None if dead else rec.role
