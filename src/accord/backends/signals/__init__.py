"""The ``signals`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.signals._async_protocol import AsyncSignals
from accord.backends.signals._sync_protocol import Signals

__all__ = ["AsyncSignals", "Signals"]
