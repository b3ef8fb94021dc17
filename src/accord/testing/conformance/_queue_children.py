"""Child processes of ``test_queue_processes.py`` (importable under the spawn method).

Each writes what it saw as JSON to ``out`` (or the traceback), like ``_procs.py``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import accord
from accord.testing.conformance._procs import _report, _write


def drain(url: str, namespace: str, agent: str, api: str, threads: int, start: Any,
          out: str) -> None:
    """``threads`` workers (threads, or tasks with ``api="async"``) claim and complete
    until the queue is empty; each records (id, token, claimed at, completed at)."""

    def sync_body() -> list[list[Any]]:
        with accord.connect(url, namespace=namespace, agent=agent) as coord:
            q, seen, lock = coord.queue("jobs"), [], threading.Lock()
            start.wait(60)

            def work() -> None:
                while (claim := q.claim(lease=30)) is not None:
                    got = time.monotonic()
                    claim.complete({"by": agent})
                    with lock:
                        seen.append([claim.id, claim.token, got, time.monotonic()])

            workers = [threading.Thread(target=work) for _ in range(threads)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            return seen

    async def async_body() -> list[list[Any]]:
        async with accord.connect_async(url, namespace=namespace, agent=agent) as coord:
            q, seen = coord.queue("jobs"), []
            start.wait(60)

            async def work() -> None:
                while (claim := await q.claim(lease=30)) is not None:
                    got = time.monotonic()
                    await claim.complete({"by": agent})
                    seen.append([claim.id, claim.token, got, time.monotonic()])

            await asyncio.gather(*(work() for _ in range(threads)))
            return seen

    _report(out, sync_body if api == "sync" else lambda: asyncio.run(async_body()))


def claim_until_killed(url: str, namespace: str, agent: str, lease: float, out: str) -> None:
    """Claim one task, say so, and hold it until SIGKILL."""
    coord = accord.connect(url, namespace=namespace, agent=agent)
    claim = coord.queue("jobs").claim(lease=lease, timeout=30)
    assert claim is not None
    _write(out, {"ok": {"id": claim.id, "token": claim.token, "pid": os.getpid()}})
    time.sleep(120)


def wait_until_killed(url: str, namespace: str, agent: str, out: str) -> None:
    """Take the probe task when it comes (pushed), say so, then wait for another (a
    60 s lease asked) until SIGKILL."""
    coord = accord.connect(url, namespace=namespace, agent=agent)
    q = coord.queue("jobs")
    probe = q.claim(timeout=30)
    assert probe is not None
    probe.complete()
    _write(out, {"ok": {"id": probe.id, "pid": os.getpid()}})
    q.claim(lease=60, timeout=120)


def serve(url: str, namespace: str, agent: str, count: int, out: str) -> None:
    """Wait for tasks (pushed) and complete ``count`` of them with their data doubled."""

    def body() -> int:
        with accord.connect(url, namespace=namespace, agent=agent) as coord:
            q = coord.queue("jobs")
            for _ in range(count):
                claim = q.claim(timeout=30)
                assert claim is not None
                claim.complete(claim.data * 2)
            return count

    _report(out, body)
