"""Redis going away: kill -9 and restart (with and without AOF), SIGSTOP/SIGCONT.

Every case checks the history it recorded: no two holders told they hold a lock at
once, no acknowledged write lost where the store promised durability (AOF with
``appendfsync always``), and every failure a typed accord error within its timeout.
A store that lost its data (no persistence) is detected: the coordinators that saw
it raise BackendUnavailable for good, a new one starts afresh. Calls fail loudly
(never hang, never fall back to another store) and work again once the server is
back. Each test stops a server and always brings it back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import accord
from accord._task import STATUSES
from accord.errors import AccordError, BackendUnavailable, LockTimeout
from accord.testing.redis_server import RedisServer

# the tests of the session's server, in both modes, through the suite's fixtures
on_redis = pytest.mark.parametrize("backend_name", ["redis"], indirect=True)

SLACK = 0.5  # scheduling on a loaded machine, on top of the time a call may take
AOF = ("--appendonly", "yes", "--appendfsync", "always")


# --- a silent server (SIGSTOP) ---------------------------------------------------------


@on_redis
async def test_a_paused_server_gives_backend_unavailable(coord: Any, redis_server: Any) -> None:
    m = coord.state("m")
    await m.set("k", 1)
    lock = coord.lock("job", ttl=10)
    redis_server.pause()  # SIGSTOP: connections stay open, nothing answers
    try:
        start = time.monotonic()
        with pytest.raises(BackendUnavailable):
            await lock.acquire(timeout=1.0)
        assert time.monotonic() - start <= 1.0 + 1.0, "acquire(timeout=1) overran"
        start = time.monotonic()
        with pytest.raises(BackendUnavailable) as down:
            await m.get("k")
        assert time.monotonic() - start < 30, "a call on a stopped server hung"
        assert "redis" in str(down.value).lower()
    finally:
        redis_server.resume()
    assert (await m.get("k")).value == 1
    async with lock as lease:
        assert lease.token >= 1


async def _queued(coord: Any, name: str) -> None:
    """Until someone waits in the queue of lock ``name``."""
    deadline = time.monotonic() + 10
    while not (await coord.lock(name).statistics()).waiters:
        assert time.monotonic() < deadline, "the waiter never queued"
        await asyncio.sleep(0.01)


@on_redis
async def test_a_queued_lock_timeout_bounds_the_whole_call_on_a_silent_server(
    coord: Any, connect: Any, spawn: Any, redis_server: Any
) -> None:
    holder = await coord.lock("job", ttl=60).acquire()
    waiter_coord = connect("waiter")

    async def wait() -> tuple[float, BaseException | None]:
        start = time.monotonic()
        try:  # ttl 2: its place in the queue, if it cannot leave it, soon expires
            await waiter_coord.lock("job", ttl=2).acquire(timeout=2.0)
        except AccordError as exc:
            return time.monotonic() - start, exc
        return time.monotonic() - start, None

    waiter = spawn(wait)
    await _queued(coord, "job")
    redis_server.pause()
    try:
        took, error = await waiter.join(10)
    finally:
        redis_server.resume()
    # the acquire, the abandon and the mailbox cleanup used to wait 1 s each (5 s)
    assert isinstance(error, (BackendUnavailable, LockTimeout)), error
    assert took <= 2.0 + SLACK, f"lock(timeout=2) returned after {took:.1f} s"
    await holder.release()
    async with waiter_coord.lock("job", timeout=10) as lease:  # the queue is usable again
        assert lease.token > holder.token


@on_redis
async def test_a_waiter_without_timeout_sees_an_outage_within_seconds(
    coord: Any, connect: Any, spawn: Any, redis_server: Any
) -> None:
    holder = await coord.lock("job", ttl=60).acquire()
    waiter_coord = connect("waiter")

    async def wait() -> BaseException | None:
        try:
            await waiter_coord.lock("job", ttl=60).acquire()
        except AccordError as exc:
            return exc
        return None

    waiter = spawn(wait)
    await _queued(coord, "job")
    redis_server.pause()
    start = time.monotonic()
    try:
        error = await waiter.join(15)
        took = time.monotonic() - start
    finally:
        redis_server.resume()
    assert isinstance(error, BackendUnavailable), error
    assert took < 1.5 + 1.0 + SLACK, f"the outage showed after {took:.1f} s (ttl 60)"
    await holder.release()


@dataclass
class History:
    """What each contender was told, on the test's monotonic clock."""

    # (from, to, token, who): a lease the store kept for ``who`` at least this long
    held: list[tuple[float, float, int, str]] = field(default_factory=list)
    failures: list[tuple[str, float, float]] = field(default_factory=list)  # error, took, limit
    acked: dict[str, int] = field(default_factory=dict)  # the last write acknowledged to each
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self) -> None:
        spans = sorted(self.held)
        newest, newest_who = 0, ""
        for i, (_, end, token, who) in enumerate(spans):
            for start2, _, token2, who2 in spans[i + 1 :]:
                if start2 >= end:
                    break
                # a holder whose release failed may ask again and be told it holds it
                assert who2 == who, f"{who} (token {token}) and {who2} (token {token2}) overlapped"
            assert token > newest or (token, who) == (newest, newest_who), "tokens went backwards"
            newest, newest_who = max((newest, newest_who), (token, who))
        for error, took, limit in self.failures:
            assert error in ("BackendUnavailable", "LockTimeout", "LeaseLost"), error
            assert took <= limit + SLACK, f"{error} after {took:.2f} s, limit {limit:.2f} s"


