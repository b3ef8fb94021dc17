"""What the task queue costs, measured beside baselines in the same run.

(Not bench/queue.py: a script runs with its folder first on sys.path, and a queue.py
there would stand in for the standard library's queue module in every bench script.)

    python bench/task_queue.py [--quick] [--items N] [--redis-url URL] [--output FILE]

* one worker, put + claim + complete per second on each store; Redis beside a raw
  ``LPUSH`` + ``BRPOP`` loop (no ack, no lease), SQLite beside the same three
  transactions done with bare sqlite3 (insert; select the best ready row and mark it
  claimed; mark it done), rounds interleaved, each baseline right after accord's
  cycle on its store, medians (of the per-round ratios for the ratio);
* idle pick-up latency: a claimer waiting in another process, a put here, the time
  until its claim returned (CLOCK_MONOTONIC is one clock for every process), p50;
* for SQLite, the share of that cycle spent inside SQLite (each statement, BEGIN and
  COMMIT timed where the store runs it): the ratio the cycle would reach if accord's
  own Python took no time at all, beside the bare sqlite3 baseline;
* a claim (timed) + release (not timed) with 10 and with ``--items`` ready tasks;
* 8 workers on 4 processes draining 10,000 tasks: duplicates, losses, tasks/s, beside
  Huey's consumer with 4 processes of 2 thread workers draining as many.

Huey (which the issue compares against; the ``bench`` extra installs it) drains the
same number of tasks with its own consumer (RedisHuey, SqliteHuey) in the same run;
without it that column is left empty. The report is printed and written to
bench/results/<date>-queue.md (-queue-quick.md with --quick: 10,000 ready tasks at the
large scale and 2,000 to drain).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _queue_children as children
import redis
from _environment import describe, write_report
from _server import private_redis

import accord

SPAWN = multiprocessing.get_context("spawn")
ROUNDS = 5
TARGETS = {"redis": 0.45, "sqlite": 0.5}  # x the baseline, one worker
TARGET_P50_MS = 1.0
TARGET_SCALE = 1.5


def per_second(step: Callable[[], object], seconds: float) -> float:
    for _ in range(20):
        step()
    calls, start = 0, time.perf_counter()
    while (now := time.perf_counter()) - start < seconds:
        for _ in range(16):
            step()
        calls += 16
    return calls / (now - start)


def one_cycle(q: accord.Queue) -> None:
    """One worker's put + claim + complete."""
    q.put("job")
    claim = q.claim()
    assert claim is not None
    claim.complete()


def accord_cycle(url: str, seconds: float) -> float:
    with accord.connect(url, namespace=f"b-{uuid.uuid4().hex[:8]}", agent="bench") as coord:
        q = coord.queue("cycle")
        return per_second(lambda: one_cycle(q), seconds)


def redis_baseline(url: str, seconds: float) -> float:
    client = redis.Redis.from_url(url)
    key = f"bench-list-{uuid.uuid4().hex[:8]}"

    def cycle() -> None:
        client.lpush(key, "job")
        client.brpop([key], timeout=1)

    try:
        return per_second(cycle, seconds)
    finally:
        client.delete(key)
        client.close()


def sqlite_baseline(path: Path, seconds: float) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS jobs (id INTEGER PRIMARY KEY, priority INTEGER, "
                 "status TEXT, title TEXT)")
    conn.execute("CREATE INDEX IF NOT EXISTS ready ON jobs (status, priority, id)")

    def cycle() -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO jobs (priority, status, title) VALUES (0, 'ready', 'job')")
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        (job,) = conn.execute("SELECT id FROM jobs WHERE status = 'ready' "
                              "ORDER BY priority DESC, id LIMIT 1").fetchone()
        conn.execute("UPDATE jobs SET status = 'claimed' WHERE id = ?", (job,))
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE jobs SET status = 'done' WHERE id = ?", (job,))
        conn.execute("COMMIT")

    try:
        return per_second(cycle, seconds)
    finally:
        conn.close()


