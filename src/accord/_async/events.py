"""Events: ``emit``, ``@when`` handlers, subscriptions, the durable log, groups.

Every event is appended to the namespace's log in the store; handlers never get an
event any other way, so a handler in this process and one in another process (or on
another machine, with Redis) see the same events in the same order.

* Broadcast handlers (``@when(pattern)``): one reader per coordinator follows the log
  from the moment the first handler was registered.
* Group handlers (``@when(pattern, group="g")``): the members of a group share its
  events, each handled by one member and acknowledged when the handler returns; an
  event claimed by a member that died is re-delivered after ``visibility`` seconds.
  The store's group is keyed by the group *and* the pattern (:func:`group_key`): a
  member reads, and acknowledges, every event after its group's cursor, so members
  with different patterns in one store group would take (and lose) each other's
  events. Members with one pattern share the work; each pattern gets every event.
* Each handler runs its events one at a time, in emit order, on its own worker
  (a thread for the sync coordinator, a task for the async one); handlers of one
  event are started in registration order. A handler that raises is logged and
  reported as a ``handler_failed`` event; the others go on.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from accord import _validate
from accord._async import _rt
from accord._context import Context
from accord._event import Event, EventRecord, event_name, event_pattern, matches
from accord.backends import AsyncBackend
from accord.errors import BackendUnavailable, SchemaError

log = logging.getLogger("accord")

READ_WAIT = 5.0
BATCH = 256
GROUP_AHEAD = 32
READER_STOP = 2.0  # close() waits this long for an interrupted reader to end
MIN_VISIBILITY = 0.05  # seconds; @when(visibility=) below it is refused
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

    async def flush(self) -> None:
        with self._lock:
            ids, self._ready = self._ready, []
        if ids:
            await self._backend.group_ack(self._group, ids)


@dataclass
class _Handler:
    fn: Callable[[Event], Any]
    pattern: str
    group: str | None
    visibility: float
    name: str
    queue: Any = None
    pushed: int = 0  # written only by the reader that feeds this handler
    done: int = 0  # written only by this handler's worker
    worker: Any = None

    def push(self, records: list[EventRecord], acks: _Acks | None) -> None:
        """Queue events for this handler's worker: one wake-up for a whole batch."""
        self.pushed += len(records)
        self.queue.put_nowait((records, acks))


@dataclass
class _GroupReader:
    """The reader of one store group (one group and pattern) in this coordinator."""

    key: str
    group: str
    pattern: str
    task: Any = None
    # Every event up to this id was handed out to some member, and what this reader
    # got of them is pushed to its handlers: what wait_idle compares with the tail.
    drained: str | None = None


@dataclass
class _Readers:
    broadcast: Any = None
    cursor: str = "0"
    groups: dict[str, _GroupReader] = field(default_factory=dict)


