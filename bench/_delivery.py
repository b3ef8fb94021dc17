"""What an event benchmark measures, and the tally every handler under test keeps.

Latency is taken one event at a time: the emitter stamps ``time.monotonic()`` into
the payload, the handler subtracts it from its own ``time.monotonic()`` on entry, and
the emitter sends the next event only once the handler has seen this one, so no event
waits behind another. CLOCK_MONOTONIC is one clock for the whole machine on Linux, so
the same subtraction works when the handler runs in another process.

Throughput is taken with events emitted back to back: events handled per second from
the first emit to the moment the last handler call was seen (accord in one process:
to the return of ``wait_idle``, what a user waits for).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

from _contend import _quantile

LATENCY = "latency"
THROUGHPUT = "throughput"


@dataclass(frozen=True)
class Delivery:
    """One subject's figures from one round."""

    p50_ms: float
    p99_ms: float
    rate: float  # events handled per second, back to back
    emit_rate: float  # emit (or XADD) calls per second of the emitting thread alone
    lost: float  # events emitted in the throughput run but never handled

    @classmethod
    def of(cls, latencies: list[float], rate: float, emit_rate: float, lost: float) -> Delivery:
        return cls(_quantile(latencies, 0.50) * 1000, _quantile(latencies, 0.99) * 1000,
                   rate, emit_rate, lost)

    @classmethod
    def median(cls, rounds: list[Delivery], pick: Callable[[list[float]], float]) -> Delivery:
        """Field by field, ``pick`` being a median over a list of floats."""
        return cls(**{f.name: pick([getattr(d, f.name) for d in rounds]) for f in fields(cls)})


class Tally:
    """Counts handler calls and when the last came; in latency mode keeps each delay."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arm(THROUGHPUT, 0)

    def arm(self, mode: str, expected: int) -> None:
        """Start a run: forget the last one; ``done`` is set at ``expected`` calls."""
        with self._lock:
            self.mode = mode
            self.expected = expected
            self.latencies: list[float] = []
            self.count = 0
            self.last = 0.0
            self.done = threading.Event()

    def record(self, sent: float) -> None:
        """The handler's whole body: ``sent`` is the emitter's monotonic stamp."""
        now = time.monotonic()
        with self._lock:
            self.count += 1
            self.last = now
            if self.mode == LATENCY:
                self.latencies.append(now - sent)
            if self.count >= self.expected:
                self.done.set()

    def expect(self, expected: int) -> None:
        """Change the count at which ``done`` is set (fewer events were emitted)."""
        with self._lock:
            self.expected = expected
            if self.count >= expected:
                self.done.set()
