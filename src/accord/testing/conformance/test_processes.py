"""Locks across real processes (on stores processes share: SQLite, Redis): exclusion,
crash recovery, deadlock detection and FIFO, with children on the sync API or on the
asyncio API.

Children are started with "spawn" (fresh interpreters, as separate agents are);
their bodies are in ``_procs.py`` beside this file. ``time.monotonic()`` is
CLOCK_MONOTONIC on Linux, one clock for every process, so intervals recorded in
different processes can be compared.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.testing.conformance import _procs
from accord.testing.harness import eventually

pytestmark = [
    pytest.mark.accord_capability("leases", "state"),
    pytest.mark.accord_processes,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux clocks"),
]

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def children() -> Iterator[list[Any]]:
    """Processes started by the test; any still alive at the end are killed."""
    started: list[Any] = []
    yield started
    for proc in started:
        if proc.is_alive():
            proc.kill()
        proc.join(10)


def _start(children: list[Any], target: Any, *args: Any) -> Any:
    proc = SPAWN.Process(target=target, args=args, daemon=True)
    proc.start()
    children.append(proc)
    return proc


async def _join(procs: list[Any], timeout: float = 90.0) -> None:
    """Wait without blocking the event loop; every child must exit cleanly."""
    deadline = time.monotonic() + timeout
    while any(p.is_alive() for p in procs):
        assert time.monotonic() < deadline, f"children still running after {timeout} s"
        await asyncio.sleep(0.01)
    assert [p.exitcode for p in procs] == [0] * len(procs)


async def _report_of(out: Path, proc: Any, timeout: float = 60.0) -> Any:
    """The child's report, once it is written (fails early if the child died)."""
    deadline = time.monotonic() + timeout
    while not out.exists():
        assert proc.is_alive() or out.exists(), f"child exited with {proc.exitcode}"
        assert time.monotonic() < deadline, f"no report from the child after {timeout} s"
        await asyncio.sleep(0.01)
    return _procs.read_report(out)


async def test_four_processes_increment_under_one_lock(
    coord: Any, url: str, namespace: str, mode: str, tmp_path: Path, children: list[Any]
) -> None:
    procs, rounds = 4, 300
    start = SPAWN.Barrier(procs)
    outs = [tmp_path / f"proc-{i}.json" for i in range(procs)]
    for i, out in enumerate(outs):
        _start(
            children,
            _procs.increment_under_lock,
            url,
            namespace,
            f"proc-{i}",
            mode,
            rounds,
            start,
            str(out),
        )
    await _join(children)

    reports = [_procs.read_report(out) for out in outs]  # raises a child's traceback
    final = await coord.state("counters").get("n")
    assert final.value == procs * rounds
    held = sorted(
        (enter, leave, token, i)
        for i, report in enumerate(reports)
        for token, enter, leave in report
    )
    assert len(held) == procs * rounds
    for (_, leave_a, token_a, a), (enter_b, _, token_b, b) in itertools.pairwise(held):
        assert leave_a <= enter_b, f"proc-{a} (token {token_a}) overlapped proc-{b}"
        assert token_a < token_b, "tokens did not increase in order of entry"


async def test_a_killed_holder_blocks_others_at_most_its_ttl(
    coord: Any,
    url: str,
    namespace: str,
    mode: str,
    tmp_path: Path,
    children: list[Any],
    spawn: Any,
) -> None:
    ttl = 2.0
    out = tmp_path / "holder.json"
    proc = _start(children, _procs.hold_until_killed, url, namespace, "doomed", mode, ttl, str(out))
    held = await _report_of(out, proc)
    lock = coord.lock("job", ttl=10)
    stats = await lock.statistics()
    assert stats.holder == "doomed"
    assert stats.token == held["token"]

    async def wait_for_it() -> tuple[int, float]:
        lease = await coord.lock("job", ttl=10).acquire(timeout=30)
        got_at = time.monotonic()
        await lease.release()
        return lease.token, got_at

    waiter = spawn(wait_for_it)

    async def queued() -> bool:
        return bool((await lock.statistics()).waiters == ("tester",))

    await eventually(queued, what="the waiter queued")
    killed_at = time.monotonic()
    os.kill(held["pid"], signal.SIGKILL)
    token, got_at = await waiter.join(30)
    assert got_at - killed_at <= ttl + 1, f"acquired {got_at - killed_at:.2f} s after the kill"
    assert token > held["token"]
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL


