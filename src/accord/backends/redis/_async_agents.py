"""The registry, the halt switch, ``drop_namespace`` and the lease operations of the
kill switch and metrics on Redis (async source; ``_sync_agents.py`` is generated from
it by ``scripts/unasync.py``). The backend class mixes :class:`AsyncRedisAgents` in.

Each registry operation is one script of ``agents/lua/`` (with ``_agents.lua``): an
agent is the key ``agent:<name>`` (JSON), indexed by name (``agents``), and while
live by heartbeat expiry (``agents:exp``) and progress (``agents:prog``), so a
heartbeat, a reap or a hung call costs a sorted-set step whatever the number of
agents. The halt switch is the key ``halt`` (its reason), which ``acquire.lua``
reads. A kill revokes the session's leases page by page of the live-lease index
(``leases/lua/revoke.lua``, 100 keys a script), so no script holds the server long.
``drop_namespace`` deletes every key under the namespace's prefix (SCAN, then UNLINK
1,000 at a time).
"""

from __future__ import annotations

from typing import Any

from accord import _json
from accord._models import AgentInfo
from accord.backends.agents.rule import AgentRecord, info
from accord.backends.redis._async_host import AsyncRedisHost, C
from accord.backends.redis._lua import Script
from accord.errors import AgentExists

PAGE = 100  # lease keys one revoke script walks
DROP_BATCH = 1000
_JOIN, _BEAT, _LEAVE, _KILL, _READ = (
    Script(name, "_agents")
    for name in ["agent_join", "agent_beat", "agent_leave", "agent_kill", "agent_read"]
)
_FORCE, _REVOKE = (Script(name, "_leases", "_indexed") for name in ["force_release", "revoke"])
_METRICS = Script("lease_metrics", "_leases")


def _glob(text: str) -> str:
    """``text`` as a literal in a SCAN MATCH pattern."""
    for special in ("\\", "[", "]", "?", "*"):
        text = text.replace(special, "\\" + special)
    return text


def _us(seconds: float) -> int:
    return max(1, round(seconds * 1_000_000))


def _record(raw: bytes) -> AgentRecord:
    data = _json.loads(raw.decode())
    data["expires_at"] = data["expires_at"] / 1e6  # server microseconds, as now below
    data["pid"] = int(data["pid"])
    return AgentRecord.from_json(data)


def _infos(reply: list[Any], hung_after: float | None = None) -> list[AgentInfo]:
    now = reply[0] / 1e6
    records = [_record(raw) for raw in reply[1:]]
    if hung_after is None:
        return [info(r, now, now) for r in records]
    return [info(r, now, now, hung_after) for r in records]


