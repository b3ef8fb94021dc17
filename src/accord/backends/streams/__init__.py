"""The ``streams`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.streams._async_protocol import AsyncStreams
from accord.backends.streams._sync_protocol import Streams

__all__ = ["AsyncStreams", "Streams"]
