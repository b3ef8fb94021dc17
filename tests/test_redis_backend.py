"""What only the Redis backend has to prove: faults, secrets, keys, idle cost, twins,
and the event log's stream (idle readers, restarts, exact retention, blocking reads).

Every test talks to a real redis-server: the session's own (``redis_server``), or one
started here with ``--requirepass``. Fault tests always leave the session's server
running and resumed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from redis.crc import key_slot

import accord
from accord._models import Entry, Granted, LeaseRequest, LeaseStatistics, Waiting
from accord.backends.memory import MemoryBackend, shared_store
from accord.backends.redis import AsyncRedisBackend, RedisBackend
from accord.backends.redis._sync import LAYOUT_VERSION
from accord.backends.redis._sync_io import HEARTBEAT
from accord.backends.redis._task_lua import LIBRARY
from accord.errors import AccordError, BackendUnavailable, ConfigError, LockTimeout
from accord.testing.redis_server import RedisServer, free_port, tls_files

pytestmark = pytest.mark.redis


@pytest.fixture
def namespace() -> str:
    return f"rb-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def coord(redis_server: RedisServer, namespace: str) -> Iterator[accord.Coordinator]:
    c = accord.connect(redis_server.url, namespace=namespace, agent="tester")
    yield c
    c.close()


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[redis.Redis]:
    r = redis.Redis.from_url(redis_server.url)
    yield r
    r.close()


# --- faults ------------------------------------------------------------------------


def test_a_pause_fails_calls_fast_and_a_blocked_waiter_does_not_hang(
    coord: accord.Coordinator, redis_server: RedisServer
) -> None:
    holder = coord.lock("job", ttl=30).acquire()
    outcome: list[BaseException | None] = []

    def wait() -> None:
        try:
            coord.lock("job", ttl=1.0).acquire(timeout=2.0)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(0.3)  # the waiter is queued and blocked in BLPOP
    redis_server.pause()
    try:
        start = time.monotonic()
        with pytest.raises(BackendUnavailable):
            coord.lock("other").try_acquire()
        assert time.monotonic() - start < 3.0
        waiter.join(timeout=10)
        assert not waiter.is_alive(), "a waiter hung on a stopped server"
        assert isinstance(outcome[0], (BackendUnavailable, LockTimeout))
    finally:
        redis_server.resume()
    holder.release()  # a waiter that could not leave the queue keeps it for its ttl at most
    with coord.lock("job", timeout=5) as lease:
        assert lease.token > holder.token


def test_a_restart_and_a_script_flush_reload_the_scripts(
    coord: accord.Coordinator, redis_server: RedisServer, raw: redis.Redis
) -> None:
    inv = coord.state("inv")
    inv.set("k", 1)
    raw.script_flush()  # NOSCRIPT on the next call: EVAL runs the script and caches it
    assert inv.set("k", 2).version == 2
    redis_server.kill()
    try:
        with pytest.raises(BackendUnavailable):
            inv.incr("k")
    finally:
        redis_server.start()
    with pytest.raises(BackendUnavailable, match="lost the data"):
        inv.incr("n", 3)  # no persistence: what this coordinator saw is gone
    fresh = accord.connect(redis_server.url, namespace=coord.namespace)
    try:
        assert fresh.state("inv").incr("n", 3).value == 3
        with fresh.lock("job", ttl=5) as lease:
            assert lease.token == 1  # a fresh store
        assert fresh.rate_limit("r", rate=10).try_acquire()
    finally:
        fresh.close()


def _libraries(raw: redis.Redis) -> set[str]:
    """The names of the function libraries the server has (FUNCTION LIST)."""
    return {dict(zip(lib[::2], lib[1::2], strict=True))[b"library_name"].decode()
            for lib in raw.function_list()}


def _cycle(coord: accord.Coordinator) -> None:
    q = coord.queue("jobs")
    task = q.put("job", data={"n": 1})
    claim = q.claim()
    assert claim is not None and claim.task.id == task.id
    claim.complete(result={"ok": True})
    assert q.get(task.id).status == "done"


def test_task_scripts_run_as_a_function_library_loaded_again_when_gone(
    coord: accord.Coordinator, raw: redis.Redis
) -> None:
    _cycle(coord)
    assert LIBRARY.name in _libraries(raw)
    raw.function_flush()  # as a restart without persistence: the next call loads it again
    raw.config_resetstat()
    _cycle(coord)
    assert LIBRARY.name in _libraries(raw)
    stats = raw.info("commandstats")
    assert stats["cmdstat_fcall"]["calls"] >= 4  # the failed first call, then each step
    assert "cmdstat_evalsha" not in stats  # no task script ran as a script


def test_a_function_call_keeps_nothing_of_the_call_before(
    redis_server: RedisServer, namespace: str
) -> None:
    """The library's helpers outlive a call: each call sets its agent, clock and
    pending work anew (the ``-- @call`` lines), so one agent's call never writes
    another's name."""
    url = redis_server.url
    with accord.connect(url, namespace=namespace, agent="ann") as ann, \
            accord.connect(url, namespace=namespace, agent="bob") as bob:
        for coord, title in ((ann, "a1"), (bob, "b1"), (ann, "a2"), (bob, "b2")):
            coord.queue("jobs").put(title)
        put = ann.events.history("task_put")
        assert [(e.source, e["agent"], e["title"]) for e in reversed(put)] == [
            ("ann", "ann", "a1"), ("bob", "bob", "b1"), ("ann", "ann", "a2"), ("bob", "bob", "b2")]
        claim = bob.queue("jobs").claim()
        assert claim is not None and claim.task.claimed_by == "bob"


