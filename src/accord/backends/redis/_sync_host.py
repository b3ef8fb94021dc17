# Generated from src/accord/backends/redis/_async_host.py by scripts/unasync.py: do not edit.
"""What the feature mixins of the Redis store use of the backend they are mixed into.

``AsyncRedisEvents``, ``AsyncRedisTasks``, ``AsyncRedisStreams`` and
``AsyncRedisAgents`` each hold one capability's operations; they run them through the
backend's connections and script calls, declared here once, for the type checker only
(``RedisBackend`` defines them). ``C`` is the backend's connection set, which the
mixins only hand back to it. The sync twin ``_sync_host.py`` is generated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from redis.exceptions import RedisError

from accord.backends.redis._keys import Keys
from accord.backends.redis._lua import Script
from accord.errors import BackendUnavailable

C = TypeVar("C")  # the store's connection set, opaque here


class RedisHost(Generic[C]):
    """The backend's side, as its feature mixins see it."""

    _keys: Keys
    namespace: str

    if TYPE_CHECKING:

        @property
        def _data(self) -> C: ...

        @property
        def _leases(self) -> C: ...

        def _command(
            self, conns: C, *args: Any, wait: float = 0.0, within: float | None = None
        ) -> Any: ...

        def _eval(
            self, conns: C, script: Script, keys: list[str], *args: Any,
            within: float | None = None,
        ) -> Any: ...

        def _plain(self, conns: C, *args: Any) -> Any: ...

        def _lease_eval(
            self, script: Script, key: str, *args: Any, within: float | None = None
        ) -> Any: ...

        def _forget_epoch(self) -> None: ...

        def _unavailable(self, exc: RedisError) -> BackendUnavailable: ...
