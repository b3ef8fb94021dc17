"""The markdown report of ``bench/events.py``: every figure, its target from issue 3
("Benchmarks"), and whether it is met."""

from __future__ import annotations

import math
from typing import Any

from _delivery import Delivery
from _report import Target, Verdicts, _cell, _ms, _plain, _rate, _ratio, _table, at_least, at_most

LOCAL = ("accord memory", "agentdiff-coordination", "queue.Queue")
FULL_LOG_ROW = "accord memory, log full (100,000 events)"
WAIT_IDLE = "accord memory: emit, then wait_idle()"
SQLITE = ("accord sqlite",)
XREAD, XREADGROUP = "XADD + XREAD BLOCK", "XADD + XREADGROUP + XACK"
REDIS = (XREAD, XREADGROUP, "accord redis")

TARGETS: dict[str, tuple[Target, ...]] = {
    "local/accord memory": (at_least("rate", 50_000, "≥ 50,000 events/s", "events/s"),),
    "sqlite/accord sqlite": (at_most("p50_ms", 5.0, "p50 < 5 ms", "p50"),),
    "redis/accord redis": (
        at_most("p50_ms", 1.0, "p50 < 1 ms", "p50"),
        at_least("x_rate", 0.5, "≥ 0.5 x XREADGROUP + XACK floor", "throughput"),
    ),
    "idle": (at_most("per_subscriber", 1.0, "≤ 1 command per subscriber (one blocking read)",
                     "commands"),),
}


def render(env: dict[str, str], samples: Any, plan: Any) -> str:
    verdicts = Verdicts(TARGETS)
    parts = [
        f"# accord events benchmark, {env['date']}",
        "",
        f"`{env['command']}` at {env['code']} on {env['machine']}, Python {env['python']}, "
        f"{env['redis']}, {env['agentdiff']}. {env['plan']}. In every round accord and the "
        "baselines are measured one after the other on the same machine (and Redis server); "
        "ratios are taken within a round, then the median over rounds is shown.",
        "",
        "Latency: one event at a time (the next is emitted once the handler has seen the "
        "last), from `time.monotonic()` stamped into the payload just before `emit` (or "
        "`XADD`/`put`) to `time.monotonic()` on entry to the handler; across processes this "
        "is one clock on Linux. Throughput: events emitted back to back by one thread, "
        "handled per second from the first emit until the last handler call (accord in one "
        "process: until `wait_idle()` returned). *emit calls/s* is the emitting thread alone. "
        "*lost*: emitted but not handled within the run's timeout.",
        "",
        _deliveries("In one process (memory://, sync API)", "local",
                    (*LOCAL, FULL_LOG_ROW, WAIT_IDLE), samples, verdicts,
                    ("x accord", "accord memory", "accord memory"),
                    "One handler for one event name; its whole body counts the event. "
                    "queue.Queue: `put` in the emitting thread, `get` in one consumer thread, "
                    "no copy (accord and agentdiff-coordination hand the handler a copy). "
                    "agentdiff-coordination queues at most 10,000 deliveries and sends the "
                    "rest to its dead-letter queue: those show as lost. "
                    f"*{FULL_LOG_ROW}*: the same on a store whose log already holds the default "
                    "`max_events` (trimmed as it grows), as in a long-lived process. "
                    f"*{WAIT_IDLE}*: from just before `emit` until `wait_idle()` returned, "
                    "one event at a time: what `research(); wait_idle()` adds to the handler."),
        _deliveries("Across processes on SQLite", "sqlite", SQLITE, samples, verdicts, None,
                    "The handler runs in a spawned process (its own coordinator on the same "
                    "database file); this process emits."),
        _deliveries("Across processes on Redis", "redis", REDIS, samples, verdicts,
                    ("x floor", XREAD, XREADGROUP),
                    "The handler runs in a spawned process; this process emits. The floors "
                    "are redis-py alone on a fresh stream per run: `XADD` here, `XREAD BLOCK` "
                    "there (up to 256 entries a read) and `XADD` here, `XREADGROUP COUNT 1` + "
                    "`XACK` there, one entry at a time. p50 x floor is against the XREAD "
                    "floor, events/s x floor against the XREADGROUP + XACK floor."),
        _idle(samples, verdicts, plan),
    ]
    total = verdicts.met + len(verdicts.missed)
    parts.append(f"## Targets\n\n{verdicts.met} of {total} target checks met.")
    if verdicts.missed:
        parts.append("\nMissed:\n\n" + "\n".join(f"- {m}" for m in verdicts.missed))
    if samples.errors:
        parts.append("\nFailed measurements (the row stays empty; later rounds skip it):\n\n"
                     + "\n".join(f"- {k}: {v}" for k, v in samples.errors.items()))
    return "\n".join(parts) + "\n"


