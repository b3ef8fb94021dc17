"""``memory://[name]``: one process, every thread and event loop in it.

Stores with the same name are shared within the process, so a sync and an async
coordinator on ``memory://`` see the same locks. A hand-off wakes the waiter
directly: a thread through a queue, a task through its event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from accord._aio import within
from accord._event import EventRecord
from accord.backends._adapter import AsyncEventRecordBackend, inline
from accord.backends._capabilities import CAPABILITIES
from accord.backends._records import RecordStore
from accord.backends.agents.memory import MemoryAgentStorage
from accord.backends.approvals.memory import ApprovalSpace, MemoryApprovals
from accord.backends.events.rule import GroupRecord
from accord.backends.leases.barrier import BarrierRecord
from accord.backends.leases.holders import HeapHolders
from accord.backends.leases.rule import LeaseRecord
from accord.backends.signals.rule import Signal
from accord.backends.state.index import SortedKeys
from accord.backends.state.rule import HISTORY_KEEP, Stored, page_start
from accord.backends.streams.memory import MemoryStreams, StreamSpace
from accord.backends.tasks._memory import MemoryTasks, TaskSpace

Deliver = Callable[[str], None]


@dataclass
class _Space:
    leases: dict[str, LeaseRecord] = field(default_factory=dict)
    # the keys listings walk: leases with holders or waiters, and those idle since
    # the last listing (see LeaseRecords._lease_keys)
    listed: set[str] = field(default_factory=set)
    waits: dict[str, tuple[str, float]] = field(default_factory=dict)
    state: dict[tuple[str, str], list[Stored]] = field(default_factory=dict)
    live: dict[str, SortedKeys] = field(default_factory=dict)  # by map: its live keys
    rates: dict[str, float] = field(default_factory=dict)
    events: deque[EventRecord] = field(default_factory=deque)
    last_event: int = 0
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    barriers: dict[str, BarrierRecord] = field(default_factory=dict)
    bells: set[str] = field(default_factory=set)
    tasks: TaskSpace = field(default_factory=TaskSpace)
    streams: StreamSpace = field(default_factory=StreamSpace)
    approvals: ApprovalSpace = field(default_factory=ApprovalSpace)


class MemoryStore:
    """The shared data of one ``memory://name`` store."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.spaces: dict[str, _Space] = {}
        self.mailboxes: dict[str, Deliver] = {}
        self.ids = itertools.count(1)

    def space(self, namespace: str) -> _Space:
        with self.lock:
            return self.spaces.setdefault(namespace, _Space())


_stores: dict[str, MemoryStore] = {}
_stores_lock = threading.Lock()


def shared_store(name: str) -> MemoryStore:
    """The process-wide store called ``name`` (created on first use)."""
    with _stores_lock:
        return _stores.setdefault(name, MemoryStore())


