"""``within``: await something for at most a time, without losing a cancellation.

On Python 3.11, ``asyncio.wait_for`` drops a cancellation of the waiting task that
arrives just as the awaited thing completes (the task then runs on: Ctrl-C on a Redis
``subscribe`` could hang). ``asyncio.timeout`` (3.11+) awaits in the task itself, so
a cancellation always lands; 3.10 has only ``wait_for``, with that race.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, or raise ``TimeoutError`` (cancelling it) after ``seconds``."""
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    try:  # pragma: no cover - 3.10, where asyncio's TimeoutError is not the built-in
        return await asyncio.wait_for(awaitable, seconds)
    except asyncio.TimeoutError:  # pragma: no cover
        raise TimeoutError(f"not done in {seconds} s") from None
