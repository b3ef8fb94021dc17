"""accord's conformance suite, shipped so that a store of your own can prove itself.

The suite is the one accord's own stores pass: every behaviour (locks, semaphores,
rate limits, state, events, barriers, errors, processes) in sync and in async mode.
To run it on a store you registered with :func:`accord.backends.register`::

    pip install 'accord[testing]'
    pytest -p accord.testing.plugin -p yourstore.register \\
        --pyargs accord.testing.conformance --accord-url yourstore://... [--accord-processes]

where ``yourstore.register`` is any module that calls ``register()`` when imported
(``--accord-processes`` if processes share your store). Without ``--accord-url`` the
suite runs on memory, SQLite and a private redis-server (``--accord-backends`` picks).

- :mod:`accord.testing.plugin`: the pytest fixtures and options (needs pytest);
- :mod:`accord.testing.harness`: one test body for both APIs (:class:`Twin`,
  ``workers``, :class:`Barrier`, ``eventually``);
- :class:`RedisServer`: a private redis-server on a free loopback port, which
  tests may kill, pause and restart;
- ``ScriptedLLM``: a CrewAI LLM answering from a script, for offline crews (needs
  ``accord[crewai]``; imported on first use, so this package imports without CrewAI).
"""

from __future__ import annotations

from typing import Any

from accord.testing.harness import Barrier, Twin, Worker, eventually, unwrap, workers
from accord.testing.redis_server import RedisServer, free_port

__all__ = ["Barrier", "RedisServer", "Twin", "Worker", "eventually", "free_port", "unwrap",
           "workers"]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "ScriptedLLM":  # needs crewai, so imported on first use only
        from accord.testing._crewai import ScriptedLLM

        return ScriptedLLM
    raise AttributeError(f"module 'accord.testing' has no attribute {name!r}")
