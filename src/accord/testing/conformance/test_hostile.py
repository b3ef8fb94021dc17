"""Hostile input to every public call: names, values, durations, limits and ids.

The property: a call either works or raises one of accord's errors, ``TypeError`` or
``ValueError`` (never an ``OverflowError``, a driver's error or a hang), and a call
that raised changed nothing a user can see in the store. Inputs come from
hypothesis strategies (derandomized, so a failure reproduces) plus values that broke
stores before; a failure names the call and the input.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.errors import AccordError, ConfigError, InvalidName, PayloadTooLarge

pytestmark = pytest.mark.accord_capability("leases", "state", "rate_limits", "events", "signals")

ALLOWED = (AccordError, TypeError, ValueError)
# refusals of the input itself: these must leave the store as it was (a timeout may
# not: a request that nobody answered was still made)
REFUSED = (ConfigError, InvalidName, PayloadTooLarge, TypeError, ValueError)
EXAMPLES = 30
SLOW = 3.0

NASTY: list[Any] = [
    "", " ", "\x00", "a\nb", "x" * 513, "\ud800", "é" * 300, "*", "a/b", "{ns}", "0", "-1",
    "9" * 30, "1-0", "0-0", "18446744073709551616-0", "nan", "inf",
    0, -1, 1, 2**31, 2**53 + 1, 2**63, 2**64, -(2**63), 10**30, True, False,
    0.0, -0.0, 1e-300, 5e-324, 1e13, 2.0**53, 1e300, -1e300, math.inf, -math.inf, math.nan,
    None, [], {}, [1], {"a": 1}, b"bytes", object(),
]


def _collect(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    found: list[Any] = []

    @settings(
        max_examples=n, database=None, derandomize=True, deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    collect()
    return found


_ANY = st.one_of(
    st.text(max_size=12),
    st.integers(),
    st.floats(),
    st.none(),
    st.booleans(),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
VALUES = NASTY + _collect(_ANY, EXAMPLES)


def _small_or_invalid(v: Any) -> bool:
    """Whether a blocking call given ``v`` as its wait returns quickly (or refuses it)."""
    if v is None:
        return False  # waits for ever
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return True
    return math.isnan(v) or v <= 0.05


async def _drain(iterator: Any, limit: int = 3) -> None:
    n = 0
    async for _ in iterator:
        n += 1
        if n >= limit:
            break


async def _lease_then_release(lock: Any) -> None:
    lease = await lock.try_acquire()
    if lease is not None:
        await lease.release()


async def _extend(coord: Any, v: Any) -> None:
    lease = await coord.lock("held", ttl=5).acquire()
    try:
        await lease.extend(v)
    finally:
        await lease.release()


async def _fenced(coord: Any, v: Any) -> None:
    await coord.state("m").set("k", 1, fence=v)


async def _request(coord: Any, v: Any) -> None:
    if _small_or_invalid(v):
        await coord.request("nobody", {}, timeout=v)


async def _subscribe_timeout(coord: Any, v: Any) -> None:
    if _small_or_invalid(v):
        await _drain(coord.subscribe("nothing.*", timeout=v))


def _noop(event: Any) -> None:
    """A handler that is never triggered."""


CALLS: dict[str, Callable[[Any, Any], Awaitable[Any]]] = {
    # names
    "lock(name)": lambda c, v: _lease_then_release(c.lock(v)),
    "semaphore(name)": lambda c, v: _lease_then_release(c.semaphore(v, limit=2)),
    "rate_limit(name)": lambda c, v: c.rate_limit(v, rate=1000).try_acquire(),
    "state(name).get": lambda c, v: c.state(v).get("k"),
    "set(key)": lambda c, v: c.state("m").set(v, 1),
    "get(key)": lambda c, v: c.state("m").get(v),
    "incr(key)": lambda c, v: c.state("m").incr(v),
    "delete(key)": lambda c, v: c.state("m").delete(v),
    "history(key)": lambda c, v: c.state("m").history(v),
    "keys(prefix)": lambda c, v: c.state("m").keys_page(prefix=v),
    "items(prefix)": lambda c, v: c.state("m").items_page(prefix=v),
    "keys(after)": lambda c, v: c.state("m").keys_page(after=v),
    "emit(name)": lambda c, v: c.emit(v),
    "events.history(name)": lambda c, v: c.events.history(name=v),
    "events.history(source)": lambda c, v: c.events.history(source=v),
    "barrier(name)": lambda c, v: c.barrier(v, 1).wait(),
    "locks([name])": lambda c, v: _acquire_all(c.locks([v])),
    "when(pattern)": lambda c, v: _async_none(c.when(v)(_noop)),
    "when(group)": lambda c, v: _async_none(c.when("p", group=v)(_noop)),
    "request(agent)": lambda c, v: c.request(v, {}, timeout=0.01),
    # values
    "set(value)": lambda c, v: c.state("m").set("k", v),
    "set(expected_version)": lambda c, v: c.state("m").set("k", 1, expected_version=v),
    "set(fence)": _fenced,
    "delete(expected_version)": lambda c, v: c.state("m").delete("k", expected_version=v),
    "incr(delta)": lambda c, v: c.state("m").incr("n", v),
    "update(fn -> value)": lambda c, v: c.state("m").update("k", lambda _: v, default=0),
    "emit(data)": lambda c, v: c.emit("e", v),
    # durations, limits and ids
    "lock(ttl)": lambda c, v: _lease_then_release(c.lock("l", ttl=v)),
    "lock(timeout)": lambda c, v: _lease_then_release(c.lock("l", timeout=v)),
    "acquire(timeout)": lambda c, v: _acquire_release(c.lock("l"), v),
    "extend(ttl)": _extend,
    "semaphore(limit)": lambda c, v: _lease_then_release(c.semaphore("s", limit=v)),
    "semaphore(ttl)": lambda c, v: _lease_then_release(c.semaphore("s", limit=1, ttl=v)),
    "rate_limit(rate)": lambda c, v: c.rate_limit("r", rate=v).try_acquire(),
    "rate_limit(per)": lambda c, v: c.rate_limit("r", rate=1, per=v).try_acquire(),
    "rate_limit(burst)": lambda c, v: c.rate_limit("r", rate=1, burst=v).try_acquire(),
    "try_acquire(cost)": lambda c, v: c.rate_limit("r", rate=10, burst=5).try_acquire(cost=v),
    "rate acquire(timeout)": lambda c, v: c.rate_limit("q", rate=1000).acquire(timeout=v),
    "barrier(parties)": lambda c, v: c.barrier("b", v, timeout=0.01),
    "barrier(timeout)": lambda c, v: c.barrier("b1", 1, timeout=v).wait(),
    "state.history(limit)": lambda c, v: c.state("m").history("k", limit=v),
    "events.history(limit)": lambda c, v: c.events.history(limit=v),
    "events.read(after)": lambda c, v: c.events.read(after=v),
    "events.read(limit)": lambda c, v: c.events.read(limit=v),
    "subscribe(after)": lambda c, v: _drain(c.subscribe("*", after=v, timeout=0.01)),
    "subscribe(timeout)": _subscribe_timeout,
    "request(timeout)": _request,
    "when(visibility)": lambda c, v: _async_none(c.when("p", group="g", visibility=v)(_noop)),
    "wait_idle(timeout)": lambda c, v: c.wait_idle(v),
}


async def _async_none(_: object) -> None:
    return None


async def _acquire_all(locks: Any) -> None:
    for lease in await locks.acquire(0):
        await lease.release()


async def _acquire_release(lock: Any, timeout: Any) -> None:
    lease = await lock.acquire(timeout)
    await lease.release()


async def _snapshot(coord: Any) -> tuple[Any, ...]:
    """What a user can see of the test's store: entries, history, locks, the log."""
    m = coord.state("m")
    items = dict(await m.items_page())
    return (
        {k: (e.value, e.version) for k, e in items.items()},
        [(e.value, e.version) for e in await m.history("k")],
        [(s.name, s.holders) for s in await coord.list_locks()],
        [e.id for e in await coord.events.history(limit=5)],
    )


async def test_hostile_input_raises_accords_errors_and_changes_nothing(coord: Any) -> None:
    await coord.state("m").set("k", "before")
    await coord.emit("seed")
    failures: list[str] = []
    before = None
    for what, call in CALLS.items():
        for v in VALUES:
            before = before or await _snapshot(coord)
            t0 = time.monotonic()
            try:
                await call(coord, v)
                before = None  # it worked: the store may have changed
            except REFUSED as exc:
                if await _snapshot(coord) != before:
                    failures.append(f"{what} with {v!r} raised {exc!r} but changed the store")
                    before = None
            except ALLOWED:
                before = None
            except Exception as exc:  # the property under test
                failures.append(f"{what} with {v!r} raised {type(exc).__name__}: {exc}")
                before = None
            took = time.monotonic() - t0
            if took > SLOW:  # every wait in CALLS is short or refused
                failures.append(f"{what} with {v!r} took {took:.1f} s")
    assert not failures, "\n".join(failures[:40])
