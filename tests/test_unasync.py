"""The generator of the sync twins (``scripts/unasync.py``): code changes, prose does not."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "unasync.py"


@pytest.fixture(scope="module")
def unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["unasync"] = module  # dataclasses look their module up
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules["unasync"]
    return module


SOURCE = textwrap.dedent(
    '''\
    from collections.abc import Awaitable, Callable
    from contextlib import AsyncExitStack
    from redis.asyncio import ConnectionPool
    from accord._async.lock import AsyncLock


    async def run(lock: AsyncLock, step: Callable[[], Awaitable[list[int]]]) -> int:
        """Await the lock; an async caller awaits this. See ``AsyncLock`` and Async*."""
        # await here: the async twin must not block (AsyncLock, aclose)
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(lock)
            async for x in lock:  # async for
                await   x.aclose()
        return len(await step()) + len(f"<AsyncLock {lock!r}>") + len("await async")
    '''
)

EXPECTED = textwrap.dedent(
    '''\
    from collections.abc import Callable
    from contextlib import ExitStack
    from redis import ConnectionPool
    from accord._sync.lock import Lock


    def run(lock: Lock, step: Callable[[], list[int]]) -> int:
        """Await the lock; an async caller awaits this. See ``Lock`` and Async*."""
        # await here: the async twin must not block (AsyncLock, aclose)
        with ExitStack() as stack:
            stack.enter_context(lock)
            for x in lock:  # async for
                x.close()
        return len(step()) + len(f"<AsyncLock {lock!r}>") + len("await async")
    '''
)


def test_code_is_rewritten_and_strings_and_comments_stay(unasync: ModuleType) -> None:
    assert unasync.convert(SOURCE) == EXPECTED


def test_an_unmapped_async_name_stops_the_generator(unasync: ModuleType) -> None:
    with pytest.raises(unasync.UnasyncError, match="AsyncWidget"):
        unasync.convert("async def f(w: AsyncWidget) -> None:\n    await w.go()\n")


def test_the_output_is_the_source_line_for_line(unasync: ModuleType) -> None:
    """No formatter: every generated line is its source line (the header aside)."""
    for dst, text in unasync.generate().items():
        src = next(s for s, d in unasync.PAIRS.items() if d == dst)
        source = (unasync.ROOT / src).read_text()
        assert text.count("\n") == source.count("\n") + 1, dst
