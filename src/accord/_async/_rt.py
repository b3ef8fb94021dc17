"""What differs between the async and the sync primitives: sleeping, background
renewal and who "the current owner" is. Hand-written; its twin is ``_sync/_rt.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import weakref
from collections.abc import Awaitable, Callable

log = logging.getLogger("accord")

_ids = itertools.count(1)
_task_ids: weakref.WeakKeyDictionary[asyncio.Task[object], int] = weakref.WeakKeyDictionary()


async def sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def current_owner_key() -> str:
    """A key unique to the running asyncio task (never reused while it lives)."""
    task = asyncio.current_task()
    if task is None:
        return "loop"
    key = _task_ids.get(task)
    if key is None:
        key = _task_ids[task] = next(_ids)
    return f"task-{key}"


class Renewer:
    """Calls ``step`` every ``interval`` seconds until it returns False or is stopped."""

    def __init__(self, interval: float, step: Callable[[], Awaitable[bool]]) -> None:
        self._interval = interval
        self._step = step
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                if not await self._step():
                    return
            except Exception:  # a store outage: keep trying until the lease is lost
                log.warning("accord: lease renewal failed, retrying", exc_info=True)

    async def stop(self) -> None:
        if self._task is asyncio.current_task():
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
