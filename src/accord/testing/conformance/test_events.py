"""Events, agent decorators, request-reply and barriers in one process, on every
backend, sync and async. Cross-process behaviour is in test_event_processes.py."""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.errors import (
    AccordError,
    BarrierBroken,
    BarrierTimeout,
    ConfigError,
    InvalidName,
    PayloadTooLarge,
    RemoteError,
    RequestTimeout,
    SchemaError,
)


def agent_fn(mode: str, fn: Any) -> Any:
    """The plain function in sync mode, an ``async def`` around it in async mode."""
    if mode == "sync":
        return fn

    async def run(*args: Any) -> Any:
        return fn(*args)

    run.__qualname__ = fn.__qualname__
    return run


async def call(mode: str, fn: Any, *args: Any) -> Any:
    return fn(*args) if mode == "sync" else await fn(*args)


@pytest.mark.accord_capability("leases", "events")
async def test_three_stage_chain_runs_from_one_call(coord: Any, mode: str) -> None:
    summaries: list[str] = []
    research = coord.coordinate("researcher")(agent_fn(mode, lambda topic: {"facts": [topic, 2]}))
    analyze = coord.coordinate("analyzer", lock_name="openai_api")(
        agent_fn(mode, lambda facts: {"analysis": f"{len(facts)} facts"})
    )
    def summary(analysis: str) -> str:
        summaries.append(analysis)
        return "done"

    summarize = coord.coordinate("summarizer")(agent_fn(mode, summary))

    if mode == "sync":
        coord.when("researcher_complete")(lambda e: analyze(e["result"]["facts"]))
        coord.when("analyzer_complete")(lambda e: summarize(e["result"]["analysis"]))
    else:

        @coord.when("researcher_complete")
        async def on_research(event: accord.Event) -> None:
            await analyze(event["result"]["facts"])

        @coord.when("analyzer_complete")
        async def on_analysis(event: accord.Event) -> None:
            await summarize(event["result"]["analysis"])

    assert await call(mode, research, "tides") == {"facts": ["tides", 2]}
    assert await coord.wait_idle(20)
    assert summaries == ["2 facts"]
    names = [e.name for e in reversed(await coord.events.history(limit=20))]
    assert names == [
        "researcher_started", "researcher_complete",
        "analyzer_started", "analyzer_complete",
        "summarizer_started", "summarizer_complete",
    ]


@pytest.mark.accord_capability("events")
async def test_lifecycle_events_carry_their_fields(coord: Any, mode: str) -> None:
    ok = coord.coordinate("worker")(agent_fn(mode, lambda x: x * 2))
    boom = coord.coordinate("crasher")(agent_fn(mode, lambda: 1 / 0))
    opaque = coord.coordinate("maker")(agent_fn(mode, lambda: threading.Lock()))

    assert await call(mode, ok, 21) == 42
    with pytest.raises(ZeroDivisionError):
        await call(mode, boom)
    lock = await call(mode, opaque)
    assert hasattr(lock, "acquire")  # the caller gets the real object

    events = {e.name: e for e in await coord.events.history(limit=20)}
    started, complete = events["worker_started"], events["worker_complete"]
    assert started["agent"] == "worker" and started["run_id"] == complete["run_id"]
    assert complete["result"] == 42 and complete["duration_s"] >= 0
    failed = events["crasher_failed"]
    assert failed["error_type"] == "ZeroDivisionError" and "division" in failed["error"]
    assert failed["duration_s"] >= 0 and "crasher_complete" not in events
    assert "result" not in events["maker_complete"]
    assert "lock" in events["maker_complete"]["result_repr"]
    assert started.source == "tester" and started.time > 0


@pytest.mark.accord_capability("leases", "events")
async def test_agents_sharing_a_lock_never_overlap(coord: Any, mode: str, run_workers: Any) -> None:
    intervals: list[tuple[float, float]] = []

    def work() -> None:
        start = time.monotonic()
        time.sleep(0.002)
        intervals.append((start, time.monotonic()))

    first = coord.coordinate("writer_a", lock_name="customer_1")(agent_fn(mode, work))
    second = coord.coordinate("writer_b", lock_name="customer_1")(agent_fn(mode, work))

    async def body(i: int) -> None:
        for _ in range(5):
            await call(mode, first if i % 2 else second)

    await run_workers(8, body)
    intervals.sort()
    assert len(intervals) == 40
    for (_, end), (start, _) in itertools.pairwise(intervals):
        assert end <= start


