"""Child processes of bench/task_queue.py (importable under the spawn method)."""

from __future__ import annotations

import threading
import time
from typing import Any

import accord


def pick_up(url: str, namespace: str, rounds: int, ready: Any, out: Any) -> None:
    """Wait for tasks (pushed); send the monotonic time each came, then complete it."""
    with accord.connect(url, namespace=namespace, agent="picker") as coord:
        q = coord.queue("latency")
        ready.put("ready")
        for _ in range(rounds):
            claim = q.claim(timeout=30)
            got = time.monotonic()
            assert claim is not None
            out.put(got)
            claim.complete()


def drain(url: str, namespace: str, agent: str, threads: int, start: Any, out: Any) -> None:
    """``threads`` workers claim and complete until the queue is empty; sends the ids
    completed."""
    done: list[str] = []
    lock = threading.Lock()
    with accord.connect(url, namespace=namespace, agent=agent) as coord:
        q = coord.queue("drain")
        start.wait(60)

        def work() -> None:
            mine = []
            while (claim := q.claim(lease=60)) is not None:
                claim.complete()
                mine.append(claim.id)
            with lock:
                done.extend(mine)

        workers = [threading.Thread(target=work) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    out.put(done)
