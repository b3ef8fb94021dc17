"""Benchmark accord's events against agentdiff-coordination, queue.Queue and Redis streams.

    python bench/events.py [--quick] [--redis-url URL] [--rounds N] [--output FILE]

Every round measures, one after the other: in one process (memory://, sync API) accord,
agentdiff-coordination's emit/@when and a bare queue.Queue; across processes accord on
SQLite; on Redis (a private redis-server unless --redis-url) the redis-py stream floors
(XADD + XREAD BLOCK, XADD + XREADGROUP + XACK) and accord; then what idle subscribers
cost the Redis server. The report gives per-round medians and ratios, checks the targets
of issue 3, prints a markdown table and writes it to bench/results/<date>-events.md
(<date>-events-quick.md for --quick). Needs the ``bench`` extra (agentdiff-coordination)
and a redis-server binary.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import importlib.metadata
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from _delivery import Delivery, Tally
from _environment import describe, write_report
from _events_report import FULL_LOG_ROW, LOCAL, REDIS, WAIT_IDLE, XREAD, XREADGROUP, render
from _local_events import (
    FULL_LOG,
    AccordLocal,
    AgentDiffLocal,
    Local,
    QueueLocal,
    idle_round_trip,
    measure,
)
from _remote_events import Crew, Feed, Send, accord_emitter, idle_commands, stream_emitter
from _server import private_redis
from run import Samples, _clean, _median


@dataclasses.dataclass(frozen=True)
class Plan:
    """How many events each measurement sends, and how long it may take."""

    rounds: int
    pings: int  # events sent one at a time, for latency
    local_events: int  # events sent back to back in one process
    remote_events: int  # events sent back to back across processes
    budget_s: float  # a run stops emitting after this (figures stay valid)
    idle_s: float = 2.0
    idle_subscribers: int = 3


QUICK = Plan(rounds=3, pings=200, local_events=5_000, remote_events=2_000, budget_s=1.0)
FULL = Plan(rounds=3, pings=1_000, local_events=30_000, remote_events=10_000, budget_s=6.0)


class Figures(Samples):
    """Samples whose event figures (a Delivery per round) get field-by-field medians."""

    def median(self, key: str) -> Any:
        got = self.values.get(key)
        if got and isinstance(got[0], Delivery):
            return Delivery.median(got, _median)
        return super().median(key)

    def ratios(self, prefix: str, got: dict[str, Delivery | None], p50_base: str,
               rate_base: str) -> None:
        """This round's p50 and events/s of each subject over those of the baselines."""
        for label, d in got.items():
            lat, thr = got.get(p50_base), got.get(rate_base)
            if d and lat and lat.p50_ms > 0:
                self.values[f"{prefix}-x/{label}/p50"].append(d.p50_ms / lat.p50_ms)
            if d and thr and thr.rate > 0:
                self.values[f"{prefix}-x/{label}/rate"].append(d.rate / thr.rate)


@dataclasses.dataclass(frozen=True)
class Setup:
    """What every round uses: the stores, the emitters of this process, the subscribers."""

    namespace: str
    tmp: Path
    redis_url: str
    sqlite_send: Callable[[str], Send]
    redis_send: Callable[[str], Send]
    stream_send: Callable[[str], Send]
    crew: Crew


def idle_set(plan: Plan) -> list[str]:
    """The Redis subscribers counted when idle: "accord redis" (idle between its runs)
    and others on another namespace, so that they take no share of the measured runs."""
    return ["accord redis", *(f"idle {i}" for i in range(2, plan.idle_subscribers + 1))]


def feeds(plan: Plan, namespace: str, sqlite_url: str, redis_url: str) -> list[Feed]:
    """The subscriber processes: accord on SQLite and Redis, the idle set, raw streams."""
    return [
        Feed("accord sqlite", "accord", sqlite_url, namespace),
        Feed("accord redis", "accord", redis_url, namespace),
        *(Feed(label, "accord", redis_url, f"{namespace}-idle")
          for label in idle_set(plan)[1:]),
        Feed("stream", "stream", redis_url, namespace),
    ]


def one_round(plan: Plan, setup: Setup, samples: Figures) -> None:
    """Each measurement once, accord interleaved with its baselines."""
    local_round(plan, setup, samples)
    events = (plan.pings, plan.remote_events, plan.budget_s)
    samples.take("sqlite/accord sqlite",
                 lambda: setup.crew["accord sqlite"].delivery(setup.sqlite_send, *events))
    stream = setup.crew["stream"]
    got = {
        XREAD: samples.take(f"redis/{XREAD}", lambda: stream.delivery(
            setup.stream_send, *events, group=False)),
        XREADGROUP: samples.take(f"redis/{XREADGROUP}", lambda: stream.delivery(
            setup.stream_send, *events, group=True)),
        REDIS[2]: samples.take(f"redis/{REDIS[2]}", lambda: setup.crew[REDIS[2]].delivery(
            setup.redis_send, *events)),
    }
    samples.ratios("redis", got, XREAD, XREADGROUP)
    samples.take("idle/commands", lambda: idle_cost(plan, setup, samples))


