"""Events in one process: accord on ``memory://`` (sync API), agentdiff-coordination's
``emit``/``@when``, and a bare ``queue.Queue`` handed from the emitting thread to one
consumer thread (the floor: no copy, no log, no matching).

Every subject has one handler for one event name whose whole body is
``Tally.record``; see ``_delivery`` for what is timed.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from _delivery import LATENCY, THROUGHPUT, Delivery, Tally

import accord

EVENT = "bench.tick"
WARM_UP = 20
FULL_LOG = 100_000  # accord's default max_events
HANDLER_TIMEOUT = 5.0  # one event not handled after this: the subject is broken
STALL = 2.0  # no handler call for this long in a back-to-back run: the rest are lost
Payload = dict[str, float]


class Local(Protocol):
    """An in-process event system with one handler feeding a :class:`Tally`."""

    def emit(self, payload: Payload) -> None: ...

    def finish(self, tally: Tally, timeout: float) -> float:
        """Wait until the back-to-back run is handled; return when that was (monotonic)."""
        ...

    def close(self) -> None: ...


class AccordLocal:
    """accord, sync API: ``coord.emit`` and one ``@coord.when`` handler.

    ``fill``: first emit that many other events if the log is empty (nothing handles them).
    """

    def __init__(self, tally: Tally, url: str, namespace: str, fill: int = 0) -> None:
        self._coord = accord.connect(url, namespace=namespace, agent="bench-local")
        if fill and not self._coord.events.history(limit=1):
            for i in range(fill):
                self._coord.emit("bench.fill", {"i": i})

        @self._coord.when(EVENT)
        def on_tick(event: accord.Event) -> None:
            tally.record(event["t"])

        if not self._coord.wait_idle(10):
            self._coord.close()
            raise RuntimeError("accord: wait_idle did not return within 10 s after @when")

    def emit(self, payload: Payload) -> None:
        self._coord.emit(EVENT, payload)

    def finish(self, tally: Tally, timeout: float) -> float:
        self._coord.wait_idle(timeout)  # a timeout shows as lost events
        return time.monotonic()

    def wait_idle(self, timeout: float) -> bool:
        return self._coord.wait_idle(timeout)

    def close(self) -> None:
        self._coord.close()


class AgentDiffLocal:
    """agentdiff-coordination's module-level ``emit`` and ``@when`` on its in-memory broker."""

    def __init__(self, tally: Tally, data_dir: str) -> None:
        # Read when the package is first imported: no files in ~/.agentdiff, no console log.
        os.environ.setdefault("AGENTDIFF_COORDINATION_PERSISTENCE_BACKEND", "none")
        os.environ.setdefault("AGENTDIFF_COORDINATION_DATA_DIR", data_dir)
        os.environ.setdefault("AGENTDIFF_COORDINATION_LOG_CONSOLE", "false")
        os.environ.setdefault("AGENTDIFF_COORDINATION_LOG_LEVEL", "ERROR")
        try:
            import agentdiff_coordination as agentdiff  # type: ignore[import-untyped]
            from agentdiff_coordination.pubsub import (  # type: ignore[import-untyped]
                pubsub_broker,
            )
        except ImportError:
            raise RuntimeError("agentdiff-coordination is not installed: "
                               "pip install -e '.[bench]'") from None
        self._brokers: Any = pubsub_broker
        agentdiff.configure_broker("inmemory")

        def on_tick(data: Payload) -> None:
            tally.record(data["t"])

        agentdiff.when("bench_tick")(on_tick)

        self._emit: Callable[..., Any] = agentdiff.emit

    def emit(self, payload: Payload) -> None:
        self._emit("bench_tick", payload)

    def finish(self, tally: Tally, timeout: float) -> float:
        return handled_by(tally, timeout)

    def close(self) -> None:
        broker = self._brokers._default_broker
        if broker is not None:
            broker.shutdown(timeout=5.0)
            self._brokers._default_broker = None


