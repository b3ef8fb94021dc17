"""Events across processes: the handler in a spawned process, the emitter in this one.

A subscriber process follows one :class:`Feed`:

* ``accord``: a coordinator on the URL (SQLite or Redis) with one ``@when`` handler;
* ``stream``: redis-py alone on a fresh stream per run: ``XREAD BLOCK`` (the latency
  floor), or ``XREADGROUP`` + ``XACK`` one entry at a time (the throughput floor).

This process drives it over queues; each command is one run::

    parent  command ──> subscriber arms ── "armed" ──> parent emits (latency: one,
    waits for the ack on the pipe, the next) ... sets ``expected`` to what it emitted
    subscriber  handles until ``expected`` ── delays, count, last handler time ──> parent

Subscribers ignore Ctrl-C, exit when this process dies, and :class:`Crew` always
stops them (terminate, then kill).
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import queue
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import redis
from _delivery import LATENCY, THROUGHPUT, Delivery, Tally

import accord

EVENT = "bench.tick"
GROUP = "bench"
WARM_UP = 20
HANDLER_TIMEOUT = 5.0  # one event not handled after this: the run fails
START_TIMEOUT = 60.0
UNLIMITED = 1 << 62
Send = Callable[[int, float], object]
Result = tuple[list[float], int, float]  # delays, events handled, last handler time


@dataclass(frozen=True)
class Feed:
    """What one subscriber process listens to (picklable, rebuilt in the child)."""

    label: str
    kind: str  # "accord" or "stream"
    url: str
    namespace: str = ""


# --- in the subscriber process ------------------------------------------------------------


class _Listener(Protocol):
    def run(self, mode: str, group: bool, stream: str, expected: Any, deadline: float,
            armed: Callable[[], None]) -> Result:
        """One run: arm, say so, handle until ``expected.value`` events (or ``deadline``)."""
        ...

    def close(self) -> None: ...


class _AccordListener:
    def __init__(self, feed: Feed, acks: Any) -> None:
        self.tally = Tally()
        self._coord = accord.connect(feed.url, namespace=feed.namespace,
                                     agent=f"bench-subscriber-{os.getpid()}")
        tally = self.tally

        @self._coord.when(EVENT)
        def on_tick(event: accord.Event) -> None:
            tally.record(event["t"])
            if tally.mode == LATENCY:
                acks.send_bytes(b".")

        if not self._coord.wait_idle(30):
            raise RuntimeError("wait_idle did not return within 30 s after @when")

    def run(self, mode: str, group: bool, stream: str, expected: Any, deadline: float,
            armed: Callable[[], None]) -> Result:
        tally = self.tally
        tally.arm(mode, UNLIMITED)
        armed()
        while tally.count < expected.value and time.monotonic() < deadline:
            time.sleep(0.005)  # only how soon the result is sent; the figures are exact
        return tally.latencies, tally.count, tally.last

    def close(self) -> None:
        self._coord.close()


class _StreamListener:
    def __init__(self, feed: Feed, acks: Any) -> None:
        self._client = redis.Redis.from_url(feed.url)
        self._client.ping()
        self._acks = acks

    def run(self, mode: str, group: bool, stream: str, expected: Any, deadline: float,
            armed: Callable[[], None]) -> Result:
        client = self._client
        if group:
            client.xgroup_create(stream, GROUP, id="0", mkstream=True)
        armed()
        delays: list[float] = []
        got, last, cursor = 0, 0.0, b"0-0"
        reply: Any
        while got < expected.value and time.monotonic() < deadline:
            if group:
                reply = client.xreadgroup(GROUP, "bench", {stream: ">"}, count=1, block=100)
            else:
                reply = client.xread({stream: cursor}, count=256, block=100)
            for entry_id, fields in _entries(reply):
                now = time.monotonic()
                if mode == LATENCY:
                    delays.append(now - float(fields[b"t"]))
                if group:
                    client.xack(stream, GROUP, entry_id)
                got, last, cursor = got + 1, time.monotonic(), entry_id
                if mode == LATENCY:
                    self._acks.send_bytes(b".")
        return delays, got, last

    def close(self) -> None:
        self._client.close()


def _entries(reply: Any) -> Iterator[tuple[bytes, dict[bytes, bytes]]]:
    """The entries of an XREAD/XREADGROUP reply (RESP2 list or RESP3 map)."""
    streams = reply.items() if isinstance(reply, dict) else (reply or ())
    for _key, entries in streams:
        if entries and isinstance(entries[0], list) and entries[0] and \
                isinstance(entries[0][0], list):  # RESP3: [[entries]]
            entries = entries[0]
        yield from entries


def _subscriber_main(feed: Feed, commands: Any, replies: Any, acks: Any, expected: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    try:
        listener: _Listener = (_AccordListener if feed.kind == "accord" else _StreamListener)(
            feed, acks)
    except Exception as exc:
        replies.put((0, "error", _describe(exc)))
        return
    try:
        replies.put((0, "ready", os.getpid()))
        while (command := _next_command(commands)) is not None:
            seq, mode, group, stream, timeout = command
            try:
                armed = functools.partial(replies.put, (seq, "armed", None))
                result = listener.run(mode, group, stream, expected, time.monotonic() + timeout,
                                      armed)
                replies.put((seq, "ok", result))
            except Exception as exc:
                replies.put((seq, "error", _describe(exc)))
    finally:
        with contextlib.suppress(Exception):  # the store may be gone already
            listener.close()


def _next_command(commands: Any) -> Any:
    parent = multiprocessing.parent_process()
    while True:
        try:
            return commands.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and not parent.is_alive():
                return None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".replace("\n", " ")[:300]


# --- in this process ----------------------------------------------------------------------


class Subscriber:
    """One subscriber process and the queues, pipe and counter that drive it."""

    def __init__(self, ctx: Any, feed: Feed) -> None:
        self.feed = feed
        self.failure: str | None = None
        self._seq = 0
        self._commands: Any = ctx.Queue()
        self._replies: Any = ctx.Queue()
        self._acks, ack_writer = ctx.Pipe(duplex=False)
        self._expected: Any = ctx.Value("q", 0, lock=False)
        self._proc = ctx.Process(
            target=_subscriber_main, name=f"bench-{feed.label}", daemon=True,
            args=(feed, self._commands, self._replies, ack_writer, self._expected),
        )
        self._proc.start()
        ack_writer.close()

    def wait_ready(self, timeout: float) -> None:
        try:
            self._reply("ready", timeout)
        except RuntimeError as exc:
            self.failure = str(exc)

    def delivery(self, send_to: Callable[[str], Send], pings: int, events: int, budget: float,
                 group: bool = False) -> Delivery:
        """Latency then throughput; ``send_to(stream)`` gives the emitter of one run."""
        first, second = (f"{self.feed.namespace}:raw:{uuid.uuid4().hex[:8]}" for _ in range(2))
        latencies = self.latency(send_to(first), pings, budget, group, first)
        rate, emit_rate, lost = self.throughput(send_to(second), events, budget, group, second)
        return Delivery.of(latencies, rate, emit_rate, lost)

    def latency(self, send: Send, count: int, budget: float, group: bool = False,
                stream: str = "") -> list[float]:
        """The delays of ``count`` events sent one at a time (each after the last's ack)."""
        self._start(LATENCY, group, stream, budget + HANDLER_TIMEOUT * 2)
        sent = 0
        end = time.monotonic() + budget
        try:
            while sent < WARM_UP + count:
                send(sent, time.monotonic())
                sent += 1
                self._wait_ack(sent)
                if time.monotonic() > end and sent > WARM_UP + 10:
                    break
        except BaseException:
            self._expected.value = 0  # let the subscriber answer; that answer is dropped
            raise
        self._expected.value = sent
        delays: list[float] = self._reply("ok", budget + HANDLER_TIMEOUT * 3)[0]
        return delays[WARM_UP:]

    def throughput(self, send: Send, count: int, budget: float, group: bool = False,
                   stream: str = "") -> tuple[float, float, int]:
        """(events handled/s, emit calls/s, events lost) for ``count`` back to back."""
        timeout = 30 + budget * 3
        self._start(THROUGHPUT, group, stream, timeout)
        start = time.monotonic()
        end = start + budget
        sent = 0
        try:
            while sent < count:
                send(sent, time.monotonic())
                sent += 1
                if sent % 64 == 0 and time.monotonic() > end:
                    break
        finally:
            self._expected.value = sent
        emitted = time.monotonic()
        _, got, last = self._reply("ok", timeout + HANDLER_TIMEOUT)
        if got == 0:
            raise RuntimeError(f"none of {sent} events was handled in {timeout:g} s")
        return got / (last - start), sent / (emitted - start), sent - got

    def _wait_ack(self, event: int) -> None:
        try:
            if self._acks.poll(HANDLER_TIMEOUT):
                self._acks.recv_bytes()
                return
        except (EOFError, OSError):
            pass  # the subscriber is gone: said below
        self.check()
        raise RuntimeError(f"event {event} was not handled within {HANDLER_TIMEOUT:g} s "
                           "in the other process")

    def check(self) -> None:
        """RuntimeError if the subscriber failed to start or has exited since."""
        if self.failure is None and not self._proc.is_alive():
            self.failure = f"the subscriber process exited with code {self._proc.exitcode}"
        if self.failure:
            raise RuntimeError(self.failure)

    def _start(self, mode: str, group: bool, stream: str, timeout: float) -> None:
        self.check()
        while self._acks.poll(0):  # acks of a failed run
            self._acks.recv_bytes()
        self._seq += 1
        self._expected.value = UNLIMITED
        self._commands.put((self._seq, mode, group, stream, timeout))
        self._reply("armed", START_TIMEOUT)

    def _reply(self, kind: str, timeout: float) -> Any:
        """The next answer to the current command; RuntimeError for an error or silence."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                seq, got, payload = self._replies.get(timeout=min(1.0, timeout))
            except queue.Empty:
                self.check()
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the subscriber process did not answer within "
                                       f"{timeout:g} s") from None
                continue
            if seq != self._seq:
                continue  # the late answer to a failed run
            if got == "error":
                raise RuntimeError(payload)
            if got == kind:
                return payload

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._commands.put(None)
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(3)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(3)
        for q in (self._commands, self._replies):
            q.cancel_join_thread()
            q.close()
        self._acks.close()


class Crew:
    """``with Crew(feeds) as crew:`` starts one subscriber per feed, always stops them all.

    A subscriber that fails to start keeps its error in ``.failure``; each of its runs
    raises it."""

    def __init__(self, feeds: list[Feed]) -> None:
        self._feeds = feeds
        self.members: dict[str, Subscriber] = {}

    def __enter__(self) -> Crew:
        ctx = multiprocessing.get_context("spawn")
        try:
            for feed in self._feeds:  # all start at once, then all are waited for
                self.members[feed.label] = Subscriber(ctx, feed)
            for member in self.members.values():
                member.wait_ready(START_TIMEOUT)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __getitem__(self, label: str) -> Subscriber:
        return self.members[label]

    def __exit__(self, *exc: object) -> None:
        for member in self.members.values():
            member.close()


# --- emitters ------------------------------------------------------------------------------


@contextlib.contextmanager
def accord_emitter(url: str, namespace: str) -> Iterator[Callable[[str], Send]]:
    """``emit(EVENT, {"i": i, "t": t})`` on one coordinator (the stream name is unused)."""
    coord = accord.connect(url, namespace=namespace, agent="bench-emitter")

    def send(i: int, t: float) -> object:
        return coord.emit(EVENT, {"i": i, "t": t})

    try:
        yield lambda _stream: send
    finally:
        coord.close()


@contextlib.contextmanager
def stream_emitter(redis_url: str) -> Iterator[Callable[[str], Send]]:
    """``XADD <stream> * i <i> t <t>``; every stream used is deleted at the end."""
    client = redis.Redis.from_url(redis_url)
    used: list[str] = []

    def for_run(key: str) -> Send:
        used.append(key)
        return lambda i, t: client.xadd(key, {"i": i, "t": repr(t)})

    try:
        yield for_run
    finally:
        with contextlib.suppress(redis.RedisError):
            if used:
                client.delete(*used)
        client.close()


def idle_commands(redis_url: str, seconds: float) -> dict[str, int]:
    """Commands the server ran in ``seconds``, by name (INFO commandstats), INFO left out."""
    client = redis.Redis.from_url(redis_url)
    try:
        before = client.info("commandstats")
        time.sleep(seconds)
        after = client.info("commandstats")
    finally:
        client.close()
    counts = {name.removeprefix("cmdstat_"): int(stats["calls"])
              - int(before.get(name, {}).get("calls", 0)) for name, stats in after.items()}
    counts.pop("info", None)
    return {name: n for name, n in sorted(counts.items()) if n}
