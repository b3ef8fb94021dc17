"""Frozen value objects of people in the loop: approval decisions and requests, audit
entries and breaks of the audit chain, board messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord import _json


@dataclass(frozen=True)
class Decision:
    """How an approval request was settled: ``approved`` (``bool(decision)`` is the
    same), ``by`` (the deciding agent; None when it expired), ``reason``, ``at`` (Unix
    time), ``status`` (``approved``, ``denied`` or ``expired``: a request that timed out
    is denied) and the request's ``id``."""

    approved: bool
    by: str | None
    reason: str | None
    at: float
    status: str
    id: str

    def __bool__(self) -> bool:
        return self.approved


@dataclass(frozen=True)
class Approval:
    """An approval request as the store holds it: ``status`` is ``pending`` until a
    ``decision`` settles it. ``approvers`` None lets any agent but the requester
    decide. Times are Unix time (the store's clock)."""

    id: str
    action: str
    details: Any
    requested_by: str
    approvers: tuple[str, ...] | None
    status: str
    created_at: float
    expires_at: float
    decision: Decision | None

    @property
    def pending(self) -> bool:
        """True until the request is approved, denied or expired."""
        return self.decision is None


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit log. ``id`` counts from 1 with no gap; ``agent`` wrote it;
    ``kind`` says what it records (accord's own kinds start with ``accord.``);
    ``details`` are the fields logged with it. ``prev`` is the hash of the entry
    before, ``hash`` this entry's (see :meth:`to_json`)."""

    id: int
    time_us: int
    agent: str
    kind: str
    details: dict[str, Any]
    prev: str
    hash: str

    # Every audit.log() returns one: made by filling __dict__, as Entry is (_models.py).
    def __init__(
        self, id: int, time_us: int, agent: str, kind: str, details: dict[str, Any],
        prev: str, hash: str,
    ) -> None:  # fmt: skip
        fields = self.__dict__
        fields["id"], fields["time_us"], fields["agent"], fields["kind"] = id, time_us, agent, kind
        fields["details"], fields["prev"], fields["hash"] = details, prev, hash

    @property
    def time(self) -> float:
        """Unix time of the store's clock when it was appended."""
        return self.time_us / 1_000_000

    def to_json(self) -> str:
        """The entry as one line of canonical JSON (sorted keys, no spaces):
        ``{"data": {...details, "kind"}, "hash", "id", "prev", "source": agent,
        "time": microseconds}``. ``hash`` is the SHA-1 of that line without its
        ``hash`` key, and ``prev`` the ``hash`` of the line before, so an export
        can be checked anywhere."""
        return _json.dumps_canonical({
            "data": {**self.details, "kind": self.kind}, "hash": self.hash, "id": self.id,
            "prev": self.prev, "source": self.agent, "time": self.time_us,
        })  # fmt: skip


@dataclass(frozen=True)
class AuditBreak:
    """Where the audit chain breaks (``audit.verify()``): at entry ``id``, which is
    ``entry`` as found (None when it is missing), and ``reason``: edited, deleted or
    out of place."""

    id: int
    entry: AuditEntry | None
    reason: str


@dataclass(frozen=True)
class Message:
    """A message of a board thread: ``id`` 0 is the post, replies count from 1."""

    thread: str
    id: int
    author: str
    text: str
    at: float
