"""The registry operations of the seam for record stores (memory, SQLite): each one
transaction around the rule of ``rule.py``; the halt switch; dropping a namespace.
``memory.py`` and ``sqlite.py`` beside this file give the storage."""

from __future__ import annotations

import abc

from accord._models import AgentInfo
from accord.backends._record_base import RecordBase
from accord.backends.agents import rule as _agents
from accord.backends.agents.rule import PAGE, AgentRecord
from accord.errors import AgentExists


class AgentRecords(RecordBase):
    """The registry over record storage; storage always inside _transaction()."""

    @abc.abstractmethod
    def _load_agent(self, name: str) -> AgentRecord | None: ...

    @abc.abstractmethod
    def _save_agent(self, rec: AgentRecord) -> None: ...

    @abc.abstractmethod
    def _delete_agent(self, name: str) -> None: ...

    @abc.abstractmethod
    def _agents_after(self, after: str | None, limit: int) -> list[AgentRecord]:
        """Records by name after ``after``."""

    @abc.abstractmethod
    def _agents_lapsed(self, now: float, limit: int) -> list[AgentRecord]:
        """Live records whose ``expires_at`` is at most ``now`` (an index walk)."""

    @abc.abstractmethod
    def _agents_stalled(self, before: float, limit: int) -> list[AgentRecord]:
        """Live records whose ``progress`` is before ``before`` (an index walk)."""

    @abc.abstractmethod
    def _load_halt(self) -> str | None: ...

    @abc.abstractmethod
    def _save_halt(self, reason: str | None) -> None: ...

    @abc.abstractmethod
    def _drop_all(self) -> None:
        """Delete every record of the namespace, of every feature."""

    def _halt_reason(self) -> str | None:
        return self._load_halt()

    # the seam -------------------------------------------------------------------
    def agent_join(self, rec: AgentRecord) -> str | None:
        with self._transaction():
            try:
                replaced = _agents.join(self._load_agent(rec.name), rec, self._now(),
                                        self._wall())
            except LookupError as exc:
                host, pid = exc.args
                raise AgentExists(rec.name, self.namespace, host, pid) from None
            self._save_agent(rec)
        return replaced

    def agent_beat(
        self, name: str, session: str, ttl: float, progress_ago: float | None,
        working_on: str | None,
    ) -> tuple[str, str]:
        with self._transaction():
            rec = self._load_agent(name)
            found = _agents.beat(rec, session, ttl, progress_ago, working_on, self._now(),
                                 self._wall())
            if rec is not None and found[0] == "ok":
                self._save_agent(rec)
        return found

    def agent_leave(self, name: str, session: str) -> bool:
        with self._transaction():
            rec = self._load_agent(name)
            if rec is None or rec.session != session:
                return False
            self._delete_agent(name)
        return True

    def agent_get(self, name: str) -> AgentInfo | None:
        with self._transaction(write=False):
            rec = self._load_agent(name)
            now, wall = self._now(), self._wall()
        return None if rec is None else _agents.info(rec, now, wall)

    def agent_page(self, after: str | None, limit: int) -> tuple[list[AgentInfo], str | None]:
        with self._transaction(write=False):
            found = self._agents_after(after, limit + 1)
            now, wall = self._now(), self._wall()
        page = [_agents.info(rec, now, wall) for rec in found[:limit]]
        return page, (page[-1].name if len(found) > limit else None)

    def agent_hung(self, threshold: float, limit: int) -> tuple[list[AgentInfo], list[str]]:
        with self._transaction():
            now, wall = self._now(), self._wall()
            found = [r for r in self._agents_stalled(wall - threshold, limit)
                     if r.expires_at > now]
            fresh = [r for r in found if not r.hung]
            for rec in fresh:
                rec.hung = True
                self._save_agent(rec)
        infos = [_agents.info(r, now, wall, threshold) for r in found]
        return infos, [r.name for r in fresh]

    def agent_reap(self, limit: int = PAGE) -> list[tuple[str, str]]:
        with self._transaction():
            lapsed = self._agents_lapsed(self._now(), limit)
            for rec in lapsed:
                rec.state = "dead"
                self._save_agent(rec)
        return [(r.name, r.session) for r in lapsed]

    def agent_kill(self, name: str, reason: str) -> tuple[AgentInfo, str] | None:
        with self._transaction():
            rec = self._load_agent(name)
            if rec is None:
                return None
            rec.state, rec.reason = "killed", reason
            self._save_agent(rec)
            now, wall = self._now(), self._wall()
        if rec.mailbox:
            self._post([(rec.mailbox, "kill")])
        return _agents.info(rec, now, wall), rec.session

    def halt(self, reason: str) -> None:
        with self._transaction():
            self._save_halt(reason)

    def resume(self) -> bool:
        with self._transaction():
            if self._load_halt() is None:
                return False
            self._save_halt(None)
        return True

    def halt_reason(self) -> str | None:
        with self._transaction(write=False):
            return self._load_halt()

    def drop_namespace(self) -> None:
        with self._transaction():
            self._drop_all()
