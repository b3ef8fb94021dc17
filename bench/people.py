"""Benchmark people in the loop: approval wake-up across processes, audit appends.

    python bench/people.py [--quick] [--redis-url URL] [--rounds N] [--output FILE]

Each round measures, on SQLite and Redis (a private redis-server unless --redis-url),
and in memory where it applies:

* approval wake-up: a requester process waits on its request (``req.wait()``); this
  process approves it; the time from the start of ``approve()`` to the waiter's return
  with the decision, on the machine-wide monotonic clock (p50, p99);
* audit append vs event append: ``coord.audit.log(kind, **fields)`` against
  ``coord.emit(name, fields)`` with the same fields, one thread, in alternating
  blocks of 100 calls; the ratio of their fastest blocks (target ≤ 1.5 x), and on
  Redis what the server spends on each (``INFO commandstats``);
* the cost of ``connect(audit_locks=True)``: an uncontended lock acquire + release
  with and without it (each audited cycle appends two entries), the same way.

Writes a markdown table to bench/results/<date>-people.md (-people-quick.md with
--quick).
"""

from __future__ import annotations

import argparse
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from _environment import describe, write_report
from _server import private_redis
from run import _clean

import accord

STORES = ("memory", "sqlite", "redis")
WAKE_P50_MS = 1.0  # targets of issue 14
AUDIT_RATIO = 1.5


@dataclass(frozen=True)
class Plan:
    rounds: int
    wakes: int  # approvals decided per round and store
    appends: int  # audit appends (and event appends) per round and store
    cycles: int  # lock cycles per round, store and setting


QUICK = Plan(rounds=2, wakes=60, appends=2_000, cycles=1_000)
FULL = Plan(rounds=3, wakes=300, appends=10_000, cycles=5_000)


def _url(store: str, redis_url: str, tmp: Path) -> str:
    return {"memory": f"memory://bench-{uuid.uuid4().hex[:6]}", "sqlite": f"sqlite:///{tmp}/people.db",
            "redis": redis_url}[store]  # fmt: skip


# --- approval wake-up across processes ---------------------------------------------------


def _requester(url: str, namespace: str, n: int, ids: Any, woke: Any) -> None:
    """Request ``n`` approvals one after another, each waited for; report wake times."""
    with accord.connect(url, namespace=namespace, agent="requester") as coord:
        for _ in range(n):
            req = coord.approvals.request("deploy", timeout=60)
            ids.put(req.id)
            decision = req.wait()
            woke.put((time.monotonic(), decision.approved))


def wake_latencies(url: str, n: int) -> list[float]:
    """Milliseconds from the start of approve() here to the waiter's return there."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    spawn = multiprocessing.get_context("spawn")
    ids, woke = spawn.Queue(), spawn.Queue()
    proc = spawn.Process(target=_requester, args=(url, namespace, n + 5, ids, woke), daemon=True)
    proc.start()
    found = []
    try:
        with accord.connect(url, namespace=namespace, agent="approver") as coord:
            for i in range(n + 5):
                approval = ids.get(timeout=60)
                time.sleep(0.003)  # the waiter is asleep on its mailbox by now
                began = time.monotonic()
                coord.approvals.approve(approval)
                at, approved = woke.get(timeout=60)
                assert approved
                if i >= 5:  # the first few warm the connections up
                    found.append((at - began) * 1000)
    finally:
        proc.join(30)
        if proc.is_alive():
            proc.kill()
    return found


# --- audit append vs event append -------------------------------------------------------


def append_ratio(url: str, n: int) -> tuple[float, float]:
    """Microseconds per event append and per audit append, interleaved in blocks."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    fields = {"context": "Backend v2.0", "reason": "tests passed", "ticket": 42}
    with accord.connect(url, namespace=namespace, agent="bench") as coord:
        def emit() -> None:
            coord.emit("deployment", fields)

        def log() -> None:
            coord.audit.log("deployment", **fields)

        return _interleaved(emit, log, n)