@pytest.mark.accord_capability("events")
async def test_when_handlers_see_events_in_order_and_survive_failures(coord: Any) -> None:
    seen: list[tuple[str, int]] = []

    @coord.when("order.*")
    def first(event: accord.Event) -> None:
        seen.append(("first", event["n"]))
        if event["n"] == 2:
            raise RuntimeError("handler broke")

    @coord.when("order.created")
    def second(event: accord.Event) -> None:
        seen.append(("second", event["n"]))

    for n in range(5):
        await coord.emit("order.created", {"n": n})
    await coord.emit("invoice.created", {"n": 99})
    assert await coord.wait_idle(20)
    assert [n for who, n in seen if who == "first"] == [0, 1, 2, 3, 4]
    assert [n for who, n in seen if who == "second"] == [0, 1, 2, 3, 4]
    failures = await coord.events.history(name="handler_failed")
    assert len(failures) == 1
    assert failures[0]["error_type"] == "RuntimeError" and "first" in failures[0]["handler"]


@pytest.mark.accord_capability("events")
async def test_event_is_a_read_only_copy(coord: Any) -> None:
    payload = {"items": [1, 2]}
    got: list[accord.Event] = []
    coord.when("copy.test")(got.append)
    event_id = await coord.emit("copy.test", payload)
    payload["items"].append(3)
    assert await coord.wait_idle(20)
    (event,) = got
    assert event["items"] == [1, 2] and event.id == event_id and event.name == "copy.test"
    with pytest.raises(TypeError):
        event["items"] = []  # type: ignore[index]


@pytest.mark.accord_capability("events")
async def test_history_read_and_subscribe_replay(coord: Any) -> None:
    ids = [await coord.emit("step", {"n": n}) for n in range(5)]
    await coord.emit("other", {"n": 9})
    newest = await coord.events.history(name="step", limit=2)
    assert [e["n"] for e in newest] == [4, 3]
    assert [e["n"] for e in await coord.events.history(source="tester", limit=2)] == [9, 4]
    after_two = await coord.events.read(after=ids[1])
    assert [e.get("n") for e in after_two] == [2, 3, 4, 9]
    replayed = [e["n"] async for e in coord.subscribe("step", timeout=0.3, after=ids[0])]
    assert replayed == [1, 2, 3, 4]


@pytest.mark.accord_capability("events")
async def test_subscribe_gets_new_events_and_ends_when_quiet(coord: Any, spawn: Any) -> None:
    await coord.emit("old", {})

    async def produce() -> None:
        await asyncio.sleep(0.2)
        for n in range(3):
            await coord.emit("fresh", {"n": n})

    producer = spawn(produce)
    start = time.monotonic()
    got = [e["n"] async for e in coord.subscribe("fresh", timeout=1.0)]
    await producer.join()
    assert got == [0, 1, 2]
    assert time.monotonic() - start < 10


@pytest.mark.accord_capability("events")
async def test_retention_trims_the_oldest(connect: Any) -> None:
    coord = connect("tester", max_events=5)
    for n in range(12):
        await coord.emit("tick", {"n": n})
    kept = await coord.events.read(limit=100)
    assert [e["n"] for e in kept] == [7, 8, 9, 10, 11]


@pytest.mark.accord_capability("events")
async def test_group_handlers_share_the_work(connect: Any) -> None:
    a, b = connect("worker-a"), connect("worker-b")
    handled: list[tuple[str, int]] = []
    for coord, who in ((a, "a"), (b, "b")):
        coord.when("job", group="pool", visibility=5)(
            lambda e, who=who: handled.append((who, e["n"]))
        )
    await a.events.start()
    await b.events.start()
    for n in range(40):
        await a.emit("job", {"n": n})
    assert await a.wait_idle(20) and await b.wait_idle(20)
    deadline = time.monotonic() + 10
    while len(handled) < 40 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert sorted(n for _, n in handled) == list(range(40))


@pytest.mark.accord_capability("events")
def test_closing_stops_its_reader_threads_at_once(url: str, namespace: str) -> None:
    # A sync coordinator's reader is a thread sleeping in a read of up to 5 s; close()
    # must wake it, or each closed coordinator leaves threads behind for seconds. One
    # reader serves the broadcast handler and the group alike.
    before = set(threading.enumerate())
    coord = accord.connect(url, namespace=namespace)
    coord.when("ping")(lambda e: None)
    coord.when("ping", group="pool")(lambda e: None)
    coord.emit("ping")
    assert coord.wait_idle(10)
    time.sleep(0.2)  # the reader is asleep by now
    readers = [t for t in set(threading.enumerate()) - before if t.name.startswith("accord-")]
    assert {t.name for t in readers} == {"accord-events", "accord-handlers"}
    assert [t.name for t in readers].count("accord-events") == 1
    began = time.monotonic()
    coord.close()
    for thread in readers:
        thread.join(2.0)
    assert not [t.name for t in readers if t.is_alive()]
    assert time.monotonic() - began < 2.0


