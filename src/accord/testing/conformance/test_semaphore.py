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