async def test_a_deadlock_across_processes_is_detected(
    coord: Any, url: str, namespace: str, mode: str, tmp_path: Path, children: list[Any]
) -> None:
    start = SPAWN.Barrier(2)
    sides = [("proc-a", "res-x", "res-y"), ("proc-b", "res-y", "res-x")]
    outs = [tmp_path / f"{agent}.json" for agent, _, _ in sides]
    for (agent, first, second), out in zip(sides, outs, strict=True):
        _start(
            children,
            _procs.deadlock_side,
            url,
            namespace,
            agent,
            mode,
            first,
            second,
            start,
            str(out),
        )
    await _join(children)

    results = [_procs.read_report(out) for out in outs]
    outcomes = sorted(r["outcome"] for r in results)
    assert outcomes == ["acquired", "deadlock"], results
    refused = next(r for r in results if r["outcome"] == "deadlock")
    assert refused["took"] < 1.0, f"detected after {refused['took']:.2f} s"
    for word in ("proc-a", "proc-b", "res-x", "res-y"):
        assert word in refused["message"]
    for name in ("res-x", "res-y"):
        assert not await coord.lock(name).locked()


async def test_processes_are_served_in_the_order_they_queued(
    coord: Any, url: str, namespace: str, mode: str, tmp_path: Path, children: list[Any]
) -> None:
    lock = coord.lock("fifo", ttl=60)
    head = await lock.acquire()
    agents = ["proc-0", "proc-1", "proc-2"]
    outs = []
    for i, agent in enumerate(agents):
        outs.append(tmp_path / f"{agent}.json")
        _start(children, _procs.wait_turn, url, namespace, agent, mode, str(outs[-1]))
        expected = tuple(agents[: i + 1])

        async def queued(expected: tuple[str, ...] = expected) -> bool:
            return bool((await lock.statistics()).waiters == expected)

        await eventually(queued, timeout=30, what=f"{agent} queued")

    await head.release()
    await _join(children)
    served = [_procs.read_report(out) for out in outs]  # [token, entered] per agent
    tokens = [token for token, _ in served]
    entered = [at for _, at in served]
    assert tokens == sorted(tokens)
    assert tokens[0] > head.token
    assert entered == sorted(entered)


async def test_a_killed_waiter_does_not_block_the_queue(
    coord: Any,
    url: str,
    namespace: str,
    mode: str,
    children: list[Any],
    spawn: Any,
) -> None:
    ttl = 2.0
    lock = coord.lock("job", ttl=30)
    head = await lock.acquire()
    doomed = _start(children, _procs.queue_until_killed, url, namespace, "doomed", mode, ttl)

    async def waiters_are(*agents: str) -> bool:
        return bool((await lock.statistics()).waiters == agents)

    await eventually(lambda: waiters_are("doomed"), timeout=30, what="doomed queued")

    async def wait_for_it() -> float:  # another owner: a worker thread or task
        async with coord.lock("job", ttl=10, timeout=30):
            return time.monotonic()

    waiter = spawn(wait_for_it)
    await eventually(lambda: waiters_are("doomed", "tester"), what="tester queued")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.join(10)
    released_at = time.monotonic()
    await head.release()  # may hand the lock to the dead waiter: it holds at most ttl
    got_at = await waiter.join(30)
    assert got_at - released_at <= ttl + 1, f"waited {got_at - released_at:.2f} s"
