"""Workers contending for one lock, each doing a Redis GET+SET while holding it.

Every worker records ``(entered, leaving)`` per acquisition: ``time.monotonic()``
right after acquire returns and just before release. CLOCK_MONOTONIC is one clock
for the whole machine on Linux, so records from several processes line up. Sorted
by entry, each pair of neighbours from different workers is a hand-off whose
latency is ``next.entered - previous.leaving``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import statistics
import threading
import time
import uuid
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import redis
from _subjects import Subject, open_subject

Record = tuple[float, float]
LOCK = "contended"


@dataclass(frozen=True)
class Contention:
    """What one contended run measured."""

    throughput: float
    p50_ms: float
    p99_ms: float
    other_share: float
    jain: float
    overlaps: int
    lost: int
    commands_per_op: float


def analyse(
    per_worker: list[list[Record]], duration: float, lost: int, commands: int
) -> Contention:
    events = sorted((enter, leave, w) for w, recs in enumerate(per_worker) for enter, leave in recs)
    handoffs = [b[0] - a[1] for a, b in pairwise(events) if a[2] != b[2]]
    overlaps = sum(1 for a, b in pairwise(events) if b[0] < a[1])
    counts = [len(r) for r in per_worker]
    total = sum(counts)
    squares = sum(c * c for c in counts)
    jain = total * total / (len(counts) * squares) if squares else 0.0
    return Contention(
        throughput=total / duration,
        p50_ms=_quantile(handoffs, 0.50) * 1000,
        p99_ms=_quantile(handoffs, 0.99) * 1000,
        other_share=len(handoffs) / (total - 1) if total > 1 else 0.0,
        jain=jain,
        overlaps=overlaps,
        lost=lost,
        commands_per_op=commands / total if total else 0.0,
    )


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def critical_section(client: redis.Redis, key: str) -> None:
    """What a holder does while it holds the lock: GET the counter, SET it one higher."""
    value = client.get(key)
    client.set(key, int(value or 0) + 1)


def _work(acquire: Any, release: Any, client: redis.Redis, key: str, end: float) -> list[Record]:
    records: list[Record] = []
    while time.monotonic() < end:
        acquire()
        entered = time.monotonic()
        critical_section(client, key)
        leaving = time.monotonic()
        release()
        records.append((entered, leaving))
    return records


def _commands(client: redis.Redis) -> int:
    return int(client.info("stats")["total_commands_processed"])


def _finish(client: redis.Redis, key: str, per_worker: list[list[Record]], duration: float,
            commands_before: int) -> Contention:
    total = sum(len(r) for r in per_worker)
    counted = int(client.get(key) or 0)
    commands = _commands(client) - commands_before - 2  # this GET and INFO
    client.delete(key)
    return analyse(per_worker, duration, total - counted, commands)


def contend_threads(subject: Subject, workers: int, duration: float, redis_url: str) -> Contention:
    """``workers`` threads of this process, one shared client per subject."""
    locks = open_subject(subject, agent=f"bench-threads:{os.getpid()}")
    client = redis.Redis.from_url(redis_url)
    key = f"{subject.namespace}:counter:{uuid.uuid4().hex[:6]}"
    handles = [locks.handle(LOCK) for _ in range(workers)]
    barrier = threading.Barrier(workers + 1)
    results: list[list[Record]] = [[] for _ in range(workers)]
    errors: list[BaseException] = []

    def body(i: int) -> None:
        barrier.wait()
        try:
            results[i] = _work(*handles[i], client, key, time.monotonic() + duration)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    before = _commands(client)
    barrier.wait()
    for t in threads:
        t.join(duration + 60)
    try:
        if errors or any(t.is_alive() for t in threads):
            raise RuntimeError(f"{subject.label}: {errors[0] if errors else 'a worker hung'}")
        return _finish(client, key, results, duration, before)
    finally:
        locks.close()
        client.close()


# --- processes -----------------------------------------------------------------------------


def _process_main(index: int, redis_url: str, commands: Any, results: Any, barrier: Any) -> None:
    """One benchmark process: per command, build the subject, wait, contend, report."""
    client = redis.Redis.from_url(redis_url)
    while (command := commands.get()) is not None:
        subject, key, duration = command
        try:
            locks = open_subject(subject, agent=f"bench-process-{index}:{os.getpid()}")
            acquire, release = locks.handle(LOCK)
        except Exception as exc:
            barrier.abort()
            results.put((index, f"{type(exc).__name__}: {exc}"))
            continue
        try:
            barrier.wait(timeout=60)
            results.put((index, _work(acquire, release, client, key, time.monotonic() + duration)))
        except Exception as exc:
            results.put((index, f"{type(exc).__name__}: {exc}"))
        finally:
            locks.close()


class ProcessCrew:
    """``workers`` spawned processes kept for every process measurement of the run."""

    def __init__(self, workers: int, redis_url: str) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.redis_url = redis_url
        self.results: Any = ctx.Queue()
        self.barrier: Any = ctx.Barrier(workers + 1)
        self.commands: list[Any] = [ctx.Queue() for _ in range(workers)]
        self.procs = [
            ctx.Process(target=_process_main, args=(i, redis_url, q, self.results, self.barrier),
                        daemon=True)
            for i, q in enumerate(self.commands)
        ]
        for p in self.procs:
            p.start()

    def contend(self, subject: Subject, duration: float) -> Contention:
        client = redis.Redis.from_url(self.redis_url)
        key = f"{subject.namespace}:counter:{uuid.uuid4().hex[:6]}"
        try:
            for q in self.commands:
                q.put((subject, key, duration))
            with contextlib.suppress(threading.BrokenBarrierError):  # a worker failed
                self.barrier.wait(timeout=60)
            before = _commands(client)
            try:
                per_worker = self._collect(duration)
            finally:
                self.barrier.reset()  # every worker has answered (or is gone)
            return _finish(client, key, per_worker, duration, before)
        finally:
            client.close()

    def _collect(self, duration: float) -> list[list[Record]]:
        got: dict[int, Any] = {}
        while len(got) < len(self.procs):
            try:
                index, payload = self.results.get(timeout=duration + 60)
            except queue.Empty:
                raise RuntimeError("a benchmark process did not answer") from None
            got[index] = payload
        failed = [p for p in got.values() if isinstance(p, str)]
        if failed:
            raise RuntimeError(failed[0])
        return [got[i] for i in range(len(self.procs))]

    def close(self) -> None:
        for q in self.commands:
            q.put(None)
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.terminate()
                p.join(1)
