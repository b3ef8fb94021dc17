"""What an integration holds around a call: a lock, a semaphore permit, a rate-limit
token, taken in that order and released in reverse, sync or async.

The order matters. A lock names one record, so it comes first: a caller waiting for
the record holds no permit others could use. The rate-limit token comes last, right
before the call, so the calls start when they are admitted and the calls in any
window are those the limit admitted (a token taken before a long wait for a permit
would let the call start later, in a window it was not counted in).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from accord.integrations._connection import Connection, CoordLike, owned

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Concurrency:
    """At most ``limit`` holders of the semaphore ``name`` at once, in every process.

    Each holder's permit is a lease of the integration's ``ttl``: a holder that dies
    frees its permit within that time.
    """

    name: str
    limit: int

    def __post_init__(self) -> None:
        _check_name(self.name, "Concurrency name")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 1:
            raise ValueError(f"Concurrency limit must be a whole number >= 1, got {self.limit!r}")


@dataclass(frozen=True)
class Rate:
    """At most ``burst + rate * w / per`` calls in any ``w`` seconds, over every process
    (accord's GCRA rate limit ``name``); ``burst`` defaults to 1 (evenly spaced calls)."""

    name: str
    rate: float
    per: float = 1.0
    burst: int | None = None

    def __post_init__(self) -> None:
        _check_name(self.name, "Rate name")
        for what, value in (("rate", self.rate), ("per", self.per)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and value > 0
            ):
                raise ValueError(f"Rate {what} must be a finite number > 0, got {value!r}")
        if self.burst is not None and (
            isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1
        ):
            raise ValueError(f"Rate burst must be a whole number >= 1 or None, got {self.burst!r}")


def _check_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} must be a non-empty str, got {name!r}")


