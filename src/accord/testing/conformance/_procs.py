"""Bodies of the child processes of ``test_processes.py``.

They live in an importable module because children are started with the "spawn"
method (a fresh interpreter, as separate agents are). Each uses the sync API or,
with ``api="async"``, the asyncio API under ``asyncio.run``, and writes what it saw
as JSON to ``out`` (or the traceback, so the parent can show it).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import accord
from accord.errors import DeadlockError


def _write(out: str, result: dict[str, Any]) -> None:
    tmp = Path(out + ".tmp")
    tmp.write_text(json.dumps(result))
    tmp.replace(out)  # the parent never reads half a file


def _report(out: str, body: Callable[[], Any]) -> None:
    try:
        result: Any = {"ok": body()}
    except BaseException:
        result = {"error": traceback.format_exc()}
    _write(out, result)


def read_report(out: Path) -> Any:
    result = json.loads(out.read_text())
    if "error" in result:
        raise AssertionError(f"child process failed:\n{result['error']}")
    return result["ok"]


# --- 4 processes x N increments under one lock --------------------------------------


def increment_under_lock(
    url: str, namespace: str, agent: str, api: str, rounds: int, start: Any, out: str
) -> None:
    def sync_body() -> list[list[float]]:
        with accord.connect(url, namespace=namespace, agent=agent) as coord:
            counter, lock, seen = coord.state("counters"), coord.lock("counter", ttl=30), []
            start.wait(60)
            for _ in range(rounds):
                with lock as lease:
                    enter = time.monotonic()
                    entry = counter.get("n")
                    counter.set("n", (entry.value if entry else 0) + 1)
                    seen.append([lease.token, enter, time.monotonic()])
            return seen

    async def async_body() -> list[list[float]]:
        async with accord.connect_async(url, namespace=namespace, agent=agent) as coord:
            counter, lock, seen = coord.state("counters"), coord.lock("counter", ttl=30), []
            start.wait(60)
            for _ in range(rounds):
                async with lock as lease:
                    enter = time.monotonic()
                    entry = await counter.get("n")
                    await counter.set("n", (entry.value if entry else 0) + 1)
                    seen.append([lease.token, enter, time.monotonic()])
            return seen

    _report(out, sync_body if api == "sync" else lambda: asyncio.run(async_body()))


# --- a holder killed with SIGKILL --------------------------------------------------


def hold_until_killed(url: str, namespace: str, agent: str, api: str, ttl: float, out: str) -> None:
    def sync_body() -> None:
        coord = accord.connect(url, namespace=namespace, agent=agent)
        lease = coord.lock("job", ttl=ttl).acquire(timeout=30)
        _write(out, {"ok": {"token": lease.token, "pid": os.getpid()}})
        time.sleep(120)  # holding the lock until SIGKILL

    async def async_body() -> None:
        coord = accord.connect_async(url, namespace=namespace, agent=agent)
        lease = await coord.lock("job", ttl=ttl).acquire(timeout=30)
        _write(out, {"ok": {"token": lease.token, "pid": os.getpid()}})
        await asyncio.sleep(120)

    try:
        sync_body() if api == "sync" else asyncio.run(async_body())
    except BaseException:
        _write(out, {"error": traceback.format_exc()})


# --- two processes waiting on each other -------------------------------------------


def deadlock_side(
    url: str, namespace: str, agent: str, api: str, first: str, second: str, start: Any, out: str
) -> None:
    def sync_body() -> dict[str, Any]:
        with accord.connect(url, namespace=namespace, agent=agent) as coord:
            held = coord.lock(first, ttl=30).acquire(timeout=30)
            start.wait(60)
            began = time.monotonic()
            try:
                other = coord.lock(second, ttl=30).acquire(timeout=20)
            except DeadlockError as err:
                took = time.monotonic() - began
                held.release()
                return {"outcome": "deadlock", "took": took, "message": str(err)}
            other.release()
            held.release()
            return {"outcome": "acquired", "took": time.monotonic() - began}

    async def async_body() -> dict[str, Any]:
        async with accord.connect_async(url, namespace=namespace, agent=agent) as coord:
            held = await coord.lock(first, ttl=30).acquire(timeout=30)
            start.wait(60)
            began = time.monotonic()
            try:
                other = await coord.lock(second, ttl=30).acquire(timeout=20)
            except DeadlockError as err:
                took = time.monotonic() - began
                await held.release()
                return {"outcome": "deadlock", "took": took, "message": str(err)}
            await other.release()
            await held.release()
            return {"outcome": "acquired", "took": time.monotonic() - began}

    _report(out, sync_body if api == "sync" else lambda: asyncio.run(async_body()))


# --- FIFO across processes ---------------------------------------------------------


def wait_turn(url: str, namespace: str, agent: str, api: str, out: str) -> None:
    def sync_body() -> list[float]:
        with (
            accord.connect(url, namespace=namespace, agent=agent) as coord,
            coord.lock("fifo", ttl=30, timeout=60) as lease,
        ):
            entered = time.monotonic()
            time.sleep(0.01)
            return [lease.token, entered]

    async def async_body() -> list[float]:
        async with (
            accord.connect_async(url, namespace=namespace, agent=agent) as coord,
            coord.lock("fifo", ttl=30, timeout=60) as lease,
        ):
            entered = time.monotonic()
            await asyncio.sleep(0.01)
            return [lease.token, entered]

    _report(out, sync_body if api == "sync" else lambda: asyncio.run(async_body()))


# --- a waiter killed with SIGKILL while queued --------------------------------------


def queue_until_killed(url: str, namespace: str, agent: str, api: str, ttl: float) -> None:
    """Queue for "job" and stay queued (the parent kills this process meanwhile)."""
    if api == "sync":
        accord.connect(url, namespace=namespace, agent=agent).lock("job", ttl=ttl).acquire()
    else:

        async def body() -> None:
            coord = accord.connect_async(url, namespace=namespace, agent=agent)
            await coord.lock("job", ttl=ttl).acquire()

        asyncio.run(body())
    time.sleep(120)