TTL, TIMEOUT = 1.0, 1.5


def _contend(url: str, namespace: str, who: str, history: History, stop: threading.Event) -> None:
    """Take the lock, write a counter of one's own with its fence, let go; again."""
    coord = accord.connect(url, namespace=namespace, agent=who)
    m, n = coord.state("m"), 0
    first_asked: dict[int, float] = {}  # token -> when it was first asked for
    mine: list[tuple[float, float, int]] = []  # (got, until, token), in order
    try:
        while not stop.is_set():
            asked = time.monotonic()
            try:
                lease = coord.lock("job", ttl=TTL, timeout=TIMEOUT).acquire()
            except AccordError as exc:
                with history.lock:
                    history.failures.append((type(exc).__name__, time.monotonic() - asked, TIMEOUT))
                continue
            # The store granted the lease after it was first asked for (directly, or at a
            # release for a hand-off) for TTL seconds, and asking again (a release that
            # failed) does not extend it: it is ours at least until then, or until we
            # let it go.
            got = time.monotonic()
            until = first_asked.setdefault(lease.token, asked) + TTL
            try:
                n += 1
                m.set(who, n, fence=lease)
                with history.lock:
                    history.acked[who] = n
                until = min(until, time.monotonic())
                lease.release()
            except AccordError as exc:
                with history.lock:
                    history.failures.append((type(exc).__name__, 0.0, TIMEOUT))
            mine.append((got, until, lease.token))
    finally:
        coord.close()
        # the next acquisition by the same holder ends (or continues) the one before
        nexts = [got for got, _, _ in mine[1:]] + [float("inf")]
        with history.lock:
            for (got, until, token), after in zip(mine, nexts, strict=True):
                if min(until, after) > got:  # told in time: the store kept it for us
                    history.held.append((got, min(until, after), token, who))


def _run_contenders(url: str, namespace: str, fault: Any) -> History:
    history, stop = History(), threading.Event()
    threads = [
        threading.Thread(target=_contend, args=(url, namespace, f"agent-{n}", history, stop))
        for n in range(3)
    ]
    for t in threads:
        t.start()
    try:
        fault()
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert not any(t.is_alive() for t in threads), "a contender hung"
    return history


def test_contenders_through_a_pause_keep_mutual_exclusion(
    redis_server: RedisServer, namespace: str
) -> None:
    def fault() -> None:
        time.sleep(0.5)
        redis_server.pause()
        time.sleep(1.5)  # leases expire meanwhile (the server's clock goes on)
        redis_server.resume()
        time.sleep(1.0)

    history = _run_contenders(redis_server.url, namespace, fault)
    history.check()
    assert history.acked and history.failures  # both sides of the pause were seen


# --- kill -9 and restart -----------------------------------------------------------------


@pytest.fixture
def aof_server(tmp_path: Path, redis_server: RedisServer) -> Iterator[RedisServer]:
    """A server of its own that fsyncs every write to its append-only file."""
    server = RedisServer(tmp_path, args=AOF)
    server.start()
    yield server
    server.stop()


def test_kill_9_with_aof_always_loses_no_acknowledged_write(
    aof_server: RedisServer, namespace: str
) -> None:
    def fault() -> None:
        time.sleep(0.7)
        aof_server.kill()  # SIGKILL: no shutdown, no last save
        time.sleep(0.3)
        aof_server.start()  # same port, same directory: the AOF is replayed
        time.sleep(1.0)

    history = _run_contenders(aof_server.url, namespace, fault)
    history.check()
    assert any(error == "BackendUnavailable" for error, _, _ in history.failures)
    with accord.connect(aof_server.url, namespace=namespace) as coord:
        # every acknowledged write is there (one not acknowledged may be too)
        for who, n in history.acked.items():
            entry = coord.state("m").get(who)
            assert entry is not None and entry.value in (n, n + 1), (who, n, entry)
        # and tokens kept growing through the restart
        with coord.lock("job", ttl=5) as lease:
            assert lease.token > max(token for _, _, token, _ in history.held)