class _TimedCursor:
    """A cursor that adds the time of each call into SQLite to ``spent``."""

    def __init__(self, cur: sqlite3.Cursor) -> None:
        self._cur, self.spent, self.statements = cur, 0.0, 0

    def execute(self, *args: Any) -> Any:
        return self._timed(self._cur.execute, args)

    def executemany(self, *args: Any) -> Any:
        return self._timed(self._cur.executemany, args)

    def _timed(self, call: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        start = time.perf_counter()
        try:
            return call(*args)
        finally:
            self.spent += time.perf_counter() - start
            self.statements += 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def sqlite_share(url: str, cycles: int) -> tuple[float, float, float]:
    """(µs per cycle in all, µs of it inside SQLite, statements per cycle) of accord's
    put + claim + complete on SQLite, from the cursor the store runs them on."""
    with accord.connect(url, namespace=f"b-{uuid.uuid4().hex[:8]}", agent="bench") as coord:
        q = coord.queue("share")
        for _ in range(20):
            one_cycle(q)  # this thread's connection is open
        local = coord._backend._local  # type: ignore[attr-defined]
        timed = local.cur = local.conn.cur = _TimedCursor(local.conn.cur)
        start = time.perf_counter()
        for _ in range(cycles):
            one_cycle(q)
        took = time.perf_counter() - start
        local.cur = local.conn.cur = timed._cur
    return took / cycles * 1e6, timed.spent / cycles * 1e6, timed.statements / cycles


def pick_up_p50(url: str, rounds: int) -> float:
    namespace = f"b-{uuid.uuid4().hex[:8]}"
    ready, out = SPAWN.Queue(), SPAWN.Queue()
    proc = SPAWN.Process(target=children.pick_up, args=(url, namespace, rounds, ready, out),
                         daemon=True)
    proc.start()
    ready.get(timeout=60)
    took = []
    with accord.connect(url, namespace=namespace, agent="putter") as coord:
        q = coord.queue("latency")
        for _ in range(rounds):
            time.sleep(0.02)  # the claimer waits again by now
            start = time.monotonic()
            q.put("now")
            took.append(out.get(timeout=30) - start)  # this process does nothing meanwhile
    proc.join(30)
    return statistics.median(took) * 1000


def claim_cost(url: str, ready: int, seconds: float) -> float:
    """Median microseconds of a claim with ``ready`` tasks ready (each released again)."""
    with accord.connect(url, namespace=f"b-{uuid.uuid4().hex[:8]}", agent="bench") as coord:
        q = coord.queue("scale")
        for i in range(ready):
            q.put(f"t{i}", priority=i % 5, tags=["a"] if i % 2 else ["b"])
        took: list[float] = []
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline or len(took) < 20:
            start = time.perf_counter()
            claim = q.claim(tags=["a", "b"])
            took.append(time.perf_counter() - start)
            assert claim is not None
            claim.release()
        return statistics.median(took) * 1e6


def drain(url: str, tasks: int) -> dict[str, float]:
    namespace = f"b-{uuid.uuid4().hex[:8]}"
    with accord.connect(url, namespace=namespace, agent="producer") as coord:
        q = coord.queue("drain")
        ids = {q.put(f"t{i}").id for i in range(tasks)}
        start, out = SPAWN.Barrier(5), SPAWN.Queue()
        procs = [SPAWN.Process(target=children.drain, daemon=True,
                               args=(url, namespace, f"w{i}", 2, start, out)) for i in range(4)]
        for proc in procs:
            proc.start()
        start.wait(60)
        began = time.monotonic()
        done = [task_id for _ in procs for task_id in out.get(timeout=300)]
        took = time.monotonic() - began
        for proc in procs:
            proc.join(30)
        stats = q.stats()
    counts = Counter(done)
    return {
        "tasks": tasks, "per_s": tasks / took, "duplicates": sum(c - 1 for c in counts.values()),
        "lost": len(ids - set(counts)), "done": stats.done,
    }


def huey_drain(kind: str, where: str, tasks: int) -> float:
    """Tasks per second of Huey's consumer (4 processes of 2 thread workers) draining
    ``tasks`` put before it starts, timed like ``drain``: from the start barrier until
    every task's result is stored."""
    huey, job = children.huey_app(kind, where)
    for i in range(tasks):
        job(i)
    start = SPAWN.Barrier(5)
    procs = [SPAWN.Process(target=children.huey_consume, daemon=True,
                           args=(kind, where, 2, start)) for _ in range(4)]
    for proc in procs:
        proc.start()
    try:
        start.wait(60)
        began = time.monotonic()
        while huey.result_count() < tasks:
            assert time.monotonic() - began < 300, "Huey did not drain in 300 s"
            time.sleep(0.005)
        took = time.monotonic() - began
    finally:
        for proc in procs:
            proc.kill()
            proc.join(30)
    return tasks / took


def measure(urls: dict[str, str], tmp: Path, items: int, drained: int,
            seconds: float) -> dict[str, Any]:
    found: dict[str, Any] = {"cycle": {}, "base": {}, "ratio": {}, "p50": {}, "scale": {},
                             "drain": {}}
    baselines = {"redis": lambda: redis_baseline(urls["redis"], seconds),
                 "sqlite": lambda: sqlite_baseline(tmp / "bare.db", seconds)}
    for _ in range(ROUNDS):  # interleaved, each store's baseline right after it: the VM drifts
        for store, url in urls.items():
            ours = accord_cycle(url, seconds)
            found["cycle"].setdefault(store, []).append(ours)
            if store in baselines:
                base = baselines[store]()
                found["base"].setdefault(store, []).append(base)
                found["ratio"].setdefault(store, []).append(ours / base)
    shares = [sqlite_share(urls["sqlite"], 1000) for _ in range(3)]
    found["share"] = tuple(statistics.median(v) for v in zip(*shares, strict=True))
    for store in ("sqlite", "redis"):
        found["p50"][store] = pick_up_p50(urls[store], 60)
    for store, url in urls.items():
        found["scale"][store] = (claim_cost(url, 10, seconds), claim_cost(url, items, seconds))
    for store in ("sqlite", "redis"):
        found["drain"][store] = drain(urls[store], drained)
    if huey_installed():
        found["huey"] = {
            "sqlite": huey_drain("sqlite", str(tmp / "huey.db"), drained),
            "redis": huey_drain("redis", f"{urls['redis']}#huey-{uuid.uuid4().hex[:8]}", drained),
        }
    return found


def huey_installed() -> bool:
    try:
        import huey  # noqa: F401
    except ImportError:
        return False
    return True


def render(header: dict[str, str], found: dict[str, Any], items: int, drained: int) -> str:
    med = {k: {s: statistics.median(v) for s, v in found[k].items()}
           for k in ("cycle", "base", "ratio")}
    lines = ["# accord task queue", ""] + [f"- {k}: {v}" for k, v in header.items()]
    huey = found.get("huey")
    if huey is None:
        lines += ["", "Huey is not installed here (pip install accord[bench]): the drain is "
                  "reported without it."]
    lines += ["", "## One worker: put + claim + complete", "",
              f"Per second, medians of {ROUNDS} interleaved rounds; the ratio is the median "
              "of each round's accord over the baseline measured right after it.", "",
              "| store | accord | baseline | ratio | target |", "|---|---:|---:|---:|---|"]
    missed = []
    for store in ("memory", "sqlite", "redis"):
        ours = med["cycle"][store]
        if store == "memory":
            lines.append(f"| memory | {ours:,.0f} | | | |")
            continue
        base, ratio, target = med["base"][store], med["ratio"][store], TARGETS[store]
        name = "LPUSH + BRPOP" if store == "redis" else "bare sqlite3"
        ok = ratio >= target
        missed += [] if ok else [f"{store} cycle {ratio:.2f} x {name}"]
        lines.append(f"| {store} | {ours:,.0f} | {base:,.0f} ({name}) | {ratio:.2f} x | "
                     f"≥ {target} x {'met' if ok else '**missed**'} |")
    total, inside, statements = found["share"]
    bare = 1e6 / med["base"]["sqlite"]
    lines += ["", "### Where SQLite's cycle goes", "",
              f"Of accord's cycle on SQLite ({total:.0f} µs with the timing cursor), "
              f"{inside:.0f} µs are spent inside SQLite ({statements:.0f} calls: the task "
              "row and its status index, the ready lane, the lease's due entry, the claim "
              "token, one event per step, BEGIN and COMMIT), beside "
              f"{bare:.0f} µs for the bare sqlite3 cycle. With no Python of accord's at all "
              f"the ratio would be {bare / inside:.2f} x; medians of 3 runs of 1,000 cycles."]
    lines += ["", "## Idle pick-up latency across processes", "",
              "| store | p50 | target |", "|---|---:|---|"]
    for store, p50 in found["p50"].items():
        ok = p50 <= TARGET_P50_MS
        missed += [] if ok else [f"{store} pick-up p50 {p50:.2f} ms"]
        lines.append(f"| {store} | {p50:.2f} ms | ≤ {TARGET_P50_MS} ms "
                     f"{'met' if ok else '**missed**'} |")
    lines += ["", f"## A claim with 10 and with {items:,} ready tasks", "",
              "Median µs of one claim (two tags asked, tasks in two tag lanes, 5 priorities).", "",
              f"| store | at 10 | at {items:,} | ratio | target |", "|---|---:|---:|---:|---|"]
    for store, (small, large) in found["scale"].items():
        ok = large / small <= TARGET_SCALE
        missed += [] if ok else [f"{store} claim at scale {large / small:.2f} x"]
        lines.append(f"| {store} | {small:,.1f} | {large:,.1f} | {large / small:.2f} x | "
                     f"≤ {TARGET_SCALE} x {'met' if ok else '**missed**'} |")
    lines += ["", f"## 8 workers on 4 processes draining {drained:,} tasks", "",
              "Huey: its own consumer, 4 processes of 2 thread workers, the same tasks "
              "(put before it starts, a result stored for each), timed from the start "
              "barrier until every result is stored." if huey else "", "",
              "| store | accord tasks/s | duplicates | lost | Huey tasks/s | accord / Huey |",
              "|---|---:|---:|---:|---:|---:|"]
    for store, d in found["drain"].items():
        ok = d["duplicates"] == 0 and d["lost"] == 0 and d["done"] == d["tasks"]
        missed += [] if ok else [f"{store} drain: {d}"]
        theirs = huey[store] if huey else None
        beside = f"{theirs:,.0f} | {d['per_s'] / theirs:.2f} x" if theirs else "| "
        lines.append(f"| {store} | {d['per_s']:,.0f} | {d['duplicates']} | {d['lost']} | "
                     f"{beside} |")
    lines += ["", "## Targets", ""]
    lines += ["All met."] if not missed else ["Missed:", ""] + [f"- {m}" for m in missed]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller scales, shorter timings")
    parser.add_argument("--items", type=int, help="ready tasks at the large scale")
    parser.add_argument("--redis-url", metavar="URL", help="default: a private redis-server")
    parser.add_argument("--output", type=Path, help="markdown file to write")
    args = parser.parse_args(argv)
    items = args.items or (10_000 if args.quick else 100_000)
    drained = 2_000 if args.quick else 10_000
    seconds = 0.4 if args.quick else 0.5
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-queue-"))
    server = contextlib.nullcontext(args.redis_url) if args.redis_url else private_redis()
    try:
        with server as redis_url:
            urls = {"memory": f"memory://queue-{uuid.uuid4().hex[:6]}",
                    "sqlite": f"sqlite:///{tmp}/queue.db", "redis": redis_url}
            found = measure(urls, tmp, items, drained, seconds)
            header = describe(redis_url, "python bench/task_queue.py" + " --quick" * args.quick)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_report(render(header, found, items, drained), began, args.output, "-queue", args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
