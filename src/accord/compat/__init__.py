"""Move over from another coordination library by changing one import.

Each module maps the names of one library onto accord's public API, with no logic of
its own and no silent fallback (a store that cannot be reached raises
``BackendUnavailable``; nothing turns into a no-op):

- :mod:`accord.compat.agentcoord`: AgentCoord's ``CoordinationClient``.
- :mod:`accord.compat.redis_openai_agents`: redis-openai-agents' ``AgentCoordinator``,
  ``AtomicOperations`` and ``EventType``.

Their ``redis_url`` takes any accord URL (``memory://``, ``sqlite:///path``,
``redis://``).
"""
