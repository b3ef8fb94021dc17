# Generated from src/accord/_async/events.py by scripts/unasync.py: do not edit.
"""Events: ``emit``, ``@when`` handlers, subscriptions, the durable log, groups.

Every event is appended to the namespace's log in the store; handlers never get an
event any other way, so a handler in this process and one in another process (or on
another machine, with Redis) see the same events in the same order.

* One reader per coordinator follows the log, from the moment the first handler was
  registered, for all its handlers: broadcast handlers (``@when(pattern)``) get what
  matches them; a group is claimed only when new events match its pattern (or to
  take over expired claims), and moved past events of other names without a call.
* Group handlers (``@when(pattern, group="g")``): the members of a group share its
  events, each handled by one member and acknowledged when the handler returns; an
  event claimed by a member that died is re-delivered after ``visibility`` seconds.
  The store's group is keyed by the group *and* the pattern (:func:`group_key`): a
  member reads, and acknowledges, every event after its group's cursor, so members
  with different patterns in one store group would take (and lose) each other's
  events. Members with one pattern share the work; each pattern gets every event.
* Handlers run on a bounded pool of workers (threads for the sync coordinator, tasks
  for the async one): each handler runs its events one at a time, in emit order, and
  handlers of one event are queued, so started, in registration order. A handler
  that raises is logged and reported as a ``handler_failed`` event; the others go on.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Callable
from dataclasses import dataclass, field
from typing import Any

from accord import _validate
from accord._sync import _rt
from accord._context import Context
from accord._event import Event, EventRecord, event_name, event_pattern, matches
from accord.backends import Backend
from accord.errors import BackendUnavailable, SchemaError

log = logging.getLogger("accord")

READ_WAIT = 5.0
BATCH = 256
GROUP_AHEAD = 32
TURN = 64  # events a worker runs of one handler before it takes the next handler
READER_STOP = 2.0  # close() waits this long for an interrupted reader to end
MIN_VISIBILITY = 0.05  # seconds; @when(visibility=) below it is refused
FULL_READ = 0.01  # seconds between log reads while a group waits for its handlers
IDLE_RECHECK = 0.1  # who waits for handlers re-checks at least this often, ticked or not


def id_key(event_id: str) -> tuple[int, ...]:
    """Sort key of an event id (``"17"`` on memory/SQLite, ``"1700000000000-3"`` on Redis)."""
    return tuple(int(part) for part in event_id.split("-"))


def group_key(group: str, pattern: str) -> str:
    """The store's consumer group of the members of ``group`` handling ``pattern``.

    One to one: a pattern has no ``[`` or ``]``, so the last `` [`` splits the two."""
    return f"{group} [{pattern}]"


def check_schema(name: str, model: Any) -> str:
    """``name`` if ``model`` can validate payloads of event ``name``, else an error."""
    if not hasattr(model, "model_validate") and not callable(model):
        raise TypeError("schema() takes a pydantic model class or a validating callable")
    return event_name(name)


def handler_options(
    pattern: str, group: str | None, visibility: float
) -> tuple[str, str | None, float]:
    """``@when``'s arguments checked (InvalidName, ConfigError), before anything is registered."""
    # a group reader waits visibility / 2 per read: a tinier one would spin
    seconds = _validate.positive(visibility, "visibility", minimum=MIN_VISIBILITY)
    return (
        event_pattern(pattern),
        None if group is None else _validate.name(group, "group"),
        seconds,
    )


class _Acks:
    """The acknowledgements of one group, sent in batches.

    An event is ready once every local handler it went to has finished; ready ids are
    sent together when a worker runs out of work or ``BATCH`` are waiting.
    """

    def __init__(self, backend: Any, group: str) -> None:
        self._backend, self._group = backend, group
        self._lock = threading.Lock()
        self._remaining: dict[str, int] = {}
        self._ready: list[str] = []

    def expect(self, event_id: str, handlers: int) -> None:
        with self._lock:
            self._remaining[event_id] = handlers

    def done(self, event_id: str) -> int:
        """Count one handler as finished; return how many ids are ready to send."""
        with self._lock:
            left = self._remaining.pop(event_id) - 1
            if left:
                self._remaining[event_id] = left
            else:
                self._ready.append(event_id)
            return len(self._ready)

    def flush(self) -> None:
        with self._lock:
            ids, self._ready = self._ready, []
        if ids:
            self._backend.group_ack(self._group, ids)


@dataclass
class _Handler:
    fn: Callable[[Event], Any]
    pattern: str
    group: str | None
    visibility: float
    name: str
    # events waiting for a worker, with the acknowledgements they count in
    items: deque[tuple[EventRecord, _Acks | None]] = field(default_factory=deque)
    scheduled: bool = False  # on the pool's ready queue or running: one worker at a time
    pushed: int = 0
    done: int = 0
    started: bool = False


@dataclass
class _Group:
    """One store group (one group and pattern) as this coordinator's reader claims it."""

    key: str
    group: str
    pattern: str
    acks: _Acks
    handlers: list[_Handler] = field(default_factory=list)
    # Every event of this pattern up to this id was handed out to some member, and
    # what this coordinator got of them is pushed to its handlers: what wait_idle
    # compares with the tail, and what the reader moves on past events of other names.
    drained: str | None = None
    behind: bool = True  # more may wait in the store: the last claim came back full,
    # or a claim was due when the handlers had no room
    due: float = 0.0  # monotonic time of the next claim, to take over expired claims

    @property
    def visibility(self) -> float:
        return min(h.visibility for h in self.handlers)

    def room(self) -> int:
        """How many more events to claim: only what the handlers can start soon, as a
        claim left waiting locally past its visibility goes to another member too."""
        room = GROUP_AHEAD - sum(h.pushed - h.done for h in self.handlers)
        return room if room >= GROUP_AHEAD // 2 else 0  # a claim per few events, not each

    def needs_claim(self, now: float) -> bool:
        return self.behind or now >= self.due

    def drain_to(self, event_id: str) -> None:
        if self.drained is None or id_key(self.drained) < id_key(event_id):
            self.drained = event_id


class _Pool:
    """The workers of a coordinator's handlers: started as work comes, at most
    ``_rt.WORKERS`` of them. A handler is on the ready queue at most once, so a
    worker runs its events one at a time, in emit order; handlers of one event are
    queued, and so started, in registration order."""

    def __init__(self, run: Callable[[_Handler, EventRecord, _Acks | None], Any]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._ready: Any = None
        self.workers: list[Any] = []
        self._queued = 0  # handlers on the ready queue
        self._idle = 0  # workers waiting for one

    def push(self, handler: _Handler, records: list[EventRecord], acks: _Acks | None) -> None:
        with self._lock:
            handler.items.extend((r, acks) for r in records)
            handler.pushed += len(records)
            if not handler.scheduled:
                handler.scheduled = True
                self._queue(handler)

    def _queue(self, handler: _Handler | None) -> None:  # with self._lock held
        if self._ready is None:
            self._ready = _rt.Queue()
        self._queued += 1
        self._ready.put_nowait(handler)
        if handler is not None and self._queued > self._idle and len(self.workers) < _rt.WORKERS:
            self.workers.append(_rt.spawn(self._work, "accord-handlers"))

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            handler = self._ready.get()
            with self._lock:
                self._idle -= 1
                self._queued -= 1
            if handler is None:
                return
            self._drain(handler)

    def _drain(self, handler: _Handler) -> None:
        """Run a handler's waiting events; after ``TURN`` of them, let others go first."""
        for _ in range(TURN):
            with self._lock:
                if not handler.items:
                    handler.scheduled = False
                    return
                record, acks = handler.items.popleft()
            self._run(handler, record, acks)
        with self._lock:
            if handler.items:
                self._queue(handler)
            else:
                handler.scheduled = False

    def stop_all(self) -> None:
        """Queue one stop for every worker (after the work queued before it)."""
        with self._lock:
            for _ in self.workers:
                self._queue(None)


@dataclass
class _Reader:
    task: Any = None
    cursor: str = "0"  # every event up to here was read and pushed to the handlers
    groups: dict[str, _Group] = field(default_factory=dict)


class Events:
    """The event log of a coordinator (``coord.events``) and its handlers."""

    def __init__(self, ctx: Context[Backend]) -> None:
        self._ctx = ctx
        self._backend = ctx.store
        self._schemas: dict[str, Any] = {}
        self._handlers: list[_Handler] = []  # in registration order
        self._fresh: list[_Handler] = []  # registered, not started yet
        self._reader = _Reader()
        self._pool = _Pool(self._handle)
        self._closing = False
        self._registered = 0  # handlers registered so far
        self._started = 0  # how many of them start() has started
        self._lock = threading.Lock()
        self._progress = _rt.Progress()
        self._start_lock = _rt.StartLock()
        # held by the reader while it takes a batch and by start() while it adds groups:
        # a group joins between two batches, never in the middle of one
        self._claim_lock = _rt.StartLock()

    # --- emitting and reading ------------------------------------------------------
    def schema(self, name: str, model: Any) -> None:
        """Validate every payload of event ``name`` with ``model`` (a pydantic model,
        or any callable that raises ValueError/TypeError on a bad payload)."""
        self._schemas[check_schema(name, model)] = model

    def _check(self, name: str, payload: Any) -> str:
        model = self._schemas.get(name)
        if model is not None:
            check = getattr(model, "model_validate", model)
            try:
                check(payload)
            except (ValueError, TypeError) as exc:
                raise SchemaError(name, str(exc)) from None
        return _validate.encode(payload, self._ctx.max_payload)

    def emit(self, name: str, data: Any = None) -> str:
        """Append event ``name`` with JSON payload ``data`` (default ``{}``); return its id.

        Raises at the call, with nothing emitted, for a bad name, a payload that is not
        JSON data (TypeError), too large (PayloadTooLarge) or failing its schema.
        """
        text = self._check(event_name(name), {} if data is None else data)
        self.start()
        record = self._backend.event_append(
            name, text, self._ctx.agent, self._ctx.max_events
        )
        return record.id

    def history(
        self, name: str | None = None, source: str | None = None, limit: int = 100
    ) -> list[Event]:
        """The newest ``limit`` events, newest first, optionally of one name or source."""
        if name is not None:
            event_name(name)
        if source is not None:
            _validate.name(source, "source")
        records = self._backend.event_history(name, source, _validate.count(limit, "limit"))
        return [Event(r) for r in records]

    def read(self, after: str | None = None, limit: int = 100) -> list[Event]:
        """Up to ``limit`` events after id ``after`` (None: from the oldest kept), oldest first."""
        if after is not None:
            _validate.event_id(after)
        records = self._backend.event_read(after, _validate.count(limit, "limit"), 0.0)
        return [Event(r) for r in records]

    def subscribe(
        self, pattern: str = "*", *, timeout: float | None = None, after: str | None = None
    ) -> Iterator[Event]:
        """Events matching ``pattern`` as they come, from now (or after id ``after``,
        ``"0"`` for the whole log); ends once ``timeout`` seconds pass without a
        matching event (events of other names do not extend it). Bad arguments raise
        here, at the call."""
        event_pattern(pattern)
        timeout = _validate.timeout(timeout)
        if after is not None:
            _validate.event_id(after, "after")
        _rt.check_may_block(f"events matching {pattern!r}", "subscribe")
        return self._subscribe(pattern, timeout, after)

    def _subscribe(
        self, pattern: str, timeout: float | None, after: str | None
    ) -> Iterator[Event]:
        cursor = self._backend.event_tail() if after is None else after
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = READ_WAIT
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return
            records = self._backend.event_read(cursor, BATCH, min(wait, READ_WAIT))
            for record in records:
                cursor = record.id
                if matches(pattern, record.name):
                    yield Event(record)
                    # the wait for the next one starts when the caller asks for it
                    deadline = None if timeout is None else time.monotonic() + timeout

    # --- handlers ----------------------------------------------------------------
    def register(
        self, fn: Callable[[Event], Any], pattern: str, group: str | None, visibility: float
    ) -> None:
        """Add a handler; it starts now (sync) or at the next await of the coordinator."""
        pattern, group, visibility = handler_options(pattern, group, visibility)
        handler = _Handler(
            fn=fn,
            pattern=pattern,
            group=group,
            visibility=visibility,
            name=getattr(fn, "__qualname__", repr(fn)),
        )
        with self._lock:
            self._handlers.append(handler)
            self._fresh.append(handler)
            self._registered += 1
        _rt.start_soon(self.start)

    def start(self) -> None:
        """Start newly registered handlers, and the reader with the first (idempotent).

        Returns once they are started, also when another caller is starting them: an
        event emitted right after ``@when`` must find the handler's group created."""
        if self._started == self._registered or self._closing:
            return
        with self._start_lock:
            with self._lock:
                target, fresh, self._fresh = self._registered, self._fresh, []
            if self._started >= target:
                return
            reader = self._reader
            if reader.task is None:
                reader.cursor = self._backend.event_tail()
            try:
                behind = self._join(fresh)
            except BaseException:  # the store failed: the next start() tries the rest
                with self._lock:
                    self._fresh[:0] = [h for h in fresh if not h.started]
                raise
            if reader.task is None:
                reader.task = _rt.spawn(self._read, "accord-events")
            elif behind:  # a group with more to claim: the reader must not sleep on
                self._backend.interrupt_reads()
            self._started = target

    def _join(self, fresh: list[_Handler]) -> bool:
        """Start new handlers: a group handler joins its group (created in the store
        if new, with a first claim); broadcast ones get events read from now on.
        True if a new group is left with more to claim."""
        groups = self._reader.groups
        behind = False
        with self._claim_lock:
            for handler in fresh:
                if handler.group is not None:
                    key = group_key(handler.group, handler.pattern)
                    group = groups.get(key)
                    if group is None:
                        self._backend.group_create(key)
                        group = groups[key] = _Group(
                            key, handler.group, handler.pattern, _Acks(self._backend, key)
                        )
                    group.handlers.append(handler)
                    if not group.drained and not group.due:
                        # claimed here: wait_idle right after @when must find it drained
                        tail = self._guarded_read(self._backend.event_tail)
                        if tail is not None:
                            self._claim(group, tail)
                    behind = behind or group.behind
                handler.started = True
        return behind

    def _read(self) -> None:
        """The one reader of this coordinator: follows the log for every handler.

        Broadcast handlers get what matches them; a group is claimed from the store
        only when new events match its pattern, when its last claim came back full,
        or when a claim of some member may have expired (every ``visibility / 2``).
        Any other group is drained past the new events without a store call."""
        reader = self._reader
        last = time.monotonic()  # of the last read of the log
        while not self._closing:
            seen = self._progress.count
            wait = self._read_wait()
            if wait is None:  # a group is behind and its handlers are full: wait for them,
                # yet keep reading the log for everyone else
                left = last + FULL_READ - time.monotonic()
                if left > 0:
                    self._progress.wait(seen, left)
                    continue
                wait = 0.0
            records = self._guarded_read(
                self._backend.event_read, reader.cursor, BATCH, wait
            )
            last = time.monotonic()
            if records is None or self._closing:
                continue
            with self._claim_lock:
                self._take(records)

    def _read_wait(self) -> float | None:
        """How long the next log read may wait: None while the only claims due wait
        for handlers to finish (then local progress is waited for instead)."""
        now = time.monotonic()
        wait, full = READ_WAIT, False
        for group in list(self._reader.groups.values()):
            if group.needs_claim(now):
                if group.room() > 0:
                    return 0.0
                full = True
            else:
                wait = min(wait, group.due - now)
        return None if full else max(wait, 0.0)

    def _take(self, records: list[EventRecord]) -> None:
        """Push a batch read from the log to the handlers; claim for the groups."""
        reader = self._reader
        end = records[-1].id if records else reader.cursor
        if records:
            self._broadcast(records)
        names = {r.name for r in records}
        hits: dict[str, bool] = {}
        now = time.monotonic()
        for group in list(reader.groups.values()):
            hit = hits.get(group.pattern)
            if hit is None:
                hit = hits[group.pattern] = any(matches(group.pattern, n) for n in names)
            if hit or group.needs_claim(now):
                self._claim(group, end)
            elif group.drained is not None:
                group.drain_to(end)
        reader.cursor = end
        self._progress.tick()

    def _broadcast(self, records: list[EventRecord]) -> None:
        mine: dict[str, list[EventRecord]] = {}
        for handler in self._handlers:
            if handler.group is None and handler.started:
                found = mine.get(handler.pattern)
                if found is None:
                    found = mine[handler.pattern] = [
                        r for r in records if matches(handler.pattern, r.name)
                    ]
                if found:
                    self._pool.push(handler, found, None)

    def _claim(self, group: _Group, end: str) -> None:
        """Claim what the group's handlers have room for, without waiting.

        A claim that comes back short of what was asked for took everything still to
        be handed out up to the store's tail, which is at or past ``end`` (the
        newest event read): once pushed, the group is drained to ``end``."""
        room = group.room()
        if room <= 0:  # claimed later, once its handlers have room: not drained yet
            group.behind = True
            return
        skip = None if group.behind else group.drained
        records = self._guarded_read(
            self._backend.group_read, group.key, self._ctx.id, group.visibility, room, 0.0,
            skip,
        )
        if records is None:
            return
        group.due = time.monotonic() + group.visibility / 2
        self._deliver(group, records)
        group.behind = len(records) >= room
        if not group.behind:
            group.drain_to(end)

    def _deliver(self, group: _Group, records: list[EventRecord]) -> None:
        """Push claimed events to the group's handlers; acknowledge the others."""
        stray = []
        for record in records:
            if not matches(group.pattern, record.name):  # claimed only to pass it
                stray.append(record.id)
                continue
            group.acks.expect(record.id, len(group.handlers))
            for handler in group.handlers:
                self._pool.push(handler, [record], group.acks)
        if stray:
            try:
                self._backend.group_ack(group.key, stray)
            except Exception:  # unacknowledged, they come back after visibility
                log.warning("accord: acknowledging events failed", exc_info=True)

    def _guarded_read(self, read: Callable[..., Any], *args: Any) -> Any:
        """A reader's read; a store outage is logged and retried, never hidden as 'no
        events': it returns None."""
        try:
            return read(*args)
        except Exception:
            if not self._closing:
                log.warning("accord: reading events failed, retrying in 1 s", exc_info=True)
                _rt.sleep(1.0)
            return None

    def _handle(self, handler: _Handler, record: EventRecord, acks: _Acks | None) -> None:
        """Run one event on a pool worker; acknowledge it once every handler did."""
        try:
            self._run(handler, record)
            if acks is not None and (acks.done(record.id) >= BATCH or not handler.items):
                acks.flush()
        except Exception:
            log.exception("accord: acknowledging event %s failed", record.id)
        finally:
            handler.done += 1
            self._progress.tick()

    def _run(self, handler: _Handler, record: EventRecord) -> None:
        try:
            _rt.call(handler.fn, Event(record))
        except Exception as exc:
            log.exception("accord: handler %s failed on event %s", handler.name, record.id)
            if record.name != "handler_failed":
                payload = {
                    "handler": handler.name,
                    "event_id": record.id,
                    "event": record.name,
                    "error_type": type(exc).__name__,
                    "error": str(exc)[:2000],
                }
                self.emit("handler_failed", payload)

    # --- idleness and shutdown -----------------------------------------------------
    def _idle(self, tail: str) -> bool:
        """The reader read past ``tail``, every group is drained past it and every
        handler finished what it got.

        The reader is looked at before the handlers: it pushes an event to its
        handlers before it moves its cursor or a group's drained mark past it."""
        end = id_key(tail)
        reader = self._reader
        if reader.task is not None and id_key(reader.cursor) < end:
            return False
        for group in list(reader.groups.values()):
            if group.drained is None or id_key(group.drained) < end:
                return False
        return all(h.pushed == h.done for h in self._handlers)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every event emitted so far was read here and every handler it
        triggered (including events those handlers emitted) has finished.

        Returns False if ``timeout`` seconds passed first. Group events count once
        some member claimed them: the ones this coordinator claimed must be handled.
        """
        timeout = _validate.timeout(timeout)
        self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = self._progress.count
            tail = self._backend.event_tail()
            # A handler emits before it counts as done, so an event emitted by one the
            # idle check saw finish is in the log by the second look at the tail.
            reading = self._reader.task is not None
            if self._idle(tail) and (not reading or self._backend.event_tail() == tail):
                return True
            left = IDLE_RECHECK if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return False
            self._progress.wait(seen, min(left, IDLE_RECHECK))

    def close(self, timeout: float = 5.0) -> None:
        """Let running handlers finish (up to ``timeout`` s), then stop every worker."""
        if self._closing:
            return
        if self._handlers:
            # a store that is gone: stop the workers anyway
            with contextlib.suppress(BackendUnavailable):
                self.wait_idle(timeout)
        self._closing = True
        self._pool.stop_all()
        for worker in list(self._pool.workers):
            _rt.stop(worker, timeout)
        for group in self._reader.groups.values():
            group.acks.flush()
        reader = self._reader.task
        if reader is None:
            return
        # A sleeping reader sees _closing on waking, not at its timeout. Where it wakes
        # now, it is waited for: a read still running when the store closes would open
        # the store again (and a deleted SQLite file with it).
        prompt = self._backend.interrupt_reads()
        _rt.finish(reader, READER_STOP if prompt else 0.0)
