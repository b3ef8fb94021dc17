"""The ``agents`` capability in one place: the registry of agents (sessions,
heartbeats, hung and dead agents, the kill switch), the namespace's halt switch and
``drop_namespace``; its protocol (``_async_protocol.py``, the sync twin generated),
its rule, SQL and Lua, and the glue of the memory and SQLite stores."""

from accord.backends.agents._async_protocol import AsyncAgents
from accord.backends.agents._sync_protocol import Agents

__all__ = ["Agents", "AsyncAgents"]