@pytest.mark.accord_capability("events", "signals")
async def test_request_reply(coord: Any, connect: Any, mode: str) -> None:
    server = connect("calculator")

    def double(payload: Any) -> Any:
        if payload == "boom":
            raise ValueError("cannot double boom")
        return payload * 2

    server.responder("calc")(agent_fn(mode, double))
    await server.events.start()
    assert await coord.request("calc", 21, timeout=10) == 42
    with pytest.raises(RemoteError) as err:
        await coord.request("calc", "boom", timeout=10)
    assert err.value.error_type == "ValueError" and "cannot double" in err.value.remote_message
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await coord.request("nobody-home", 1, timeout=0.3)
    assert time.monotonic() - started < 5


@pytest.mark.accord_capability("leases")
async def test_barrier_releases_all_parties_at_once(coord: Any, run_workers: Any) -> None:
    barrier = coord.barrier("start-line", 4, timeout=20)

    async def body(i: int) -> int:
        index: int = await barrier.wait()
        return index

    indexes = await run_workers(4, body)
    assert sorted(indexes) == [0, 1, 2, 3]


@pytest.mark.accord_capability("leases")
async def test_barrier_timeout_breaks_it_for_everyone(coord: Any, spawn: Any) -> None:
    barrier = coord.barrier("never-full", 3)

    async def wait_long() -> int:
        index: int = await barrier.wait(timeout=20)
        return index

    other = spawn(wait_long)
    await asyncio.sleep(0.3)
    started = time.monotonic()
    with pytest.raises(BarrierTimeout) as timed_out:
        await barrier.wait(timeout=0.3)
    assert not isinstance(timed_out.value, BarrierBroken)
    with pytest.raises(BarrierBroken):  # at once, not when its own 20 s run out
        await other.join(timeout=10)
    assert time.monotonic() - started < 10


@pytest.mark.accord_capability("events")
async def test_bad_event_input_raises_at_the_call_and_emits_nothing(connect: Any) -> None:
    coord = connect("tester", max_payload=100)

    class Model:
        @staticmethod
        def model_validate(value: Any) -> None:
            if not isinstance(value.get("qty"), int):
                raise ValueError("qty must be an int")

    coord.events.schema("order.placed", Model)
    with pytest.raises(TypeError, match="set"):
        await coord.emit("x", {"bad": {1, 2}})
    with pytest.raises(PayloadTooLarge):
        await coord.emit("x", {"blob": "y" * 200})
    with pytest.raises(SchemaError, match="qty"):
        await coord.emit("order.placed", {"qty": "three"})
    with pytest.raises(InvalidName):
        await coord.emit("has space", {})
    with pytest.raises(InvalidName):
        coord.when("bad pattern!")(lambda e: None)
    assert await coord.events.history() == []
    await coord.emit("order.placed", {"qty": 3})
    assert len(await coord.events.history()) == 1


@pytest.mark.accord_capability("events")
async def test_group_members_with_different_patterns_lose_nothing(connect: Any) -> None:
    # A group is keyed by (group, pattern): a member never takes, and acknowledges,
    # an event only a member with another pattern would handle.
    c1, c2 = connect("member-1"), connect("member-2")
    got: dict[str, list[int]] = {"a": [], "b": []}
    c1.when("a.*", group="g", visibility=5)(lambda e: got["a"].append(e["n"]))
    c2.when("b.*", group="g", visibility=5)(lambda e: got["b"].append(e["n"]))
    await c1.events.start()
    await c2.events.start()
    for n in range(10):
        await c1.emit("a.x", {"n": n})
        await c1.emit("b.y", {"n": n})
    assert await c1.wait_idle(20) and await c2.wait_idle(20)
    assert got == {"a": list(range(10)), "b": list(range(10))}


