# Generated from src/accord/_async/ratelimit.py by scripts/unasync.py: do not edit.
"""Rate limits: one GCRA step in the store, so every process shares one budget.

``rate`` calls per ``per`` seconds, evenly spaced, with up to ``burst`` calls at
once (default 1: no bursts). Over any window of ``w`` seconds at most
``burst + rate * w / per`` calls pass, however many processes ask.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from accord import _validate
from accord._sync import _rt
from accord._context import Context
from accord._models import RateLimitStatistics
from accord.backends import Backend
from accord.errors import ConfigError, LockTimeout

P = ParamSpec("P")
R = TypeVar("R")


class RateLimit:
    """A shared rate limit; see :meth:`Coordinator.rate_limit`."""

    def __init__(
        self, ctx: Context[Backend], name: str, rate: float, per: float, burst: int | None
    ) -> None:
        self.name = _validate.name(name, "rate limit name")
        self.burst = _validate.count(1 if burst is None else burst, "burst")
        self._interval = _validate.rate_interval(rate, per, self.burst)
        self.rate, self.per = float(rate), float(per)
        self._ctx = ctx
        self._key = f"rate/{name}"

    def _cost(self, cost: int) -> int:
        _validate.count(cost, "cost")
        if cost > self.burst:
            raise ConfigError(
                f"cost {cost} can never pass rate limit {self.name!r} with burst "
                f"{self.burst}; raise burst= to at least {cost}"
            )
        return cost

    def acquire(self, cost: int = 1, timeout: float | None = None) -> float:
        """Wait until ``cost`` calls are allowed; return the seconds waited.

        Raises LockTimeout when the wait would pass ``timeout`` (nothing consumed).
        """
        cost = self._cost(cost)
        timeout = _validate.timeout(timeout)
        start = time.monotonic()
        while True:
            wait = self._ctx.store.rate_acquire(
                self._key, self._interval, self.burst, cost, True
            )
            waited = time.monotonic() - start
            if wait == 0.0:
                return waited
            if timeout is not None and waited + wait > timeout:
                raise LockTimeout(self.name, waited, kind="rate limit")
            _rt.check_may_block(f"rate limit {self.name!r}", "rate_limit")
            _rt.sleep(wait)

    def try_acquire(self, cost: int = 1) -> bool:
        """Take ``cost`` calls if allowed right now."""
        wait = self._ctx.store.rate_acquire(
            self._key, self._interval, self.burst, self._cost(cost), True
        )
        return wait == 0.0

    def statistics(self) -> RateLimitStatistics:
        """How long a call of cost 1 would wait now (nothing consumed)."""
        wait = self._ctx.store.rate_acquire(
            self._key, self._interval, self.burst, 1, False
        )
        return RateLimitStatistics(self.name, self.rate, self.per, self.burst, wait)

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Use as a decorator: every call waits for its turn first."""

        @functools.wraps(fn)
        def limited(*args: P.args, **kwargs: P.kwargs) -> R:
            self.acquire()
            return fn(*args, **kwargs)

        return limited

    def __repr__(self) -> str:
        return f"<RateLimit {self.name!r} {self.rate:g}/{self.per:g}s burst={self.burst}>"
