"""Locks are leases: expiry, extension, LeaseLost, re-entrance, fencing tokens,
timeouts, background renewal, statistics, listing, namespaces and multi-locks."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from accord.errors import LeaseLost, LockTimeout
from accord.testing.harness import eventually


async def test_try_acquire_returns_none_while_held(coord: Any, connect: Any) -> None:
    other = connect("other")
    lease = await coord.lock("job").acquire()
    assert await other.lock("job").try_acquire() is None
    assert await coord.lock("job").locked()
    await lease.release()
    assert not await coord.lock("job").locked()
    second = await other.lock("job").try_acquire()
    assert second is not None
    assert second.token > lease.token
    await second.release()


async def test_context_manager_releases_on_error(coord: Any, connect: Any) -> None:
    lock = coord.lock("job")
    with pytest.raises(ValueError, match="boom"):
        async with lock:
            assert await lock.locked()
            raise ValueError("boom")
    assert not await lock.locked()
    lease = await connect("other").lock("job").try_acquire()
    assert lease is not None
    await lease.release()


async def test_lease_expires_after_ttl(coord: Any, connect: Any) -> None:
    ttl = 0.5
    first = await coord.lock("job", ttl=ttl).acquire()
    other = connect("other")
    assert await other.lock("job").try_acquire() is None
    start = time.monotonic()
    second = await other.lock("job", ttl=5).acquire(timeout=ttl + 1)
    assert time.monotonic() - start <= ttl + 1
    assert second.token > first.token
    stats = await other.lock("job").statistics()
    assert stats.holder == "other"
    assert stats.token == second.token
    await second.release()


async def test_extend_keeps_the_lease(coord: Any, connect: Any) -> None:
    lease = await coord.lock("job", ttl=0.5).acquire()
    await lease.extend(3)
    assert 2.0 < lease.expires_in <= 3.0
    await asyncio.sleep(0.8)  # past the original ttl
    assert await connect("other").lock("job").try_acquire() is None
    stats = await coord.lock("job").statistics()
    assert stats.token == lease.token
    assert 1.0 < stats.expires_in <= 3.0
    await lease.extend()  # default: the lease's ttl (now 3 s)
    await lease.release()
    assert not await coord.lock("job").locked()


async def test_lost_lease_raises_and_leaves_the_new_holder_untouched(
    coord: Any, connect: Any
) -> None:
    old = await coord.lock("job", ttl=0.3).acquire()
    other = connect("other")
    new = await other.lock("job", ttl=10).acquire(timeout=5)  # after old expired
    assert new.token > old.token

    with pytest.raises(LeaseLost) as lost:
        await old.extend(10)
    assert lost.value.name == "job"
    assert lost.value.token == old.token
    with pytest.raises(LeaseLost):
        await old.release()

    stats = await other.lock("job").statistics()
    assert stats.holder == "other"
    assert stats.token == new.token
    assert stats.expires_in > 5
    await new.extend(10)  # the new holder's lease still works
    await new.release()
    assert not await other.lock("job").locked()


async def test_reentrant_for_the_same_owner(coord: Any, connect: Any) -> None:
    lock = coord.lock("job", ttl=10)
    outer = await lock.acquire()
    inner = await coord.lock("job").acquire()  # another Lock object, same owner
    assert inner.token == outer.token
    async with lock as third:
        assert third.token == outer.token
    await inner.release()

    # Only the outermost release frees the lock.
    stats = await lock.statistics()
    assert stats.token == outer.token
    assert stats.holder == "tester"
    assert await connect("other").lock("job").try_acquire() is None

    await outer.release()
    assert not await lock.locked()

    async with lock as first:
        async with lock as nested:
            assert nested.token == first.token
        assert (await lock.statistics()).token == first.token
    assert not await lock.locked()


async def test_not_reentrant_across_threads_or_tasks(
    coord: Any, connect: Any, run_workers: Any
) -> None:
    lease = await coord.lock("job", ttl=10).acquire()

    async def other_worker(i: int) -> None:
        # Same coordinator, same agent, but another thread (sync) or task (async).
        assert await coord.lock("job").try_acquire() is None
        with pytest.raises(LockTimeout):
            await coord.lock("job").acquire(timeout=0.2)

    await run_workers(2, other_worker)

    # Another coordinator with the same agent name (another process of that agent)
    # is another owner too.
    twin = connect("tester")
    assert await twin.lock("job").try_acquire() is None

    await lease.release()

    async def now_free(i: int) -> int:
        async with coord.lock("job") as mine:
            return int(mine.token)

    tokens = await run_workers(2, now_free)
    assert all(t > lease.token for t in tokens)
    assert len(set(tokens)) == 2


async def test_tokens_strictly_increase_across_coordinators(
    coord: Any, connect: Any, run_workers: Any
) -> None:
    coords = [coord, connect("b"), connect("c")]
    tokens = []
    for i in range(12):
        async with coords[i % 3].lock("job") as lease:
            tokens.append(lease.token)

    entered: list[int] = []

    async def body(i: int) -> None:
        mine = connect(f"w{i}")
        for _ in range(10):
            async with mine.lock("job", timeout=30) as lease:
                entered.append(lease.token)  # in order of entry: we hold the lock

    await run_workers(6, body)
    tokens += entered
    assert all(a < b for a, b in itertools.pairwise(tokens)), tokens

    # Tokens live in the store: a coordinator made after all others closed goes on.
    for c in list(coords):
        await c.aclose()
    async with connect("later").lock("job") as lease:
        assert lease.token > tokens[-1]


async def test_timeout_raises_lock_timeout_naming_the_holder(coord: Any, connect: Any) -> None:
    holder = await connect("agent-7").lock("deploy", ttl=30).acquire()
    start = time.monotonic()
    with pytest.raises(LockTimeout) as timed_out:
        await coord.lock("deploy", timeout=0.2).acquire()
    assert time.monotonic() - start >= 0.19
    err = timed_out.value
    assert isinstance(err, TimeoutError)
    assert err.name == "deploy"
    assert err.holder == "agent-7"
    assert "agent-7" in str(err)
    assert "deploy" in str(err)

    with pytest.raises(LockTimeout):
        await coord.lock("deploy").acquire(timeout=0.1)

    # The timed-out waiters left the queue; the holder is untouched.
    stats = await coord.lock("deploy").statistics()
    assert stats.waiters == ()
    assert stats.token == holder.token
    await holder.release()


async def test_auto_renew_keeps_a_short_lease(coord: Any, connect: Any) -> None:
    ttl = 0.6
    other = connect("other")
    async with coord.lock("job", ttl=ttl, auto_renew=True) as lease:
        await asyncio.sleep(ttl * 2.5)
        assert await other.lock("job").try_acquire() is None
        stats = await coord.lock("job").statistics()
        assert stats.token == lease.token
        assert stats.expires_in > 0
    # Released on exit, renewal stopped: another owner gets it at once.
    late = await other.lock("job").try_acquire()
    assert late is not None
    await late.release()


async def test_statistics_show_holder_token_ttl_and_waiters(
    coord: Any, connect: Any, spawn: Any
) -> None:
    lock = coord.lock("stats", ttl=20)
    free = await lock.statistics()
    assert free.name == "stats"
    assert free.holders == ()
    assert free.waiters == ()
    assert free.holder is None
    assert free.token is None
    assert not free.locked

    lease = await lock.acquire()
    waiters = []
    for agent in ("w1", "w2", "w3"):
        mine = connect(agent)

        async def wait_turn(mine: Any = mine) -> None:
            async with mine.lock("stats", timeout=30):
                pass

        waiters.append(spawn(wait_turn))
        queued = len(waiters)

        async def in_queue(queued: int = queued) -> bool:
            return len((await lock.statistics()).waiters) == queued

        await eventually(in_queue, what=f"{agent} queued")

    stats = await lock.statistics()
    assert stats.locked
    assert stats.limit == 1
    assert stats.holder == "tester"
    assert stats.token == lease.token
    assert stats.last_token >= lease.token
    assert 0 < stats.expires_in <= 20
    assert stats.waiters == ("w1", "w2", "w3")
    assert [h.agent for h in stats.holders] == ["tester"]
    with pytest.raises(AttributeError):
        stats.name = "changed"  # a frozen snapshot

    await lease.release()
    for w in waiters:
        await w.join()
    after = await lock.statistics()
    assert after.holders == ()
    assert after.waiters == ()
    assert after.last_token >= lease.token + 3


async def test_list_locks_lists_held_locks(coord: Any, connect: Any) -> None:
    other = connect("other")
    a = await coord.lock("a").acquire()
    b = await other.lock("b").acquire()
    idle = coord.lock("idle")  # made but never acquired
    sem = await coord.semaphore("s", limit=2).acquire()

    listed = {s.name: s for s in await coord.list_locks() if s.kind == "lock"}
    assert set(listed) == {"a", "b"}
    assert listed["a"].holder == "tester"
    assert listed["a"].token == a.token
    assert listed["b"].holder == "other"
    assert listed["b"].token == b.token
    assert "s" in {s.name for s in await coord.list_locks()}
    assert idle.name not in listed

    elsewhere = connect("tester", namespace=coord.namespace + "-other")
    assert await elsewhere.list_locks() == []

    for lease in (a, b, sem):
        await lease.release()
    assert await coord.list_locks() == []


async def test_namespaces_share_nothing(coord: Any, connect: Any) -> None:
    elsewhere = connect("tester", namespace=coord.namespace + "-2")
    here = await coord.lock("job").acquire()
    there = await elsewhere.lock("job").try_acquire()
    assert there is not None
    assert await elsewhere.lock("job").locked()
    assert (await elsewhere.lock("job").statistics()).token == there.token

    await coord.state("m").set("k", "here")
    assert await elsewhere.state("m").get("k") is None
    assert await elsewhere.state("m").keys() == []
    await elsewhere.state("m").set("k", "there")
    assert (await coord.state("m").get("k")).value == "here"
    assert (await coord.state("m").get("k")).version == 1

    await here.release()
    assert (await elsewhere.lock("job").statistics()).token == there.token
    await there.release()


async def test_locks_are_taken_in_sorted_order_and_all_released(
    coord: Any, connect: Any, spawn: Any
) -> None:
    async with coord.locks(["y", "x"]) as leases:
        assert [lease.name for lease in leases] == ["x", "y"]
        for lease in leases:
            assert (await coord.lock(lease.name).statistics()).token == lease.token
    assert not await coord.lock("x").locked()
    assert not await coord.lock("y").locked()

    # Sorted order is visible: with "y" taken, a waiter holds "x" and queues on "y".
    other = connect("other")
    y = await other.lock("y").acquire()
    multi = connect("multi")

    async def take_both() -> list[int]:
        async with multi.locks(["y", "x"], timeout=30) as got:
            return [lease.token for lease in got]

    worker = spawn(take_both)

    async def queued_on_y() -> bool:
        return bool((await coord.lock("y").statistics()).waiters == ("multi",))

    await eventually(queued_on_y, what="multi-lock queued on y")
    assert (await coord.lock("x").statistics()).holder == "multi"
    await y.release()
    tokens = await worker.join()
    assert tokens[1] > y.token
    assert not await coord.lock("x").locked()
    assert not await coord.lock("y").locked()


async def test_locks_keep_nothing_when_one_times_out(coord: Any, connect: Any) -> None:
    y = await connect("other").lock("y").acquire()
    with pytest.raises(LockTimeout):
        await coord.locks(["x", "y"], timeout=0.2).acquire()
    assert not await coord.lock("x").locked()
    assert (await coord.lock("y").statistics()).token == y.token
    await y.release()


async def test_locks_in_opposite_orders_never_deadlock(
    coord: Any, connect: Any, run_workers: Any
) -> None:
    done = []

    async def body(i: int) -> None:
        mine = connect(f"w{i}")
        names = ["x", "y", "z"] if i % 2 else ["z", "y", "x"]
        for _ in range(30):
            async with mine.locks(names, timeout=30):
                done.append(i)

    await run_workers(4, body)
    assert len(done) == 120
