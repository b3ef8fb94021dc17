"""The bug accord exists for: concurrent read-modify-write loses updates.

16 workers x 500 increments of one key (threads in sync mode, tasks in async mode):
exact under a lock and with ``update``. Without coordination 16 x 50 are enough to
show the loss for certain: each worker pauses between its read and its write.
"""

from __future__ import annotations

from typing import Any

import pytest

WORKERS = 16
ROUNDS = 500
TOTAL = WORKERS * ROUNDS
RACE_ROUNDS = 50


@pytest.mark.accord_capability("leases", "state")
@pytest.mark.slow  # 16 x 500 lock cycles of four round trips each
async def test_increments_under_a_lock_are_exact(coord: Any, run_workers: Any) -> None:
    counter = coord.state("counters")
    await counter.set("n", 0)

    async def body(i: int) -> None:
        lock = coord.lock("counter", ttl=30, timeout=60)
        for _ in range(ROUNDS):
            async with lock:
                entry = await counter.get("n")
                await counter.set("n", entry.value + 1)

    await run_workers(WORKERS, body)
    final = await counter.get("n")
    assert final.value == TOTAL
    assert final.version == TOTAL + 1


@pytest.mark.accord_capability("state")
@pytest.mark.slow  # 16 x 500 optimistic updates contending for one key
async def test_increments_with_update_are_exact(coord: Any, run_workers: Any) -> None:
    counter = coord.state("counters")

    async def body(i: int) -> None:
        for _ in range(ROUNDS):
            await counter.update("n", lambda n: n + 1, default=0)

    await run_workers(WORKERS, body)
    final = await counter.get("n")
    assert final.value == TOTAL
    assert final.version == TOTAL


@pytest.mark.accord_capability("state")
async def test_uncoordinated_get_then_set_loses_updates(
    coord: Any, run_workers: Any, pause: Any, barrier: Any
) -> None:
    counter = coord.state("counters")
    await counter.set("n", 0)
    line_up = barrier(WORKERS)

    async def body(i: int) -> None:
        await line_up.wait()  # all workers race at once
        for _ in range(RACE_ROUNDS):
            entry = await counter.get("n")
            await pause()  # "think" between read and write, as an agent does
            await counter.set("n", entry.value + 1)

    await run_workers(WORKERS, body)
    final = await counter.get("n")
    # Every set still bumped the version, but values written over stale reads
    # overwrote each other's increments.
    assert final.version == WORKERS * RACE_ROUNDS + 1
    assert final.value < WORKERS * RACE_ROUNDS, "no update was lost: the race did not show"
