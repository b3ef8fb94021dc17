"""Rate limits: one shared budget, never more than ``rate * w / per + burst`` in ``w`` s."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from accord.errors import ConfigError, LockTimeout
from accord.testing.harness import unwrap

pytestmark = pytest.mark.accord_capability("rate_limits")


async def test_never_more_than_rate_plus_burst(coord: Any, connect: Any, run_workers: Any) -> None:
    rate, window, burst = 50, 2.0, 10
    admitted: list[float] = []
    start = time.monotonic()
    end = start + window

    async def body(i: int) -> None:
        # Half the workers poll with try_acquire, half block in acquire.
        limit = connect(f"w{i}").rate_limit("api", rate=rate, per=1.0, burst=burst)
        while time.monotonic() < end:
            if i % 2:
                if await limit.try_acquire():
                    admitted.append(time.monotonic())
                await asyncio.sleep(0.001)
            else:
                try:
                    await limit.acquire(timeout=max(0.0, end - time.monotonic()))
                except LockTimeout:
                    return
                admitted.append(time.monotonic())

    await run_workers(8, body)
    in_window = [t for t in admitted if t <= end]
    assert len(in_window) <= rate * window + burst, len(in_window)
    # The budget is used, not refused: a loose lower bound, far below the rate.
    assert len(in_window) >= rate * window / 2, len(in_window)


async def test_acquire_returns_the_seconds_waited(coord: Any) -> None:
    limit = coord.rate_limit("slow", rate=10, per=1.0)
    first = await limit.acquire()
    assert isinstance(first, float)
    second = await limit.acquire()
    assert second >= 0.05  # the interval is 0.1 s and no burst is allowed
    assert 0.0 <= first < second
    assert not await limit.try_acquire()
    with pytest.raises(LockTimeout) as timed_out:
        await limit.acquire(timeout=0.01)
    assert timed_out.value.name == "slow"


async def test_burst_then_steady(coord: Any, connect: Any) -> None:
    limit = coord.rate_limit("api", rate=1, per=60.0, burst=3)
    assert [await limit.try_acquire() for _ in range(4)] == [True, True, True, False]
    # Another agent shares the same budget.
    assert not await connect("other").rate_limit("api", rate=1, per=60.0, burst=3).try_acquire()
    stats = await limit.statistics()
    assert stats.name == "api"
    assert stats.burst == 3
    assert stats.wait > 10  # about 20 s until the next call
    assert not await limit.try_acquire()  # statistics consumed nothing, neither did refusals


async def test_cost_takes_several_calls(coord: Any) -> None:
    limit = coord.rate_limit("api", rate=1, per=60.0, burst=5)
    assert await limit.try_acquire(cost=3)
    assert not await limit.try_acquire(cost=3)
    assert await limit.try_acquire(cost=2)
    assert not await limit.try_acquire()


async def test_cost_above_burst_is_a_config_error(coord: Any) -> None:
    limit = coord.rate_limit("api", rate=10, per=1.0, burst=2)
    with pytest.raises(ConfigError, match="burst"):
        await limit.acquire(cost=3)
    with pytest.raises(ConfigError, match="burst"):
        await limit.try_acquire(cost=3)
    assert await limit.try_acquire(cost=2)  # nothing was consumed by the refusals


async def test_usable_as_a_decorator(coord: Any, mode: str) -> None:
    limit = coord.rate_limit("tool", rate=1, per=60.0, burst=2)
    calls: list[int] = []
    if mode == "async":

        @limit
        async def call_tool(x: int) -> int:
            """Calls the tool."""
            calls.append(x)
            return x * 2

        assert await call_tool(1) == 2
        assert await call_tool(2) == 4
    else:

        @unwrap(limit)
        def call_tool(x: int) -> int:
            """Calls the tool."""
            calls.append(x)
            return x * 2

        assert call_tool(1) == 2
        assert call_tool(2) == 4
    assert calls == [1, 2]
    assert call_tool.__name__ == "call_tool"
    assert call_tool.__doc__ == "Calls the tool."
    assert not await limit.try_acquire()  # the decorated calls used the budget
