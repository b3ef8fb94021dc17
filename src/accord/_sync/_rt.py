"""What differs between the async and the sync primitives: sleeping, background
renewal and who "the current owner" is. Hand-written; its twin is ``_async/_rt.py``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import inspect
import itertools
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from accord.errors import WouldBlockLoop

if TYPE_CHECKING:
    from accord._lifecycle import Spec

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


def coordinated(
    spec: Spec, fn: Callable[..., Any], run: Callable[..., Any]
) -> Callable[..., Any]:
    """Wrap ``fn`` for ``@coordinate``: ``run(fn, args, kwargs, proceed=None)`` is one
    coordinated run on the coordinator; a plain function runs in the caller's thread,
    an ``async def`` on the caller's event loop (see :func:`run_on_loop`)."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            return await run_on_loop(run, spec, fn, args, kwargs)

        return async_wrapper

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run(fn, args, kwargs)

    return wrapper


async def run_on_loop(
    run_coordinated: Callable[..., Any],
    spec: Spec,
    fn: Callable[..., Coroutine[Any, Any, Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """One ``@coordinate`` run of an ``async def`` on the sync coordinator.

    The run's lifecycle (``run_coordinated``: lock, semaphore, rate limit, events,
    release) is the sync one, on this coordinator, in a thread of its own: waiting for
    the lock there blocks no event loop, and the thread is the owner of the run's leases
    from acquisition to release. ``fn`` itself runs on the caller's loop, as a task,
    while that thread waits for it. No second coordinator and no second store
    connection exist.

    Cancelling the caller cancels ``fn``: its guards are released and neither
    ``_complete`` nor ``_failed`` is emitted (as on the async coordinator). A run
    cancelled while its thread still waits for the lock returns at once; the thread
    gives the lock back as soon as it gets it, without calling ``fn``.
    """
    loop = asyncio.get_running_loop()
    body = _OnLoop(loop, fn)
    done: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        def set_outcome() -> None:
            if done.cancelled():
                pass
            elif isinstance(error, asyncio.CancelledError):
                done.cancel()
            elif error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        with contextlib.suppress(RuntimeError):  # the loop closed after a cancellation
            loop.call_soon_threadsafe(set_outcome)

    def run() -> None:
        try:
            result = run_coordinated(body, args, kwargs, body.proceed)
        except BaseException as exc:  # re-raised in the awaiting task
            settle(None, exc)
        else:
            settle(result, None)

    context = contextvars.copy_context()
    name = f"accord-coordinate-{spec.agent}"
    threading.Thread(target=context.run, args=(run,), name=name, daemon=True).start()
    try:
        return await done
    except asyncio.CancelledError:
        body.cancel()
        raise


class _OnLoop:
    """``fn(*args)`` of an ``async def`` called from a worker thread: a task on
    ``loop`` that the thread waits for; :meth:`cancel` cancels it (or, before it was
    called, makes :meth:`proceed` and the call raise asyncio's CancelledError, a
    BaseException: the run ends with no ``_failed`` event, as on the async coordinator)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., Any]) -> None:
        self._loop = loop
        self._fn = fn
        self._lock = threading.Lock()
        self._future: concurrent.futures.Future[Any] | None = None
        self._cancelled = False

    def proceed(self) -> None:
        """Raise CancelledError if the run was cancelled (before ``fn`` started)."""
        if self._cancelled:
            raise asyncio.CancelledError

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.proceed()
            coro = self._fn(*args, **kwargs)
            self._future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return self._future.result()
        except concurrent.futures.CancelledError:  # an Exception, unlike asyncio's
            raise asyncio.CancelledError from None

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            if self._future is not None:
                self._future.cancel()


StartLock = threading.Lock


def run_all(fns: list[Callable[[], None]]) -> None:
    """Run each of ``fns`` in a thread of its own until all end; the first error is
    raised (threads cannot be cancelled: the others run to their end)."""
    errors: list[BaseException] = []

    def run(fn: Callable[[], None]) -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,), name="accord-work", daemon=True)
               for fn in fns]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


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