class AsyncEvents:
    """The event log of a coordinator (``coord.events``) and its handlers."""

    def __init__(self, ctx: Context[AsyncBackend]) -> None:
        self._ctx = ctx
        self._backend = ctx.store
        self._schemas: dict[str, Any] = {}
        self._handlers: list[_Handler] = []
        self._readers = _Readers()
        self._closing = False
        self._registered = 0  # handlers registered so far
        self._started = 0  # how many of them start() has started, readers included
        self._acks: dict[str, _Acks] = {}
        self._lock = threading.Lock()
        self._progress = _rt.Progress()
        self._start_lock = _rt.StartLock()

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

    async def emit(self, name: str, data: Any = None) -> str:
        """Append event ``name`` with JSON payload ``data`` (default ``{}``); return its id.

        Raises at the call, with nothing emitted, for a bad name, a payload that is not
        JSON data (TypeError), too large (PayloadTooLarge) or failing its schema.
        """
        text = self._check(event_name(name), {} if data is None else data)
        await self.start()
        record = await self._backend.event_append(
            name, text, self._ctx.agent, self._ctx.max_events
        )
        return record.id

    async def history(
        self, name: str | None = None, source: str | None = None, limit: int = 100
    ) -> list[Event]:
        """The newest ``limit`` events, newest first, optionally of one name or source."""
        if name is not None:
            event_name(name)
        if source is not None:
            _validate.name(source, "source")
        records = await self._backend.event_history(name, source, _validate.count(limit, "limit"))
        return [Event(r) for r in records]

    async def read(self, after: str | None = None, limit: int = 100) -> list[Event]:
        """Up to ``limit`` events after id ``after`` (None: from the oldest kept), oldest first."""
        if after is not None:
            _validate.event_id(after)
        records = await self._backend.event_read(after, _validate.count(limit, "limit"), 0.0)
        return [Event(r) for r in records]

    def subscribe(
        self, pattern: str = "*", *, timeout: float | None = None, after: str | None = None
    ) -> AsyncIterator[Event]:
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

    async def _subscribe(
        self, pattern: str, timeout: float | None, after: str | None
    ) -> AsyncIterator[Event]:
        cursor = await self._backend.event_tail() if after is None else after
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = READ_WAIT
            if deadline is not None:
                wait = deadline - time.monotonic()
                if wait <= 0:
                    return
            records = await self._backend.event_read(cursor, BATCH, min(wait, READ_WAIT))
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
            self._registered += 1
        _rt.start_soon(self.start)

    async def start(self) -> None:
        """Start the workers and readers of newly registered handlers (idempotent).

        Returns once they are started, also when another caller is starting them: an
        event emitted right after ``@when`` must find the handler's group created."""
        if self._started == self._registered or self._closing:
            return
        async with self._start_lock:
            with self._lock:
                target, handlers = self._registered, list(self._handlers)
            if self._started >= target:
                return
            for handler in handlers:
                if handler.worker is None:
                    handler.queue = _rt.Queue()
                    handler.worker = _rt.spawn(
                        functools.partial(self._work, handler), f"accord-handler-{handler.name}"
                    )
            await self._start_readers(handlers)
            self._started = target

    async def _start_readers(self, handlers: list[_Handler]) -> None:
        readers = self._readers
        if readers.broadcast is None and any(h.group is None for h in handlers):
            readers.cursor = await self._backend.event_tail()
            readers.broadcast = _rt.spawn(self._read_broadcast, "accord-events")
        for handler in handlers:
            if handler.group is None:
                continue
            key = group_key(handler.group, handler.pattern)
            if key not in readers.groups:
                await self._backend.group_create(key)
                reader = readers.groups[key] = _GroupReader(key, handler.group, handler.pattern)
                reader.task = _rt.spawn(
                    functools.partial(self._read_group, reader), f"accord-group-{handler.group}"
                )

    async def _read_broadcast(self) -> None:
        while not self._closing:
            records = await self._guarded_read(
                self._backend.event_read, self._readers.cursor, BATCH, READ_WAIT
            )
            if not records:
                continue
            for handler in self._handlers:
                if handler.group is None and handler.worker is not None:
                    mine = [r for r in records if matches(handler.pattern, r.name)]
                    if mine:
                        handler.push(mine, None)
            self._readers.cursor = records[-1].id
            self._progress.tick()

    async def _read_group(self, reader: _GroupReader) -> None:
        """Claim events of one store group for its local members, one batch at a time.

        Each round fetches the tail, then claims without waiting: a claim that comes
        back short of what was asked for has taken everything up to that tail that
        was still to be handed out, so once it is pushed the reader is *drained* to
        the tail (what ``wait_idle`` needs). Only a claim that found nothing is
        followed by a wait for new events.
        """
        acks = self._acks[reader.key] = _Acks(self._backend, reader.key)
        while not self._closing:
            # claim only what the handlers can start soon: a claim left waiting in a
            # local queue past its visibility would be delivered to another member too
            handlers = [
                h for h in self._handlers
                if h.group == reader.group and h.pattern == reader.pattern and h.worker
            ]  # fmt: skip
            seen = self._progress.count
            room = GROUP_AHEAD - sum(h.pushed - h.done for h in handlers)
            if room <= 0 or not handlers:
                await self._progress.wait(seen, IDLE_RECHECK)
                continue
            visibility = min(h.visibility for h in handlers)
            tail = await self._guarded_read(self._backend.event_tail)
            read = functools.partial(
                self._guarded_read, self._backend.group_read, reader.key, self._ctx.id,
                visibility,
            )  # fmt: skip
            records = None if tail is None else await read(room, 0.0)
            if records is None:
                continue
            await self._deliver(reader, handlers, records, acks)
            if len(records) < room:
                reader.drained = tail
                self._progress.tick()
            if not records:  # (after events, claim again first: the tail moved on)
                more = await read(room, min(READ_WAIT, visibility / 2))
                await self._deliver(reader, handlers, more or [], acks)

    async def _deliver(
        self, reader: _GroupReader, handlers: list[_Handler], records: list[EventRecord],
        acks: _Acks,
    ) -> None:  # fmt: skip
        """Push claimed events to the handlers they match; acknowledge the others."""
        stray = []
        for record in records:
            chosen = [h for h in handlers if matches(h.pattern, record.name)]
            if not chosen:  # no member of this group and pattern handles it
                stray.append(record.id)
                continue
            acks.expect(record.id, len(chosen))
            for handler in chosen:
                handler.push([record], acks)
        if stray:
            try:
                await self._backend.group_ack(reader.key, stray)
            except Exception:  # unacknowledged, they come back after visibility
                log.warning("accord: acknowledging events failed", exc_info=True)

    async def _guarded_read(self, read: Callable[..., Any], *args: Any) -> Any:
        """A reader's read; a store outage is logged and retried, never hidden as 'no
        events': it returns None."""
        try:
            return await read(*args)
        except Exception:
            if not self._closing:
                log.warning("accord: reading events failed, retrying in 1 s", exc_info=True)
                await _rt.sleep(1.0)
            return None

    async def _work(self, handler: _Handler) -> None:
        while True:
            item = await handler.queue.get()
            if item is None:
                return
            records, acks = item
            for record in records:
                try:
                    await self._run(handler, record)
                    if acks is not None and (
                        acks.done(record.id) >= BATCH or handler.queue.empty()
                    ):
                        await acks.flush()
                except Exception:
                    log.exception("accord: acknowledging event %s failed", record.id)
                finally:
                    handler.done += 1
                    self._progress.tick()

    async def _run(self, handler: _Handler, record: EventRecord) -> None:
        try:
            await _rt.call(handler.fn, Event(record))
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
                await self.emit("handler_failed", payload)

    # --- idleness and shutdown -----------------------------------------------------
    def _idle(self, tail: str) -> bool:
        """Every reader read past ``tail`` and every handler finished what it got.

        The readers are looked at before the handlers: a reader pushes an event to
        its handlers before it moves its cursor or drained mark past it."""
        end = id_key(tail)
        readers = self._readers
        if readers.broadcast is not None and id_key(readers.cursor) < end:
            return False
        for reader in list(readers.groups.values()):
            if reader.drained is None or id_key(reader.drained) < end:
                return False
        return all(h.pushed == h.done for h in self._handlers)

    async def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every event emitted so far was read here and every handler it
        triggered (including events those handlers emitted) has finished.

        Returns False if ``timeout`` seconds passed first. Group events count once
        some member claimed them: the ones this coordinator claimed must be handled.
        """
        timeout = _validate.timeout(timeout)
        await self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            seen = self._progress.count
            tail = await self._backend.event_tail()
            # A handler emits before it counts as done, so an event emitted by one the
            # idle check saw finish is in the log by the second look at the tail.
            reading = self._readers.broadcast is not None or self._readers.groups
            if self._idle(tail) and (not reading or await self._backend.event_tail() == tail):
                return True
            left = IDLE_RECHECK if deadline is None else deadline - time.monotonic()
            if left <= 0:
                return False
            await self._progress.wait(seen, min(left, IDLE_RECHECK))

    async def aclose(self, timeout: float = 5.0) -> None:
        """Let running handlers finish (up to ``timeout`` s), then stop every worker."""
        if self._closing:
            return
        if self._handlers:
            # a store that is gone: stop the workers anyway
            with contextlib.suppress(BackendUnavailable):
                await self.wait_idle(timeout)
        self._closing = True
        for handler in self._handlers:
            if handler.worker is not None:
                handler.queue.put_nowait(None)
                await _rt.stop(handler.worker, timeout)
        for acks in self._acks.values():
            await acks.flush()
        groups = [g.task for g in self._readers.groups.values()]
        readers = [r for r in (self._readers.broadcast, *groups) if r]
        # A sleeping reader sees _closing on waking, not at its timeout. Where it wakes
        # now, it is waited for: a read still running when the store closes would open
        # the store again (and a deleted SQLite file with it).
        prompt = bool(readers) and await self._backend.interrupt_reads()
        for reader in readers:
            await _rt.finish(reader, READER_STOP if prompt else 0.0)
