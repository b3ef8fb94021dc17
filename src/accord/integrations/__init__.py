"""accord inside agent frameworks: LangGraph, the OpenAI Agents SDK and CrewAI.

Each framework has a module of its own, importable once its extra is installed:

- :mod:`accord.integrations.langgraph` (``pip install 'accord[langgraph]'``):
  ``guard`` a node with a lock, semaphore or rate limit; ``AccordStore``, a LangGraph
  store on any accord URL with ``update`` and ``put(..., expected_version=)``;
  ``approval`` inside a node and ``ApprovalResumer`` (people approve, any process
  resumes).
- :mod:`accord.integrations.openai_agents` (``pip install 'accord[openai-agents]'``):
  ``AccordRunHooks`` (run events in the accord log), ``LimitedModel`` /
  ``LimitedModelProvider`` (every model call under one shared limit), ``leased``
  (a lease around a function tool), ``Approvals`` (park a run at ``needs_approval``
  tools, resume it anywhere once decided), ``ParallelHandoffs`` (one request to
  several specialists).
- :mod:`accord.integrations.crewai` (``pip install 'accord[crewai]'``): ``LimitedLLM``,
  ``install_file_leases`` (a file lease around each writing tool call).

This package itself imports no framework. It holds what they share:
:class:`Connection` (a store URL connected lazily in each process), and the limits
an integration holds around a call, :class:`Concurrency` (a semaphore) and
:class:`Rate` (a rate limit). Integrations are surfaces: they use only accord's
public API (an import-linter contract checks it).
"""

from accord.integrations._connection import Connection, CoordLike
from accord.integrations._limits import Concurrency, Rate

__all__ = ["Concurrency", "Connection", "CoordLike", "Rate"]