class QueueLocal:
    """``queue.Queue.put`` in the emitting thread, ``get`` + handler in a consumer thread."""

    def __init__(self, tally: Tally) -> None:
        self._queue: queue.Queue[Payload | None] = queue.Queue()
        self._thread = threading.Thread(target=self._consume, args=(tally,),
                                        name="bench-queue-consumer", daemon=True)
        self._thread.start()

    def _consume(self, tally: Tally) -> None:
        while (payload := self._queue.get()) is not None:
            tally.record(payload["t"])

    def emit(self, payload: Payload) -> None:
        self._queue.put(payload)

    def finish(self, tally: Tally, timeout: float) -> float:
        return handled_by(tally, timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(5)


def handled_by(tally: Tally, timeout: float) -> float:
    """When the last expected handler call came; if some never come (nothing new for
    ``STALL`` seconds, or ``timeout`` passed), when the last that did."""
    deadline = time.monotonic() + timeout
    seen, since = -1, time.monotonic()
    while not tally.done.wait(0.1):
        now = time.monotonic()
        if tally.count != seen:
            seen, since = tally.count, now
        elif now - since > STALL or now > deadline:
            break
    return tally.last


def measure(opener: Callable[[Tally], Local], pings: int, events: int,
            budget: float) -> Delivery:
    """Latency over ``pings`` events, then throughput over ``events`` back to back.

    Each part stops early once ``budget`` seconds are spent (the figures stay valid)."""
    tally = Tally()
    subject = opener(tally)
    try:
        latencies = ping(subject, tally, pings, budget)
        return flood(subject, tally, events, budget, latencies)
    finally:
        subject.close()


def ping(subject: Local, tally: Tally, count: int, budget: float) -> list[float]:
    """Emit one event, wait for its handler, repeat: the delay of each (after a warm-up)."""
    delays: list[float] = []
    end = time.monotonic() + budget
    for i in range(WARM_UP + count):
        tally.arm(LATENCY, 1)
        subject.emit({"i": i, "t": time.monotonic()})
        if not tally.done.wait(HANDLER_TIMEOUT):
            raise RuntimeError(f"event {i} was not handled within {HANDLER_TIMEOUT:g} s")
        delays.append(tally.latencies[0])
        if time.monotonic() > end and i > WARM_UP + 10:
            break
    return delays[WARM_UP:]


def flood(subject: Local, tally: Tally, count: int, budget: float,
          latencies: list[float]) -> Delivery:
    """Emit ``count`` events back to back, wait until they are handled."""
    tally.arm(THROUGHPUT, count)
    start = time.monotonic()
    end = start + budget
    sent = 0
    while sent < count:
        subject.emit({"i": sent, "t": time.monotonic()})
        sent += 1
        if sent % 256 == 0 and time.monotonic() > end:
            break
    emitted = time.monotonic()
    tally.expect(sent)
    finished = subject.finish(tally, timeout=30 + sent / 1000)
    if tally.count == 0:
        raise RuntimeError(f"none of {sent} events was handled")
    return Delivery.of(latencies, tally.count / (finished - start), sent / (emitted - start),
                       sent - tally.count)


def idle_round_trip(url: str, namespace: str, count: int, budget: float) -> Delivery:
    """accord only: emit one event, then ``wait_idle()``; the time until it returns.

    What a caller of ``research(); wait_idle()`` waits for beyond the handler itself."""
    subject = AccordLocal(Tally(), url, namespace)
    try:
        delays: list[float] = []
        end = time.monotonic() + budget
        for i in range(WARM_UP + count):
            start = time.monotonic()
            subject.emit({"i": i, "t": start})
            if not subject.wait_idle(HANDLER_TIMEOUT):
                raise RuntimeError(f"wait_idle did not return within {HANDLER_TIMEOUT:g} s")
            delays.append(time.monotonic() - start)
            if time.monotonic() > end and i > WARM_UP + 10:
                break
        return Delivery.of(delays[WARM_UP:], math.nan, math.nan, math.nan)
    finally:
        subject.close()