class MemoryBackend(
    MemoryAgentStorage, MemoryTasks, MemoryStreams, MemoryApprovals, RecordStore
):
    """The sync memory backend."""

    capabilities = CAPABILITIES
    _space: _Space

    def __init__(self, store: MemoryStore, namespace: str) -> None:
        self.name = "memory"
        self.namespace = namespace
        self._store = store
        self._space = store.space(namespace)
        self._tasks = self._space.tasks

    def _transaction(self, write: bool = True) -> AbstractContextManager[None]:
        return self._store.lock  # type: ignore[return-value]

    # C calls, not methods: a lock cycle reads the clock twice
    _now = staticmethod(time.monotonic)
    _wall = staticmethod(time.time)

    def _load_lease(self, key: str) -> LeaseRecord | None:
        return self._space.leases.get(key)

    def _new_lease(self, limit: int = 1) -> LeaseRecord:
        return LeaseRecord(limit=limit, holders=HeapHolders())

    def _save_lease(self, key: str, rec: LeaseRecord) -> None:
        self._space.leases[key] = rec
        if rec.holders or rec.queue:
            self._space.listed.add(key)

    def _lease_keys(self, prefix: str) -> Iterator[str]:
        return iter([k for k in self._space.listed if k.startswith(prefix)])

    def _unlist(self, keys: list[str]) -> None:
        listed = self._space.listed
        for key in keys:
            rec = self._space.leases.get(key)
            if rec is None or not (rec.holders or rec.queue):
                listed.discard(key)
        if len(keys) > 2 * len(listed) + 64:
            # a set keeps the table it grew to, and iterating it walks every slot: after
            # 100,000 keys went, a listing of none would still take milliseconds
            self._space.listed = set(listed)

    def _waiting_on(self, holder: str) -> tuple[str, float] | None:
        return self._space.waits.get(holder)

    def _set_waiting(self, holder: str, key: str | None, expires_at: float) -> None:
        if key is None:
            self._space.waits.pop(holder, None)
        else:
            self._space.waits[holder] = (key, expires_at)

    def _load_current(self, map_name: str, key: str) -> Stored | None:
        versions = self._space.state.get((map_name, key))
        return versions[-1] if versions else None

    def _load_history(self, map_name: str, key: str, limit: int) -> list[Stored]:
        versions = self._space.state.get((map_name, key), [])
        return versions[-1 : -limit - 1 : -1]

    def _append_version(self, map_name: str, key: str, version: Stored) -> None:
        versions = self._space.state.setdefault((map_name, key), [])
        was_live = bool(versions) and versions[-1].value is not None
        versions.append(version)
        del versions[:-HISTORY_KEEP]
        if was_live != (version.value is not None):  # the index changes only then
            live = self._space.live.setdefault(map_name, SortedKeys())
            (live.discard if was_live else live.add)(key)

    def _key_page(
        self, map_name: str, prefix: str, after: str | None, limit: int, values: bool
    ) -> tuple[list[tuple[str, Stored | None]], str | None]:
        live = self._space.live.get(map_name)
        if live is None:
            return [], None
        found: list[tuple[str, Stored | None]] = []
        for key in live.from_key(*page_start(prefix, after)):
            if not key.startswith(prefix):
                return found, None
            if len(found) == limit:
                return found, found[-1][0]
            found.append((key, self._space.state[map_name, key][-1] if values else None))
        return found, None

    def _load_tat(self, key: str) -> float:
        return self._space.rates.get(key, 0.0)

    def _save_tat(self, key: str, tat: float) -> None:
        self._space.rates[key] = tat

    def _post(self, signals: list[Signal]) -> None:
        for waiter, message in signals:
            deliver = self._store.mailboxes.get(waiter)
            if deliver is not None:
                deliver(message)

    def open_mailbox(self) -> ThreadMailbox:
        return ThreadMailbox(self._store)

    # events ---------------------------------------------------------------------
    def open_bell(self) -> ThreadMailbox:
        return ThreadMailbox(self._store, self._space.bells)

    def _ring(self) -> None:
        if not self._space.bells:  # safe: a reader reads again after opening its bell
            return
        with self._store.lock:
            bells = list(self._space.bells)
        self._post([(bell, "e") for bell in bells])

    def _append_event(
        self, name: str, data: str, source: str, time: float, max_events: int
    ) -> EventRecord:
        space = self._space
        space.last_event += 1
        record = EventRecord(str(space.last_event), name, data, source, time)
        space.events.append(record)
        while len(space.events) > max_events:
            space.events.popleft()
        return record

    def _events_after(self, after: int, limit: int) -> list[EventRecord]:
        events = self._space.events
        newer = min(self._space.last_event - after, len(events))  # ids are consecutive
        if newer <= 0:
            return []
        start = len(events) - newer  # a deque indexes fast near its ends
        return [events[i] for i in range(start, start + min(newer, limit))]

    def _event_by_id(self, event: int) -> EventRecord | None:
        found = self._events_after(event - 1, 1)
        return found[0] if found and found[0].id == str(event) else None

    def _event_tail(self) -> int:
        return self._space.last_event

    def _event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        out: list[EventRecord] = []
        for record in reversed(self._space.events):
            if name not in (None, record.name) or source not in (None, record.source):
                continue
            out.append(record)
            if len(out) >= limit:
                break
        return out

    def _load_group(self, group: str) -> GroupRecord | None:
        return self._space.groups.get(group)

    def _save_group(self, group: str, rec: GroupRecord) -> None:
        self._space.groups[group] = rec

    def _load_barrier(self, name: str) -> BarrierRecord | None:
        return self._space.barriers.get(name)

    def _save_barrier(self, name: str, rec: BarrierRecord) -> None:
        self._space.barriers[name] = rec

    def close(self) -> None:
        """Nothing to release: the data lives as long as the process."""


class _Registered:
    """Registration of a mailbox in the store (and in a bell set, for bells)."""

    def __init__(self, store: MemoryStore, deliver: Deliver, bells: set[str] | None) -> None:
        self._store = store
        self._bells = bells
        self.id = f"m{next(store.ids)}"
        with store.lock:
            store.mailboxes[self.id] = deliver
            if bells is not None:
                bells.add(self.id)

    def _unregister(self) -> None:
        with self._store.lock:
            self._store.mailboxes.pop(self.id, None)
            if self._bells is not None:
                self._bells.discard(self.id)


class ThreadMailbox(_Registered):
    """A mailbox a thread blocks on."""

    def __init__(self, store: MemoryStore, bells: set[str] | None = None) -> None:
        self._queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        super().__init__(store, self._queue.put, bells)

    def wait(self, timeout: float) -> str | None:
        try:
            return self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def close(self) -> None:
        self._unregister()


class TaskMailbox(_Registered):
    """A mailbox an asyncio task awaits; posts may come from any thread."""

    def __init__(self, store: MemoryStore, bells: set[str] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        super().__init__(store, self._deliver, bells)

    def _deliver(self, message: str) -> None:
        if threading.get_ident() == self._thread:  # posted from the loop's own thread
            self._queue.put_nowait(message)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, message)

    async def wait(self, timeout: float) -> str | None:
        try:
            return await within(self._queue.get(), max(timeout, 0.0))
        except TimeoutError:
            return None

    async def aclose(self) -> None:
        self._unregister()


def async_memory_backend(name: str, namespace: str) -> AsyncEventRecordBackend:
    """The asyncio twin of :class:`MemoryBackend` over the shared store ``name``."""
    store = shared_store(name)

    sync = MemoryBackend(store, namespace)

    async def mailbox() -> TaskMailbox:
        return TaskMailbox(store)

    async def bell() -> TaskMailbox:
        return TaskMailbox(store, sync._space.bells)

    return AsyncEventRecordBackend(sync, mailbox, inline, bell=bell)
