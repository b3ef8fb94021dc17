"""Events across real processes, on the stores that reach across processes."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.errors import RemoteError, RequestTimeout
from accord.testing.conformance import _event_children as children

pytestmark = pytest.mark.accord_processes

ctx = multiprocessing.get_context("spawn")


def start(target: Any, *args: Any) -> Any:
    proc = ctx.Process(target=target, args=args, daemon=True)
    proc.start()
    return proc


def wait_ready(ready: Any, count: int) -> None:
    for _ in range(count):
        ready.get(timeout=60)


def stop_all(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.kill()
        proc.join(10)


@pytest.mark.accord_capability("events")
@pytest.mark.parametrize("child_mode", ["sync", "async"])
def test_broadcast_reaches_every_process_once_in_order(
    url: str, namespace: str, child_mode: str
) -> None:
    ready, out = ctx.Queue(), ctx.Queue()
    procs = [
        start(children.broadcast_listener, url, namespace, child_mode, ready, out, 50)
        for _ in range(3)
    ]
    try:
        wait_ready(ready, 3)
        coord = accord.connect(url, namespace=namespace, agent="emitter")
        for n in range(50):
            coord.emit("bcast", {"n": n})
        coord.close()
        results = [out.get(timeout=60) for _ in range(3)]
    finally:
        stop_all(procs)
    assert results == [list(range(50))] * 3


def _handled(paths: list[Path]) -> list[int]:
    out: list[int] = []
    for path in paths:
        if path.exists():  # a line still being written (no newline yet) is not counted
            out += [int(line) for line in path.read_text().split("\n")[:-1]]
    return out


def _run_group(url: str, namespace: str, tmp_path: Path, events: int, kill_one: bool) -> list[int]:
    ready = ctx.Queue()
    logs = [tmp_path / f"worker-{i}.log" for i in range(3)]
    delay = 0.004 if kill_one else 0.0
    procs = [start(children.group_worker, url, namespace, ready, str(p), delay) for p in logs]
    try:
        wait_ready(ready, 3)
        time.sleep(0.5)  # the group exists once a worker has started reading
        coord = accord.connect(url, namespace=namespace, agent="producer")
        for n in range(events):
            coord.emit("job", {"n": n})
        coord.close()
        deadline = time.monotonic() + 60
        if kill_one:
            while len(set(_handled(logs))) < events // 4 and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(procs[0].pid, signal.SIGKILL)
        while len(set(_handled(logs))) < events and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
    finally:
        stop_all(procs)
    return _handled(logs)


@pytest.mark.accord_capability("events")
def test_group_of_three_processes_handles_each_event_once(
    url: str, namespace: str, tmp_path: Path
) -> None:
    handled = _run_group(url, namespace, tmp_path, 1000, kill_one=False)
    assert sorted(handled) == list(range(1000))


@pytest.mark.accord_capability("events")
def test_group_redelivers_what_a_killed_worker_claimed(
    url: str, namespace: str, tmp_path: Path
) -> None:
    handled = _run_group(url, namespace, tmp_path, 1000, kill_one=True)
    assert set(handled) == set(range(1000))  # at least once: nothing lost


@pytest.mark.accord_capability("events", "signals")
def test_request_reply_across_processes(url: str, namespace: str) -> None:
    ready = ctx.Queue()
    proc = start(children.responder, url, namespace, ready)
    try:
        wait_ready(ready, 1)
        coord = accord.connect(url, namespace=namespace, agent="asker")
        reply = coord.request("calc", 21, timeout=20)
        assert reply == {"double": 42, "pid": proc.pid}
        with pytest.raises(RemoteError) as err:
            coord.request("calc", "boom", timeout=20)
        assert err.value.error_type == "KeyError"
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(10)
        with pytest.raises(RequestTimeout):
            coord.request("calc", 1, timeout=0.5)
        coord.close()
    finally:
        stop_all([proc])


@pytest.mark.accord_capability("leases")
def test_barrier_of_four_processes(url: str, namespace: str) -> None:
    out = ctx.Queue()
    procs = [start(children.barrier_party, url, namespace, out) for _ in range(4)]
    try:
        results = [out.get(timeout=60) for _ in range(4)]
    finally:
        stop_all(procs)
    assert sorted(i for i, _ in results) == [0, 1, 2, 3]
    released = [t for _, t in results]
    assert max(released) - min(released) < 1.0


@pytest.mark.accord_capability("events")
def test_replay_after_consumer_restart(url: str, namespace: str) -> None:
    producer = accord.connect(url, namespace=namespace, agent="producer")
    for n in range(10):
        producer.emit("tick", {"n": n})
    first = accord.connect(url, namespace=namespace, agent="consumer")
    seen = first.events.read(limit=4)
    last = seen[-1].id
    first.close()  # the consumer "restarts"
    for n in range(10, 13):
        producer.emit("tick", {"n": n})
    again = accord.connect(url, namespace=namespace, agent="consumer")
    rest = [e["n"] for e in again.subscribe("tick", after=last, timeout=0.5)]
    assert [e["n"] for e in seen] + rest == list(range(13))
    again.close()
    producer.close()
