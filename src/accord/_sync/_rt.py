"""What differs between the async and the sync primitives: sleeping, background
renewal and who "the current owner" is. Hand-written; its twin is ``_async/_rt.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from accord.errors import WouldBlockLoop

if TYPE_CHECKING:
    from accord._async.coordinator import AsyncCoordinator
    from accord._lifecycle import Spec
    from accord._sync.coordinator import Coordinator

log = logging.getLogger("accord")

_ids = itertools.count(1)
_local = threading.local()
_task_ids: weakref.WeakKeyDictionary[asyncio.Task[Any], int] = weakref.WeakKeyDictionary()
_running_loop = asyncio.events._get_running_loop


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def current_owner_key() -> str:
    """A key unique to the running thread (never reused, unlike thread idents), and to
    the running asyncio task when the sync API is called inside an event loop: tasks
    share their thread, and each must be an owner of its own."""
    key: str | None = getattr(_local, "key", None)
    if key is None:
        key = _local.key = f"thread-{next(_ids)}"
    loop = _running_loop()
    task = None if loop is None else asyncio.current_task(loop)
    if task is None:
        return key
    task_key = _task_ids.get(task)
    if task_key is None:
        task_key = _task_ids[task] = next(_ids)
    return f"{key}/task-{task_key}"


def blocking_forbidden() -> bool:
    """True when a wait here would block a running asyncio event loop."""
    return _running_loop() is not None and not getattr(_local, "may_block", False)


def check_may_block(what: str, twin: str) -> None:
    """Call before a sync call waits: raise WouldBlockLoop when this thread runs an
    asyncio event loop, since waiting would block the loop and so every task on it,
    the holder of what is waited for too (a deadlock). ``what`` says what would be
    waited for (``"lock 'inv'"``), ``twin`` the AsyncCoordinator method to use instead
    (``"lock"``, ``"events.subscribe"``). A no-op in the async twin of this module."""
    if blocking_forbidden():
        raise WouldBlockLoop(what, twin)


@contextlib.contextmanager
def blocking_allowed() -> Iterator[None]:
    """Let this thread's sync calls wait although it runs an event loop. Private: for
    the conformance harness, which runs sync test bodies on a loop of their own per
    thread, where nothing else runs on that loop."""
    before = getattr(_local, "may_block", False)
    _local.may_block = True
    try:
        yield
    finally:
        _local.may_block = before


class Renewer:
    """Calls ``step`` every ``interval`` seconds until it returns False or is stopped."""

    def __init__(self, interval: float, step: Callable[[], bool]) -> None:
        self._interval = interval
        self._step = step
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="accord-renewer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                if not self._step():
                    return
            except Exception:  # a store outage: keep trying until the lease is lost
                log.warning("accord: lease renewal failed, retrying", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()


# --- events: workers, queues and calling user code -----------------------------

WORKERS = 16  # handler workers (threads) per coordinator at most
Queue = queue.SimpleQueue


def spawn(fn: Callable[[], None], name: str) -> threading.Thread:
    """Run ``fn`` in the background: a daemon thread."""
    thread = threading.Thread(target=fn, name=name, daemon=True)
    thread.start()
    return thread


def stop(worker: threading.Thread, timeout: float) -> None:
    """Wait up to ``timeout`` seconds for a worker told to stop (threads can't be killed)."""
    if worker is not threading.current_thread():
        worker.join(timeout)


finish = stop  # the async twin waits, then cancels; a thread can only be waited for


def call(fn: Callable[..., Any], *args: Any) -> Any:
    """Call user code: run a coroutine function to completion, call a plain one."""
    if inspect.iscoroutinefunction(fn):
        return asyncio.run(fn(*args))
    return fn(*args)


def coordinated(coord: Coordinator, spec: Spec, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``fn`` for ``@coordinate``: plain functions here, async ones on an async twin."""
    if inspect.iscoroutinefunction(fn):
        from accord._async.agents import run_coordinated as run_async

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await run_async(async_twin(coord), spec, fn, args, kwargs)

        return async_wrapper

    from accord._sync.agents import run_coordinated

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run_coordinated(coord, spec, fn, args, kwargs)

    return wrapper


StartLock = threading.Lock


class Progress:
    """A count of steps made by workers (handlers finished, events read) that a waiter
    can sleep on until it moves: ``wait_idle`` re-checks only when something happened."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self.count = 0

    def tick(self) -> None:
        with self._cond:  # a lock, not a bare +=: two workers' increments must not merge
            self.count += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> None:
        """Return once ``count`` differs from ``seen``, or after ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: self.count != seen, timeout)


def start_soon(fn: Callable[[], None]) -> None:
    """Run ``fn`` now (sync code has no later)."""
    fn()


def async_twin(coord: Coordinator) -> AsyncCoordinator:
    """An async coordinator on the same store, namespace and agent, one per event loop."""
    from accord._connect import connect_async

    loop = asyncio.get_running_loop()
    twin: AsyncCoordinator | None = coord._twins.get(loop)
    if twin is None:
        twin = coord._twins[loop] = connect_async(
            coord._url,
            namespace=coord.namespace,
            agent=coord.agent,
            max_payload=coord.max_payload,
            max_events=coord.max_events,
        )
    return twin
