"""Waiters are served first come, first served; cycles of waiting owners are broken.

Queue order is made known by starting waiters one at a time and waiting until
``statistics().waiters`` shows each one queued before starting the next.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest

from accord.errors import DeadlockError, LockTimeout
from accord.testing.harness import eventually

pytestmark = pytest.mark.accord_capability("leases")


async def _queue_waiters(
    coord: Any, connect: Any, spawn: Any, name: str, agents: list[str], entered: list[Any]
) -> list[Any]:
    """Start one waiter per agent, each queued before the next starts."""
    lock = coord.lock(name)
    workers = []
    for agent in agents:
        mine = connect(agent)

        async def wait_turn(mine: Any = mine, agent: str = agent) -> None:
            async with mine.lock(name, ttl=30, timeout=30) as lease:
                entered.append((agent, lease.token))
                await asyncio.sleep(0.005)

        workers.append(spawn(wait_turn))
        expected = tuple(agents[: len(workers)])

        async def queued(expected: tuple[str, ...] = expected) -> bool:
            return bool((await lock.statistics()).waiters == expected)

        await eventually(queued, what=f"{agent} queued behind {expected[:-1]}")
    return workers


async def test_waiters_acquire_in_the_order_they_queued(
    coord: Any, connect: Any, spawn: Any
) -> None:
    head = await coord.lock("fifo", ttl=30).acquire()
    agents = [f"w{i}" for i in range(6)]
    entered: list[Any] = []
    workers = await _queue_waiters(coord, connect, spawn, "fifo", agents, entered)

    await head.release()
    for w in workers:
        await w.join()
    assert [agent for agent, _ in entered] == agents
    tokens = [head.token] + [token for _, token in entered]
    assert all(a < b for a, b in itertools.pairwise(tokens)), tokens


async def test_a_releaser_that_comes_back_queues_behind_waiters(
    coord: Any, connect: Any, spawn: Any
) -> None:
    lock = coord.lock("fifo", ttl=30)
    head = await lock.acquire()
    agents = ["w0", "w1", "w2"]
    entered: list[Any] = []
    workers = await _queue_waiters(coord, connect, spawn, "fifo", agents, entered)

    await head.release()
    assert await lock.try_acquire() is None  # handed to w0, no barging
    again = await lock.acquire(timeout=30)
    assert [agent for agent, _ in entered] == agents  # all served before us
    assert again.token > max(token for _, token in entered)
    await again.release()
    for w in workers:
        await w.join()


@pytest.mark.parametrize("owners", [2, 3])
async def test_a_cycle_of_waiting_owners_is_broken(
    coord: Any, connect: Any, run_workers: Any, barrier: Any, owners: int
) -> None:
    names = [f"res-{i}" for i in range(owners)]
    agents = [f"agent-{'abc'[i]}" for i in range(owners)]
    line_up = barrier(owners)
    outcomes: dict[int, tuple[str, float, Any]] = {}

    async def body(i: int) -> None:
        # agent i holds res-i and waits for res-(i+1): a cycle of `owners` owners.
        mine = connect(agents[i])
        first = await mine.lock(names[i], ttl=30).acquire()
        await line_up.wait()
        start = time.monotonic()
        try:
            second = await mine.lock(names[(i + 1) % owners], ttl=30).acquire(timeout=20)
        except DeadlockError as err:
            outcomes[i] = ("deadlock", time.monotonic() - start, err)
            await first.release()
            return
        outcomes[i] = ("acquired", time.monotonic() - start, None)
        await second.release()
        await first.release()

    await run_workers(owners, body)

    refused = [(i, took, err) for i, (what, took, err) in outcomes.items() if what == "deadlock"]
    assert len(refused) == 1, outcomes
    assert len(outcomes) == owners  # the others proceeded and got their second lock
    i, took, err = refused[0]
    assert took < 1.0, f"deadlock detected after {took:.2f} s"
    assert err.name == names[(i + 1) % owners]
    assert len(err.cycle) == owners
    for agent in agents:
        assert agent in str(err)
    for name in names:
        assert name in str(err)
    for name in names:
        assert not await coord.lock(name).locked()


async def test_a_chain_of_waiters_without_a_cycle_is_no_deadlock(
    coord: Any, connect: Any, spawn: Any
) -> None:
    # tester holds z; b holds y and waits for z; a holds x and waits for y.
    z = await coord.lock("z").acquire()
    a, b = connect("agent-a"), connect("agent-b")

    async def b_waits() -> None:
        async with b.lock("y"), b.lock("z", timeout=30):
            pass

    async def a_waits() -> None:
        async with a.lock("x"), a.lock("y", timeout=30):
            pass

    worker_b = spawn(b_waits)

    async def b_queued() -> bool:
        return bool((await coord.lock("z").statistics()).waiters == ("agent-b",))

    await eventually(b_queued, what="agent-b queued on z")
    worker_a = spawn(a_waits)

    async def a_queued() -> bool:
        return bool((await coord.lock("y").statistics()).waiters == ("agent-a",))

    await eventually(a_queued, what="agent-a queued on y")
    assert not worker_a.done() and not worker_b.done()
    await z.release()
    await worker_b.join()
    await worker_a.join()
    for name in ("x", "y", "z"):
        assert not await coord.lock(name).locked()


async def test_a_waiter_that_gave_up_leaves_no_phantom_cycle(coord: Any, connect: Any) -> None:
    a, b = connect("agent-a"), connect("agent-b")
    x = await a.lock("x").acquire()
    y = await b.lock("y").acquire()
    with pytest.raises(LockTimeout):
        await a.lock("y").acquire(timeout=0.2)  # a no longer waits for y
    # b now waits for x: a holds x but waits for nothing, so this is no deadlock.
    with pytest.raises(LockTimeout):
        await b.lock("x").acquire(timeout=0.3)
    await x.release()
    got = await b.lock("x").acquire(timeout=5)
    await got.release()
    await y.release()


@pytest.mark.parametrize("mode", ["async"], indirect=True)
async def test_a_cancelled_waiter_leaves_the_queue(coord: Any, connect: Any, spawn: Any) -> None:
    lock = coord.lock("fifo", ttl=30)
    head = await lock.acquire()
    gone, stays = connect("gone"), connect("stays")
    cancelled = asyncio.ensure_future(gone.lock("fifo").acquire())

    async def waiters_are(*agents: str) -> bool:
        return bool((await lock.statistics()).waiters == agents)

    await eventually(lambda: waiters_are("gone"), what="gone queued")
    served = spawn(lambda: _hold(stays, "fifo"))
    await eventually(lambda: waiters_are("gone", "stays"), what="stays queued")
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    await eventually(lambda: waiters_are("stays"), what="the cancelled waiter left")
    await head.release()
    assert await served.join() > head.token  # the slot went past the cancelled waiter
    assert not await lock.locked()


async def _hold(coord: Any, name: str) -> int:
    async with coord.lock(name, timeout=30) as lease:
        return int(lease.token)
