# Generated from src/accord/backends/agents/_async_protocol.py by scripts/unasync.py: do not edit.
"""The ``agents`` capability: the registry of agents, the halt switch, dropping a
namespace.

A session joins under a name (``agent_join``) and keeps its heartbeat lease alive
(``agent_beat``); a reaper (every session's heartbeat, and every registry read) marks
agents whose lease lapsed dead (``agent_reap``); the kill switch marks an agent
killed and posts ``kill`` to its control mailbox (``agent_kill``). Revoking the
leases of a killed or dead session is the ``leases`` capability's
``revoke_holders``, run above the seam. Each operation is atomic: one Lua script on
Redis, one transaction on SQLite, one critical section in memory; a heartbeat and a
reap or hung call cost the same whatever the number of agents registered.
"""

from __future__ import annotations

from typing import Protocol

from accord._models import AgentInfo
from accord.backends._sync.store import Store
from accord.backends.agents.rule import AgentRecord


class Agents(Store, Protocol):
    """The registry of agents, the halt switch and ``drop_namespace``."""

    def agent_join(self, rec: AgentRecord) -> str | None:
        """Register ``rec`` (its times are set here). Raises ``AgentExists`` while
        another live session holds the name; returns the session of a lapsed one it
        replaced (its leases are the caller's to revoke), else None."""
        ...

    def agent_beat(
        self,
        name: str,
        session: str,
        ttl: float,
        progress_ago: float | None,
        working_on: str | None,
    ) -> tuple[str, str]:
        """Push the heartbeat lease ``ttl`` seconds on: ('ok', ''), ('killed',
        reason) or ('gone', '') (the name is not this session's any more)."""
        ...

    def agent_leave(self, name: str, session: str) -> bool:
        """Deregister (only this session's record); False if it was not there."""
        ...

    def agent_get(self, name: str) -> AgentInfo | None:
        """One agent, or None."""
        ...

    def agent_page(
        self, after: str | None, limit: int
    ) -> tuple[list[AgentInfo], str | None]:
        """Up to ``limit`` agents by name after ``after``, and the cursor of the next
        page (None on the last)."""
        ...

    def agent_hung(
        self, threshold: float, limit: int
    ) -> tuple[list[AgentInfo], list[str]]:
        """Live agents without progress for ``threshold`` seconds (at most
        ``limit``), and the names among them not reported hung before (now marked)."""
        ...

    def agent_reap(self, limit: int) -> list[tuple[str, str]]:
        """Mark up to ``limit`` live agents whose heartbeat lease lapsed dead; return
        their (name, session)."""
        ...

    def agent_kill(self, name: str, reason: str) -> tuple[AgentInfo, str] | None:
        """Mark the agent killed and post ``kill`` to its control mailbox; return what
        it is now and its session (None: no such agent)."""
        ...

    def halt(self, reason: str) -> None:
        """Halt the namespace: lease acquisitions and emits raise ``Halted``."""
        ...

    def resume(self) -> bool:
        """End the halt; False if the namespace was not halted."""
        ...

    def halt_reason(self) -> str | None:
        """Why the namespace is halted, or None."""
        ...

    def drop_namespace(self) -> None:
        """Delete everything of this namespace (every feature's records)."""
        ...