def _deliveries(title: str, prefix: str, labels: tuple[str, ...], samples: Any,
                verdicts: Verdicts, ratios: tuple[str, str, str] | None, note: str) -> str:
    """One row per subject; ``ratios`` = (column word, p50 denominator, rate denominator)."""
    heads = ["subject", "p50", "p99", "events/s", "emit calls/s", "lost", "target", "met"]
    if ratios:
        heads[3:3] = [f"p50 {ratios[0]}"]
        heads[5:5] = [f"events/s {ratios[0]}"]
    rows = []
    for label in labels:
        key = f"{prefix}/{label}"
        d: Delivery | None = samples.median(key)
        x_p50 = samples.median(f"{prefix}-x/{label}/p50")
        x_rate = samples.median(f"{prefix}-x/{label}/rate")
        metrics = {} if d is None else {**d.__dict__, "x_p50": x_p50, "x_rate": x_rate}
        target, met = verdicts.check(key, metrics)
        if d is None:
            row = [label, _cell(samples, key, ""), "", "", "", "", target, met]
        else:
            if d.lost > 0:
                met = f"{met} ⚠ {d.lost:.0f} events lost".strip()
            lost = "" if math.isnan(d.lost) else f"{d.lost:.0f}"
            row = [label, _ms(d.p50_ms), _ms(d.p99_ms), _rate(d.rate), _rate(d.emit_rate),
                   lost, target, met]
        if ratios:
            row[3:3] = [_ratio(x_p50)]
            row[5:5] = [_ratio(x_rate)]
        rows.append(row)
    return _table(title, heads, rows, None, note)


def _idle(samples: Any, verdicts: Verdicts, plan: Any) -> str:
    rounds_got: list[float] = samples.values.get("idle/commands", [])
    total = max(rounds_got) if rounds_got else None  # every window must be quiet
    per = None if total is None else total / plan.idle_subscribers
    target, met = verdicts.check("idle", {"per_subscriber": per})
    if total is None:
        cells = [_cell(samples, "idle/commands", ""), "", "", ""]
    else:
        rounds = " / ".join(f"{v:.0f}" for v in rounds_got)
        by_name: dict[str, int] = {}
        for counts in samples.values.get("idle/by-name", []):
            for name, n in counts.items():
                by_name[name] = by_name.get(name, 0) + n
        names = ", ".join(f"{k} {v}" for k, v in sorted(by_name.items())) or "none"
        cells = [_plain(total), rounds, f"{per:.2f}", names]
    rows = [["accord redis", str(plan.idle_subscribers), f"{plan.idle_s:g} s", *cells, target,
             met]]
    note = (f"{plan.idle_subscribers} subscriber processes, each a coordinator with one "
            "`@when` handler and no events coming. Counted: every command the Redis server ran "
            "in the window (INFO commandstats; the INFO calls themselves left out, commands "
            "run by Lua scripts counted); a blocking read counts when it returns. *commands "
            "by name* adds up all rounds.")
    heads = ["subject", "subscribers", "window", "commands (worst round)", "per round",
             "per subscriber (worst)", "commands by name", "target", "met"]
    return _table("Idle subscribers on Redis", heads, rows, None, note)
