"""Task queues across real processes (on stores processes share: SQLite, Redis):
exactly-once claims with histories checked, a claimer killed with SIGKILL, waiting
for results in another process. Once per store (the children use both APIs)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.backends.redis._lua import MAILBOX_ALIVE_MS
from accord.testing.conformance import _queue_children as children
from accord.testing.conformance._procs import read_report

pytestmark = [
    pytest.mark.accord_capability("tasks", "events"),
    pytest.mark.accord_processes,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux clocks"),
]

SPAWN = multiprocessing.get_context("spawn")


def _start(procs: list[Any], target: Any, *args: Any) -> Any:
    proc = SPAWN.Process(target=target, args=args, daemon=True)
    proc.start()
    procs.append(proc)
    return proc


def _join(procs: list[Any], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.join(max(deadline - time.monotonic(), 0.1))
    alive = [p for p in procs if p.is_alive()]
    for proc in alive:
        proc.kill()
    assert not alive, f"{len(alive)} children still running after {timeout} s"


def _report_of(out: Path, proc: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not out.exists():
        assert proc.is_alive(), f"child exited with {proc.exitcode}"
        assert time.monotonic() < deadline, f"no report from the child after {timeout} s"
        time.sleep(0.01)
    return read_report(out)


def test_eight_workers_on_four_processes_do_each_task_exactly_once(
    url: str, namespace: str, tmp_path: Path
) -> None:
    n = 2000
    with accord.connect(url, namespace=namespace, agent="producer") as coord:
        q = coord.queue("jobs")
        for i in range(n):
            q.put(f"t{i}", priority=i % 4)
        start = SPAWN.Barrier(4)
        outs = [tmp_path / f"proc-{i}.json" for i in range(4)]
        procs: list[Any] = []
        for i, out in enumerate(outs):
            api = "sync" if i % 2 == 0 else "async"
            _start(procs, children.drain, url, namespace, f"proc-{i}", api, 2, start, str(out))
        _join(procs)
        history = [row for out in outs for row in read_report(out)]
        stats = q.stats()
    done = Counter(task_id for task_id, *_ in history)
    assert len(done) == n and set(done.values()) == {1}, "a task done twice, or lost"
    tokens = [token for _, token, *_ in history]
    assert len(set(tokens)) == n, "two claims with one token"
    by_task: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for task_id, _, got, left in history:
        by_task[task_id].append((got, left))
    assert all(len(spans) == 1 for spans in by_task.values())  # no claim overlaps another
    assert (stats.done, stats.ready, stats.claimed, stats.total) == (n, 0, 0, n)


def test_a_killed_claimers_task_is_redelivered_after_one_lease(
    url: str, namespace: str, tmp_path: Path
) -> None:
    lease = 1.0
    procs: list[Any] = []
    with accord.connect(url, namespace=namespace, agent="boss") as coord:
        q = coord.queue("jobs")
        task = q.put("fragile", max_attempts=3)
        out = tmp_path / "doomed.json"
        proc = _start(procs, children.claim_until_killed, url, namespace, "doomed", lease,
                      str(out))
        held = _report_of(out, proc)
        assert held["id"] == task.id
        assert q.claim() is None  # it is claimed
        os.kill(held["pid"], signal.SIGKILL)
        killed_at = time.monotonic()
        claim = q.claim(timeout=lease + 5)  # woken when the lease runs out
        got_at = time.monotonic()
        proc.join(10)
    assert claim is not None and claim.id == task.id
    assert got_at - killed_at <= lease + 0.5, f"redelivered {got_at - killed_at:.2f} s after"
    assert claim.token > held["token"] and claim.task.attempts == 2
    assert proc.exitcode == -signal.SIGKILL


def test_a_waiter_killed_while_waiting_is_handed_nothing(
    url: str, namespace: str, tmp_path: Path
) -> None:
    """A task is claimed for a waiting claimer as it is put; one killed while waiting
    must not take it with it: SQLite finds its pipe without a reader and gives the claim
    back at once, Redis skips a waiter whose presence (renewed by each BLPOP of its
    mailbox, MAILBOX_ALIVE_MS) ran out."""
    procs: list[Any] = []
    with accord.connect(url, namespace=namespace, agent="boss") as coord:
        q = coord.queue("jobs")
        out = tmp_path / "waiter.json"
        proc = _start(procs, children.wait_until_killed, url, namespace, "doomed", str(out))
        time.sleep(0.5)  # it waits by now
        probe = q.put("probe")
        assert _report_of(out, proc)["id"] == probe.id  # handed over: it waited
        time.sleep(0.5)  # it waits again by now, with a 60 s lease asked
        os.kill(_report_of(out, proc)["pid"], signal.SIGKILL)
        proc.join(10)
        time.sleep(MAILBOX_ALIVE_MS / 1000 + 0.5)  # its presence ran out (Redis)
        task = q.put("after")
        claim = q.claim(timeout=0)
        assert claim is not None and claim.id == task.id and claim.task.attempts == 1
        claim.complete()
    assert proc.exitcode == -signal.SIGKILL


def test_results_are_awaited_across_processes(url: str, namespace: str, tmp_path: Path) -> None:
    procs: list[Any] = []
    out = tmp_path / "server.json"
    _start(procs, children.serve, url, namespace, "server", 3, str(out))
    with accord.connect(url, namespace=namespace, agent="client") as coord:
        q = coord.queue("jobs")
        tasks = [q.put(f"double {i}", data=i) for i in range(3)]
        assert [t.wait(timeout=30) for t in tasks] == [0, 2, 4]
        events = [e for e in coord.events.history(name="task_done", limit=10)]
    _join(procs)
    assert read_report(out) == 3
    assert sorted(e["id"] for e in events) == sorted(t.id for t in tasks)
    assert {e.source for e in events} == {"server"}
