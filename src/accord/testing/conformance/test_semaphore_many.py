"""Leases with many holders: a semaphore of 200 permits, a lock of many readers.

The stores keep such holders apart from the lease's record (memory: a heap of expiries;
SQLite: rows of their own, see ``backends/leases/holders.py``); these tests hold them
to the same behaviour as a lease of a few: expiries in order, freed slots to the
queue in order, extensions, revocations and force releases.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from accord.errors import LeaseLost
from accord.testing.conformance.test_agents import Sessions
from accord.testing.harness import eventually

pytestmark = pytest.mark.accord_capability("leases")

MANY = 200


async def test_expired_holders_go_in_expiry_order_and_their_slots_to_the_queue_in_order(
    coord: Any, connect: Any, spawn: Any
) -> None:
    # 197 long permits, and three short ones among them taken in the reverse order of
    # their expiry (tokens and expiries disagree); three waiters queue behind them.
    sem = coord.semaphore("pool", limit=MANY, ttl=30)
    long = []
    for i in range(MANY - 3):
        if i in (40, 100, 160):
            agent = ("s3", "s2", "s1")[(i - 40) // 60]
            await connect(agent).semaphore("pool", limit=MANY, ttl=SHORT[agent]).acquire()
        long.append(await sem.acquire(timeout=0))
    assert len((await sem.statistics()).holders) == MANY

    order: list[tuple[str, int]] = []

    def waiter(agent: str) -> Any:
        async def wait() -> None:
            permit = await connect(agent).semaphore("pool", limit=MANY, ttl=30).acquire(
                timeout=20)
            order.append((agent, permit.token))

        return wait

    workers = []
    for agent in ("w1", "w2", "w3"):
        workers.append(spawn(waiter(agent)))

        async def queued(agent: str = agent) -> bool:
            stats = await sem.statistics()  # or granted already, if a slot was free
            return agent in stats.waiters or agent in [h.agent for h in stats.holders]

        await eventually(queued, what=f"{agent} queued")
    while len(order) < 3:  # an earlier expiry never outlives a later one
        stats = await sem.statistics()
        assert len(stats.holders) <= MANY
        left = _short(stats)
        assert left in (["s3", "s2", "s1"], ["s3", "s2"], ["s3"], []), left
        await eventually(functools.partial(_moved_on, sem, left, order), what="an expiry",
                         timeout=10)
    for worker in workers:
        await worker.join()
    assert [agent for agent, _ in order] == ["w1", "w2", "w3"]  # FIFO
    tokens = [token for _, token in order]
    assert tokens == sorted(tokens) and tokens[0] > long[-1].token
    stats = await sem.statistics()
    assert len(stats.holders) == MANY and stats.waiters == () and _short(stats) == []
    for permit in long:
        await permit.release()


SHORT = {"s3": 1.8, "s2": 1.2, "s1": 0.6}


def _short(stats: Any) -> list[str]:
    return [h.agent for h in stats.holders if h.agent in SHORT]


async def _moved_on(sem: Any, left: list[str], order: list[Any]) -> bool:
    return len(order) == 3 or _short(await sem.statistics()) != left


async def test_extending_one_of_many_holders_moves_its_expiry(coord: Any, connect: Any) -> None:
    sem = coord.semaphore("pool", limit=MANY, ttl=30)
    permits = [await sem.acquire(timeout=0) for _ in range(MANY // 2)]
    kept = await connect("kept").semaphore("pool", limit=MANY, ttl=0.5).acquire()
    permits += [await sem.acquire(timeout=0) for _ in range(MANY // 2 - 2)]
    dropped = await connect("dropped").semaphore("pool", limit=MANY, ttl=0.5).acquire()
    await kept.extend(60)
    stats = await sem.statistics()
    [mine] = [h for h in stats.holders if h.agent == "kept"]
    assert 30 < mine.expires_in <= 60  # beyond every other holder's

    async def dropped_gone() -> bool:
        return "dropped" not in [h.agent for h in (await sem.statistics()).holders]

    await eventually(dropped_gone, what="the unextended holder expired", timeout=10)
    assert "kept" in [h.agent for h in (await sem.statistics()).holders]
    with pytest.raises(LeaseLost):
        await dropped.release()
    await kept.release()  # still held: its old expiry did not drop it
    assert len((await sem.statistics()).holders) == MANY - 2
    for permit in permits:
        await permit.release()
    assert (await sem.statistics()).holders == ()


async def test_a_writer_queues_behind_many_readers_and_readers_behind_it(
    coord: Any, connect: Any, spawn: Any
) -> None:
    readers = [await connect(f"r{i}").lock("doc", shared=True, ttl=30).acquire(timeout=0)
               for i in range(50)]
    stats = await coord.lock("doc").statistics()
    assert len(stats.holders) == 50 and {h.mode for h in stats.holders} == {"shared"}

    async def write() -> int:
        async with connect("writer").lock("doc", ttl=30, timeout=20) as lease:
            return int(lease.token)

    writer = spawn(write)

    async def writer_queued() -> bool:
        return bool((await coord.lock("doc").statistics()).waiters == ("writer",))

    await eventually(writer_queued, what="the writer queued")
    # a reader arriving now queues behind the writer (writers are not starved)
    assert await connect("late").lock("doc", shared=True).try_acquire() is None
    for lease in readers[:-1]:
        await lease.release()
    assert (await coord.lock("doc").statistics()).waiters == ("writer",)
    await readers[-1].release()
    assert await writer.join() > readers[-1].token
    assert (await coord.lock("doc").statistics()).holders == ()


async def test_force_release_drops_every_one_of_many_holders(coord: Any, connect: Any) -> None:
    readers = [await connect(f"r{i}").lock("doc", shared=True, ttl=30).acquire(timeout=0)
               for i in range(40)]
    dropped = await coord.lock("doc").force_release(reason="stuck readers")
    assert sorted(dropped) == sorted(f"r{i}" for i in range(40))
    assert (await coord.lock("doc").statistics()).holders == ()
    with pytest.raises(LeaseLost):
        await readers[7].release()
    lease = await coord.lock("doc").acquire(timeout=0)
    assert lease.token > max(r.token for r in readers)
    await lease.release()


async def test_a_kill_revokes_its_permits_among_many(
    coord: Any, connect: Any, url: str, mode: str, namespace: str
) -> None:
    sem = coord.semaphore("pool", limit=MANY, ttl=30)
    async with Sessions(url, mode, namespace) as sessions:
        rogue = await sessions("rogue")
        mine, theirs = [], []
        for i in range(MANY):
            if i % 4 == 1:  # every fourth permit is the session's
                theirs.append(await rogue.semaphore("pool", limit=MANY).acquire(timeout=0))
            else:
                mine.append(await sem.acquire(timeout=0))
        killed = await coord.agents.kill("rogue", reason="runaway")
        assert killed.status == "killed"
        stats = await sem.statistics()
        assert len(stats.holders) == MANY - len(theirs)
        assert {h.agent for h in stats.holders} == {"tester"}
        assert len([await sem.acquire(timeout=0) for _ in theirs]) == len(theirs)
        assert await sem.try_acquire() is None
    for permit in mine:
        await permit.release()
