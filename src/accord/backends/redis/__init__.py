"""``redis://`` and ``rediss://`` stores: the sync backend and its asyncio twin."""

from accord.backends.redis._async import AsyncRedisBackend
from accord.backends.redis._sync import RedisBackend

__all__ = ["AsyncRedisBackend", "RedisBackend"]