def local_round(plan: Plan, setup: Setup, samples: Figures) -> None:
    """In one process. accord runs on a fresh memory store each round, and again on one
    whose log is full (the default ``max_events``), as in a long-lived process."""
    fresh, full = f"{setup.namespace}-{uuid.uuid4().hex[:6]}", f"{setup.namespace}-full"
    openers: dict[str, Callable[[Tally], Local]] = {
        LOCAL[0]: lambda tally: AccordLocal(tally, f"memory://{fresh}", fresh),
        LOCAL[1]: lambda tally: AgentDiffLocal(tally, str(setup.tmp / "agentdiff")),
        LOCAL[2]: QueueLocal,
        FULL_LOG_ROW: lambda tally: AccordLocal(tally, f"memory://{full}", full, fill=FULL_LOG),
    }
    got: dict[str, Delivery | None] = {}
    for label, opener in openers.items():
        got[label] = samples.take(f"local/{label}", functools.partial(
            measure, opener, plan.pings, plan.local_events, plan.budget_s))
    samples.ratios("local", got, LOCAL[0], LOCAL[0])
    samples.take(f"local/{WAIT_IDLE}", lambda: idle_round_trip(
        f"memory://{fresh}", fresh, plan.pings, plan.budget_s))


def idle_cost(plan: Plan, setup: Setup, samples: Figures) -> float:
    """Commands the server ran over ``plan.idle_s`` with only the idle subscribers on it."""
    for label in idle_set(plan):
        setup.crew[label].check()
    time.sleep(0.5)  # the last run's reads return
    counts = idle_commands(setup.redis_url, plan.idle_s)
    samples.values["idle/by-name"].append(counts)
    return float(sum(counts.values()))


def run(plan: Plan, redis_url: str, tmp: Path, command: str) -> str:
    namespace = f"bench-events-{uuid.uuid4().hex[:8]}"
    sqlite_url = f"sqlite:///{tmp / 'events.db'}"
    samples = Figures()
    try:
        with contextlib.ExitStack() as stack:
            # this process's coordinators first: the SQLite file exists before the children
            sqlite_send = stack.enter_context(accord_emitter(sqlite_url, namespace))
            redis_send = stack.enter_context(accord_emitter(redis_url, namespace))
            stream_send = stack.enter_context(stream_emitter(redis_url))
            print("starting subscriber processes", file=sys.stderr)
            crew = stack.enter_context(Crew(feeds(plan, namespace, sqlite_url, redis_url)))
            for label, member in crew.members.items():
                if member.failure:
                    print(f"  {label}: failed to start: {member.failure}", file=sys.stderr)
            setup = Setup(namespace, tmp, redis_url, sqlite_send, redis_send, stream_send, crew)
            for i in range(plan.rounds):
                print(f"round {i + 1}/{plan.rounds}", file=sys.stderr)
                one_round(plan, setup, samples)
    finally:
        with contextlib.suppress(redis.RedisError):
            _clean(redis_url, namespace)
    return render(environment(redis_url, plan, command), samples, plan)


def environment(redis_url: str, plan: Plan, command: str) -> dict[str, str]:
    try:
        agentdiff = "agentdiff-coordination " + importlib.metadata.version(
            "agentdiff-coordination")
    except importlib.metadata.PackageNotFoundError:
        agentdiff = "agentdiff-coordination not installed"
    return {
        **describe(redis_url, command),
        "agentdiff": agentdiff,
        "plan": f"{plan.rounds} rounds; per subject and round {plan.pings:,} events one at a "
                f"time, then {plan.local_events:,} (in one process) or {plan.remote_events:,} "
                f"(across processes) back to back, each part cut at {plan.budget_s:g} s; "
                f"medians of the rounds",
    }


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: subscribers, redis-server, temp files go


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer events per measurement, for a smoke test (about a minute)")
    parser.add_argument("--redis-url", metavar="URL",
                        help="use this Redis server (default: start a private redis-server); "
                             "the idle figure then counts every other client of it too")
    parser.add_argument("--rounds", type=int, help="rounds to take medians over (default 3)")
    parser.add_argument("--output", type=Path, help="markdown file to write "
                        "(default bench/results/<date>-events.md)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.rounds:
        plan = dataclasses.replace(plan, rounds=args.rounds)
    signal.signal(signal.SIGTERM, _terminated)
    command = "python bench/events.py" + (" --quick" if args.quick else "")
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="accord-bench-events-"))
    server = contextlib.nullcontext(args.redis_url) if args.redis_url else private_redis()
    try:
        with server as redis_url:
            report = run(plan, redis_url, tmp, command)
    except KeyboardInterrupt:
        print("interrupted; subscriber processes and the private redis-server are stopped",
              file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write_report(report, began, args.output, "-events", args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
