"""The signal operation of the seam for record stores (memory, SQLite)."""

from __future__ import annotations

from accord.backends._record_base import RecordBase


class SignalRecords(RecordBase):
    """Posting to a mailbox: delivered as a hand-off is (after no transaction)."""

    def post(self, mailbox: str, message: str) -> None:
        self._post([(mailbox, message)])
