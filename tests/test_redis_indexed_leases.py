"""The indexed layout of a semaphore's lease on Redis (``leases/lua/_indexed.lua``): many
holders with interleaved expiries, the work of one operation (no command reads every
holder), and the migration of a lease of layout 3."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from accord._models import MODES, Granted, LeaseRequest, Waiting
from accord.backends.redis import RedisBackend
from accord.backends.redis._sync import LAYOUT_VERSION
from accord.testing.redis_server import RedisServer

KEY = "sem/pool"


@pytest.fixture
def server() -> Iterator[RedisServer]:
    """A server of this test alone: its command counts are this test's."""
    with RedisServer() as s:
        yield s


@pytest.fixture
def namespace() -> str:
    return f"ix-{uuid.uuid4().hex[:10]}"


def _request(holder: str, ttl: float, limit: int, wait: bool = False) -> LeaseRequest:
    return LeaseRequest(KEY, holder, f"agent-{holder}", f"mb-{holder}", ttl, limit, wait)


def _calls(raw: redis.Redis) -> dict[str, int]:
    stats = raw.info("commandstats")
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}


def test_300_holders_with_interleaved_expiries_free_their_slots_fifo(
    server: RedisServer, namespace: str
) -> None:
    backend = RedisBackend(server.url, namespace)
    raw = redis.Redis.from_url(server.url)
    limit = 300
    try:
        short = 3.0  # long enough to fill the semaphore and queue on a busy machine
        for i in range(limit):  # every other holder expires soon
            assert isinstance(backend.acquire(_request(f"h{i:03}", short if i % 2 else 60.0,
                                                       limit), detect_deadlock=False), Granted)
        filled = time.monotonic()
        queued = [backend.acquire(_request(f"w{j}", 60.0, limit, wait=True),
                                  detect_deadlock=False) for j in range(3)]
        assert all(isinstance(q, Waiting) for q in queued)
        time.sleep(max(0.0, filled + short + 0.05 - time.monotonic()))  # the odd ones expire
        # the first operation after that hands the freed slots to the queue, in order
        got = backend.acquire(_request("late", 60.0, limit), detect_deadlock=False)
        assert isinstance(got, Granted)
        tokens = [int(raw.lpop(f"accord:{{{namespace}}}:mb:mb-w{j}")) for j in range(3)]
        assert tokens == [limit + 1, limit + 2, limit + 3] and got.token == limit + 4
        stats = backend.lease_statistics(KEY)
        assert len(stats.holders) == limit // 2 + 4 and stats.waiters == ()
        live = {h.owner for h in stats.holders}
        assert {f"h{i:03}" for i in range(0, limit, 2)} < live
        for _ in range(3):  # each call drops a bounded share of the expired: the rest next
            again = backend.acquire(_request("late", 60.0, limit), detect_deadlock=False)
            assert isinstance(again, Granted)
        lease = f"accord:{{{namespace}}}:lease:{KEY}"
        assert int(raw.hget(lease, "#n")) == limit // 2 + 4
        assert raw.zcard(f"accord:{{{namespace}}}:lexp:{KEY}") == limit // 2 + 4
        assert raw.hlen(lease) < limit  # the expired holders' fields are gone
    finally:
        backend.close()
        raw.close()


@pytest.mark.parametrize("holders", [10, 999])
def test_an_operation_reads_no_holder_but_its_own(
    server: RedisServer, namespace: str, holders: int
) -> None:
    """acquire + release with many holders runs the same few commands as with few:
    no HGETALL, and no command whose count grows with the holders."""
    backend = RedisBackend(server.url, namespace)
    raw = redis.Redis.from_url(server.url)
    try:
        for i in range(holders):
            backend.acquire(_request(f"h{i}", 60.0, 1000), detect_deadlock=False)
        before = _calls(raw)
        for _ in range(10):
            got = backend.acquire(_request("me", 60.0, 1000), detect_deadlock=False)
            assert isinstance(got, Granted) and backend.release(KEY, "me", got.token)
        after = _calls(raw)
        ran = {k: after[k] - before.get(k, 0) for k in after if k != "info"}
        assert "hgetall" not in ran
        assert sum(ran.values()) <= 10 * 16  # two scripts and their few commands a cycle
    finally:
        backend.close()
        raw.close()


