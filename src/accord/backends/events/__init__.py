"""The ``events`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.events._async_protocol import AsyncEventLog
from accord.backends.events._sync_protocol import EventLog

__all__ = ["AsyncEventLog", "EventLog"]
