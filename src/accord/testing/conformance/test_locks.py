"""Locks are leases: expiry, extension, LeaseLost, re-entrance, fencing tokens,
timeouts, background renewal, statistics, listing, namespaces and multi-locks."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from accord.errors import LeaseLost, LockTimeout
from accord.testing.harness import eventually, unwrap


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
async def test_nested_acquire_after_the_outer_lease_expired_raises_lease_lost(
    coord: Any, connect: Any
) -> None:
    outer = await coord.lock("res", ttl=0.3).acquire()
    other = connect("other")
    theirs = await other.lock("res", ttl=10).acquire(timeout=5)  # after outer expired
    with pytest.raises(LeaseLost) as lost:
        await coord.lock("res", timeout=0.5).acquire()
    assert lost.value.name == "res"
    assert lost.value.token == outer.token
    assert lost.value.holder == "other"
    assert "nested" in str(lost.value) and "'res'" in str(lost.value)
    stats = await other.lock("res").statistics()
    assert (stats.holder, stats.token) == ("other", theirs.token)  # untouched

    with pytest.raises(LeaseLost):
        await outer.release()
    # The lost outer lease is forgotten: the next acquisition is a fresh one, and waits.
    with pytest.raises(LockTimeout):
        await coord.lock("res").acquire(timeout=0.1)
    await theirs.release()
    async with coord.lock("res") as fresh:
        assert fresh.token > theirs.token


@pytest.mark.accord_capability("leases")
async def test_nested_with_blocks_refuse_when_the_outer_lease_expired(
    coord: Any, connect: Any
) -> None:
    other = connect("other")
    with pytest.raises(LeaseLost):
        async with coord.lock("doc", ttl=0.3):
            theirs = await other.lock("doc", ttl=10).acquire(timeout=5)
            async with coord.lock("doc"):
                raise AssertionError("granted while another owner holds the lock")
    assert (await other.lock("doc").statistics()).token == theirs.token
    await theirs.release()


@pytest.mark.accord_capability("leases")
async def test_nested_acquire_confirms_and_keeps_the_outer_lease(coord: Any, connect: Any) -> None:
    outer = await coord.lock("job", ttl=0.4).acquire()
    inner = await coord.lock("job", ttl=5).acquire()  # lasts at least the nested ttl
    assert inner.token == outer.token
    assert 4.0 < outer.expires_in <= 5.0
    assert outer.ttl == 0.4  # extend() still defaults to the outer lease's own ttl
    await asyncio.sleep(0.5)
    assert await connect("other").lock("job").try_acquire() is None
    again = await coord.lock("job", ttl=0.1).acquire()  # never shortens what is left
    assert (await coord.lock("job").statistics()).expires_in > 3.0
    for lease in (again, inner, outer):
        await lease.release()
    assert not await coord.lock("job").locked()


def _forget(lease: Any) -> None:
    """What a release that failed on the way to the store leaves: the lease is gone
    from this process's bookkeeping, and still held in the store."""
    obj = unwrap(lease)
    obj.released = True
    obj._held.pop((obj._key, obj._holder), None)


@pytest.mark.accord_capability("leases")
async def test_acquiring_again_after_losing_track_gets_a_fresh_grant(
    coord: Any, connect: Any
) -> None:
    first = await coord.lock("job", ttl=0.5).acquire()
    _forget(first)
    second = await coord.lock("job", ttl=30).acquire(timeout=1)
    assert second.token > first.token  # a new lease, not the rest of the old one
    stats = await coord.lock("job").statistics()
    assert (stats.token, stats.holder) == (second.token, "tester")
    assert stats.expires_in > 20
    await asyncio.sleep(0.6)  # past the first lease's ttl: the second still holds
    assert await connect("other").lock("job").try_acquire() is None
    await second.release()
    assert not await coord.lock("job").locked()

    permit = await coord.semaphore("s", limit=1, ttl=0.5).acquire()
    await permit.release()


