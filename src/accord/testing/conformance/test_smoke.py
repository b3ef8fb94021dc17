"""One lock and one state key under eight workers: the suite's quickest whole check."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.accord_capability("leases", "state")


async def test_lock_and_state(coord: Any, run_workers: Any) -> None:
    inv = coord.state("inv")
    async with coord.lock("x", ttl=5) as lease:
        assert lease.token >= 1
        await inv.set("k", 0, fence=lease)

    async def body(i: int) -> None:
        for _ in range(50):
            async with coord.lock("x"):
                e = await inv.get("k")
                await inv.set("k", e.value + 1)

    await run_workers(8, body)
    assert (await inv.get("k")).value == 400
