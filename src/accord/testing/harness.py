"""Run one test body against the sync API and its async twin.

Conformance tests are written once, as ``async def`` bodies against the async API.
In sync mode the coordinator is a :class:`Twin`: every call goes straight to the
sync code (blocking, in the calling thread) and is wrapped so ``await`` and
``async with`` still read right. ``workers`` runs concurrent bodies as real threads
in sync mode and as tasks on one loop in async mode; :class:`Worker` starts one
such body on its own, :class:`Barrier` lines workers up, :func:`eventually` polls
a condition from the test body (sleeping, so threads and tasks both progress).

Inside a worker body ``await asyncio.sleep(x)`` pauses that worker in both modes
(in sync mode each body runs on its own event loop in its own thread). The sync API
refuses to wait inside a running event loop (``WouldBlockLoop``); these loops run
nothing but their one body, so the harness lets it wait there (``blocking_allowed``).
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import accord
from accord._sync._rt import blocking_allowed


class _Done:
    """An awaitable that is already finished."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator


def _async_twin(cls: type) -> type | None:
    """The async class generated alongside ``cls`` (``_sync.x.Foo`` -> ``_async.x.AsyncFoo``)."""
    for klass in cls.__mro__:
        module = sys.modules.get(klass.__module__.replace("accord._sync", "accord._async", 1))
        twin: type | None = getattr(module, "Async" + klass.__name__, None)
        if twin is not None:
            return twin
    found: type | None = getattr(accord, "Async" + cls.__name__, None)
    return found


class _AsyncIter:
    """A sync iterator (like ``subscribe()``) dressed for ``async for``."""

    def __init__(self, it: Any) -> None:
        self._it = it

    def __aiter__(self) -> _AsyncIter:
        return self

    async def __anext__(self) -> Any:
        try:
            return wrap(next(self._it))
        except StopIteration:
            raise StopAsyncIteration from None


def wrap(value: Any) -> Any:
    if inspect.isgenerator(value):
        return _AsyncIter(value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    if type(value).__module__.startswith("accord._sync"):
        return Twin(value)
    return value


def unwrap(value: Any) -> Any:
    return value._obj if isinstance(value, Twin) else value


class Twin:
    """A sync accord object dressed as its async twin."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj
        self._twin = _async_twin(type(obj))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._obj, name)
        if not callable(attr):
            return wrap(attr)
        is_async = self._twin is not None and inspect.iscoroutinefunction(
            getattr(self._twin, name.replace("close", "aclose"), None)
        )

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(unwrap(a) for a in args)
            kwargs = {k: unwrap(v) for k, v in kwargs.items()}
            result = wrap(attr(*args, **kwargs))
            return _Done(result) if is_async else result

        return call

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return wrap(self._obj(*(unwrap(a) for a in args), **kwargs))

    def aclose(self) -> _Done:
        self._obj.close()
        return _Done(None)

    async def __aenter__(self) -> Any:
        return wrap(self._obj.__enter__())

    async def __aexit__(self, *exc: Any) -> Any:
        return self._obj.__exit__(*exc)

    def __repr__(self) -> str:
        return f"Twin({self._obj!r})"


async def workers(mode: str, n: int, body: Callable[[int], Awaitable[Any]]) -> list[Any]:
    """Run ``body(0..n-1)`` concurrently: threads in sync mode, tasks in async mode."""
    if mode == "async":
        return list(await asyncio.gather(*(body(i) for i in range(n))))
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with blocking_allowed():  # the loop is this body's own: nothing else runs on it
                results[i] = asyncio.run(body(i))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


class Worker:
    """One body started on its own: a thread (sync mode) or a task (async mode).

    ``await worker.join(timeout)`` returns the body's result or raises its error; a
    body still running after ``timeout`` seconds fails the test instead of hanging.
    """

    def __init__(self, mode: str, body: Callable[[], Awaitable[Any]]) -> None:
        self.mode = mode
        self._result: Any = None
        self._error: BaseException | None = None
        if mode == "async":
            self._task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(
                _as_coroutine(body)
            )
        else:
            self._thread = threading.Thread(target=self._run, args=(body,), daemon=True)
            self._thread.start()

    def _run(self, body: Callable[[], Awaitable[Any]]) -> None:
        try:
            with blocking_allowed():  # the loop is this body's own: nothing else runs on it
                self._result = asyncio.run(_as_coroutine(body))
        except BaseException as exc:
            self._error = exc

    def done(self) -> bool:
        if self.mode == "async":
            return self._task.done()
        return not self._thread.is_alive()

    async def join(self, timeout: float = 30.0) -> Any:
        if self.mode == "async":
            return await asyncio.wait_for(self._task, timeout)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive():
            if time.monotonic() > deadline:
                raise TimeoutError(f"worker still running after {timeout} s")
            await asyncio.sleep(0.002)
        if self._error is not None:
            raise self._error
        return self._result


async def _as_coroutine(body: Callable[[], Awaitable[Any]]) -> Any:
    return await body()


class Barrier:
    """``await barrier.wait()`` returns once ``n`` workers arrived (threads or tasks)."""

    def __init__(self, mode: str, n: int) -> None:
        self.mode = mode
        self._threads = threading.Barrier(n)
        self._n = n
        self._arrived = 0
        self._event: asyncio.Event | None = None

    async def wait(self, timeout: float = 30.0) -> None:
        if self.mode == "sync":
            self._threads.wait(timeout)
            return
        if self._event is None:
            self._event = asyncio.Event()
        self._arrived += 1
        if self._arrived == self._n:
            self._event.set()
        await asyncio.wait_for(self._event.wait(), timeout)


async def eventually(
    check: Callable[[], Awaitable[bool]], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Poll ``check`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.003)


def yield_now(mode: str) -> Awaitable[None]:
    """Let other workers run: a task switch (async) or a GIL switch (sync)."""
    if mode == "sync":
        time.sleep(0)
        return _Done(None)
    return asyncio.sleep(0)