def test_a_contended_lock_hand_off_runs_nine_commands_and_deletes_nothing(
    server: RedisServer, namespace: str
) -> None:
    """The waiter's ask reads the halt switch and the lock in one MGET; the release
    rewrites the lock in one SET and pushes the token: with the waiter's BLPOP and a
    holder's GET+SET, 12 commands per contended acquisition (bench/run.py)."""
    backend = RedisBackend(server.url, namespace)
    raw = redis.Redis.from_url(server.url)
    lock = "lock/x"
    try:
        for again in (False, True):  # the scripts are loaded; then "a" holds
            first = backend.acquire(LeaseRequest(lock, "a", "A", "mb-a", 60.0, 1, True),
                                    detect_deadlock=False)
            assert isinstance(first, Granted)
            if not again:
                backend.release(lock, "a", first.token)
        before = _calls(raw)
        queued = backend.acquire(LeaseRequest(lock, "b", "B", "mb-b", 60.0, 1, True),
                                 detect_deadlock=False)
        assert isinstance(queued, Waiting)
        assert backend.release(lock, "a", first.token)
        after = _calls(raw)
        ran = {k: n - before.get(k, 0) for k, n in after.items() if n - before.get(k, 0)}
        ran.pop("info", None)
        assert ran == {"evalsha": 2, "mget": 2, "time": 2, "set": 2, "rpush": 1}
        assert raw.lpop(f"accord:{{{namespace}}}:mb:mb-b") == str(first.token + 1).encode()
    finally:
        backend.close()
        raw.close()


def test_a_semaphore_and_a_lock_of_layout_3_are_migrated_lazily(
    server: RedisServer, namespace: str
) -> None:
    raw = redis.Redis.from_url(server.url)
    p = f"accord:{{{namespace}}}:"
    now = int(time.time() * 1e6)
    later = now + 60_000_000
    # as accord of layout 3 left them: a waiter 'w...' with its mode in 'm:<holder>'
    raw.set(p + "layout", 3)
    raw.hset(p + f"lease:{KEY}", mapping={
        "token": 5, "limit": 2, "seq": 1, "listed": 1,
        "h:a": f"{later} 4: agent-a", "h:b": f"{later} 5: agent-b",
        "h:w": f"w1 {later} 60000000 mbw 0 agent-w", "m:w": f"|{now}|"})
    raw.hset(p + "lease:lock/x", mapping={
        "token": 2, "limit": 1, "seq": 1, "listed": 1, "h:a": f"{later} 2: agent-a",
        "h:w": f"w1 {later} 60000000 mbl 0 agent-w", "m:w": f"S|{now}|reading"})
    backend = RedisBackend(server.url, namespace)
    try:
        assert backend.release(KEY, "a", 4)  # the first operation indexes the lease
        assert raw.get(p + "layout") == str(LAYOUT_VERSION).encode()
        assert raw.lpop(p + "mb:mbw") == b"6"  # the waiter got the slot
        assert raw.zcard(p + f"lexp:{KEY}") == 2 and raw.zcard(p + f"lq:{KEY}") == 0
        assert raw.hget(p + f"lease:{KEY}", "#n") == b"2"
        stats = backend.lease_statistics(KEY)
        assert sorted(h.owner for h in stats.holders) == ["b", "w"]
        assert backend.release("lock/x", "a", 2)  # the lock's old waiter, read as it was
        assert raw.lpop(p + "mb:mbl") == b"3"
        assert raw.type(p + "lease:lock/x") == b"string"  # written back as layout 4
        (held,) = backend.lease_statistics("lock/x").holders
        assert (held.owner, held.mode, held.intent) == ("w", MODES["S"], "reading")
        again = backend.acquire(_request("c", 60.0, 2, wait=True), detect_deadlock=False)
        assert isinstance(again, Waiting)
        assert backend.release(KEY, "b", 5)
        assert raw.lpop(p + "mb:mb-c") == b"7"
        assert isinstance(backend.acquire(_request("d", 60.0, 2), detect_deadlock=False), Waiting)
    finally:
        backend.close()
        raw.close()
