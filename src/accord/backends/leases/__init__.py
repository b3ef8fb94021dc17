"""The ``leases`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.leases._async_protocol import AsyncLeases
from accord.backends.leases._sync_protocol import Leases

__all__ = ["AsyncLeases", "Leases"]
