"""Run one test body against the sync API and its async twin.

Conformance tests are written once, as ``async def`` bodies against the async API.
In sync mode the coordinator is a :class:`Twin`: every call goes straight to the
sync code (blocking, in the calling thread) and is wrapped so ``await`` and
``async with`` still read right. ``workers`` runs concurrent bodies as real threads
in sync mode and as tasks on one loop in async mode.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import accord


class _Done:
    """An awaitable that is already finished."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        return self.value
        yield  # pragma: no cover - makes this a generator


def _async_twin(cls: type) -> type | None:
    return getattr(accord, "Async" + cls.__name__, None)


def wrap(value: Any) -> Any:
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
