"""Semaphores: never more than ``limit`` holders; permits are leases."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from accord.errors import LeaseLost, LockTimeout
from accord.testing.harness import eventually

pytestmark = pytest.mark.accord_capability("leases")


async def test_never_more_than_limit_holders(coord: Any, run_workers: Any) -> None:
    guard = threading.Lock()  # held only between awaits, so safe for tasks too
    inside = 0
    most = 0
    entries = 0

    async def body(i: int) -> None:
        nonlocal inside, most, entries
        sem = coord.semaphore("api", limit=3, ttl=30, timeout=60)
        for _ in range(15):
            async with sem:
                with guard:
                    inside += 1
                    entries += 1
                    most = max(most, inside)
                await asyncio.sleep(0.002)
                with guard:
                    inside -= 1

    await run_workers(16, body)
    assert entries == 16 * 15
    assert most <= 3, f"{most} holders at once under a semaphore of 3"
    assert most == 3, "the semaphore never admitted 3 holders at once"
    stats = await coord.semaphore("api", limit=3).statistics()
    assert stats.holders == ()
    assert stats.waiters == ()


async def test_try_acquire_and_timeout_when_full(coord: Any, connect: Any) -> None:
    sem = coord.semaphore("api", limit=2, ttl=30)
    first = await sem.acquire()
    second = await connect("other").semaphore("api", limit=2).acquire()
    assert first.token != second.token
    assert await sem.try_acquire() is None
    with pytest.raises(LockTimeout) as timed_out:
        await sem.acquire(timeout=0.2)
    assert timed_out.value.name == "api"
    await second.release()
    third = await sem.try_acquire()
    assert third is not None
    await third.release()
    await first.release()


async def test_a_dead_holders_permits_come_back_after_ttl(coord: Any, connect: Any) -> None:
    ttl = 0.4
    dead = connect("dead")
    lost = [await dead.semaphore("api", limit=3, ttl=ttl).acquire() for _ in range(3)]
    sem = coord.semaphore("api", limit=3, ttl=10)
    assert await sem.try_acquire() is None
    start = time.monotonic()
    permits = [await sem.acquire(timeout=ttl + 1) for _ in range(3)]
    assert time.monotonic() - start <= ttl + 1
    stats = await sem.statistics()
    assert [h.agent for h in stats.holders] == ["tester"] * 3
    with pytest.raises(LeaseLost):
        await lost[0].release()  # the dead holder learns it lost its permit
    assert len((await sem.statistics()).holders) == 3
    for permit in permits:
        await permit.release()


async def test_statistics(coord: Any, connect: Any, spawn: Any) -> None:
    sem = coord.semaphore("pool", limit=2, ttl=20)
    empty = await sem.statistics()
    assert empty.name == "pool"
    assert empty.holders == ()
    assert not empty.locked

    a = await sem.acquire()
    b = await connect("other").semaphore("pool", limit=2, ttl=20).acquire()
    queued = connect("queued")

    async def wait_for_permit() -> int:
        async with queued.semaphore("pool", limit=2, timeout=30) as permit:
            return int(permit.token)

    worker = spawn(wait_for_permit)

    async def has_waiter() -> bool:
        return bool((await sem.statistics()).waiters == ("queued",))

    await eventually(has_waiter, what="a queued waiter")
    stats = await sem.statistics()
    assert stats.limit == 2
    assert stats.locked
    assert sorted(h.agent for h in stats.holders) == ["other", "tester"]
    assert {h.token for h in stats.holders} == {a.token, b.token}
    assert all(0 < h.expires_in <= 20 for h in stats.holders)

    await a.release()
    token = await worker.join()
    assert token > max(a.token, b.token)
    await b.release()
    assert (await sem.statistics()).holders == ()


async def test_many_holders_keep_the_limit_exact_and_the_queue_in_order(
    coord: Any, connect: Any, spawn: Any
) -> None:
    # 300 permits held, then waiters queue: every slot that frees goes to the queue
    # head in order, the limit stays exact, tokens stay unique and growing.
    sem = coord.semaphore("pool", limit=300, ttl=30)
    permits = [await sem.acquire() for _ in range(298)]
    brief = [await sem.acquire(timeout=0) for _ in range(2)]
    assert await sem.try_acquire() is None
    tokens = [p.token for p in permits + brief]
    assert tokens == sorted(set(tokens))
    for b in brief:
        await b.release()
    again = [await sem.acquire(timeout=0) for _ in range(2)]
    assert await sem.try_acquire() is None
    stats = await sem.statistics()
    assert len(stats.holders) == 300 and stats.waiters == ()
    assert stats.last_token == again[-1].token == tokens[-1] + 2

    order: list[str] = []

    def waiter(agent: str) -> Any:
        async def wait() -> None:
            permit = await connect(agent).semaphore("pool", limit=300).acquire(timeout=20)
            order.append(agent)
            await permit.release()

        return wait

    workers = []
    for agent in ("w1", "w2", "w3"):
        workers.append(spawn(waiter(agent)))

        async def queued(agent: str = agent) -> bool:
            return agent in (await sem.statistics()).waiters

        await eventually(queued, what=f"{agent} queued")
    await permits[0].release()  # each waiter's release then hands the slot to the next
    for worker in workers:
        await worker.join()
    assert order == ["w1", "w2", "w3"]
    for permit in permits[1:] + again:
        await permit.release()
    assert (await sem.statistics()).holders == ()