class Limits:
    """A lock (a name, or a function of the call's arguments), a :class:`Concurrency`
    and a :class:`Rate`, any of them None, held around calls on the store of ``coord``
    (see :meth:`Connection.of`; a connection made here from a URL is closed by
    :meth:`close` / :meth:`aclose`).

    ``ttl`` is the lease of the lock and of the permit; ``timeout`` bounds each wait
    (None: wait for ever), and a wait that runs out raises :class:`accord.LockTimeout`.
    ``agent`` is whom the holders show (None: the connection's own agent).
    """

    def __init__(
        self,
        coord: CoordLike,
        *,
        lock: str | Callable[..., str] | None = None,
        semaphore: Concurrency | None = None,
        rate_limit: Rate | None = None,
        ttl: float = 30.0,
        timeout: float | None = None,
        agent: str | None = None,
    ) -> None:
        if lock is not None and not (callable(lock) or (isinstance(lock, str) and lock)):
            raise TypeError(f"lock must be a name or a function returning one, not {lock!r}")
        if semaphore is not None and not isinstance(semaphore, Concurrency):
            raise TypeError(
                "semaphore must be accord.integrations.Concurrency(name, limit), "
                f"not {type(semaphore).__name__}"
            )
        if rate_limit is not None and not isinstance(rate_limit, Rate):
            raise TypeError(
                "rate_limit must be accord.integrations.Rate(name, rate, per=..., burst=...), "
                f"not {type(rate_limit).__name__}"
            )
        for what, value in (("ttl", ttl), ("timeout", timeout)):
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0
            ):
                raise ValueError(f"{what} must be a number of seconds > 0, got {value!r}")
        if ttl is None:
            raise ValueError("ttl must be a number of seconds > 0, got None")
        self.conn, self.owns = Connection.of(coord), owned(coord)
        self.lock, self.semaphore, self.rate_limit = lock, semaphore, rate_limit
        self.ttl, self.timeout, self.agent = float(ttl), timeout, agent

    @classmethod
    def for_calls(
        cls,
        what: str,
        coord: CoordLike,
        semaphore: Concurrency | None,
        rate_limit: Rate | None,
        ttl: float,
        timeout: float | None,
    ) -> Limits:
        """The limits of a wrapper of model calls, ``what`` (named in the error): a
        semaphore and/or a rate limit, at least one."""
        limits = cls(coord, semaphore=semaphore, rate_limit=rate_limit, ttl=ttl, timeout=timeout)
        if not limits:
            raise ValueError(f"{what} needs a semaphore or a rate_limit")
        return limits

    def close(self) -> None:
        """Close the connection made here from a URL (one passed in stays open)."""
        if self.owns:
            self.conn.close()

    async def aclose(self) -> None:
        """The async twin of :meth:`close` (both flavours' coordinators)."""
        if self.owns:
            await self.conn.aclose()

    def __bool__(self) -> bool:
        return not (self.lock is None and self.semaphore is None and self.rate_limit is None)

    def _name_for(
        self,
        lock_input: Callable[..., tuple[tuple[Any, ...], dict[str, Any]]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> str | None:
        """The lock's name for a call with these arguments (None: no lock)."""
        if self.lock is None or isinstance(self.lock, str):
            return self.lock
        picked, named = lock_input(*args, **kwargs)
        name = self.lock(*picked, **named)
        if not isinstance(name, str):
            raise TypeError(
                f"the lock function {self.lock!r} returned {type(name).__name__}; "
                "it must return the lock's name, a str"
            )
        return name

    @contextmanager
    def held(self, lock_name: str | None, agent: str | None = None) -> Iterator[None]:
        """Hold the lock ``lock_name`` (if any), a permit and a token, in this thread,
        acting as ``agent`` (None: this object's ``agent``), whom holders show."""
        coord = self.conn.sync_as(agent or self.agent)
        with ExitStack() as stack:
            if lock_name is not None:
                stack.enter_context(coord.lock(lock_name, ttl=self.ttl, timeout=self.timeout))
            if self.semaphore is not None:
                stack.enter_context(coord.semaphore(
                    self.semaphore.name, limit=self.semaphore.limit, ttl=self.ttl,
                    timeout=self.timeout,
                ))
            if self.rate_limit is not None:
                rate = self.rate_limit
                coord.rate_limit(rate.name, rate=rate.rate, per=rate.per, burst=rate.burst).acquire(
                    timeout=self.timeout
                )
            yield

    @asynccontextmanager
    async def aheld(self, lock_name: str | None, agent: str | None = None) -> AsyncIterator[None]:
        """The asyncio twin of :meth:`held`, in this task."""
        coord = self.conn.aio_as(agent or self.agent)
        async with AsyncExitStack() as stack:
            if lock_name is not None:
                await stack.enter_async_context(
                    coord.lock(lock_name, ttl=self.ttl, timeout=self.timeout)
                )
            if self.semaphore is not None:
                await stack.enter_async_context(coord.semaphore(
                    self.semaphore.name, limit=self.semaphore.limit, ttl=self.ttl,
                    timeout=self.timeout,
                ))
            if self.rate_limit is not None:
                rate = self.rate_limit
                await coord.rate_limit(
                    rate.name, rate=rate.rate, per=rate.per, burst=rate.burst
                ).acquire(timeout=self.timeout)
            yield

    def wrap(
        self, fn: F, lock_input: Callable[..., tuple[tuple[Any, ...], dict[str, Any]]]
    ) -> F:
        """``fn`` (sync or async) holding these limits around each call; the lock
        function is called with the ``(args, kwargs)`` that ``lock_input(*args,
        **kwargs)`` picks from the call's. The wrapper keeps ``fn``'s name,
        docstring, annotations and signature (``inspect.signature`` follows it)."""
        if not callable(fn):
            raise TypeError(f"expected a function to wrap, got {type(fn).__name__}")
        if is_async(fn):

            @functools.wraps(fn)
            async def limited_async(*args: Any, **kwargs: Any) -> Any:
                async with self.aheld(self._name_for(lock_input, args, kwargs)):
                    return await fn(*args, **kwargs)

            return limited_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def limited(*args: Any, **kwargs: Any) -> Any:
            with self.held(self._name_for(lock_input, args, kwargs)):
                return fn(*args, **kwargs)

        return limited  # type: ignore[return-value]


def is_async(fn: object) -> bool:
    """Whether calling ``fn`` returns a coroutine (a coroutine function, or an object
    whose ``__call__`` is one), as the frameworks themselves decide it."""
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004
    )
