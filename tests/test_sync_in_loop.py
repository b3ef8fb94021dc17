"""The sync API called inside a running event loop (LangGraph ``ainvoke`` nodes,
openai-agents tools): each asyncio task is an owner of its own, and a call that would
wait refuses with WouldBlockLoop instead of blocking the loop or granting. On every
store; plain test functions, so no harness lets the loop block."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

import accord
from accord.errors import WouldBlockLoop


@pytest.fixture
def sync_coord(url: str, namespace: str) -> Iterator[accord.Coordinator]:
    coord = accord.connect(url, namespace=namespace, agent="graph")
    yield coord
    coord.close()


def test_gathered_branches_never_share_the_sync_lock(sync_coord: accord.Coordinator) -> None:
    inv = sync_coord.state("inv")
    inv.set("n", 0)
    outcomes: list[Any] = []

    async def branch() -> None:
        try:
            with sync_coord.lock("inv", ttl=10):
                entry = inv.get("n")
                assert entry is not None
                await asyncio.sleep(0.01)
                inv.set("n", entry.value + 1)
            outcomes.append("ok")
        except WouldBlockLoop as exc:
            outcomes.append(exc)

    async def main() -> None:
        await asyncio.gather(*(branch() for _ in range(10)))

    asyncio.run(main())
    refused = [o for o in outcomes if isinstance(o, WouldBlockLoop)]
    assert outcomes.count("ok") == 1 and len(refused) == 9
    entry = inv.get("n")
    assert entry is not None and entry.value == 1  # every grant's update is kept
    assert refused[0].twin == "lock"
    assert "lock 'inv'" in str(refused[0]) and "AsyncCoordinator.lock" in str(refused[0])
    assert not sync_coord.lock("inv").locked()


def test_a_task_nests_and_tries_without_waiting(sync_coord: accord.Coordinator) -> None:
    async def holder(entered: asyncio.Event, done: asyncio.Event) -> int:
        with sync_coord.lock("x", ttl=10) as outer:
            with sync_coord.lock("x") as inner:  # the same task: a nested lease
                assert inner.token == outer.token
            entered.set()
            await done.wait()
            return outer.token

    async def other(entered: asyncio.Event, done: asyncio.Event) -> None:
        await entered.wait()
        assert sync_coord.lock("x").try_acquire() is None  # another task: another owner
        with pytest.raises(WouldBlockLoop):
            sync_coord.lock("x").acquire(timeout=5)
        done.set()

    async def main() -> None:
        entered, done = asyncio.Event(), asyncio.Event()
        await asyncio.gather(holder(entered, done), other(entered, done))
        # a thread is no event loop: there the sync lock waits as usual
        lease = await asyncio.to_thread(sync_coord.lock("x").acquire, 5)
        lease.release()

    asyncio.run(main())


def test_every_sync_wait_refuses_inside_a_loop(sync_coord: accord.Coordinator) -> None:
    async def main() -> None:
        permit = sync_coord.semaphore("s", limit=1).acquire()

        async def second_permit() -> None:
            with pytest.raises(WouldBlockLoop, match="semaphore 's'"):
                sync_coord.semaphore("s", limit=1).acquire(timeout=5)

        await asyncio.create_task(second_permit())
        permit.release()

        rate = sync_coord.rate_limit("r", rate=1, per=60)
        assert rate.acquire() < 0.5  # allowed now: no wait
        with pytest.raises(WouldBlockLoop, match="rate limit 'r'") as refused:
            rate.acquire()
        assert refused.value.twin == "rate_limit"
        assert not rate.try_acquire()  # the refused call consumed nothing extra

        with pytest.raises(WouldBlockLoop, match="barrier 'b'"):
            sync_coord.barrier("b", 2).wait(timeout=5)
        assert sync_coord.barrier("alone", 1).wait() == 0  # never waits

        with pytest.raises(WouldBlockLoop, match="subscribe"):
            sync_coord.subscribe("e.*", timeout=5)
        with pytest.raises(WouldBlockLoop, match="request"):
            sync_coord.request("nobody", {}, timeout=5)
        with pytest.raises(WouldBlockLoop, match="wait_idle"):
            sync_coord.wait_idle(5)
        assert sync_coord.events.history(limit=5) == []  # the request was never sent

    asyncio.run(main())
    assert sync_coord.list_locks() == []
