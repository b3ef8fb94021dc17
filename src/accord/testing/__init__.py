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
  tests may kill, pause and restart.
"""

from __future__ import annotations

from accord.testing.harness import Barrier, Twin, Worker, eventually, unwrap, workers
from accord.testing.redis_server import RedisServer, free_port

__all__ = ["Barrier", "RedisServer", "Twin", "Worker", "eventually", "free_port", "unwrap",
           "workers"]  # fmt: skip