@pytest.mark.parametrize("denied", ["-function", "-function -fcall"])
def test_without_function_permission_the_task_scripts_run_by_evalsha(
    redis_server: RedisServer, raw: redis.Redis, namespace: str, denied: str
) -> None:
    raw.function_flush()
    raw.execute_command("ACL", "SETUSER", "nofn", "on", ">pw", "~*", "&*", "+@all",
                        *denied.split())
    try:
        url = redis_server.url.replace("redis://", "redis://nofn:pw@")
        with accord.connect(url, namespace=namespace, agent="tester") as coord:
            _cycle(coord)
            _cycle(coord)
        assert _libraries(raw) == set()  # nothing loaded, and no call refused
    finally:
        raw.execute_command("ACL", "DELUSER", "nofn")


async def test_async_calls_fail_fast_on_a_paused_server(
    redis_server: RedisServer, namespace: str
) -> None:
    c = accord.connect_async(redis_server.url, namespace=namespace)
    try:
        await c.state("m").set("k", 1)
        redis_server.pause()
        try:
            start = time.monotonic()
            with pytest.raises(BackendUnavailable):
                await c.lock("x").acquire(timeout=5)
            assert time.monotonic() - start < 3.0
        finally:
            redis_server.resume()
        assert (await c.state("m").get("k")).value == 1
    finally:
        await c.aclose()


# --- secrets -----------------------------------------------------------------------


# Servers of their own: each module fixture asks for the session's server first, so a
# missing redis-server skips (or, under CI, fails) them the same way.


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer) -> Iterator[int]:
    server = RedisServer(tmp_path_factory.mktemp("secured"), password="s3cret-pw")
    server.start()
    yield server.port
    server.stop()