class AsyncRedisAgents(AsyncRedisHost[C]):
    """The registry operations of the seam, for ``AsyncRedisBackend``."""

    def _agent(self, name: str) -> list[str]:
        return [f"{self._keys.prefix}agent:{name}"]

    async def agent_join(self, rec: AgentRecord) -> str | None:
        text = _json.dumps_record(rec.to_json())
        reply = await self._eval(self._leases, _JOIN, self._agent(rec.name), self._keys.prefix,
                                 text)
        if reply[0] == 1:
            raise AgentExists(rec.name, self.namespace, reply[1].decode(), int(reply[2]))
        return reply[1].decode() or None

    async def agent_beat(
        self, name: str, session: str, ttl: float, progress_ago: float | None,
        working_on: str | None,
    ) -> tuple[str, str]:
        ago = "" if progress_ago is None else _us(progress_ago)
        flag, text = ("0", "") if working_on is None else ("1", working_on)
        reply = await self._eval(self._leases, _BEAT, self._agent(name), self._keys.prefix,
                                 name, session, _us(ttl), ago, flag, text)
        return reply[0].decode(), reply[1].decode()

    async def agent_leave(self, name: str, session: str) -> bool:
        return bool(await self._eval(self._leases, _LEAVE, self._agent(name),
                                     self._keys.prefix, name, session))

    async def _read(self, index: str, *args: Any) -> list[Any]:
        keys = self._keys
        reply: list[Any] = await self._eval(self._data, _READ, [f"{keys.prefix}{index}"],
                                            keys.prefix, *args)
        return reply

    async def agent_get(self, name: str) -> AgentInfo | None:
        found = _infos(await self._read("agents", "get", name))
        return found[0] if found else None

    async def agent_page(
        self, after: str | None, limit: int
    ) -> tuple[list[AgentInfo], str | None]:
        reply = await self._read("agents", "page", after or "", limit + 1)
        found = _infos(reply)
        page = found[:limit]
        return page, (page[-1].name if len(found) > limit else None)

    async def agent_hung(
        self, threshold: float, limit: int
    ) -> tuple[list[AgentInfo], list[str]]:
        reply = await self._read("agents:prog", "hung", _us(threshold), limit)
        cut = reply.index(b"")
        return _infos(reply[:cut], threshold), [n.decode() for n in reply[cut + 1:]]

    async def agent_reap(self, limit: int) -> list[tuple[str, str]]:
        reply = await self._read("agents:exp", "reap", limit)
        return [(r.name, r.session) for r in (_record(raw) for raw in reply[1:])]

    async def agent_kill(self, name: str, reason: str) -> tuple[AgentInfo, str] | None:
        reply = await self._eval(self._leases, _KILL, self._agent(name), self._keys.prefix,
                                 name, reason)
        if not reply:
            return None
        rec = _record(reply[1])
        return info(rec, reply[0] / 1e6, reply[0] / 1e6), rec.session

    # the halt switch, dropping the namespace -------------------------------------------
    async def halt(self, reason: str) -> None:
        await self._plain(self._leases, "SET", f"{self._keys.prefix}halt", reason)

    async def resume(self) -> bool:
        return bool(await self._plain(self._leases, "DEL", f"{self._keys.prefix}halt"))

    async def halt_reason(self) -> str | None:
        raw = await self._plain(self._leases, "GET", f"{self._keys.prefix}halt")
        return None if raw is None else str(raw.decode())

    async def drop_namespace(self) -> None:
        pattern = _glob(self._keys.prefix)
        cursor = b"0"
        while True:
            cursor, found = await self._plain(self._data, "SCAN", cursor, "MATCH",
                                              pattern + "*", "COUNT", DROP_BATCH)
            for i in range(0, len(found), DROP_BATCH):
                await self._plain(self._data, "UNLINK", *found[i : i + DROP_BATCH])
            if cursor in (b"0", 0):
                break
        self._forget_epoch()  # the next connection starts the namespace afresh

    # leases: the kill switch, force release, metrics -----------------------------------
    async def force_release(self, key: str) -> list[str]:
        reply = await self._lease_eval(_FORCE, key)
        return [agent.decode() for agent in reply]

    async def revoke_holders(self, prefix: str) -> int:
        keys, after, dropped = self._keys, "", 0
        while True:
            reply = await self._eval(self._leases, _REVOKE, [keys.leases], keys.prefix, prefix,
                                     after, PAGE)
            dropped += int(reply[1])
            if not reply[0]:
                return dropped
            after = reply[0].decode()

    async def lease_metrics(self, prefix: str) -> list[tuple[str, int, list[float]]]:
        keys = self._keys
        pattern = _glob(f"{keys.prefix}lease:{prefix}")
        names, cursor = [], b"0"
        while True:
            cursor, found = await self._plain(self._data, "SCAN", cursor, "MATCH",
                                              pattern + "*", "COUNT", DROP_BATCH)
            names += [k.decode()[len(keys.prefix) + len("lease:"):] for k in found]
            if cursor in (b"0", 0):
                break
        out: list[tuple[str, int, list[float]]] = []
        for i in range(0, len(sorted(names)), PAGE):
            chunk = sorted(names)[i : i + PAGE]
            flat = await self._eval(self._data, _METRICS, [f"{keys.prefix}metrics"],
                                    keys.prefix, *chunk)
            for j in range(0, len(flat), 3):
                counted = _json.loads(flat[j + 2].decode()) if flat[j + 2] else [0.0] * 7
                out.append((flat[j].decode(), int(flat[j + 1]), [float(c) for c in counted]))
        return out
