"""The async twin of a :class:`RecordBackend`, written once for memory and SQLite.

A :data:`Runner` says where each operation runs: memory's are short critical
sections and run on the loop (:func:`inline`); SQLite's run on the loop too unless
they would have to wait for another writer, and then in a worker thread (see
``sqlite.loop_first``). Waiting for a hand-off never blocks the loop: the mailbox
factory gives an awaitable mailbox.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from accord._event import EventRecord
from accord._models import AcquireResult, Entry, LeaseRequest, LeaseStatistics
from accord.backends._async.protocol import AsyncMailbox
from accord.backends._async.waiting import read_or_wait
from accord.backends._records import RecordBackend, RecordStore
from accord.backends.agents.adapter import AsyncAgentsAdapter
from accord.backends.approvals.adapter import AsyncApprovalCalls
from accord.backends.streams.adapter import AsyncStreamCalls
from accord.backends.tasks._adapter import AsyncTaskRecords

T = TypeVar("T")


class Runner(Protocol):
    """Runs one blocking operation ``fn(*args, **kwargs)`` for the event loop."""

    async def __call__(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...


async def inline(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """On the loop: for operations that never wait."""
    return fn(*args, **kwargs)


async def in_thread(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """In a worker thread of the loop's default executor."""
    call = functools.partial(fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(None, call)


class AsyncRecordBackend:
    """Runs each operation of ``sync`` with ``run``; ``mailbox`` makes awaitable
    mailboxes."""

    def __init__(
        self,
        sync: RecordBackend,
        mailbox: Callable[[], Awaitable[AsyncMailbox]],
        run: Runner,
    ) -> None:
        self.sync = sync
        self.name = sync.name
        self.capabilities = sync.capabilities
        self.namespace = sync.namespace
        self._mailbox = mailbox
        self._call = run

    async def open_mailbox(self) -> AsyncMailbox:
        return await self._mailbox()

    async def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        return await self._call(self.sync.acquire, req, detect_deadlock=detect_deadlock)

    async def release(self, key: str, holder: str, token: int) -> bool:
        return await self._call(self.sync.release, key, holder, token)

    async def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        return await self._call(self.sync.extend, key, holder, token, ttl)

    async def abandon(self, key: str, waiter: str, holder: str) -> None:
        await self._call(self.sync.abandon, key, waiter, holder)

    async def lease_statistics(self, key: str) -> LeaseStatistics:
        return await self._call(self.sync.lease_statistics, key)

    async def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        return await self._call(self.sync.list_leases, prefix)

    async def state_get(self, map_name: str, key: str) -> Entry | None:
        return await self._call(self.sync.state_get, map_name, key)

    async def state_set(
        self,
        map_name: str,
        key: str,
        value: str,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
    ) -> Entry:
        return await self._call(
            self.sync.state_set, map_name, key, value, agent, expected_version, fence
        )

    async def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        return await self._call(self.sync.state_incr, map_name, key, delta, agent)

    async def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        return await self._call(self.sync.state_delete, map_name, key, agent, expected_version)

    async def state_keys(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        return await self._call(self.sync.state_keys, map_name, prefix, after, limit)

    async def state_items(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[tuple[str, Entry]], str | None]:
        return await self._call(self.sync.state_items, map_name, prefix, after, limit)

    async def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        return await self._call(self.sync.state_history, map_name, key, limit)

    async def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        return await self._call(self.sync.rate_acquire, key, interval, burst, cost, consume)

    async def aclose(self) -> None:
        # in a thread: close() waits for the transactions running in other threads
        await in_thread(self.sync.close)


class AsyncEventRecordBackend(
    AsyncAgentsAdapter, AsyncRecordBackend, AsyncTaskRecords, AsyncStreamCalls,
    AsyncApprovalCalls,
):
    """The async twin with the event log, agents, task queues, streams and approvals;
    ``bell`` makes awaitable bells."""

    store: RecordStore

    def __init__(
        self,
        sync: RecordStore,
        mailbox: Callable[[], Awaitable[AsyncMailbox]],
        run: Runner,
        bell: Callable[[], Awaitable[AsyncMailbox]],
    ) -> None:
        super().__init__(sync, mailbox, run)
        self.store = sync
        self._bell = bell

    async def event_append(
        self, name: str, data: str, source: str, max_events: int
    ) -> EventRecord:
        return await self._call(self.store.event_append, name, data, source, max_events)

    async def event_read(self, after: str | None, limit: int, timeout: float) -> list[EventRecord]:
        return await self._read_or_wait(self.store.event_read, timeout, after, limit)

    async def _read_or_wait(
        self, read: Callable[..., list[EventRecord]], timeout: float, *args: Any
    ) -> list[EventRecord]:
        return await read_or_wait(
            lambda: self._call(read, *args, 0.0), self._bell, timeout,
            self.store.interrupted_since(),
        )

    async def event_tail(self) -> str:
        return await self._call(self.store.event_tail)

    async def event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        return await self._call(self.store.event_history, name, source, limit)

    async def group_create(self, group: str) -> None:
        await self._call(self.store.group_create, group)

    async def group_read(
        self, group: str, consumer: str, visibility: float, limit: int, timeout: float,
        skip_to: str | None = None,
    ) -> list[EventRecord]:
        if skip_to is None:
            return await self._read_or_wait(
                self.store.group_read, timeout, group, consumer, visibility, limit
            )
        read = functools.partial(self.store.group_read, skip_to=skip_to)
        return await self._read_or_wait(read, timeout, group, consumer, visibility, limit)

    async def group_ack(self, group: str, ids: list[str]) -> None:
        await self._call(self.store.group_ack, group, ids)

    async def post(self, mailbox: str, message: str) -> None:
        await self._call(self.store.post, mailbox, message)

    async def interrupt_reads(self) -> bool:
        return await self._call(self.store.interrupt_reads)

    async def barrier_arrive(self, name: str, parties: int, waiter: str) -> int:
        return await self._call(self.store.barrier_arrive, name, parties, waiter)

    async def barrier_break(self, name: str, waiter: str) -> bool:
        return await self._call(self.store.barrier_break, name, waiter)
