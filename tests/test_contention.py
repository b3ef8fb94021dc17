"""Under contention a waiter asks the store once before it sleeps, not twice.

An acquisition first tries without queueing (no mailbox to open when the lock is
free). After an acquisition of a key had to wait, the coordinator's next one of that
key joins the queue in its first call; one that is then granted at once goes back to
trying first. These tests count the calls on a real store through a pass-through spy.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import accord
from accord._models import LeaseRequest


class _Spy:
    """Passes every call to the real backend and records each acquire's ``wait``."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self.waits: list[bool] = []

    def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> Any:
        self.waits.append(req.wait)
        return self._real.acquire(req, detect_deadlock=detect_deadlock)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _AsyncSpy(_Spy):
    async def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> Any:
        self.waits.append(req.wait)
        return await self._real.acquire(req, detect_deadlock=detect_deadlock)


def _calls_of(lock: Any, other: Any, spy: _Spy, *, contended: bool) -> list[bool]:
    """The ``wait`` of each store call of one acquisition of ``lock``; when
    ``contended``, ``other`` (the same lock of another coordinator) is held by
    another thread until this acquisition has queued."""
    queued, release = threading.Event(), threading.Event()

    def hold() -> None:
        with other:
            queued.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    if contended:
        holder.start()
        queued.wait(10)

        def release_when_queued() -> None:
            deadline = time.monotonic() + 10
            while not lock.statistics().waiters and time.monotonic() < deadline:
                time.sleep(0.002)
            release.set()

        threading.Thread(target=release_when_queued).start()
    spy.waits.clear()
    lock.acquire(timeout=10).release()
    if contended:
        holder.join(10)
    return list(spy.waits)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_lock_that_had_to_wait_queues_in_its_first_call(store: str, tmp_path: Path) -> None:
    url = "memory://contention" if store == "memory" else f"sqlite:///{tmp_path}/a.db"
    with accord.connect(url) as coord, accord.connect(url) as holder:
        spy = _Spy(coord._backend)
        coord._backend = spy
        lock, other = coord.lock("busy"), holder.lock("busy")
        rounds = (False, True, True, False, False)
        calls = [_calls_of(lock, other, spy, contended=c) for c in rounds]
        assert calls == [
            [False],  # free: one try
            [False, True],  # taken: a try, then it queues
            [True],  # it waited last time: it queues at once, and the hand-off wakes it
            [True],  # granted at once while queueing: the next one tries first again
            [False],
        ]
        assert lock.try_acquire() is not None  # try_acquire never queues
        assert spy.waits[-1] is False


async def test_the_async_twin_queues_in_its_first_call_too() -> None:
    url = "memory://async-contention"
    async with accord.connect_async(url) as coord, accord.connect_async(url) as holder:
        spy = _AsyncSpy(coord._backend)
        coord._backend = spy
        lock = coord.lock("busy")
        for expected in ([False, True], [True]):
            held = await holder.lock("busy").acquire()
            spy.waits.clear()
            waiter = asyncio.create_task(lock.acquire(timeout=10))
            while not (await lock.statistics()).waiters:
                await asyncio.sleep(0.002)
            await held.release()
            await (await waiter).release()
            assert spy.waits == expected
        spy.waits.clear()
        await (await lock.acquire()).release()
        assert spy.waits == [True]  # granted at once: the hint is dropped
        await (await lock.acquire()).release()
        assert spy.waits == [True, False]


def test_an_acquisition_that_timed_out_counts_as_having_waited() -> None:
    url = "memory://timed-out"
    with accord.connect(url) as coord, accord.connect(url) as holder:
        spy = _Spy(coord._backend)
        coord._backend = spy
        held = holder.lock("busy").acquire()
        with pytest.raises(accord.errors.LockTimeout):
            coord.lock("busy").acquire(timeout=0.05)
        held.release()
        spy.waits.clear()
        coord.lock("busy").acquire().release()
        assert spy.waits == [True]
