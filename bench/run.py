"""Benchmark accord against the locks people use today, measured side by side.

    python bench/run.py [--quick] [--redis-url URL] [--rounds N]

Every round measures accord and the baselines one after the other (a private
redis-server unless --redis-url is given), so drift on the machine hits both, and
beside them what _floors.py measures (the same SQLite writes done with sqlite3
alone; the Redis critical section alone, which bounds any lock); the report gives
per-round medians and ratios, checks the targets of issue 2, prints a markdown table
and writes it to bench/results/<date>.md (<date>-quick.md for --quick).
Needs the ``bench`` extra (filelock, python-redis-lock) and a redis-server binary.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import redis
from _contend import Contention, ProcessCrew, contend_threads
from _environment import describe, write_report
from _floors import RawSqlite, critical_section_rate
from _measure import async_cycle_rate, cycle_rate, operations, ping_rate, rate
from _report import render
from _server import private_redis
from _subjects import Subject


@dataclass(frozen=True)
class Plan:
    """How long each measurement runs and how many rounds are taken."""

    rounds: int
    cycle_s: float
    contend_s: float
    threads: int = 8
    processes: int = 4


QUICK = Plan(rounds=3, cycle_s=0.25, contend_s=0.6)
FULL = Plan(rounds=3, cycle_s=1.0, contend_s=2.0)


class Samples:
    """Every figure of every round, by key; failures keep their first message."""

    def __init__(self) -> None:
        self.values: dict[str, list[Any]] = defaultdict(list)
        self.errors: dict[str, str] = {}

    def take(self, key: str, measure: Callable[[], Any]) -> Any:
        """Run ``measure`` and keep its figure; after a failure, skip that key."""
        if key in self.errors:
            return None
        try:
            value = measure()
        except Exception as exc:
            self.fail(key, exc)
            return None
        self.values[key].append(value)
        return value

    def fail(self, key: str, exc: Exception) -> None:
        self.errors[key] = f"{type(exc).__name__}: {exc}".replace("\n", " ")[:160]
        print(f"  {key}: failed: {self.errors[key]}", file=sys.stderr)

    def median(self, key: str) -> Any:
        """The median of a figure, field by field for a Contention; None if never taken."""
        got = self.values.get(key)
        if not got:
            return None
        if isinstance(got[0], Contention):
            return Contention(**{f.name: _median([getattr(c, f.name) for c in got])
                                 for f in fields(Contention)})
        return _median(got)


def _median(values: list[float]) -> float:
    kept = [v for v in values if not math.isnan(v)]
    return statistics.median(kept) if kept else float("nan")


def subjects(redis_url: str, tmp: Path, namespace: str) -> dict[str, Subject]:
    """accord on each backend and the baselines, by label."""
    found = [
        Subject("accord redis", "accord", url=redis_url, namespace=namespace),
        Subject("redis-py Lock", "redis-py", url=redis_url, namespace=namespace),
        Subject("python-redis-lock", "python-redis-lock", url=redis_url, namespace=namespace),
        Subject("accord sqlite", "accord", url=f"sqlite:///{tmp / 'accord.db'}",
                namespace=namespace),
        Subject("filelock", "filelock", path=str(tmp / "filelock"), namespace=namespace),
        Subject("accord memory", "accord", url=f"memory://{namespace}", namespace=namespace),
        Subject("threading.Lock", "threading", namespace=namespace),
    ]
    return {s.label: s for s in found}


def one_round(plan: Plan, redis_url: str, every: dict[str, Subject], crew: ProcessCrew,
              raw: RawSqlite, samples: Samples) -> None:
    """Each measurement once, accord interleaved with the baselines and the bounds."""
    ping = samples.take("ping/cycle", lambda: ping_rate(redis_url, plan.cycle_s))
    cycles: dict[str, float | None] = {}
    for label, subject in every.items():
        got = cycles[label] = samples.take(
            f"cycle/{label}", lambda s=subject: cycle_rate(s, plan.cycle_s))
        if got and ping and subject.redis_based:
            # over PING just before and just after it, as the operations below: the
            # VM's speed drifts within a round (PING alone by 10-15 %)
            after = samples.take("ping/cycle", lambda: ping_rate(redis_url, plan.cycle_s))
            if after:
                samples.values[f"cycle-xping/{label}"].append(got / ((ping + after) / 2))
                ping = after
        if label == "accord sqlite":
            beside_floor(samples, f"cycle/{label}", got, lambda: rate(raw.cycle, plan.cycle_s))
    memory, threading_lock = cycles.get("accord memory"), cycles.get("threading.Lock")
    if memory and threading_lock:
        samples.values["xthreading/cycle/accord memory"].append(memory / threading_lock)
    for backend in ("redis", "sqlite", "memory"):
        subject = every[f"accord {backend}"]
        samples.take(f"cycle/accord {backend} (asyncio)", lambda s=subject: async_cycle_rate(
            s.url, s.namespace, plan.cycle_s))
    ping = samples.take("ping/ops", lambda: ping_rate(redis_url, plan.cycle_s))
    for backend in ("redis", "sqlite", "memory"):
        operations_round(plan, every[f"accord {backend}"], backend, ping, raw, samples)
    counter = f"{every['redis-py Lock'].namespace}:critical-section"
    for kind in ("threads", "processes"):
        ceiling = samples.take(f"ceiling/{kind}", lambda: critical_section_rate(
            redis_url, counter, plan.cycle_s))
        for label, subject in every.items():
            if kind == "threads":
                got = samples.take(f"threads/{label}", lambda s=subject: contend_threads(
                    s, plan.threads, plan.contend_s, redis_url))
            elif subject.cross_process:
                got = samples.take(f"processes/{label}",
                                   lambda s=subject: crew.contend(s, plan.contend_s))
            else:
                continue
            if got and ceiling and label == "redis-py Lock":
                samples.values[f"ceiling-x/{kind}"].append(ceiling / got.throughput)


def operations_round(plan: Plan, store: Subject, backend: str, ping: float | None,
                     raw: RawSqlite, samples: Samples) -> None:
    """update, incr, compare-and-set and rate-limit checks on one accord store."""
    key = f"op/{backend}"
    if key in samples.errors:
        return
    try:
        with operations(store.url, store.namespace) as ops:
            for name, op in ops.items():
                got = samples.take(f"{key}/{name}", lambda op=op: rate(op, plan.cycle_s))
                if got and ping and backend == "redis":
                    # over PING measured just before and just after it: the VM's speed
                    # drifts within a round, and a ratio of two neighbours drifts least
                    after = samples.take("ping/ops", lambda: ping_rate(store.url, plan.cycle_s))
                    if after:
                        samples.values[f"op-xping/{backend}/{name}"].append(
                            got / ((ping + after) / 2))
                        ping = after
                if backend == "sqlite" and name == "compare-and-set":
                    beside_floor(samples, f"{key}/{name}", got,
                                 lambda: rate(raw.compare_and_set, plan.cycle_s))
            # a rate-limit check is one write transaction too: over the raw one of this round
            raw_cas = samples.values.get(f"floor/{key}/compare-and-set")
            check = samples.values.get(f"{key}/rate-limit check")
            if backend == "sqlite" and raw_cas and check:
                samples.values[f"floor-share/{key}/rate-limit check"].append(
                    check[-1] / raw_cas[-1])
    except Exception as exc:
        samples.fail(key, exc)


def beside_floor(samples: Samples, key: str, got: float | None,
                 floor: Callable[[], float]) -> None:
    """Measure the raw sqlite3 baseline of ``key`` (as floor/<key>) and accord's rate
    over it."""
    raw = samples.take(f"floor/{key}", floor)
    if got and raw:
        samples.values[f"floor-share/{key}"].append(got / raw)


def environment(redis_url: str, plan: Plan, quick: bool) -> dict[str, str]:
    command = "python bench/run.py" + (" --quick" if quick else "")
    return {
        **describe(redis_url, command),
        "plan": f"{plan.rounds} rounds; {plan.cycle_s:g} s per one-thread figure, "
                f"{plan.contend_s:g} s per contended figure; medians of the rounds",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="short measurements for a smoke test (under about a minute)")
    parser.add_argument("--redis-url", metavar="URL",
                        help="use this Redis server (default: start a private redis-server)")
    parser.add_argument("--rounds", type=int, help="rounds to take medians over (default 3)")
    parser.add_argument("--output", type=Path, help="markdown file to write "
                        "(default bench/results/<date>.md)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = Plan(args.rounds, plan.cycle_s, plan.contend_s)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    server = nullcontext(args.redis_url) if args.redis_url else private_redis()
    try:
        with server as redis_url:
            report = run(plan, redis_url, tmp, args.quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_report(report, began, args.output, "", args.quick)
    return 0


def run(plan: Plan, redis_url: str, tmp: Path, quick: bool) -> str:
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    every = subjects(redis_url, tmp, namespace)
    samples = Samples()
    raw = RawSqlite(tmp / "raw-sqlite3.db")
    crew = ProcessCrew(plan.processes, redis_url)
    try:
        for i in range(plan.rounds):
            print(f"round {i + 1}/{plan.rounds}", file=sys.stderr)
            one_round(plan, redis_url, every, crew, raw, samples)
    finally:
        raw.close()
        crew.close()
        _clean(redis_url, namespace)
    return render(environment(redis_url, plan, quick), samples, plan)


def _clean(redis_url: str, namespace: str) -> None:
    """Delete this run's keys, so a shared --redis-url server is left as found."""
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{namespace}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


if __name__ == "__main__":
    raise SystemExit(main())
