"""The async twin of the record stores' registry operations and of the lease
operations the kill switch and metrics add, for ``_adapter.AsyncEventRecordBackend``
(memory and SQLite): each runs the sync operation with the backend's runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from accord._models import AgentInfo
from accord.backends.agents.rule import AgentRecord

if TYPE_CHECKING:
    from accord.backends._records import RecordStore

T = TypeVar("T")


class AsyncAgentsAdapter:
    """Mixed into ``AsyncEventRecordBackend``, which gives ``store`` and ``_call``."""

    store: RecordStore

    if TYPE_CHECKING:

        async def _call(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...

    async def agent_join(self, rec: AgentRecord) -> str | None:
        return await self._call(self.store.agent_join, rec)

    async def agent_beat(
        self, name: str, session: str, ttl: float, progress_ago: float | None,
        working_on: str | None,
    ) -> tuple[str, str]:
        return await self._call(self.store.agent_beat, name, session, ttl, progress_ago, working_on)

    async def agent_leave(self, name: str, session: str) -> bool:
        return await self._call(self.store.agent_leave, name, session)

    async def agent_get(self, name: str) -> AgentInfo | None:
        return await self._call(self.store.agent_get, name)

    async def agent_page(
        self, after: str | None, limit: int
    ) -> tuple[list[AgentInfo], str | None]:
        return await self._call(self.store.agent_page, after, limit)

    async def agent_hung(
        self, threshold: float, limit: int
    ) -> tuple[list[AgentInfo], list[str]]:
        return await self._call(self.store.agent_hung, threshold, limit)

    async def agent_reap(self, limit: int) -> list[tuple[str, str]]:
        return await self._call(self.store.agent_reap, limit)

    async def agent_kill(self, name: str, reason: str) -> tuple[AgentInfo, str] | None:
        return await self._call(self.store.agent_kill, name, reason)

    async def halt(self, reason: str) -> None:
        await self._call(self.store.halt, reason)

    async def resume(self) -> bool:
        return await self._call(self.store.resume)

    async def halt_reason(self) -> str | None:
        return await self._call(self.store.halt_reason)

    async def drop_namespace(self) -> None:
        await self._call(self.store.drop_namespace)

    # leases: the kill switch, force release, metrics -----------------------------------
    async def force_release(self, key: str) -> list[str]:
        return await self._call(self.store.force_release, key)

    async def revoke_holders(self, prefix: str) -> int:
        return await self._call(self.store.revoke_holders, prefix)

    async def lease_metrics(self, prefix: str) -> list[tuple[str, int, list[float]]]:
        return await self._call(self.store.lease_metrics, prefix)
