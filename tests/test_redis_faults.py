"""Redis going away: calls fail loudly with BackendUnavailable (never hang, never
fall back to another store) and work again once the server is back.

These tests stop the session's own redis-server and always bring it back.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from accord.errors import BackendUnavailable

pytestmark = pytest.mark.parametrize("backend_name", ["redis"], indirect=True)


async def test_a_paused_server_gives_backend_unavailable(coord: Any, redis_server: Any) -> None:
    m = coord.state("m")
    await m.set("k", 1)
    lock = coord.lock("job", ttl=10)
    redis_server.pause()  # SIGSTOP: connections stay open, nothing answers
    try:
        start = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await lock.acquire(timeout=1.0)
        assert time.monotonic() - start <= 1.0 + 1.0, "acquire(timeout=1) overran"
        start = time.monotonic()
        with pytest.raises(BackendUnavailable) as down:
            await m.get("k")
        assert time.monotonic() - start < 30, "a call on a stopped server hung"
        assert "redis" in str(down.value).lower()
    finally:
        redis_server.resume()
    assert (await m.get("k")).value == 1
    async with lock as lease:
        assert lease.token >= 1


async def test_a_restarted_server_serves_again(coord: Any, redis_server: Any) -> None:
    m = coord.state("m")
    await m.set("k", 1)
    async with coord.lock("job"):
        pass
    redis_server.kill()
    try:
        with pytest.raises(BackendUnavailable):
            await m.get("k")
        with pytest.raises(BackendUnavailable):
            await coord.lock("job").try_acquire()
    finally:
        redis_server.start()
    # No persistence: the data is gone, but the same coordinator works again,
    # including its scripts (loaded again after the restart).
    assert await m.get("k") is None
    assert (await m.set("k", 2)).version == 1
    assert (await m.incr("n")).value == 1
    async with coord.lock("job") as lease:
        assert lease.token >= 1
    assert await coord.rate_limit("r", rate=10).try_acquire()