def test_a_coordinator_keeps_working_across_an_aof_restart(
    aof_server: RedisServer, namespace: str
) -> None:
    with accord.connect(aof_server.url, namespace=namespace) as coord:
        lease = coord.lock("job", ttl=30).acquire()
        coord.state("m").set("k", 1, fence=lease)
        aof_server.restart()
        # the data survived, so nothing was lost: the same lease still holds and writes
        assert coord.state("m").set("k", 2, fence=lease).version == 2
        lease.release()
        assert coord.lock("job").acquire().token == lease.token + 1


@on_redis
async def test_a_restart_without_persistence_voids_the_old_coordinator(
    coord: Any, connect: Any, redis_server: Any
) -> None:
    m = coord.state("m")
    for _ in range(4):
        async with coord.lock("job"):
            pass
    old = await coord.lock("job", ttl=30).acquire()
    assert old.token == 5
    await m.set("k", "old", fence=old)
    redis_server.kill()
    try:
        with pytest.raises(BackendUnavailable):
            await m.get("k")
        with pytest.raises(BackendUnavailable) as down:
            await coord.lock("other").try_acquire()
        assert "rediss://" not in str(down.value)  # a plain server that went away
    finally:
        redis_server.start()
    # No persistence: tokens would start again at 1 under the old holder's token 5.
    # The old coordinator refuses to go on; its stale fenced write is not accepted.
    with pytest.raises(BackendUnavailable, match="lost the data"):
        await m.set("k", "stale", fence=old)
    with pytest.raises(BackendUnavailable, match="lost the data"):
        await coord.lock("other").try_acquire()
    fresh = connect("fresh")
    async with fresh.lock("job") as lease:
        assert (await fresh.state("m").set("k", "new", fence=lease)).version == 1
    assert (await fresh.state("m").incr("n")).value == 1  # scripts loaded again
    assert await fresh.rate_limit("r", rate=10).try_acquire()
    with pytest.raises(BackendUnavailable, match="lost the data"):
        await m.get("k")


def test_a_waiter_whose_server_is_killed_is_told_so_without_a_tls_hint(
    tmp_path: Path, redis_server: RedisServer, namespace: str
) -> None:
    with RedisServer(tmp_path) as server, accord.connect(server.url, namespace=namespace) as coord:
        holder = coord.lock("job", ttl=30).acquire()
        errors: list[BaseException] = []

        def wait() -> None:
            try:
                coord.lock("job").acquire(timeout=10)
            except AccordError as exc:
                errors.append(exc)

        waiter = threading.Thread(target=wait)
        waiter.start()
        while not coord.lock("job").statistics().waiters:
            time.sleep(0.01)
        server.kill()  # the waiter's BLPOP connection is closed by the dying server
        waiter.join(5)
        assert not waiter.is_alive()
        assert len(errors) == 1 and isinstance(errors[0], BackendUnavailable), errors
        assert "closed by server" in str(errors[0]) or "reset" in str(errors[0]), errors[0]
        assert "rediss://" not in str(errors[0])  # the server is plain and went away
        server.start()
        del holder


def test_tasks_through_a_kill_and_restart_are_each_in_exactly_one_status(
    aof_server: RedisServer, namespace: str
) -> None:
    """Redis killed while workers claim and complete: calls raise BackendUnavailable,
    and once it is back every task is in exactly one status and is done once."""
    n, completed, errors = 300, [], []
    with accord.connect(aof_server.url, namespace=namespace, agent="boss") as coord:
        q = coord.queue("jobs")
        for i in range(n):
            q.put(f"t{i}")
        stop = threading.Event()

        def work() -> None:
            with accord.connect(aof_server.url, namespace=namespace, agent="w") as mine:
                while not stop.is_set():
                    try:
                        claim = mine.queue("jobs").claim(lease=0.5, timeout=0.2)
                        if claim is not None:
                            claim.complete()
                            completed.append(claim.id)
                    except AccordError as exc:
                        errors.append(type(exc).__name__)
                        time.sleep(0.05)

        workers = [threading.Thread(target=work) for _ in range(3)]
        for w in workers:
            w.start()
        time.sleep(0.3)
        aof_server.kill()
        time.sleep(0.3)
        aof_server.start()
        deadline = time.monotonic() + 30
        while len(set(completed)) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        for w in workers:
            w.join()
        listed = {s: {t.id for t in q.list(status=s, limit=n)} for s in STATUSES}
        statuses = {t.id: t.status for t in q.list(limit=n)}
    assert errors and set(errors) == {"BackendUnavailable"}
    seen = [task_id for ids in listed.values() for task_id in ids]
    assert len(seen) == len(set(seen)) == n, "a task in two statuses, or in none"
    assert all(task_id in listed[status] for task_id, status in statuses.items())
    assert listed["done"] == set(statuses) and sorted(completed) == sorted(set(completed))