@pytest.mark.accord_capability("leases", "events")
async def test_coordinate_auto_renew_keeps_the_lock_past_its_ttl(
    coord: Any, connect: Any, mode: str
) -> None:
    ttl = 0.3
    other = unwrap(connect("other"))
    seen: list[object] = []

    def check() -> str:
        time.sleep(ttl * 2.5)
        if mode == "sync":  # the plain coordinator, called from a plain function
            seen.append(other.lock("job").try_acquire())
        return "done"

    async def check_async() -> str:
        await asyncio.sleep(ttl * 2.5)
        seen.append(await other.lock("job").try_acquire())
        return "done"

    def slow() -> str:
        time.sleep(ttl * 2.5)
        return "done"

    async def slow_async() -> str:
        await asyncio.sleep(ttl * 2.5)
        return "done"

    fns = (check, slow) if mode == "sync" else (check_async, slow_async)
    renewed = coord.coordinate("r", "job", ttl=ttl, auto_renew=True)(fns[0])
    short = coord.coordinate("s", "job", ttl=ttl)(fns[1])
    if mode == "sync":
        assert renewed() == "done"
        with pytest.raises(LeaseLost):
            short()
    else:
        assert await renewed() == "done"
        with pytest.raises(LeaseLost):
            await short()
    assert seen[0] is None  # nobody else got the renewed lock while it ran
    names = [e.name for e in await coord.events.history(limit=10)]
    assert "r_complete" in names and "r_failed" not in names
    assert "s_failed" in names and "s_complete" not in names  # never both
    failed = (await coord.events.history(name="s_failed"))[0]
    assert failed["error_type"] == "LeaseLost"
    assert not await coord.lock("job").locked()


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
async def test_list_locks_skips_released_names(coord: Any) -> None:
    # Listings read an index of live leases: 2,000 names used and released (their
    # records stay, for the fencing token) are not in it, nor a lease that expired.
    for i in range(2000):
        lease = await coord.lock(f"done-{i}", ttl=5).acquire()
        await lease.release()
    await coord.lock("expired", ttl=0.05).acquire()
    held = await coord.lock("held", ttl=5).acquire()
    sem = coord.semaphore("pool", limit=3)
    slots = [await sem.acquire() for _ in range(2)]
    await asyncio.sleep(0.1)

    listed = {(s.kind, s.name): s for s in await coord.list_locks()}
    assert set(listed) == {("lock", "held"), ("sem", "pool")}
    assert listed["lock", "held"].token == held.token
    assert len(listed["sem", "pool"].holders) == 2

    await held.release()
    for slot in slots:
        await slot.release()
    assert await coord.list_locks() == []


@pytest.mark.accord_capability("leases", "state")
async def test_namespaces_share_nothing(coord: Any, connect: Any) -> None:
    elsewhere = connect("tester", namespace=coord.namespace + "-2")
    here = await coord.lock("job").acquire()
    there = await elsewhere.lock("job").try_acquire()
    assert there is not None
    assert await elsewhere.lock("job").locked()
    assert (await elsewhere.lock("job").statistics()).token == there.token

    await coord.state("m").set("k", "here")
    assert await elsewhere.state("m").get("k") is None
    assert len(await elsewhere.state("m").keys_page()) == 0
    await elsewhere.state("m").set("k", "there")
    assert (await coord.state("m").get("k")).value == "here"
    assert (await coord.state("m").get("k")).version == 1

    await here.release()
    assert (await elsewhere.lock("job").statistics()).token == there.token
    await there.release()


@pytest.mark.accord_capability("leases")
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


@pytest.mark.accord_capability("leases")
async def test_locks_keep_nothing_when_one_times_out(coord: Any, connect: Any) -> None:
    y = await connect("other").lock("y").acquire()
    with pytest.raises(LockTimeout):
        await coord.locks(["x", "y"], timeout=0.2).acquire()
    assert not await coord.lock("x").locked()
    assert (await coord.lock("y").statistics()).token == y.token
    await y.release()


@pytest.mark.accord_capability("leases")
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
