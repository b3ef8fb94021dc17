"""``@coordinate`` of the sync coordinator on an ``async def``, on every backend.

The test bodies run on an event loop as a user's asyncio program does (no ``mode``:
this is the sync coordinator's behaviour). The run's lifecycle is the sync one, in a
thread of its own; the function runs on the caller's loop; no other coordinator is
made (see ``_sync/_rt.py``: ``run_on_loop``).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest

import accord
from accord.testing.harness import eventually

pytestmark = pytest.mark.accord_capability("leases", "events")


@pytest.fixture
def sync_coord(url: str, namespace: str) -> Iterator[accord.Coordinator]:
    coord = accord.connect(url, namespace=namespace, agent="planner")
    yield coord
    coord.close()


def names(coord: accord.Coordinator) -> list[str]:
    return [e.name for e in reversed(coord.events.history(source="planner"))]


async def test_an_async_def_runs_on_the_callers_loop_under_the_lock(
    sync_coord: accord.Coordinator,
) -> None:
    loop = asyncio.get_running_loop()
    seen: list[Any] = []

    @sync_coord.coordinate("planner", lock_name="plan", ttl=5.0)
    async def plan(x: int) -> int:
        seen.append(asyncio.get_running_loop())
        (holder,) = sync_coord.lock("plan").statistics().holders
        seen.append(holder.owner)
        await asyncio.sleep(0)
        return x * 2

    assert await plan(21) == 42
    assert seen[0] is loop
    mine = sync_coord._ctx.owner().rpartition(":")[0]
    assert seen[1].startswith(mine)  # this coordinator holds it
    assert names(sync_coord) == ["planner_started", "planner_complete"]
    assert sync_coord.lock("plan").statistics().holders == ()
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, accord.AsyncCoordinator)]


async def test_runs_sharing_a_lock_never_overlap_and_errors_reach_the_caller(
    sync_coord: accord.Coordinator,
) -> None:
    inside: list[int] = []
    overlaps: list[int] = []

    @sync_coord.coordinate("planner", lock_name="plan", ttl=5.0)
    async def plan(i: int) -> int:
        inside.append(i)
        if len(inside) > 1:
            overlaps.append(i)
        await asyncio.sleep(0.005)  # the other runs wait for the lock meanwhile
        inside.remove(i)
        if i == 3:
            raise KeyError(i)
        return i

    results = await asyncio.gather(*(plan(i) for i in range(4)), return_exceptions=True)
    assert results[:3] == [0, 1, 2]
    assert isinstance(results[3], KeyError)
    assert overlaps == []
    events = names(sync_coord)
    assert events.count("planner_complete") == 3
    assert events.count("planner_failed") == 1


async def test_cancelling_a_run_cancels_the_function_and_releases_its_guards(
    sync_coord: accord.Coordinator,
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()
    calls: list[str] = []

    @sync_coord.coordinate("planner", lock_name="plan", ttl=5.0)
    async def plan(what: str) -> None:
        calls.append(what)
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    run = asyncio.ensure_future(plan("running"))
    await started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    await cancelled.wait()

    async def lock_is_free() -> bool:
        return sync_coord.lock("plan").statistics().holders == ()

    await eventually(lock_is_free, what="the cancelled run released its lock")

    # cancelled while its thread waits for the lock: fn is never called
    held = sync_coord.lock("plan", ttl=5.0).try_acquire()
    assert held is not None
    waiting = asyncio.ensure_future(plan("waiting"))

    async def queued() -> bool:
        return len(sync_coord.lock("plan").statistics().waiters) == 1

    await eventually(queued, what="the run queued for the lock")
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    held.release()
    await eventually(lock_is_free, what="the cancelled waiter gave the lock back")
    assert calls == ["running"]
    assert "planner_complete" not in names(sync_coord)
    assert "planner_failed" not in names(sync_coord)
