"""Many handlers and groups on one coordinator, on every backend, sync and async.

One reader per coordinator serves every handler and group: a coordinator with
1,000 groups and 10,000 handlers runs a bounded number of threads (sync), holds one
blocked read (on Redis, one pooled connection, not one per group), delivers every
event exactly to the handlers it matches and closes at once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

pytestmark = pytest.mark.accord_capability("events")

GROUPS = 1000
PER_GROUP = 10  # local members of each group: 10,000 handlers
KINDS = 10  # group i handles "job.<i % KINDS>"
MAX_NEW_THREADS = 40  # the reader and at most WORKERS handler threads, with room


def counting_handler(mode: str, counts: list[int], lock: threading.Lock, index: int) -> Any:
    def count(event: Any) -> None:
        with lock:
            counts[index] += 1

    if mode == "sync":
        return count

    async def run(event: Any) -> None:
        count(event)

    return run


async def test_a_thousand_groups_and_ten_thousand_handlers(connect: Any, mode: str) -> None:
    before = threading.active_count()
    coord = connect("many")
    counts = [0] * (GROUPS * PER_GROUP)
    lock = threading.Lock()
    broadcast: list[str] = []
    coord.when("job.*")(_appender(mode, broadcast))
    for g in range(GROUPS):
        for m in range(PER_GROUP):
            handler = counting_handler(mode, counts, lock, g * PER_GROUP + m)
            coord.when(f"job.{g % KINDS}", group=f"g{g}", visibility=30)(handler)
    await coord.events.start()
    await coord.emit("unrelated")  # matches no group: claims for none of them
    for kind in range(KINDS):
        await coord.emit(f"job.{kind}", {"kind": kind})
    assert await coord.wait_idle(60)
    assert counts == [1] * len(counts)  # every member of every group, exactly once
    assert sorted(broadcast) == [f"job.{k}" for k in range(KINDS)]
    if mode == "sync":
        assert threading.active_count() - before <= MAX_NEW_THREADS
    # the store still serves the coordinator's other calls (no pool ran dry)
    assert (await coord.emit("after")) is not None
    assert [e.name for e in await coord.events.history(limit=1)] == ["after"]
    began = time.monotonic()
    await coord.aclose()
    assert time.monotonic() - began < 5.0


def _appender(mode: str, seen: list[str]) -> Any:
    def append(event: Any) -> None:
        seen.append(event.name)

    if mode == "sync":
        return append

    async def run(event: Any) -> None:
        append(event)

    return run


async def test_a_narrow_group_gets_its_event_after_much_else(coord: Any) -> None:
    # The reader claims for a group only when its pattern matches, and its claim
    # moves past the events of other names without taking them one by one.
    got: list[str] = []
    coord.when("rare", group="narrow", visibility=30)(lambda e: got.append(e["n"]))
    await coord.events.start()
    for n in range(300):
        await coord.emit("noise", {"n": n})
    assert await coord.wait_idle(20)
    await coord.emit("rare", {"n": "first"})
    for n in range(5):
        await coord.emit("noise", {"n": n})
    await coord.emit("rare", {"n": "second"})
    assert await coord.wait_idle(20)
    assert got == ["first", "second"]


async def test_an_event_for_a_group_with_no_room_is_claimed_once_there_is(
    connect: Any, mode: str
) -> None:
    # The reader reads an event for a group whose handlers are busy with all they may
    # take ahead: it must claim it later, not count the group as drained past it (and
    # then move the group's cursor past it) when events of other names come next.
    coord = connect("busy")
    gate, started = threading.Event(), threading.Event()
    handled: list[int] = []

    def handle(event: Any) -> None:
        started.set()
        gate.wait(20)
        handled.append(event["n"])

    coord.when("job", group="busy", visibility=30)(handle)
    await coord.events.start()
    for n in range(20):  # more than half of what a group may claim ahead
        await coord.emit("job", {"n": n})
    assert await asyncio.to_thread(started.wait, 20)
    await coord.emit("job", {"n": 20})
    for n in range(3):
        await coord.emit("other", {"n": n})
        await asyncio.sleep(0.05)  # separate batches for the reader, if it can
    gate.set()
    assert await coord.wait_idle(20)
    assert handled == list(range(21))
    await coord.aclose()
