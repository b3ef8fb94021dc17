"""The ``state`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.state._async_protocol import AsyncStateStore
from accord.backends.state._sync_protocol import StateStore

__all__ = ["AsyncStateStore", "StateStore"]