def _interleaved(a: Callable[[], None], b: Callable[[], None], n: int) -> tuple[float, float]:
    """Microseconds per call of ``a`` and of ``b``: the fastest of their blocks of 100
    calls, run in turn (a, b, a, b ...). On a shared 2-core VM other work slows blocks
    at random and by far more than the difference measured; the fastest block is what
    a call costs when nothing else runs (a block with a checkpoint or a GC counts as
    any other, and is not the fastest)."""
    blocks: tuple[list[float], list[float]] = ([], [])
    for _ in range(max(1, n // 100)):
        for times, fn in zip(blocks, (a, b), strict=True):
            began = time.perf_counter()
            for _ in range(100):
                fn()
            times.append((time.perf_counter() - began) / 100 * 1e6)
    return min(blocks[0]), min(blocks[1])


def server_cost(redis_url: str, n: int) -> tuple[float, float]:
    """Redis server microseconds per event append (``XADD``) and per audit append (the
    script, the commands it runs included), from ``INFO commandstats``: what the
    server spends, whatever else runs on the machine."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    fields = {"context": "Backend v2.0", "reason": "tests passed", "ticket": 42}
    client = redis.Redis.from_url(redis_url)
    try:
        with accord.connect(redis_url, namespace=namespace, agent="bench") as coord:
            coord.emit("warm-up")
            coord.audit.log("warm-up")
            client.config_resetstat()
            for _ in range(n):
                coord.emit("deployment", fields)
            event = client.info("commandstats")["cmdstat_xadd"]["usec_per_call"]
            client.config_resetstat()
            for _ in range(n):
                coord.audit.log("deployment", **fields)
            audit = client.info("commandstats")["cmdstat_evalsha"]["usec_per_call"]
    finally:
        client.close()
    return float(event), float(audit)


def lock_cost(url: str, n: int) -> tuple[float, float]:
    """Microseconds per lock cycle without and with audit_locks."""
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    with (
        accord.connect(url, namespace=namespace, agent="plain") as plain,
        accord.connect(url, namespace=namespace, agent="audited", audit_locks=True) as audited,
    ):
        a, b = plain.lock("plain"), audited.lock("audited")

        def cycle_a() -> None:
            with a:
                pass

        def cycle_b() -> None:
            with b:
                pass

        return _interleaved(cycle_a, cycle_b, n)


# --- the report -----------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(plan: Plan, redis_url: str, tmp: Path) -> dict[str, Any]:
    got: dict[str, Any] = {s: {"wake": [], "appends": [], "locks": []} for s in STORES}
    got["server"] = []
    for r in range(plan.rounds):
        print(f"round {r + 1}/{plan.rounds}", file=sys.stderr)
        for store in STORES:
            url = _url(store, redis_url, tmp)
            if store != "memory":  # memory reaches no other process
                got[store]["wake"] += wake_latencies(url, plan.wakes)
            got[store]["appends"].append(append_ratio(url, plan.appends))
            got[store]["locks"].append(lock_cost(url, plan.cycles))
        got["server"].append(server_cost(redis_url, plan.appends // 5))
    return got


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def render(env: dict[str, str], plan: Plan, got: dict[str, Any]) -> str:
    rows, met, checked = [], 0, 0
    for store in STORES:
        wake = got[store]["wake"]
        event_us = statistics.median(e for e, _ in got[store]["appends"])
        audit_us = statistics.median(a for _, a in got[store]["appends"])
        ratio = statistics.median(a / e for e, a in got[store]["appends"])
        plain_us = statistics.median(p for p, _ in got[store]["locks"])
        lock_ratio = statistics.median(a / p for p, a in got[store]["locks"])
        p50 = _pct(wake, 0.5) if wake else None
        ok_wake = p50 is not None and p50 <= WAKE_P50_MS
        ok_ratio = ratio <= AUDIT_RATIO
        checked += 1 + (p50 is not None)
        met += ok_ratio + ok_wake
        shown = "—" if p50 is None else (
            f"{p50:.2f} ms / {_pct(wake, 0.99):.2f} ms ({_met(ok_wake)})")
        rows.append(f"| {store} | {shown} | {event_us:.0f} µs | {audit_us:.0f} µs | "
                    f"{ratio:.2f} x ({_met(ok_ratio)}) | {plain_us:.0f} µs | {lock_ratio:.2f} x |")
    event_server = statistics.median(e for e, _ in got["server"])
    audit_server = statistics.median(a for _, a in got["server"])
    return "\n".join([
        f"# accord people-in-the-loop benchmark, {env['date']}",
        "",
        f"`{env['command']}` at {env['code']} on {env['machine']}, Python {env['python']}, "
        f"{env['redis']}. {plan.rounds} rounds: {plan.wakes} approvals decided across "
        f"processes, {plan.appends} appends and {plan.cycles} lock cycles per store and "
        "round; medians of the rounds (wake-up percentiles over every approval).",
        "",
        "| store | approval decided → waiter in another process wakes, p50 / p99 "
        f"(target p50 ≤ {WAKE_P50_MS:g} ms) | event append | audit append | audit / event "
        f"(target ≤ {AUDIT_RATIO:g} x) | lock cycle | with audit_locks=True |",
        "|---|---|---:|---:|---|---:|---:|",
        *rows,
        "",
        "Wake-up: from the start of `approve()` in this process (its round trip and "
        "commit included) to `req.wait()` returning the decision in the requester's "
        "process (which then reads the request once more). Appends: one thread, the same "
        "three fields as an event payload and as audit details; per call, the fastest of "
        "the blocks of 100 calls run in turn with the other (the VM's other work slows "
        "blocks at random). Lock cycle: `with "
        "coord.lock(name): pass`; with `audit_locks=True` each cycle also appends "
        "`accord.lock_acquired` and `accord.lock_released`.",
        "",
        f"Redis server time per append (`INFO commandstats`, what the server spends "
        f"whatever else runs on the machine): event `XADD` {event_server:.1f} µs, audit "
        f"script {audit_server:.1f} µs (its `GET`, `TIME`, `XADD` and `SET` included).",
        "",
        f"## Targets\n\n{met} of {checked} target checks met.",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short measurements (~20 s)")
    parser.add_argument("--redis-url", metavar="URL",
                        help="use this Redis server (default: start a private redis-server)")
    parser.add_argument("--rounds", type=int, help="rounds to take medians over")
    parser.add_argument("--output", type=Path, help="markdown file to write "
                        "(default bench/results/<date>-people.md)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = Plan(args.rounds, plan.wakes, plan.appends, plan.cycles)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    server = nullcontext(args.redis_url) if args.redis_url else private_redis()
    try:
        with server as redis_url:
            got = run(plan, redis_url, tmp)
            env = describe(redis_url, "python bench/people.py" + " --quick" * args.quick)
            _clean(redis_url, "bench-")  # every namespace this run made
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_report(render(env, plan, got), began, args.output, "-people", args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
