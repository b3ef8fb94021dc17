"""What an operation costs as a store fills up: each at 10 and at 100,000 items.

    python bench/scale.py [--quick] [--items N] [--redis-url URL] [--output FILE]

For each store (memory, SQLite, a private redis-server unless --redis-url) and each
scale, a fresh namespace is filled with that many items of each kind (lock names ever
used, semaphore holders, state keys, events), then every operation is timed, one
thread, median of its calls. The ratio ``items / 10`` says whether the cost follows
the work (about 1) or the history (grows with it): single-key and listing-page
operations should stay within 1.5 x. On Redis the SLOWLOG of the measured operations
at the large scale gives the longest script run (target < 10 ms: a script blocks
every client). The report is printed and written to bench/results/<date>-scale.md
(<date>-scale-quick.md for --quick, which uses 10,000 items).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from _environment import describe, write_report
from _server import private_redis

import accord
from accord.backends.redis import _lua
from accord.backends.redis import _sync as redis_store
from accord.backends.redis import _sync_events as redis_events

SMALL = 10
SEMAPHORE_HOLDERS = (10, 999)  # the semaphore is measured with these many holders
TARGET_RATIO = 1.5  # single-key and listing-page operations, large / small
TARGET_SCRIPT_MS = 10.0  # the longest Redis script run at the large scale
SLOWLOG_FLOOR_US = 100  # SLOWLOG records runs from this long on


@dataclass(frozen=True)
class Operation:
    name: str
    flat: bool  # held to TARGET_RATIO (single-key and listing-page operations)
    run: Callable[[], object]


def timed(op: Callable[[], object], budget_s: float, least: int = 5) -> float:
    """Median seconds of one call of ``op``: calls for ``budget_s``, at least ``least``."""
    start = time.perf_counter()
    op()  # a warm-up; a slow operation (over a second) gets only ``least`` calls
    if time.perf_counter() - start < min(budget_s, 0.05):
        op()
    took: list[float] = []
    end = time.perf_counter() + budget_s
    while len(took) < least or time.perf_counter() < end:
        start = time.perf_counter()
        op()
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def fill(coord: accord.Coordinator, items: int) -> accord.Semaphore:
    """``items`` lock names used once, state keys (map ``big``; map ``small`` keeps 10)
    and events; returns the semaphore the operations use."""
    for i in range(items):
        coord.lock(f"used-{i:06}", ttl=30).acquire().release()
        coord.state("big").set(f"key-{i:06}", i)
        coord.emit("filled", {"i": i})
    for i in range(SMALL):
        coord.state("small").set(f"key-{i:02}", i)
    coord.state("big").set("hot", 0)
    return coord.semaphore("pool", limit=SEMAPHORE_HOLDERS[-1] + 1, ttl=600)


def operations(coord: accord.Coordinator, pool: accord.Semaphore) -> list[Operation]:
    hot, big, small = coord.lock("hot", ttl=30), coord.state("big"), coord.state("small")

    def lock_cycle() -> None:
        hot.acquire().release()

    def semaphore_cycle() -> None:
        pool.acquire().release()

    return [
        Operation("lock acquire+release", True, lock_cycle),
        Operation("list_locks() (nothing held)", True, coord.list_locks),
        Operation("semaphore acquire+release", True, semaphore_cycle),
        Operation("state set", True, lambda: big.set("hot", 1)),
        Operation("state get", True, lambda: big.get("hot")),
        Operation("state keys page (10)", True, lambda: big.keys_page(limit=10)),
        Operation("state items page (10)", True, lambda: big.items_page(limit=10)),
        Operation("state keys of a 10-key map", True, lambda: list(small.keys())),
        Operation("emit", True, lambda: coord.emit("tick")),
        Operation("events.history(limit=10)", True, lambda: coord.events.history(limit=10)),
    ]


@contextlib.contextmanager
def holders(pool: accord.Semaphore, n: int) -> Iterator[None]:
    """``n`` holders of the semaphore for the time of the block."""
    leases = [pool.acquire() for _ in range(n)]
    try:
        yield
    finally:
        for lease in leases:
            lease.release()


def measure(url: str, items: int, budget_s: float,
            filled: Callable[[], object] = lambda: None) -> dict[str, float]:
    """Seconds per call of each operation with ``items`` of everything stored
    (``filled`` is called once they are)."""
    namespace = f"scale-{uuid.uuid4().hex[:8]}"
    with accord.connect(url, namespace=namespace, agent="bench-scale",
                        max_events=max(items * 2, 1000)) as coord:
        pool = fill(coord, items)
        filled()
        found: dict[str, float] = {}
        ops = operations(coord, pool)
        semaphore = next(op for op in ops if op.name.startswith("semaphore"))
        for op in ops:
            if op is semaphore:
                continue
            with holders(pool, SMALL):  # a semaphore in use alongside
                found[op.name] = timed(op.run, budget_s)
        for n in SEMAPHORE_HOLDERS:
            with holders(pool, n):
                found[f"semaphore acquire+release, {n} holders"] = timed(semaphore.run, budget_s)
    return found


def script_names() -> dict[str, str]:
    """Script name by SHA, for the SLOWLOG."""
    found: dict[str, str] = {}
    for module in (redis_store, redis_events):
        for value in vars(module).values():
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if isinstance(v, _lua.Script):
                    found[v.sha] = v.name
    return found


def longest_scripts(client: redis.Redis) -> list[tuple[float, str]]:
    """The longest run of each command (a script by name) in the SLOWLOG: (ms, what),
    longest first."""
    names = script_names()
    found: dict[str, float] = {}
    for entry in client.slowlog_get(10_000):
        args = [a.decode(errors="replace") if isinstance(a, bytes) else str(a)
                for a in entry["command"].split()] if isinstance(entry["command"], bytes) else []
        cmd = args[0].upper() if args else "?"
        what = f"{cmd} {names.get(args[1], args[1][:12])}" if cmd == "EVALSHA" else cmd
        found[what] = max(found.get(what, 0.0), entry["duration"] / 1000)
    return sorted(((ms, what) for what, ms in found.items()), reverse=True)


def run_store(label: str, url: str, items: int, budget_s: float,
              client: redis.Redis | None) -> tuple[dict[str, float], dict[str, float], list[Any]]:
    print(f"{label}: {SMALL} items", file=sys.stderr)
    small = measure(url, SMALL, budget_s)
    print(f"{label}: {items:,} items (filling takes a while)", file=sys.stderr)
    slow: list[Any] = []
    if client is not None:
        client.config_set("slowlog-log-slower-than", SLOWLOG_FLOOR_US)
        client.config_set("slowlog-max-len", 10_000)
    large = measure_with_slowlog(url, items, budget_s, client, slow)
    return small, large, slow


def measure_with_slowlog(url: str, items: int, budget_s: float, client: redis.Redis | None,
                         slow: list[Any]) -> dict[str, float]:
    """measure(), with the SLOWLOG reset after filling (so it holds the operations only)."""
    if client is None:
        return measure(url, items, budget_s)
    found = measure(url, items, budget_s, filled=client.slowlog_reset)
    slow.extend(longest_scripts(client))
    return found


def render(header: dict[str, str], items: int,
           results: dict[str, tuple[dict[str, float], dict[str, float], list[Any]]]) -> str:
    lines = [f"# accord at scale: each operation at {SMALL} and at {items:,} items", ""]
    lines += [f"- {k}: {v}" for k, v in header.items()]
    lines += ["", f"Median microseconds per call, one thread; ratio = {items:,} / {SMALL} "
              f"(target ≤ {TARGET_RATIO} x).", ""]
    lines += ["| operation | store | µs at 10 | µs at " + f"{items:,}" + " | ratio | ≤ 1.5 x |",
              "|---|---|---:|---:|---:|---|"]
    missed = []
    ops = list(next(iter(results.values()))[0])
    for op in ops:
        for store, (small, large, _) in results.items():
            ratio = large[op] / small[op]
            ok = ratio <= TARGET_RATIO
            if op.startswith("semaphore acquire+release, "):
                ok = True  # the holder counts are compared below, not the scales
            if not ok:
                missed.append(f"{op} on {store}: {ratio:.2f} x")
            lines.append(f"| {op} | {store} | {small[op] * 1e6:,.1f} | {large[op] * 1e6:,.1f} "
                         f"| {ratio:.2f} | {'yes' if ok else '**no**'} |")
    lines += ["", "Semaphore: acquire+release with "
              f"{SEMAPHORE_HOLDERS[1]} holders / {SEMAPHORE_HOLDERS[0]} holders "
              f"(at {items:,} items):", ""]
    for store, (_, large, _) in results.items():
        few, many = (large[f"semaphore acquire+release, {n} holders"] for n in SEMAPHORE_HOLDERS)
        ok = many / few <= TARGET_RATIO
        if not ok:
            missed.append(f"semaphore {SEMAPHORE_HOLDERS[1]} / {SEMAPHORE_HOLDERS[0]} holders "
                          f"on {store}: {many / few:.2f} x")
        lines.append(f"- {store}: {many / few:.2f} x {'' if ok else '(**over 1.5 x**)'}")
    for store, (_, _, slow) in results.items():
        if store != "redis":
            continue
        lines += ["", f"Longest run of each Redis command while measuring at {items:,} items "
                  f"(SLOWLOG, runs over {SLOWLOG_FLOOR_US} µs; target < {TARGET_SCRIPT_MS} ms):",
                  ""]
        lines += [f"- {ms:,.2f} ms: {what}" for ms, what in slow] or [
            f"- none over {SLOWLOG_FLOOR_US} µs"]
        if slow and slow[0][0] >= TARGET_SCRIPT_MS:
            missed.append(f"longest Redis script {slow[0][0]:,.1f} ms ({slow[0][1]})")
    lines += ["", "## Targets", ""]
    lines += ["All met."] if not missed else ["Missed:", ""] + [f"- {m}" for m in missed]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 items, shorter timings")
    parser.add_argument("--items", type=int, help="the large scale (default 100,000)")
    parser.add_argument("--stores", default="memory,sqlite,redis",
                        help="comma-separated, of memory, sqlite, redis")
    parser.add_argument("--redis-url", metavar="URL", help="default: a private redis-server")
    parser.add_argument("--output", type=Path, help="markdown file to write")
    args = parser.parse_args(argv)
    items = args.items or (10_000 if args.quick else 100_000)
    budget_s = 0.2 if args.quick else 0.5
    stores = args.stores.split(",")
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-scale-"))
    server = contextlib.nullcontext(args.redis_url) if args.redis_url else private_redis()
    results = {}
    try:
        with server as redis_url:
            urls = {"memory": f"memory://scale-{uuid.uuid4().hex[:6]}",
                    "sqlite": f"sqlite:///{tmp}/scale.db", "redis": redis_url}
            client = redis.Redis.from_url(redis_url)
            for store in stores:
                results[store] = run_store(store, urls[store], items, budget_s,
                                           client if store == "redis" else None)
            command = "python bench/scale.py" + (" --quick" if args.quick else "")
            header = describe(redis_url, command)
            client.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report = render(header, items, results)
    write_report(report, began, args.output, "-scale", args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