@pytest.mark.accord_capability("events")
async def test_wait_idle_waits_for_group_handlers_on_a_busy_machine(connect: Any) -> None:
    # Two CPU-bound threads beside the readers: a group reader that has not claimed
    # the event yet must still keep wait_idle from returning.
    stop = threading.Event()

    def spin() -> None:
        while not stop.is_set():
            sum(range(2000))

    spinners = [threading.Thread(target=spin, daemon=True) for _ in range(2)]
    for thread in spinners:
        thread.start()
    try:
        coord = connect("tester")
        for round_ in range(6):
            got: list[str] = []
            expected = ["group"]
            if round_ % 2:  # with a broadcast handler beside it, and alone
                coord.when(f"ping{round_}")(lambda e, got=got: got.append("broadcast"))
                expected.insert(0, "broadcast")
            coord.when(f"ping{round_}", group=f"pool{round_}")(
                lambda e, got=got: got.append("group")
            )
            assert await coord.wait_idle(20)
            await coord.emit(f"ping{round_}")
            assert await coord.wait_idle(20)
            assert sorted(got) == expected, round_
    finally:
        stop.set()
        for thread in spinners:
            thread.join()


@pytest.mark.accord_capability("events")
async def test_subscribe_timeout_is_not_extended_by_other_events(
    coord: Any, spawn: Any
) -> None:
    stop = threading.Event()

    async def chatter() -> None:
        while not stop.is_set():
            await coord.emit("unrelated", {})
            await asyncio.sleep(0.05)

    talker = spawn(chatter)
    try:
        started = time.monotonic()
        got = [e async for e in coord.subscribe("wanted", timeout=0.5)]
        assert got == [] and time.monotonic() - started < 5
    finally:
        stop.set()
        await talker.join()


@pytest.mark.accord_capability("state", "events", "signals")
async def test_out_of_range_event_arguments_raise_accord_errors(coord: Any, mode: str) -> None:
    await coord.emit("x", {})
    huge = [2**63, 2**64, 10**30]
    for limit in (*huge, 0, -1, 1.5, True):
        with pytest.raises(ConfigError, match="limit"):
            await coord.events.history(limit=limit)
        with pytest.raises(ConfigError, match="limit"):
            await coord.events.read(limit=limit)
        with pytest.raises(ConfigError, match="limit"):
            await coord.state("m").history("k", limit=limit)
    for bad_id in ("9" * 30, "1-2-3", "", "x", "-1", "1.5", " 1", 7, "18446744073709551616"):
        with pytest.raises(ConfigError, match="event id"):
            await coord.events.read(after=bad_id)
        with pytest.raises(ConfigError, match="event id"):
            async for _ in coord.subscribe(after=bad_id, timeout=0):
                pass
    for seconds in (1e300, float("inf"), float("nan"), -1):
        with pytest.raises(ConfigError, match="timeout"):
            async for _ in coord.subscribe(timeout=seconds):
                pass
        with pytest.raises(ConfigError, match="timeout"):
            await coord.wait_idle(seconds)
        with pytest.raises(ConfigError, match="timeout"):
            await coord.request("nobody", {}, timeout=seconds)
        with pytest.raises(ConfigError, match="visibility"):
            coord.when("x", group="g", visibility=seconds)(lambda e: None)
    assert [e.name for e in await coord.events.history()] == ["x"]  # no request went out


@pytest.mark.accord_capability("events")
async def test_a_huge_but_well_formed_event_id_reads_nothing_or_raises(coord: Any) -> None:
    await coord.emit("x", {})
    try:
        found = await coord.events.read(after="9" * 19)
    except AccordError as exc:
        assert "event id" in str(exc)
    else:
        assert found == []


_DECLARED_FIRST = """
import os, sys
import accord

url, namespace = sys.argv[1], sys.argv[2]
seen = []

class Model:
    @staticmethod
    def model_validate(value):
        if not isinstance(value.get("n"), int):
            raise ValueError("n must be an int")

accord.events.schema("tick", Model)

@accord.when("tick")
def on_tick(event):
    seen.append(("broadcast", event["n"]))

@accord.when("tick", group="pool")
def on_tick_in_group(event):
    seen.append(("group", event["n"]))

assert not os.path.exists(".accord"), "declaring handlers opened the default store"
accord.configure(url, namespace=namespace)
accord.emit("tick", {"n": 1})
assert accord.wait_idle(20)
try:
    accord.emit("tick", {"n": "one"})
except accord.SchemaError:
    pass
else:
    raise AssertionError("the schema declared before configure() was dropped")
accord.configure(url, namespace=namespace + "-2")  # a second configure keeps them too
accord.emit("tick", {"n": 2})
assert accord.wait_idle(20)
print(sorted(seen))
print(os.path.exists(".accord"))
"""


@pytest.mark.accord_capability("events")
def test_handlers_declared_before_configure_run_after_it(
    url: str, namespace: str, tmp_path: Path
) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_URL"}
    result = subprocess.run(
        [sys.executable, "-c", _DECLARED_FIRST, url, namespace],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [
        "[('broadcast', 1), ('broadcast', 2), ('group', 1), ('group', 2)]",
        "False",
    ]
