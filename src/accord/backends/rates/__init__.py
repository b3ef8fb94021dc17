"""The ``rate_limits`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.rates._async_protocol import AsyncRateLimits
from accord.backends.rates._sync_protocol import RateLimits

__all__ = ["AsyncRateLimits", "RateLimits"]
