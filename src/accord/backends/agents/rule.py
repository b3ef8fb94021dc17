"""The registry rule of the memory and SQLite stores, free of I/O (Redis: ``lua/``).

An agent's record says who it is (role, host, pid, capabilities, what it works on)
and carries its heartbeat lease: ``expires_at`` on the store's clock, pushed on by
each heartbeat of the session that joined. Liveness and progress are apart: a
heartbeat says the process lives; ``progress`` (wall time) moves only when the agent
made a coordination call or called ``progress()`` since its last heartbeat.

States stored: ``live``, ``dead`` (reaped: its heartbeat lapsed), ``killed``. What a
reader sees (:func:`status`): ``killed``; ``dead`` (also a live record whose lease
lapsed, before a reaper got to it); ``hung`` (no progress for ``hung_after``);
``active`` (something in ``working_on``) or ``idle``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from accord._models import AgentInfo

HUNG_AFTER = 300.0
"""Seconds without progress after which a live agent shows as ``hung``."""
PAGE = 100  # records one reap or hung call handles at most


@dataclass
class AgentRecord:
    """One registered agent. ``expires_at`` (store clock) and ``progress`` (wall
    time) are also index columns on SQLite and sorted-set scores on Redis."""

    name: str
    session: str
    role: str = ""
    working_on: str = ""
    capabilities: list[str] = field(default_factory=list)
    host: str = ""
    pid: int = 0
    mailbox: str = ""
    ttl: float = 10.0
    started_at: float = 0.0
    beat: float = 0.0  # wall time of the last heartbeat
    progress: float = 0.0
    expires_at: float = 0.0
    state: str = "live"
    reason: str = ""
    hung: bool = False  # agent_hung was emitted for this episode

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AgentRecord:
        caps = data.get("capabilities") or []
        return cls(**{**data, "capabilities": list(caps)})


def status(rec: AgentRecord, now: float, wall: float, hung_after: float = HUNG_AFTER) -> str:
    """What the agent is now (see the module docstring)."""
    if rec.state == "killed":
        return "killed"
    if rec.state == "dead" or rec.expires_at <= now:
        return "dead"
    if rec.progress <= wall - hung_after:
        return "hung"
    return "active" if rec.working_on else "idle"


def info(rec: AgentRecord, now: float, wall: float, hung_after: float = HUNG_AFTER) -> AgentInfo:
    """The public view of a record (``holds`` is filled in above the seam)."""
    return AgentInfo(
        name=rec.name,
        role=rec.role,
        status=status(rec, now, wall, hung_after),
        working_on=rec.working_on,
        capabilities=tuple(rec.capabilities),
        host=rec.host,
        pid=rec.pid,
        started_at=rec.started_at,
        last_heartbeat=rec.beat,
        last_progress=rec.progress,
        reason=rec.reason,
    )


def join(cur: AgentRecord | None, new: AgentRecord, now: float, wall: float) -> str | None:
    """Start ``new`` over ``cur``: raises LookupError (the caller names the holder)
    while another session holds the name alive; returns the session of a lapsed one
    it replaces (whose leases the caller revokes), else None."""
    replaced = None
    if cur is not None and cur.state == "live" and cur.session != new.session:
        if cur.expires_at > now:
            raise LookupError(cur.host, cur.pid)
        replaced = cur.session
    new.state, new.reason, new.hung = "live", "", False
    new.started_at = new.beat = new.progress = wall
    new.expires_at = now + new.ttl
    return replaced


def beat(
    rec: AgentRecord | None,
    session: str,
    ttl: float,
    progress_ago: float | None,
    working_on: str | None,
    now: float,
    wall: float,
) -> tuple[str, str]:
    """A heartbeat: ('ok', '') and the lease pushed on; ('killed', reason); ('gone',
    '') when the name is no longer this session's. A session reaped as dead comes
    back alive (its leases stay revoked). ``progress_ago``: seconds since its last
    progress, None when none was made since the last heartbeat."""
    if rec is None or rec.session != session:
        return "gone", ""
    if rec.state == "killed":
        return "killed", rec.reason
    rec.state = "live"
    rec.ttl = ttl
    rec.expires_at = now + ttl
    rec.beat = wall
    if progress_ago is not None and wall - progress_ago > rec.progress:
        rec.progress = wall - progress_ago
        rec.hung = False
    if working_on is not None:
        rec.working_on = working_on
    return "ok", ""
