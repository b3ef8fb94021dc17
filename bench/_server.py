"""The benchmark's own redis-server: accord.testing's, started for one run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from accord.testing.redis_server import RedisServer


@contextmanager
def private_redis() -> Iterator[str]:
    """``with private_redis() as url:`` starts redis-server and always stops it."""
    try:
        server = RedisServer()
    except FileNotFoundError as exc:
        raise SystemExit(f"{exc}; or pass --redis-url") from None
    with server:
        yield server.url
