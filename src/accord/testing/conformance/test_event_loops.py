"""An async coordinator outlives the event loop it was first used in.

``asyncio.run()`` twice (as ``Runner.run_sync`` and test runners do), or loops in two
threads at once: every store serves each loop, and nothing it kept from a closed loop
leaks (no ResourceWarning, no foreign RuntimeError).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings

import pytest

import accord

pytestmark = pytest.mark.accord_capability("leases", "state", "rate_limits", "events")


async def _use(coord: accord.AsyncCoordinator, n: int, key: str = "k") -> int:
    async with coord.lock("job", ttl=5) as lease:
        await coord.state("m").set(key, n, fence=lease)
    entry = await coord.state("m").get(key)
    assert entry is not None and entry.value == n
    assert await coord.rate_limit("r", rate=1000, burst=10).try_acquire()
    await coord.emit("done", {"n": n})
    return lease.token


def test_one_async_coordinator_serves_one_event_loop_after_another(
    url: str, namespace: str
) -> None:
    coord = accord.connect_async(url, namespace=namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a socket left behind by a closed loop
        try:
            tokens = [asyncio.run(_use(coord, n)) for n in range(3)]
            gc.collect()
        finally:
            asyncio.run(coord.aclose())
        gc.collect()
    assert tokens == sorted(tokens) and len(set(tokens)) == 3


def test_one_async_coordinator_serves_loops_in_two_threads(url: str, namespace: str) -> None:
    coord = accord.connect_async(url, namespace=namespace)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        async def body() -> None:
            for i in range(3):
                await _use(coord, n * 10 + i, key=f"k{n}")

        try:
            asyncio.run(body())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(coord.aclose())  # and forget the connections of the closed loops
        gc.collect()
    assert errors == []
