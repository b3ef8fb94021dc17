"""Bodies of the child processes of ``test_agent_processes.py`` (importable, as
children are started with "spawn"). Each writes what it saw as JSON to ``out``."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import accord
from accord.errors import AccordError
from accord.testing.conformance._procs import _report, _write


def hold_in_session(url: str, namespace: str, heartbeat: float, out: str) -> None:
    """A session that takes a long lock and waits for SIGKILL."""
    coord = accord.session(url, name="doomed", namespace=namespace, heartbeat=heartbeat)
    lease = coord.lock("job", ttl=60).acquire(timeout=10)
    _write(out, {"ok": {"token": lease.token, "pid": os.getpid()}})
    time.sleep(120)


def pause_in_session(url: str, namespace: str, ttl: float, go: str, out: str) -> None:
    """An async session holding a short lock; after the parent stopped and resumed
    it (SIGSTOP, SIGCONT), and said so in the file ``go``, it tries to use the lease."""

    async def body() -> dict[str, Any]:
        async with accord.session_async(url, name="sleeper", namespace=namespace,
                                        heartbeat=ttl) as coord:
            lease = await coord.lock("job", ttl=ttl).acquire(timeout=10)
            _write(out + ".held", {"ok": {"token": lease.token, "pid": os.getpid()}})
            while not Path(go).exists():
                await asyncio.sleep(0.01)
            seen = []
            for step in (lease.extend, lease.release):
                try:
                    await step()
                    seen.append("ok")
                except AccordError as exc:
                    seen.append(type(exc).__name__)
            return {"seen": seen, "token": lease.token}

    _report(out, lambda: asyncio.run(body()))


def try_spellings(url: str, namespace: str, attempts: list[list[str]], out: str) -> None:
    """From each (working directory, spelling): the lease name and whether the lease
    was refused (another process holds that file)."""

    def body() -> list[list[Any]]:
        coord = accord.connect(url, namespace=namespace, agent=f"cwd-{os.getpid()}")
        seen = []
        try:
            for cwd, spelling in attempts:
                os.chdir(cwd)
                lock = coord.lock_file(spelling, intent="peek", timeout=0)
                try:
                    lock.acquire().release()
                    refused = False
                except accord.LockTimeout as exc:
                    refused = "editing x" in str(exc)
                seen.append([lock.paths[0], refused])
        finally:
            coord.close()
        return seen

    _report(out, body)


def claim_in_session(url: str, namespace: str, heartbeat: float, out: str) -> None:
    """A session that claims a task with a long lease and waits for SIGKILL."""
    coord = accord.session(url, name="doomed", namespace=namespace, heartbeat=heartbeat)
    claim = coord.queue("build").claim(lease=60, timeout=10)
    assert claim is not None
    _write(out, {"ok": {"task": claim.task.id, "pid": os.getpid()}})
    time.sleep(120)
