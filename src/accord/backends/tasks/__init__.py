"""The ``tasks`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.tasks._async_protocol import AsyncTasks
from accord.backends.tasks._sync_protocol import Tasks

__all__ = ["AsyncTasks", "Tasks"]
