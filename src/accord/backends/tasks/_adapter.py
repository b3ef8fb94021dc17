"""The task operations of the async twin of memory and SQLite (``_adapter.py``): each
runs the sync operation with the backend's runner (on the loop, or in a thread when
SQLite would wait)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord._task import ClaimRequest, ClaimResult, TaskRecord, TaskSpec
from accord.backends._async.store import AsyncMailbox
from accord.backends._records import RecordStore


class AsyncTaskRecords:
    """Mixed into ``AsyncEventRecordBackend``: ``store`` is the sync store, ``_call``
    its runner."""

    store: RecordStore
    _call: Any

    if TYPE_CHECKING:

        async def open_mailbox(self) -> AsyncMailbox: ...

    async def task_put(
        self, queue: str, spec: TaskSpec, agent: str, max_events: int
    ) -> tuple[TaskRecord, bool]:
        result: tuple[TaskRecord, bool] = await self._call(
            self.store.task_put, queue, spec, agent, max_events
        )
        return result

    async def task_mailbox(self) -> AsyncMailbox:
        return await self.open_mailbox()

    async def task_claim(self, req: ClaimRequest, max_events: int) -> ClaimResult:
        result: ClaimResult = await self._call(self.store.task_claim, req, max_events)
        return result

    async def task_unwait(self, queue: str, waiter: str, holder: str) -> TaskRecord | None:
        found: TaskRecord | None = await self._call(self.store.task_unwait, queue, waiter, holder)
        return found

    async def task_handed(self, message: str) -> TaskRecord | None:
        found: TaskRecord | None = await self._call(self.store.task_handed, message)
        return found

    async def task_extend(self, task_id: int, token: int, lease: float) -> bool:
        return await self._ok(self.store.task_extend, task_id, token, lease)

    async def task_complete(
        self, task_id: int, token: int, result: str, agent: str, max_events: int
    ) -> bool:
        return await self._ok(self.store.task_complete, task_id, token, result, agent,
                               max_events)

    async def task_fail(
        self, task_id: int, token: int, error: str, retry: bool, delay: float, agent: str,
        max_events: int,
    ) -> bool:
        return await self._ok(self.store.task_fail, task_id, token, error, retry, delay,
                               agent, max_events)

    async def task_release(self, task_id: int, token: int, agent: str) -> bool:
        return await self._ok(self.store.task_release, task_id, token, agent)

    async def task_get(self, task_id: int) -> TaskRecord | None:
        return await self._one(self.store.task_get, task_id)

    async def task_cancel(
        self, task_id: int, reason: str, agent: str, max_events: int
    ) -> TaskRecord | None:
        return await self._one(self.store.task_cancel, task_id, reason, agent, max_events)

    async def task_retry(self, task_id: int, agent: str, max_events: int) -> TaskRecord | None:
        return await self._one(self.store.task_retry, task_id, agent, max_events)

    async def task_watch(self, task_id: int, mailbox: str) -> TaskRecord | None:
        return await self._one(self.store.task_watch, task_id, mailbox)

    async def task_unwatch(self, task_id: int, mailbox: str) -> None:
        await self._call(self.store.task_unwatch, task_id, mailbox)

    async def task_list(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]:
        found: tuple[list[TaskRecord], int | None] = await self._call(
            self.store.task_list, queue, status, after, limit
        )
        return found

    async def task_stats(self, queue: str) -> dict[str, int]:
        counts: dict[str, int] = await self._call(self.store.task_stats, queue)
        return counts

    async def task_prune(
        self, queue: str, status: str, before: float, after: int, limit: int
    ) -> tuple[int, int | None]:
        done: tuple[int, int | None] = await self._call(
            self.store.task_prune, queue, status, before, after, limit
        )
        return done

    async def task_claims(self, holder_prefix: str, limit: int) -> list[tuple[str, int, str]]:
        found: list[tuple[str, int, str]] = await self._call(
            self.store.task_claims, holder_prefix, limit
        )
        return found

    async def task_revoke(
        self, holder_prefix: str, agent: str, max_events: int, give_back: bool = False
    ) -> int:
        revoked: int = await self._call(
            self.store.task_revoke, holder_prefix, agent, max_events, give_back
        )
        return revoked

    async def _ok(self, fn: Any, *args: Any) -> bool:
        ok: bool = await self._call(fn, *args)
        return ok

    async def _one(self, fn: Any, *args: Any) -> TaskRecord | None:
        rec: TaskRecord | None = await self._call(fn, *args)
        return rec