@pytest.fixture(scope="module")
def tls(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[RedisServer]:
    """A server that speaks only TLS (and wants a password), with a test CA's certificate."""
    workdir = tmp_path_factory.mktemp("tls")
    server = RedisServer(workdir, password="s3cret-tls", tls=tls_files(workdir))
    server.start()
    yield server
    server.stop()


def _shows_no_secret(exc: BaseException, *objects: object) -> None:
    for text in [str(exc), repr(exc), *map(repr, objects)]:
        assert "s3cret" not in text


def test_the_password_works_and_never_shows(secured: int, namespace: str) -> None:
    good = accord.connect(f"redis://:s3cret-pw@127.0.0.1:{secured}/0", namespace=namespace)
    try:
        assert good.state("m").set("k", 1).version == 1
        assert "s3cret" not in repr(good) + repr(good._backend)
    finally:
        good.close()
    for url in [
        f"redis://:s3cret-wrong@127.0.0.1:{secured}/0",  # refused by the server
        f"redis://user:s3cret-pw@127.0.0.1:{free_port()}/0",  # nothing listens
        f"redis://127.0.0.1:{secured}/0?password=s3cret-query",
    ]:
        bad = accord.connect(url, namespace=namespace)
        try:
            with pytest.raises(BackendUnavailable) as down:
                bad.lock("x").try_acquire()
            _shows_no_secret(down.value, bad._backend, down.value.__cause__)
        finally:
            bad.close()


async def test_a_redis_password_never_shows(mode: str, redis_server: Any) -> None:
    # A password the session's server does not need: the URL parses, the connection
    # is made lazily, and neither repr nor errors may show the password.
    url = f"redis://:s3cret@127.0.0.1:{redis_server.port}/0"
    closed = "redis://:s3cret@127.0.0.1:1/0"  # nothing listens on port 1
    make = accord.connect_async if mode == "async" else accord.connect
    for u in (url, closed):
        coord = make(u, namespace="pw")
        try:
            assert "s3cret" not in repr(coord)
            assert "s3cret" not in str(coord.url)
            if u == closed:
                with pytest.raises(BackendUnavailable) as down:
                    result = coord.state("m").get("k")
                    if mode == "async":
                        await result
                assert "s3cret" not in str(down.value)
                assert "s3cret" not in repr(down.value)
                assert isinstance(down.value, AccordError)
        finally:
            if mode == "async":
                await coord.aclose()
            else:
                coord.close()


def test_a_bad_url_is_a_config_error_without_the_password() -> None:
    for url in ["redis://:s3cret@localhost:6379/notadb", "redis://:s3cret@localhost:port/0"]:
        with pytest.raises(ConfigError) as bad:
            RedisBackend(url, "ns")
        _shows_no_secret(bad.value)
        with pytest.raises(ConfigError):
            AsyncRedisBackend(url, "ns")


@pytest.fixture(scope="module")
def odd_password(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[int]:
    # '@' and ':' are accepted by Redis and parse in a URL as written
    server = RedisServer(tmp_path_factory.mktemp("odd"), password="ss@s3cret:HEAD")
    server.start()
    yield server.port
    server.stop()


def test_a_password_holding_at_and_colon_works_and_never_shows(
    odd_password: int, namespace: str
) -> None:
    for port in (odd_password, free_port()):  # served, then nothing listens
        coord = accord.connect(f"redis://:ss@s3cret:HEAD@127.0.0.1:{port}/0", namespace=namespace)
        try:
            shown = [str(coord.url), repr(coord), repr(coord._backend)]
            if port == odd_password:
                assert coord.state("m").set("k", 1).version == 1
            else:
                with pytest.raises(BackendUnavailable) as down:
                    coord.lock("x").try_acquire()
                shown += [str(down.value), repr(down.value.__cause__)]
            for text in shown:
                assert "s3cret" not in text and "HEAD" not in text and "ss@" not in text, text
        finally:
            coord.close()


@pytest.mark.parametrize("char", ["/", "#", "?"])
def test_a_password_with_url_delimiters_is_refused_without_showing_it(char: str) -> None:
    url = f"redis://user:ab{char}s3cret{char}cd@127.0.0.1:6379/0"
    for make in (accord.connect, accord.connect_async):
        with pytest.raises(ConfigError, match="percent-encode") as bad:
            make(url)
        assert "s3cret" not in str(bad.value) and "ab" + char not in str(bad.value)


@pytest.mark.parametrize(
    ("tail", "reason"),
    [(":0/0", "port 0"), ("/0?foo=bar", "unknown option 'foo'"),
     ("/0?socket_timeout=1", "accord sets socket_timeout"), ("/x", "must be a number")],
)  # fmt: skip
def test_a_bad_url_is_refused_at_connect(tail: str, reason: str) -> None:
    for make in (accord.connect, accord.connect_async):
        with pytest.raises(ConfigError, match=reason):
            make(f"redis://127.0.0.1{tail}")


def test_an_unexpected_error_reply_is_backend_unavailable_naming_the_script(
    coord: accord.Coordinator, raw: redis.Redis
) -> None:
    prefix = f"accord:{{{coord.namespace}}}:"
    raw.set(f"{prefix}lease:lock/bad", "not a lease")  # another client wrote our key
    raw.set(f"{prefix}state:1:m:k", "not a list")
    with pytest.raises(BackendUnavailable, match="script 'acquire' failed"):
        coord.lock("bad").try_acquire()
    with pytest.raises(BackendUnavailable, match="script 'leases' failed"):
        coord.lock("bad").statistics()
    with pytest.raises(BackendUnavailable, match="command LINDEX failed"):
        coord.state("m").get("k")
    with pytest.raises(BackendUnavailable, match="script 'state_set' failed"):
        coord.state("m").set("k", 1)
    assert coord.lock("good").try_acquire() is not None  # the rest of the store works


def _hand_off(first: accord.Coordinator, second: accord.Coordinator) -> None:
    """``second`` blocks on a lock ``first`` holds and gets it from the release (the
    wake-up is a blocking read on ``second``'s connection)."""
    held = first.lock("x").acquire()
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(second.lock("x").acquire(5).token))
    waiter.start()
    time.sleep(0.2)
    held.release()
    waiter.join(5)
    assert got == [held.token + 1]


async def _async_round_trip(url: str, namespace: str) -> int:
    async with accord.connect_async(url, namespace=namespace) as coord, coord.lock("y") as lease:
        await coord.state("m").incr("n")
        await coord.emit("done")
        assert [e.name for e in await coord.events.history()] == ["done"]
        return lease.token


def test_rediss_speaks_tls_for_locks_state_and_events(tls: RedisServer, namespace: str) -> None:
    # Two coordinators on one TLS server: a blocked acquire is handed the lock by the
    # holder's release (the wake-up is a blocking read on the TLS connection).
    first = accord.connect(tls.url, namespace=namespace, agent="first")
    second = accord.connect(tls.url, namespace=namespace, agent="second")
    try:
        entry = first.state("m").set("k", {"n": 1})
        assert second.state("m").set("k", 2, expected_version=entry.version).version == 2
        _hand_off(first, second)
        first.emit("shipped", {"order": 7})
        assert [e.data for e in second.events.history("shipped")] == [{"order": 7}]
        assert "s3cret" not in repr(first) + repr(first._backend)
    finally:
        first.close()
        second.close()


def test_the_asyncio_twin_speaks_tls_too(tls: RedisServer, namespace: str) -> None:
    assert asyncio.run(_async_round_trip(tls.url, namespace)) == 1


def test_tls_mismatches_are_backend_unavailable_naming_the_problem(
    tls: RedisServer, secured: int, namespace: str
) -> None:
    plain_to_tls = tls.url.replace("rediss://", "redis://").split("?")[0]
    untrusted = tls.url.split("?")[0]  # the test CA is in no default trust store
    tls_to_plain = f"rediss://:s3cret-pw@127.0.0.1:{secured}/0"
    for url, says in [
        (plain_to_tls, "use rediss://"),
        (untrusted, "ssl_ca_certs="),
        (tls_to_plain, "use redis://"),
    ]:
        coord = accord.connect(url, namespace=namespace)
        try:
            began = time.monotonic()
            with pytest.raises(BackendUnavailable) as down:
                coord.lock("x").try_acquire()
            assert time.monotonic() - began < 15  # never hangs
            assert says in str(down.value)
            _shows_no_secret(down.value, coord._backend, down.value.__cause__)
        finally:
            coord.close()


# --- Redis Cluster -------------------------------------------------------------------

CLUSTER_SLOTS = (0, 5461, 10923, 16384)  # three masters, a third of the slots each


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, redis_server: RedisServer
) -> Iterator[list[RedisServer]]:
    """Three cluster-enabled servers joined into one Cluster with CLUSTER commands."""
    # each bus port is named: by default it is the port + 10000, over 65535 for most
    # of the ports free_port() gives
    buses = [free_port() for _ in range(3)]
    nodes = [
        RedisServer(tmp_path_factory.mktemp(f"node{i}"),
                    args=("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                          "--cluster-port", str(bus)))
        for i, bus in enumerate(buses)
    ]  # fmt: skip
    clients = []
    try:
        for i, node in enumerate(nodes):
            node.start()
            clients.append(redis.Redis(port=node.port))
            first, end = CLUSTER_SLOTS[i], CLUSTER_SLOTS[i + 1]
            clients[-1].execute_command("CLUSTER", "ADDSLOTSRANGE", first, end - 1)
        for node, bus in zip(nodes[1:], buses[1:], strict=True):
            clients[0].execute_command("CLUSTER", "MEET", "127.0.0.1", node.port, bus)
        deadline = time.monotonic() + 30
        while not all(b"cluster_state:ok" in c.execute_command("CLUSTER", "INFO") for c in clients):
            assert time.monotonic() < deadline, "the test Cluster did not form"
            time.sleep(0.05)
        yield nodes
    finally:
        for client in clients:
            client.close()
        for node in nodes:
            node.stop()


def _served_by(node: int) -> str:
    """A fresh namespace whose hash slot the ``node``-th Cluster node serves."""
    while True:
        namespace = f"cl-{uuid.uuid4().hex[:8]}"
        slot = key_slot(f"accord:{{{namespace}}}:x".encode())
        if CLUSTER_SLOTS[node] <= slot < CLUSTER_SLOTS[node + 1]:
            return namespace


@pytest.mark.parametrize("node", [0, 1, 2])
def test_a_namespace_works_through_any_node_of_a_cluster(
    cluster: list[RedisServer], node: int
) -> None:
    # The URL names the first node; the namespace lives on node ``node``.
    url, namespace = cluster[0].url, _served_by(node)
    first = accord.connect(url, namespace=namespace, agent="first")
    second = accord.connect(url, namespace=namespace, agent="second")
    try:
        _hand_off(first, second)  # the waiter's mailbox is a BLPOP on that node
        entry = first.state("m").set("k", 1)
        assert second.state("m").set("k", 2, expected_version=entry.version).version == 2
        assert second.rate_limit("api", rate=10, per=1.0).try_acquire()
        handled: list[int] = []
        second.when("job", group="pool")(lambda e: handled.append(e["n"]))
        second.events.start()
        first.emit("job", {"n": 7})
        deadline = time.monotonic() + 10  # wait_idle counts a group event once claimed
        while not handled and time.monotonic() < deadline:
            time.sleep(0.01)
        assert handled == [7]
        assert first._backend._leases.address == ("127.0.0.1", cluster[node].port)
    finally:
        first.close()
        second.close()


def test_the_asyncio_twin_follows_the_cluster_too(cluster: list[RedisServer]) -> None:
    assert asyncio.run(_async_round_trip(cluster[0].url, _served_by(2))) == 1


def test_a_database_but_0_on_a_cluster_is_a_config_error(cluster: list[RedisServer]) -> None:
    coord = accord.connect(cluster[0].url.replace("/0", "/3"), namespace=_served_by(1))
    try:
        with pytest.raises(ConfigError, match="only database 0"):
            coord.state("m").get("k")
    finally:
        coord.close()


# --- keys --------------------------------------------------------------------------


def _try(acquire: Any, timeout: float) -> None:
    with contextlib.suppress(LockTimeout):
        acquire(timeout).release()


@pytest.mark.parametrize("namespace", ["plain", "br{ac}es", "}odd{", "50%"])
def test_every_key_of_a_namespace_shares_one_hash_tag(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    unique = uuid.uuid4().hex[:8]
    namespace = f"{namespace}-{unique}"
    c = accord.connect(redis_server.url, namespace=namespace, agent="tester")
    try:
        held = c.semaphore("pool", limit=1, ttl=5).acquire()
        waiter = threading.Thread(target=_try, args=(c.semaphore("pool", limit=1).acquire, 0.5))
        waiter.start()
        with c.lock("x{y}", ttl=5):
            inv = c.state("m:a{p}")
            inv.set("k*", 1)
            inv.incr("n")
            inv.delete("k*")
            time.sleep(0.2)
            c.rate_limit("r", rate=5).try_acquire()
            c.emit("e", {})
            keys = [k for k in raw.scan_iter(count=1000) if unique.encode() in k]
        waiter.join()
        held.release()
    finally:
        c.close()
    kinds = {k.split(b"}:", 1)[1].split(b":")[0] for k in keys}
    # (``waits`` holds only waiters that hold a lock: none here)
    assert {b"lease", b"leases", b"state", b"keys", b"rate", b"events"} <= kinds
    assert len({key_slot(k) for k in keys}) == 1, keys
    tag = namespace.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
    assert all(k.startswith(f"accord:{{{tag}}}:".encode()) for k in keys)


def test_prefix_listing_is_not_fooled_by_glob_characters(coord: accord.Coordinator) -> None:
    inv = coord.state("glob")
    for key in ["a*", "a?", "a[b]", "ab", "a\\", "b*"]:
        inv.set(key, key)
    assert list(inv.keys("a*")) == ["a*"]
    assert list(inv.keys("a[")) == ["a[b]"]
    assert list(inv.keys("a")) == ["a*", "a?", "a[b]", "a\\", "ab"]
    assert list(inv.keys("a", after="a?", page_size=1)) == ["a[b]", "a\\", "ab"]
    leases = [coord.lock(n, ttl=5).acquire() for n in ["l*", "l?", "lx"]]
    assert [s.name for s in coord.list_locks()] == ["l*", "l?", "lx"]
    for lease in leases:
        lease.release()


# --- numbers -----------------------------------------------------------------------


def test_numbers_stay_exact_and_keep_their_type(coord: accord.Coordinator) -> None:
    inv = coord.state("num")
    assert inv.incr("i", 2**53 - 2).value == 2**53 - 2
    assert inv.incr("i").value == 2**53 - 1  # in Lua
    assert inv.incr("i").value == 2**53  # beyond 2^53: exact, by compare-and-set
    assert inv.incr("i", 10**30).value == 10**30 + 2**53
    assert inv.incr("f", 2.5).value == 2.5
    five = inv.incr("f", 2.5).value
    assert five == 5.0 and isinstance(five, float)
    assert inv.incr("f", 0.1).value == 5.1
    assert inv.incr("f", -5).value == 5.1 - 5
    assert [e.version for e in inv.history("f")] == [4, 3, 2, 1]


# --- idle cost ---------------------------------------------------------------------


def _commands(raw: redis.Redis) -> int:
    stats = raw.info("commandstats")
    return sum(v["calls"] for k, v in stats.items() if k not in ("cmdstat_info",))


def _calls(raw: redis.Redis) -> dict[str, int]:
    stats = raw.info("commandstats")
    return {k: v["calls"] for k, v in stats.items() if k not in ("cmdstat_info",)}


def test_an_idle_waiter_issues_only_a_blpop_per_heartbeat(
    coord: accord.Coordinator, raw: redis.Redis
) -> None:
    holder = coord.lock("busy", ttl=30).acquire()
    got: list[int] = []
    waiter = threading.Thread(target=lambda: got.append(coord.lock("busy").acquire(6).token))
    waiter.start()
    time.sleep(0.3)
    before = _calls(raw)
    time.sleep(1.0)
    after = _calls(raw)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed <= {"cmdstat_blpop"}, "the waiter polled the server"
    # a BLPOP every HEARTBEAT seconds proves the server alive
    assert after.get("cmdstat_blpop", 0) - before.get("cmdstat_blpop", 0) <= 1.0 / HEARTBEAT + 1
    blocked = [c for c in raw.client_list() if c["cmd"] == "blpop"]
    assert len(blocked) == 1
    holder.release()
    waiter.join(timeout=5)
    assert got == [holder.token + 1]


# --- mailboxes -----------------------------------------------------------------------


def test_a_mailbox_keeps_a_late_reply_and_wakes_on_a_nudge(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    backend = RedisBackend(redis_server.url, namespace)
    box = backend.open_mailbox()
    key = f"accord:{{{namespace}}}:mb:{box.id}"
    try:
        assert box.wait(0.01) is None  # ends before the server's BLPOP times out
        start = time.monotonic()
        raw.rpush(key, "")  # a nudge: wake up and ask the store again
        assert box.wait(10) is None
        assert time.monotonic() - start < 5
        raw.rpush(key, "42")
        assert box.wait(10) == "42"
    finally:
        box.close()
        backend.close()
    assert not raw.exists(key)


async def test_an_async_mailbox_keeps_a_late_reply_and_drops_its_list(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    backend = AsyncRedisBackend(redis_server.url, namespace)
    box = await backend.open_mailbox()
    key = f"accord:{{{namespace}}}:mb:{box.id}"
    try:
        assert await box.wait(0.01) is None
        raw.rpush(key, "7")
        assert await box.wait(10) == "7"
        assert await box.wait(0.01) is None  # a BLPOP is pending when it closes
        raw.rpush(key, "8")
    finally:
        await box.aclose()
        await backend.aclose()
    assert not raw.exists(key)


# --- twins -------------------------------------------------------------------------


async def test_sync_and_async_clients_share_one_lock(
    redis_server: RedisServer, namespace: str
) -> None:
    sync = accord.connect(redis_server.url, namespace=namespace, agent="sync")
    acoord = accord.connect_async(redis_server.url, namespace=namespace, agent="async")
    try:
        first = sync.lock("shared", ttl=10).acquire()
        waiting = asyncio.ensure_future(acoord.lock("shared").acquire(timeout=5))
        await asyncio.sleep(0.2)
        stats = await acoord.lock("shared").statistics()
        assert stats.holder == "sync" and stats.waiters == ("async",)
        await asyncio.get_running_loop().run_in_executor(None, first.release)
        second = await waiting
        assert second.token == first.token + 1
        assert sync.lock("shared").try_acquire() is None
        released = asyncio.get_running_loop().run_in_executor(
            None, lambda: sync.lock("shared").acquire(timeout=5)
        )
        await asyncio.sleep(0.2)
        await second.release()
        third = await released
        assert third.token == second.token + 1
        third.release()
    finally:
        sync.close()
        await acoord.aclose()


# --- the same rules as memory --------------------------------------------------------


def _normal(result: Any) -> Any:
    """A seam result without the parts that depend on each store's clock."""
    if isinstance(result, list):
        return [_normal(r) for r in result]
    if isinstance(result, tuple):
        return tuple(_normal(r) for r in result)
    if isinstance(result, Granted):
        return ("granted", result.token)
    if isinstance(result, Waiting):
        return ("waiting", result.holder)
    if isinstance(result, Entry):
        return (result.value, type(result.value), result.version, result.updated_by, result.deleted)
    if isinstance(result, LeaseStatistics):
        holders = [(h.agent, h.owner, h.token) for h in result.holders]
        return (result.name, result.kind, result.limit, holders, result.waiters, result.last_token)
    return result


def _random_op(
    rng: random.Random, tokens: dict[tuple[str, str], int]
) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    key = rng.choice(["lock/a", "lock/b", "lock/c", "sem/s"])
    holder = rng.choice(["h1", "h2", "h3", "h4"])
    agent = f"agent-{holder}"
    lease_ops = ["release", "extend", "abandon", "stats", "list"]
    kind = rng.choice(["acquire"] * 4 + lease_ops + ["state"] * 4)
    if kind == "acquire":
        wait = rng.random() < 0.6
        limit = 2 if key == "sem/s" else 1
        req = LeaseRequest(key, holder, agent, f"w-{holder}", 60.0, limit, wait)
        return "acquire", (req,), {"detect_deadlock": wait and rng.random() < 0.7}
    if kind in ("release", "extend"):
        token = tokens.get((key, holder), 0) if rng.random() < 0.8 else rng.randint(1, 12)
        args: tuple[Any, ...] = (key, holder, token)
        return kind, args + ((60.0,) if kind == "extend" else ()), {}
    if kind == "abandon":
        return "abandon", (key, f"w-{holder}", holder), {}
    if kind == "stats":
        return "lease_statistics", (key,), {}
    if kind == "list":
        return "list_leases", (rng.choice(["", "lock/", "sem/", "lock/b"]),), {}
    return _random_state_op(rng, agent)


def _random_state_op(rng: random.Random, agent: str) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    key = rng.choice(["k1", "k2", "k*", "n"])
    expected = rng.choice([None, None, 0, 1, 2, 3, 4, 5])
    op = rng.choice(["set", "set", "incr", "incr", "delete", "get", "items", "keys", "history"])
    if op == "set":
        value = rng.choice([1, -7, 2.5, "s", [1, {"a": None}], True, None, 2**60])
        fence = rng.choice([None, None, ("lock/a", rng.randint(1, 6)), ("lock/b", 3)])
        return "state_set", ("m", key, json.dumps(value), agent, expected, fence), {}
    if op == "incr":
        delta = rng.choice([1, -3, 0.5, 2**52, 10**20, -2.25])
        return "state_incr", ("m", key, delta, agent), {}
    if op == "delete":
        return "state_delete", ("m", key, agent, expected), {}
    if op == "get":
        return "state_get", ("m", key), {}
    if op in ("items", "keys"):
        prefix, after = rng.choice(["", "k", "k*", "n"]), rng.choice([None, "k*", "k1", "a"])
        return f"state_{op}", ("m", prefix, after, rng.choice([1, 2, 10])), {}
    return "state_history", ("m", key, rng.choice([0, 1, 3, 200])), {}


def _outcome(backend: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return _normal(getattr(backend, name)(*args, **kwargs))
    except Exception as exc:
        return (type(exc).__name__, str(exc))


@pytest.mark.parametrize("seed", range(6))
def test_random_operations_match_the_memory_backend(redis_server: RedisServer, seed: int) -> None:
    rng = random.Random(seed)
    namespace = f"diff-{uuid.uuid4().hex[:8]}"
    memory = MemoryBackend(shared_store(namespace), namespace)
    store = RedisBackend(redis_server.url, namespace)
    try:
        tokens: dict[tuple[str, str], int] = {}
        for step in range(400):
            name, args, kwargs = _random_op(rng, tokens)
            expected = _outcome(memory, name, args, kwargs)
            if name == "acquire" and isinstance(expected, tuple) and expected[0] == "granted":
                tokens[(args[0].key, args[0].holder)] = expected[1]
            assert _outcome(store, name, args, kwargs) == expected, (step, name, args)
    finally:
        store.close()


# --- the event log ---------------------------------------------------------------------


def _blocked(raw: redis.Redis) -> dict[str, int]:
    """Clients blocked in a stream read, by command."""
    found: dict[str, int] = {}
    for client in raw.client_list():
        if client["cmd"] in ("xread", "xreadgroup") and "b" in client["flags"]:
            found[client["cmd"]] = found.get(client["cmd"], 0) + 1
    return found


def test_an_idle_coordinator_costs_one_blocking_read(
    coord: accord.Coordinator, raw: redis.Redis
) -> None:
    # One reader serves the broadcast handler and the group: one blocked XREAD, no
    # blocked XREADGROUP (a group is claimed, without waiting, when its events come).
    before = _blocked(raw)
    got: list[str] = []
    coord.when("ping")(lambda e: got.append("broadcast"))
    coord.when("ping", group="pool")(lambda e: got.append("group"))
    time.sleep(0.5)  # the reader is blocked now, for 5 s (READ_WAIT)
    commands = _commands(raw)
    time.sleep(1.5)
    assert _commands(raw) == commands, "an idle reader polled the server"
    blocked = _blocked(raw)
    assert blocked.get("xread", 0) == before.get("xread", 0) + 1
    assert blocked.get("xreadgroup", 0) == before.get("xreadgroup", 0)
    coord.emit("ping")
    assert coord.wait_idle(10)
    assert sorted(got) == ["broadcast", "group"]


def test_events_and_groups_survive_a_server_restart(
    coord: accord.Coordinator, redis_server: RedisServer
) -> None:
    seen: list[tuple[str, int]] = []
    coord.when("tick")(lambda e: seen.append(("broadcast", e["n"])))
    coord.when("tick", group="pool", visibility=2.0)(lambda e: seen.append(("group", e["n"])))
    coord.emit("tick", {"n": 1})
    assert coord.wait_idle(10)
    redis_server.kill()  # no persistence: the log and the group are gone
    try:
        with pytest.raises(BackendUnavailable):
            coord.emit("tick", {"n": 2})
    finally:
        redis_server.start()
    with pytest.raises(BackendUnavailable, match="lost the data"):
        coord.emit("tick", {"n": 3})
    coord.close()  # its readers stop, though the store is gone
    fresh = accord.connect(redis_server.url, namespace=coord.namespace)
    try:
        fresh.when("tick")(lambda e: seen.append(("broadcast", e["n"])))
        fresh.when("tick", group="pool", visibility=2.0)(lambda e: seen.append(("group", e["n"])))
        fresh.emit("tick", {"n": 3})  # the group is created again
        deadline = time.monotonic() + 20
        while len(seen) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(seen) == [("broadcast", 1), ("broadcast", 3), ("group", 1), ("group", 3)]
        assert [e["n"] for e in fresh.events.history(name="tick")] == [3]
        assert fresh.barrier("solo", 1, timeout=5).wait() == 0  # scripts load again
    finally:
        fresh.close()


def test_retention_is_exact_and_drops_trimmed_claims(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    backend = RedisBackend(redis_server.url, namespace)
    events = f"accord:{{{namespace}}}:events"
    try:
        backend.group_create("g")
        ids = [backend.event_append("e", str(n), "me", 100).id for n in range(250)]
        assert raw.xlen(events) == 100
        kept = backend.event_read(None, 1000, 0.0)
        assert [r.id for r in kept] == ids[150:] and [r.data for r in kept] == [
            str(n) for n in range(150, 250)
        ]
        claimed = backend.group_read("g", "dies", 0.05, 10, 0.0)
        assert [r.data for r in claimed] == [str(n) for n in range(150, 160)]
        for n in range(5):  # trims five of the claimed entries
            backend.event_append("e", str(250 + n), "me", 100)
        time.sleep(0.1)  # the claims expire
        again = backend.group_read("g", "lives", 0.05, 10, 0.0)  # expired claims first
        assert [r.data for r in again] == [str(n) for n in range(155, 165)]
        backend.group_ack("g", [r.id for r in again])
        assert raw.xpending(events, "g")["pending"] == 0
    finally:
        backend.close()


def test_joining_a_group_forgets_idle_members_without_claims(
    redis_server: RedisServer, raw: redis.Redis, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every coordinator reads under a name of its own, so members of stopped processes
    # would pile up in the group; the next join forgets those that hold no claims.
    from accord.backends.redis import _sync_events

    backend = RedisBackend(redis_server.url, namespace)
    events = f"accord:{{{namespace}}}:events"
    try:
        backend.group_create("g")
        for n in range(3):
            backend.event_append("e", str(n), "me", 100)
        acked = backend.group_read("g", "stopped", 30.0, 2, 0.0)
        backend.group_ack("g", [r.id for r in acked])
        backend.group_read("g", "crashed", 30.0, 1, 0.0)  # holds one claim, never acked
        time.sleep(0.3)
        monkeypatch.setattr(_sync_events, "FORGET_CONSUMERS_AFTER", 0.2)
        backend.group_create("g")  # another process joins
        members = {c["name"].decode(): c["pending"] for c in raw.xinfo_consumers(events, "g")}
        assert members == {"crashed": 1}  # its claim stays, to be taken over
        # a forgotten member that was only quiet reads on: the read makes it again
        backend.event_append("e", "3", "me", 100)
        assert [r.data for r in backend.group_read("g", "stopped", 30.0, 1, 0.0)] == ["3"]
        members = {c["name"].decode(): c["pending"] for c in raw.xinfo_consumers(events, "g")}
        assert members == {"crashed": 1, "stopped": 1}
    finally:
        backend.close()


def test_event_ids_are_stream_ids_with_server_time(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    backend = RedisBackend(redis_server.url, namespace)
    try:
        assert backend.event_tail() == "0-0"
        record = backend.event_append("e", "{}", "me", 10)
        seconds, micros = raw.time()
        assert abs(record.time - (seconds + micros / 1e6)) < 1.0
        assert backend.event_tail() == record.id and record.id.count("-") == 1
        assert backend.event_read("0", 10, 0.0) == [record]
        for bad in ["x", "-1", "1-2-3", "99999999999999999999"]:
            with pytest.raises(ConfigError):
                backend.event_read(bad, 10, 0.0)
        with pytest.raises(ValueError):
            backend.post("box", "")  # an empty message would read as a nudge
    finally:
        backend.close()


def test_a_blocking_read_wakes_at_once_and_fails_fast_on_a_paused_server(
    redis_server: RedisServer, namespace: str
) -> None:
    backend = RedisBackend(redis_server.url, namespace)
    other = RedisBackend(redis_server.url, namespace)
    try:
        tail = backend.event_tail()
        appender = threading.Timer(0.2, lambda: other.event_append("e", "{}", "me", 10))
        appender.start()
        start = time.monotonic()
        assert len(backend.event_read(tail, 10, 5.0)) == 1
        assert time.monotonic() - start < 2.0
        # the reader may wake before the appender has read its own reply: pausing the
        # server then would fail the appender's call, in its thread
        appender.join(10)
        redis_server.pause()
        try:
            start = time.monotonic()
            with pytest.raises(BackendUnavailable):
                backend.event_read(None, 10, 0.3)  # 0.3 s + the 1 s margin
            assert time.monotonic() - start < 3.0
        finally:
            redis_server.resume()
        assert len(backend.event_read(None, 10, 0.3)) == 1
    finally:
        backend.close()
        other.close()


async def test_a_cancelled_async_read_does_not_spoil_its_connection(
    redis_server: RedisServer, namespace: str
) -> None:
    backend = AsyncRedisBackend(redis_server.url, namespace)
    try:
        reader = asyncio.ensure_future(backend.event_read(None, 10, 5.0))
        await asyncio.sleep(0.2)
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        record = await backend.event_append("e", "{}", "me", 10)
        assert await backend.event_read(None, 10, 0.0) == [record]
        assert await backend.event_tail() == record.id
    finally:
        await backend.aclose()


def test_a_group_read_skips_to_what_its_caller_read(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    # skip_to: entries up to it are for no member of the group (the reader read them):
    # the cursor moves on to it in one script, nothing claimed, and never back.
    backend = RedisBackend(redis_server.url, namespace)
    events = f"accord:{{{namespace}}}:events"
    try:
        backend.group_create("narrow")
        ids = [backend.event_append("noise", str(n), "me", 1000).id for n in range(300)]
        wanted = backend.event_append("rare", "x", "me", 1000).id
        got = backend.group_read("narrow", "a", 30.0, 2, 0.0, skip_to=ids[-1])
        assert [r.id for r in got] == [wanted]
        assert raw.xpending(events, "narrow")["pending"] == 1  # the skipped are not held
        later = backend.event_append("rare", "y", "me", 1000).id
        got = backend.group_read("narrow", "a", 30.0, 2, 0.0, skip_to=ids[0])  # behind
        assert [r.id for r in got] == [later]
        raw.delete(events)  # the log is gone: the group is made again, nothing raised
        assert backend.group_read("narrow", "a", 30.0, 2, 0.0, skip_to=ids[0]) == []
    finally:
        backend.close()


# --- versioned layout ---------------------------------------------------------------


def _layout_key(namespace: str) -> str:
    return f"accord:{{{namespace}}}:layout"


def test_a_namespace_of_a_newer_layout_is_refused_naming_both_versions(
    redis_server: RedisServer, raw: redis.Redis, namespace: str
) -> None:
    raw.set(_layout_key(namespace), LAYOUT_VERSION + 1)
    coord = accord.connect(redis_server.url, namespace=namespace)
    with coord, pytest.raises(BackendUnavailable) as info:
        coord.state("m").get("k")
    message = str(info.value)
    assert f"layout version {LAYOUT_VERSION + 1}" in message
    assert f"up to {LAYOUT_VERSION}" in message and "upgrade accord" in message
    assert raw.keys(f"accord:{{{namespace}}}:*") == [_layout_key(namespace).encode()]


def test_a_namespace_of_the_unversioned_layout_is_migrated(
    redis_server: RedisServer, raw: redis.Redis, coord: accord.Coordinator, namespace: str
) -> None:
    coord.state("m").set("k", "kept")
    raw.delete(_layout_key(namespace))  # as accord left it before layouts had a version
    with accord.connect(redis_server.url, namespace=namespace) as again:
        assert again.state("m").get("k").value == "kept"
    assert raw.get(_layout_key(namespace)) == str(LAYOUT_VERSION).encode()
    assert coord.state("m").get("k").value == "kept"  # the first coordinator goes on


def test_the_lease_index_holds_what_is_live_and_listings_page_it(
    coord: accord.Coordinator, namespace: str, raw: redis.Redis
) -> None:
    """``leases`` holds the keys with holders or waiters and those idle since the last
    listing, which unlists them; one script walks at most LIST_PAGE keys of it."""
    from accord.backends.redis._sync import LIST_PAGE

    index = f"accord:{{{namespace}}}:leases"
    for i in range(50):
        coord.lock(f"done-{i}").acquire().release()
    assert raw.zcard(index) == 50  # a lock cycle leaves the index alone
    assert coord.list_locks() == []
    assert raw.zcard(index) == 0
    held = [coord.lock(f"held-{i:03}", ttl=5).acquire() for i in range(LIST_PAGE * 2 + 5)]
    gone = coord.lock("gone", ttl=0.05).acquire()
    assert raw.zcard(index) == len(held) + 1
    time.sleep(0.1)  # `gone` expires untouched: the listing drops it from the index
    names = [s.name for s in coord.list_locks()]
    assert names == [f"held-{i:03}" for i in range(len(held))]
    assert raw.zcard(index) == len(held)
    assert gone.token == 1
    for lease in held:
        lease.release()
    assert coord.list_locks() == []
    assert raw.zcard(index) == 0
    again = coord.lock("held-000").acquire()  # listed again by its next grant
    assert [s.name for s in coord.list_locks()] == ["held-000"]
    again.release()


async def test_a_cancelled_subscriber_stops_at_once(
    redis_server: RedisServer, namespace: str
) -> None:
    """A task reading events is cancelled in the middle of its blocking reads (which
    Redis ends every HEARTBEAT): on Python 3.11 ``asyncio.wait_for`` dropped a
    cancellation that came as a read completed, and the task read on for ever."""
    c = accord.connect_async(redis_server.url, namespace=namespace)
    try:

        async def follow() -> None:
            async for _ in c.events.subscribe("never.*"):
                pass

        for pause in (0.0, 0.05, HEARTBEAT - 0.01, HEARTBEAT, HEARTBEAT + 0.02):
            task = asyncio.create_task(follow())
            await asyncio.sleep(pause)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2.0)
            assert done, f"a cancel after {pause} s did not stop the subscriber"
            assert task.cancelled()
    finally:
        await c.aclose()
