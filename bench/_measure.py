"""One-thread rates: acquire+release cycles, PING, state operations, rate-limit checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import redis
from _subjects import Subject, open_subject

import accord

BATCH = 32
WARM_UP = 50


def rate(op: Callable[[], object], seconds: float) -> float:
    """Calls of ``op`` per second over about ``seconds`` (after a short warm-up)."""
    for _ in range(WARM_UP):
        op()
    calls = 0
    start = time.perf_counter()
    end = start + seconds
    while True:
        for _ in range(BATCH):
            op()
        calls += BATCH
        now = time.perf_counter()
        if now >= end:
            return calls / (now - start)


def ping_rate(redis_url: str, seconds: float) -> float:
    """The round-trip floor: raw redis-py PING, one connection, one thread."""
    client = redis.Redis.from_url(redis_url)
    try:
        return rate(client.ping, seconds)
    finally:
        client.close()


def cycle_rate(subject: Subject, seconds: float) -> float:
    """Uncontended acquire+release cycles per second of one lock, one thread."""
    locks = open_subject(subject, agent="bench-uncontended")
    try:
        acquire, release = locks.handle("uncontended")

        def cycle() -> None:
            acquire()
            release()

        return rate(cycle, seconds)
    finally:
        locks.close()


def async_cycle_rate(url: str, namespace: str, seconds: float) -> float:
    """The same cycles from one asyncio task, on ``connect_async``."""

    async def main() -> float:
        coord = accord.connect_async(url, namespace=namespace, agent="bench-asyncio")
        lock = coord.lock("uncontended-asyncio", ttl=30, timeout=60)

        async def cycle() -> None:
            await (await lock.acquire()).release()

        try:
            return await _async_rate(cycle, seconds)
        finally:
            await coord.aclose()

    return asyncio.run(main())


async def _async_rate(op: Callable[[], Awaitable[object]], seconds: float) -> float:
    """:func:`rate` for a coroutine function, awaited on one loop."""
    for _ in range(WARM_UP):
        await op()
    calls, start = 0, time.perf_counter()
    while not calls or time.perf_counter() < start + seconds:
        for _ in range(BATCH):
            await op()
        calls += BATCH
    return calls / (time.perf_counter() - start)


OPERATIONS = ("state.update", "incr", "compare-and-set", "rate-limit check")


@contextmanager
def operations(url: str, namespace: str) -> Iterator[dict[str, Callable[[], object]]]:
    """The state and rate-limit operations of one accord store, ready to call."""
    coord = accord.connect(url, namespace=namespace, agent="bench-ops")
    try:
        inv = coord.state("bench")
        inv.set("updated", 0)
        entry: list[Any] = [inv.set("cas", 0)]

        def cas() -> None:
            last = entry[0]
            entry[0] = inv.set("cas", last.version, expected_version=last.version)

        limit = coord.rate_limit("checks", rate=1e9, per=1.0, burst=1000)
        yield {
            "state.update": lambda: inv.update("updated", _plus_one),
            "incr": lambda: inv.incr("counted"),
            "compare-and-set": cas,
            "rate-limit check": limit.try_acquire,
        }
    finally:
        coord.close()


def _plus_one(value: int) -> int:
    return value + 1
