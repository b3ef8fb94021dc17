"""What the registry of agents costs as it fills up: each operation at 10 and at
10,000 registered agents, per store.

    python bench/agents.py [--quick] [--agents N] [--redis-url URL] [--output FILE]

For each store (memory, SQLite, a private redis-server unless --redis-url) and each
scale, a fresh namespace gets that many agents registered (through the store's
``agent_join``, as a session does, without starting thousands of heartbeat
workers), then each operation is timed, one thread, median of its calls: a
heartbeat (with progress), a reap that finds nobody dead, ``agents.hung()`` that
finds nobody hung, ``agents.get()``, and one page of ``agents.list_page()``. The
ratio ``N / 10`` says whether the cost follows the work (about 1) or the number of
agents; the target is 1.5 x at most for the heartbeat and ``hung()`` (issue 13).
The report is printed and written to bench/results/<date>-agents.md.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _environment import describe, write_report
from _server import private_redis
from scale import timed

import accord
from accord.backends.agents.rule import AgentRecord

SMALL = 10
TARGET_RATIO = 1.5
HELD_TO_TARGET = ("heartbeat", "hung() (none hung)")


def fill(store: Any, n: int) -> None:
    for i in range(n):
        store.agent_join(AgentRecord(name=f"agent-{i:06}", session=f"s{i}", role="worker",
                                     working_on="benching", host="bench", pid=i, ttl=600.0))


def measure(url: str, agents: int, budget_s: float) -> dict[str, float]:
    namespace = f"agents-{uuid.uuid4().hex[:8]}"
    with accord.connect(url, namespace=namespace, agent="bench-agents") as coord:
        store = coord._backend
        fill(store, agents)
        name = f"agent-{agents // 2:06}"
        session = f"s{agents // 2}"
        ops = {
            "heartbeat": lambda: store.agent_beat(name, session, 600.0, 0.0, None),
            "reap (none dead)": lambda: store.agent_reap(100),
            "hung() (none hung)": lambda: coord.agents.hung(300),
            "get()": lambda: coord.agents.get(name),
            "list_page(limit=10)": lambda: coord.agents.list_page(limit=10),
        }
        return {op: timed(run, budget_s) for op, run in ops.items()}


def render(header: dict[str, str], agents: int,
           results: dict[str, tuple[dict[str, float], dict[str, float]]]) -> str:
    lines = [f"# accord agents: the registry at {SMALL} and at {agents:,} agents", ""]
    lines += [f"- {k}: {v}" for k, v in header.items()]
    lines += ["", f"Median microseconds per call, one thread; ratio = {agents:,} / {SMALL} "
              f"(target ≤ {TARGET_RATIO} x for {' and '.join(HELD_TO_TARGET)}).", ""]
    lines += [f"| operation | store | µs at {SMALL} | µs at {agents:,} | ratio | target |",
              "|---|---|---:|---:|---:|---|"]
    missed = []
    for op in next(iter(results.values()))[0]:
        for store, (small, large) in results.items():
            ratio = large[op] / small[op]
            held = op in HELD_TO_TARGET
            ok = ratio <= TARGET_RATIO
            if held and not ok:
                missed.append(f"{op} on {store}: {ratio:.2f} x")
            verdict = ("yes" if ok else "**no**") if held else "-"
            lines.append(f"| {op} | {store} | {small[op] * 1e6:,.1f} | {large[op] * 1e6:,.1f} "
                         f"| {ratio:.2f} | {verdict} |")
    lines += ["", "## Targets", ""]
    lines += ["All met."] if not missed else ["Missed:", ""] + [f"- {m}" for m in missed]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--agents", type=int, default=10_000, help="the large scale")
    parser.add_argument("--stores", default="memory,sqlite,redis",
                        help="comma-separated, of memory, sqlite, redis")
    parser.add_argument("--redis-url", metavar="URL", help="default: a private redis-server")
    parser.add_argument("--output", type=Path, help="markdown file to write")
    args = parser.parse_args(argv)
    budget_s = 0.2 if args.quick else 0.5
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-agents-"))
    server = contextlib.nullcontext(args.redis_url) if args.redis_url else private_redis()
    results = {}
    try:
        with server as redis_url:
            urls = {"memory": f"memory://agents-{uuid.uuid4().hex[:6]}",
                    "sqlite": f"sqlite:///{tmp}/agents.db", "redis": redis_url}
            for store in args.stores.split(","):
                print(f"{store}: {SMALL} and {args.agents:,} agents", file=sys.stderr)
                results[store] = (measure(urls[store], SMALL, budget_s),
                                  measure(urls[store], args.agents, budget_s))
            command = "python bench/agents.py" + (" --quick" if args.quick else "")
            header = describe(redis_url, command)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_report(render(header, args.agents, results), began, args.output, "-agents", args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
