"""What one dashboard server knows about the store, and who to tell when it changes.

One :class:`Hub` per server process, shared by every browser:

* events: one subscription to the namespace's log (the store pushes them: a blocked
  read on Redis, a named-pipe wake-up on SQLite), whatever the number of browsers;
* locks and semaphores: the store has no event for a lease taken or released, so the
  hub lists them every ``refresh`` seconds (0.5 s by default: one listing per server,
  never one per browser; a listing costs what is held);
* a per-second history of holders, waiters and events for the chart (5 minutes).

What changed is collected as *topics* ("locks", "events", "store", "tick") and handed
to ``publish`` at once, then at most every :data:`FLUSH` seconds, so a lone event
reaches browsers at once and a burst becomes one message per browser. A store that
stops answering is shown (``error``), retried every second, and the hub carries on
from the last event it saw when it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import accord
from accord.errors import AccordError
from accord.surfaces import views

FLUSH = 0.1  # seconds: changes are sent to browsers at most this often
RETRY = 1.0  # seconds between tries while the store does not answer
KEEP_EVENTS = 50
KEEP_SECONDS = 300
QUEUE = 64  # messages a browser may fall behind before it is dropped (it reconnects)

Publish = Callable[["Hub", set[str], list[views.Doc]], list[str]]
"""Renders what changed (topics, new events oldest first) into messages for browsers."""


@dataclass
class Second:
    """One second of the chart: the most holders and waiters seen, events emitted."""

    at: int
    held: int = 0
    waiting: int = 0
    events: int = 0


@dataclass
class Hub:
    coord: accord.AsyncCoordinator
    publish: Publish
    refresh: float = 0.5
    locks: list[views.Doc] = field(default_factory=list)
    locks_at: float = 0.0  # time.monotonic() of the listing ``locks`` comes from
    events: deque[views.Doc] = field(default_factory=lambda: deque(maxlen=KEEP_EVENTS))
    seconds: deque[Second] = field(default_factory=lambda: deque(maxlen=KEEP_SECONDS))
    events_seen: int = 0
    ttl_seen: dict[tuple[str, int], float] = field(default_factory=dict)
    """(name, token) -> the longest time left seen: what the page draws a lease's bar of"""
    error: str | None = None
    _clients: set[asyncio.Queue[str | None]] = field(default_factory=set)
    _dirty: set[str] = field(default_factory=set)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _closed: bool = False
    _new: list[views.Doc] = field(default_factory=list)
    _shape: object = None
    _errors: dict[str, str] = field(default_factory=dict)
    work: views.Doc = field(default_factory=dict)
    """agents, tasks, approvals, board, audit, metrics, halted (see :func:`read_work`)"""
    _work_shape: str = ""

    # --- browsers ------------------------------------------------------------------------

    @contextlib.contextmanager
    def listen(self) -> Iterator[asyncio.Queue[str | None]]:
        """A queue of messages for one browser (None: it fell behind, reconnect; or
        the server stops)."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE)
        if self._closed:
            queue.put_nowait(None)
        self._clients.add(queue)
        try:
            yield queue
        finally:
            self._clients.discard(queue)

    @property
    def clients(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        """End every browser's stream (the server is stopping), now and from now on."""
        self._closed = True
        for queue in list(self._clients):
            self._clients.discard(queue)
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
            queue.put_nowait(None)

    def _send(self, messages: list[str]) -> None:
        for queue in list(self._clients):
            try:
                for message in messages:
                    queue.put_nowait(message)
            except asyncio.QueueFull:  # a browser that stopped reading: drop it
                self._clients.discard(queue)
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
                queue.put_nowait(None)

    # --- the loops -----------------------------------------------------------------------

    async def run(self) -> None:
        """Follow the store until cancelled (cancelling it cancels the three loops; see
        :func:`~accord.surfaces.clikit.cancel` for how to cancel it)."""
        await asyncio.gather(self._follow_events(), self._refresh_locks(), self._flush(),
                             self._refresh_work())

    async def _follow_events(self) -> None:
        after: str | None = None
        while True:
            try:
                recent = await views.read_events(self.coord, limit=KEEP_EVENTS)
                self._ok("events")  # the store answers (again)
                if after is None:
                    self.events.extend(reversed(recent))
                    after = recent[0]["id"] if recent else "0"
                    self._mark("events")
                async for event in self.coord.subscribe("*", after=after):
                    after = event.id
                    self._saw(views.event_doc(event))
            except AccordError as exc:
                self._failed("events", exc)
                await asyncio.sleep(RETRY)

    def _saw(self, doc: views.Doc) -> None:
        self.events.append(doc)
        self.events_seen += 1
        self._second().events += 1
        self._new.append(doc)
        self._mark("events")

    async def _refresh_locks(self) -> None:
        while True:
            try:
                found = await views.read_locks(self.coord)
            except AccordError as exc:
                self._failed("locks", exc)
                await asyncio.sleep(RETRY)
                continue
            self._ok("locks")
            self.locks, self.locks_at = found, time.monotonic()
            self.ttl_seen = {
                (d["name"], h["token"]): max(
                    h["expires_in"], self.ttl_seen.get((d["name"], h["token"]), 0.0))
                for d in found for h in d["holders"]
            }
            shape = _shape(found, self.locks_at)
            if shape != self._shape:
                self._shape = shape
                self._mark("locks")
            second = self._second()
            second.held = max(second.held, sum(len(d["holders"]) for d in found))
            second.waiting = max(second.waiting, sum(len(d["waiters"]) for d in found))
            await asyncio.sleep(self.refresh)

    async def _refresh_work(self) -> None:
        """Agents, tasks, approvals, the board, the audit log and metrics: listed every
        ``WORK_REFRESH`` seconds, topic "work" when what a browser shows changed."""
        while True:
            try:
                work = await read_work(self.coord)
            except AccordError as exc:
                self._failed("work", exc)
                await asyncio.sleep(RETRY)
                continue
            self._ok("work")
            self.work = work
            shape = json.dumps(work, sort_keys=True, default=str, separators=(",", ":"))
            if shape != self._work_shape:
                self._work_shape = shape
                self._mark("work")
            await asyncio.sleep(max(self.refresh, WORK_REFRESH))

    def _second(self) -> Second:
        """This second's record; a new one starts from the holders and waiters listed last."""
        now = int(time.time())
        if not self.seconds or self.seconds[-1].at != now:
            held = sum(len(d["holders"]) for d in self.locks)
            waiting = sum(len(d["waiters"]) for d in self.locks)
            self.seconds.append(Second(now, held, waiting))
            self._mark("tick")
        return self.seconds[-1]

    async def _flush(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._dirty and self._clients:
                dirty, new = self._dirty, self._new
                self._dirty, self._new = set(), []
                self._send(self.publish(self, dirty, new))
            elif not self._clients:
                self._dirty.clear()
                self._new.clear()
            await asyncio.sleep(FLUSH)  # what changes meanwhile goes in the next message

    def _mark(self, topic: str) -> None:
        self._dirty.add(topic)
        self._wake.set()

    def _failed(self, what: str, exc: AccordError) -> None:
        self._errors[what] = str(exc)
        self._set_error()

    def _ok(self, what: str) -> None:
        if self._errors.pop(what, None) is not None:
            self._set_error()

    def _set_error(self) -> None:
        error = next(iter(self._errors.values()), None)
        if error != self.error:
            self.error = error
            self._mark("store")


WORK_REFRESH = 0.5
AUDIT_SHOWN = 30


async def read_work(coord: accord.AsyncCoordinator) -> views.Doc:
    """What the work panels show (agents' heartbeat times left out: they change each
    heartbeat and are not shown)."""
    agents = await views.read_agents(coord, views.HUNG_AFTER)
    for agent in agents:
        agent.pop("last_heartbeat", None)
    queue = coord.queue()
    tasks = [views.task_doc(t) for t in await queue.list(limit=200)
             if t.status not in ("done", "cancelled")]
    audit = await views.read_audit(coord, limit=10_000)
    return {
        "halted": await coord.halted(),
        "agents": agents,
        "counts": await views.read_task_counts(coord),
        "tasks": tasks,
        "approvals": await views.read_approvals(coord),
        "threads": (await views.read_threads(coord))[:20],
        "audit": audit[-AUDIT_SHOWN:][::-1],
        "metrics": (await views.read_metrics(coord))[:12],
    }


def _shape(found: list[views.Doc], now: float) -> object:
    """What a browser must be told about: holders, tokens, waiters, and when each lease
    ends to the second (an extension moves it; the countdown itself runs in the page)."""
    return tuple(
        (d["name"], d["kind"], tuple(d["waiters"]),
         tuple((h["agent"], h["token"], round(now + h["expires_in"])) for h in d["holders"]))
        for d in found
    )
