"""Child processes for test_event_processes.py (importable under the spawn method)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import accord


def broadcast_listener(url: str, namespace: str, mode: str, ready: Any, out: Any, n: int) -> None:
    seen: list[int] = []
    if mode == "sync":
        coord = accord.connect(url, namespace=namespace, agent=f"listener-{os.getpid()}")
        coord.when("bcast")(lambda e: seen.append(e["n"]))
        ready.put(os.getpid())
        deadline = time.monotonic() + 60
        while len(seen) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # a duplicate would arrive now
        out.put(list(seen))
        coord.close()
        return

    async def main() -> None:
        coord = accord.connect_async(url, namespace=namespace, agent=f"listener-{os.getpid()}")

        @coord.when("bcast")
        async def on(event: accord.Event) -> None:
            seen.append(event["n"])

        await coord.events.start()
        ready.put(os.getpid())
        deadline = time.monotonic() + 60
        while len(seen) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        out.put(list(seen))
        await coord.aclose()

    asyncio.run(main())


def group_worker(url: str, namespace: str, ready: Any, log_path: str, delay: float) -> None:
    coord = accord.connect(url, namespace=namespace, agent=f"worker-{os.getpid()}")
    with open(log_path, "a", buffering=1) as log:

        @coord.when("job", group="pool", visibility=2.0)
        def handle(event: accord.Event) -> None:
            time.sleep(delay)
            log.write(f"{event['n']}\n")

        ready.put(os.getpid())
        time.sleep(120)  # the test kills or stops us


def responder(url: str, namespace: str, ready: Any) -> None:
    coord = accord.connect(url, namespace=namespace, agent=f"responder-{os.getpid()}")

    @coord.responder("calc")
    def calc(payload: Any) -> Any:
        if payload == "boom":
            raise KeyError("no such thing")
        return {"double": payload * 2, "pid": os.getpid()}

    ready.put(os.getpid())
    time.sleep(120)


def barrier_party(url: str, namespace: str, out: Any) -> None:
    coord = accord.connect(url, namespace=namespace, agent=f"party-{os.getpid()}")
    index = coord.barrier("rendezvous", 4, timeout=30).wait()
    out.put((index, time.monotonic()))
    coord.close()
