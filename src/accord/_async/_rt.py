"""What differs between the async and the sync primitives: sleeping, background
renewal and who "the current owner" is. Hand-written; its twin is ``_sync/_rt.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import logging
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from accord._aio import within

if TYPE_CHECKING:
    from accord._lifecycle import Spec

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


def blocking_forbidden() -> bool:
    """Never: the async API awaits, and so never blocks the loop (see ``_sync/_rt.py``)."""
    return False


def check_may_block(what: str, twin: str) -> None:
    """A no-op: the async API awaits instead of blocking (see ``_sync/_rt.py``)."""


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


# --- events: workers, queues and calling user code -----------------------------

WORKERS = 64  # handler workers (tasks) per coordinator at most
Queue = asyncio.Queue


def spawn(fn: Callable[[], Coroutine[Any, Any, None]], name: str) -> asyncio.Task[None]:
    """Run ``fn`` in the background: a task on the running loop."""
    return asyncio.get_running_loop().create_task(fn(), name=name)


async def stop(worker: asyncio.Task[None], timeout: float) -> None:
    """Cancel a background worker and wait up to ``timeout`` seconds for it."""
    worker.cancel()
    await asyncio.wait([worker], timeout=timeout)


async def finish(worker: asyncio.Task[None], timeout: float) -> None:
    """Wait up to ``timeout`` seconds for a worker to end on its own, then cancel it (a
    read it runs in a thread ends before the store closes under it)."""
    await asyncio.wait([worker], timeout=timeout)
    worker.cancel()


async def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call user code: await a coroutine function, run a plain one in a thread."""
    if inspect.iscoroutinefunction(fn):
        return await fn(*args)
    return await asyncio.to_thread(fn, *args)


def coordinated(
    spec: Spec, fn: Callable[..., Any], run: Callable[..., Awaitable[Any]]
) -> Callable[..., Any]:
    """Wrap ``fn`` for ``@coordinate`` on the async coordinator (async def only);
    ``run(fn, args, kwargs)`` is one coordinated run of it."""
    if not inspect.iscoroutinefunction(fn):
        raise TypeError(
            f"AsyncCoordinator.coordinate needs an async def, and {fn.__qualname__} is a plain "
            "function; decorate it with the sync Coordinator (accord.connect) instead"
        )

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await run(fn, args, kwargs)

    return wrapper


StartLock = asyncio.Lock


async def run_all(fns: list[Callable[[], Coroutine[Any, Any, None]]]) -> None:
    """Run each of ``fns`` as a task of its own until all end; the first error is
    raised once the others are cancelled (a cancellation of the caller cancels them)."""
    tasks = [asyncio.ensure_future(fn()) for fn in fns]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Progress:
    """A count of steps made by workers (handlers finished, events read) that a waiter
    can sleep on until it moves: ``wait_idle`` re-checks only when something happened.
    Ticked and awaited on one event loop."""

    def __init__(self) -> None:
        self.count = 0
        self._waiters: list[asyncio.Future[None]] = []

    def tick(self) -> None:
        self.count += 1
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait(self, seen: int, timeout: float) -> None:
        """Return once ``count`` differs from ``seen``, or after ``timeout`` seconds."""
        if self.count != seen:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await within(waiter, timeout)
        except TimeoutError:
            pass
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)


_background: set[asyncio.Task[None]] = set()


def start_soon(fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``fn`` as soon as possible: a task if a loop runs here, else at the next await."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(fn())
    _background.add(task)
    task.add_done_callback(_background.discard)
