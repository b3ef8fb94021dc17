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


def huey_app(kind: str, where: str) -> tuple[Any, Any]:
    """A Huey of ``kind`` (redis: ``where`` is the URL and name; sqlite: the file) and
    its one task, which returns 1 (stored, so that the results count the tasks done)."""
    from huey import RedisHuey, SqliteHuey

    if kind == "redis":
        url, _, name = where.rpartition("#")
        huey = RedisHuey(name, url=url)
    else:
        huey = SqliteHuey("bench", filename=where)
    return huey, huey.task(name="job")(_job)


def _job(i: int) -> int:
    return 1


def huey_consume(kind: str, where: str, threads: int, start: Any) -> None:
    """Huey's own consumer with ``threads`` thread workers, until killed."""
    huey, _ = huey_app(kind, where)
    consumer = huey.create_consumer(workers=threads, worker_type="thread", periodic=False)
    start.wait(60)
    consumer.run()
