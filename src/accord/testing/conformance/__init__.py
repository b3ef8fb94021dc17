"""The conformance suite: what every accord store must do, in sync and async mode.

Each test is one ``async def`` body over the fixtures of :mod:`accord.testing.plugin`
(in sync mode the coordinator is a :class:`accord.testing.Twin`), so every behaviour
is checked on both APIs with real threads or tasks, and, in ``test_processes`` and
``test_event_processes``, with real processes. Run it with
``pytest -p accord.testing.plugin --pyargs accord.testing.conformance``.
"""
