"""What only the SQLite backend has to prove: boots, crashes, pipes, events, bad files.

The behaviour every backend shares is checked by the conformance suite; these tests
use real processes (``spawn``), real pipes and real files, and no mocks.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import accord
from accord._models import Granted, LeaseRequest, Waiting
from accord.backends import sqlite as sqlite_module
from accord.backends._pipes import SETTLED_NS, FifoMailbox, post
from accord.backends._sqlite_file import CHECKPOINT_EVERY, PAGE_SIZE, SCHEMA_VERSION, _file_mutex
from accord.backends.sqlite import SqliteBackend, async_sqlite_backend
from accord.backends.state.rule import HISTORY_KEEP, TRIM_SLACK
from accord.errors import BackendUnavailable, ConfigError

spawn = multiprocessing.get_context("spawn")


def _req(holder: str, *, waiter: str = "", wait: bool = False, ttl: float = 600.0) -> LeaseRequest:
    return LeaseRequest("lock/x", holder, f"agent-{holder}", waiter, ttl, 1, wait)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- a new boot ---------------------------------------------------------------------


def _leave_holder_waiter_rate_and_pipe(db: Path) -> None:
    backend = SqliteBackend(db, "ns")
    assert isinstance(backend.acquire(_req("h1"), detect_deadlock=False), Granted)
    queued = backend.acquire(_req("h2", waiter="w2", wait=True), detect_deadlock=False)
    assert isinstance(queued, Waiting)
    assert backend.rate_acquire("rate/r", 600.0, 1, 1, True) == 0.0
    backend.wake_dir.mkdir()
    os.mkfifo(backend.wake_dir / "0123456789abcdef")  # nobody reads it: its process died
    backend.close()


def _set_stored_boot(db: Path, boot: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE name = 'boot_id'", (boot,))
    conn.close()


def test_same_boot_keeps_holders(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _leave_holder_waiter_rate_and_pipe(db)
    backend = SqliteBackend(db, "ns")
    stats = backend.lease_statistics("lock/x")
    assert [h.owner for h in stats.holders] == ["h1"]
    assert stats.waiters == ("agent-h2",)
    assert backend.rate_acquire("rate/r", 600.0, 1, 1, False) > 0
    backend.close()


def test_new_boot_drops_holders_waiters_rates_and_pipes(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    _leave_holder_waiter_rate_and_pipe(db)
    _set_stored_boot(db, "an-earlier-boot")

    backend = SqliteBackend(db, "ns")
    live = backend.open_mailbox()  # opened in this boot, before the first connection
    stats = backend.lease_statistics("lock/x")
    assert (stats.holders, stats.waiters, stats.last_token) == ((), (), 1)
    assert backend.acquire(_req("h3"), detect_deadlock=False) == Granted(2, 600.0)
    assert backend.rate_acquire("rate/r", 600.0, 1, 1, False) == 0.0
    assert [p.name for p in backend.wake_dir.iterdir()] == [live.id]
    live.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM waits").fetchone() == (0,)
        assert conn.execute("SELECT value FROM meta").fetchone() != ("an-earlier-boot",)
    conn.close()
    backend.close()


# --- a writer killed mid-transaction --------------------------------------------------


def _write_forever(url: str, started: Any) -> None:
    coord = accord.connect(url, namespace="ns", agent="writer")
    counter, lock = coord.state("s"), coord.lock("x", ttl=1)
    for i in range(10**9):
        with lock:
            counter.incr("n")
        counter.set(f"k{i % 50}", {"i": i, "pad": "x" * 500})
        if i == 20:
            started.set()


@pytest.mark.timeout(60)
def test_sigkilled_writer_leaves_a_usable_database(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    for round_ in range(3):
        started = spawn.Event()
        child = spawn.Process(target=_write_forever, args=(_url(db), started))
        child.start()
        assert started.wait(30), "the writer never got going"
        time.sleep(0.02 * round_)
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join()

        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
        coord = accord.connect(_url(db), namespace="ns", agent="survivor")
        entry = coord.state("s").get("n")
        assert entry is not None and entry.value == entry.version  # only incr(+1) wrote it
        with coord.lock("x").acquire(timeout=5):  # the writer's lease expires (ttl 1 s)
            coord.state("s").incr("n")
        coord.close()


# --- wake-up pipes ----------------------------------------------------------------------


def _post_one(path: str, message: str) -> None:
    post(path, message)


def _pipe_path(mailbox: FifoMailbox, backend: SqliteBackend) -> str:
    return os.path.join(backend.wake_dir, mailbox.id)


def test_message_posted_before_wait_is_kept(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    mailbox = backend.open_mailbox()
    child = spawn.Process(target=_post_one, args=(_pipe_path(mailbox, backend), "7"))
    child.start()
    child.join()
    assert child.exitcode == 0
    assert mailbox.wait(0) == "7"
    assert mailbox.wait(0.05) is None
    post(_pipe_path(mailbox, backend), "")  # a nudge: wake up and ask the store again
    started = time.monotonic()
    assert mailbox.wait(30) is None
    assert time.monotonic() - started < 10
    mailbox.close()
    mailbox.close()
    assert list(backend.wake_dir.iterdir()) == []


def _hold_until_someone_queues(url: str, tokens: Any) -> None:
    coord = accord.connect(url, namespace="ns", agent="first")
    lock = coord.lock("x", ttl=60)
    lease = lock.acquire()
    tokens.put(lease.token)
    deadline = time.monotonic() + 30
    while not lock.statistics().waiters and time.monotonic() < deadline:
        time.sleep(0.01)
    lease.release()
    coord.close()


def _start_holder(db: Path) -> tuple[Any, int]:
    tokens = spawn.Queue()
    child = spawn.Process(target=_hold_until_someone_queues, args=(_url(db), tokens))
    child.start()
    return child, tokens.get(timeout=30)


@pytest.mark.timeout(60)
def test_release_in_another_process_wakes_the_waiter(tmp_path: Path) -> None:
    child, token = _start_holder(tmp_path / "a.db")
    coord = accord.connect(_url(tmp_path / "a.db"), namespace="ns", agent="second")
    # Unwoken, the waiter would re-check only after 20 s (the timeout) and fail.
    lease = coord.lock("x", ttl=60).acquire(timeout=20)
    assert lease.token == token + 1
    lease.release()
    child.join()
    coord.close()


@pytest.mark.timeout(60)
async def test_async_waiter_is_woken_across_processes(tmp_path: Path) -> None:
    child, token = _start_holder(tmp_path / "a.db")
    coord = accord.connect_async(_url(tmp_path / "a.db"), namespace="ns", agent="second")
    lease = await coord.lock("x", ttl=60).acquire(timeout=20)
    assert lease.token == token + 1
    await lease.release()
    await coord.aclose()
    child.join()


def _post_later(path: str, message: str) -> None:
    time.sleep(0.3)
    post(path, message)


class _Ticks:
    """Counts 10 ms ticks of the running event loop: a wait that blocks it stops them."""

    def __init__(self) -> None:
        self.count = 0
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while True:
            self.count += 1
            await asyncio.sleep(0.01)

    def stop(self) -> None:
        self._task.cancel()


@pytest.mark.timeout(60)
async def test_async_mailbox_waits_without_blocking_the_loop(tmp_path: Path) -> None:
    backend = async_sqlite_backend(tmp_path / "a.db", "ns")
    mailbox = await backend.open_mailbox()
    ticks = _Ticks()
    path = os.path.join(tmp_path / "a.db.wake", mailbox.id)
    child = spawn.Process(target=_post_later, args=(path, "9"))
    child.start()
    assert await mailbox.wait(30) == "9"
    assert ticks.count >= 10  # the loop kept running while the task waited
    assert await mailbox.wait(0.05) is None
    ticks.stop()
    await mailbox.aclose()
    assert not os.path.exists(path)
    child.join()
    await backend.aclose()


def _open_mailbox_and_sleep(wake_dir: str, paths: Any) -> None:
    mailbox = FifoMailbox(Path(wake_dir))
    paths.put(os.path.join(wake_dir, mailbox.id))
    time.sleep(600)


@pytest.mark.timeout(60)
def test_posting_to_a_waiter_that_is_gone_does_not_block(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    paths = spawn.Queue()
    child = spawn.Process(target=_open_mailbox_and_sleep, args=(str(backend.wake_dir), paths))
    child.start()
    dead = paths.get(timeout=30)
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join()
    assert os.path.exists(dead)
    post(dead, "1")  # no reader: returns at once and clears the pipe
    assert not os.path.exists(dead)

    closed = backend.open_mailbox()
    closed.close()
    post(_pipe_path(closed, backend), "1")  # the pipe is gone

    full = backend.open_mailbox()
    for _ in range(20_000):  # far more than a pipe buffer holds; never read
        post(_pipe_path(full, backend), "123456")
    assert full.wait(0) == "123456"
    full.close()


def _queue_and_sleep(db: str, queued: Any) -> None:
    backend = SqliteBackend(Path(db), "ns")
    mailbox = backend.open_mailbox()
    result = backend.acquire(_req("doomed", waiter=mailbox.id, wait=True), detect_deadlock=True)
    queued.put(isinstance(result, Waiting))
    time.sleep(600)


@pytest.mark.timeout(60)
def test_release_to_a_killed_waiter_returns(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    first = backend.acquire(_req("h1"), detect_deadlock=False)
    assert isinstance(first, Granted)
    queued = spawn.Queue()
    child = spawn.Process(target=_queue_and_sleep, args=(str(db), queued))
    child.start()
    assert queued.get(timeout=30) is True
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join()
    assert backend.release("lock/x", "h1", first.token) is True
    assert [h.owner for h in backend.lease_statistics("lock/x").holders] == ["doomed"]
    backend.close()


# --- events: bells, durability, retention, readers -----------------------------------


def _append_later(db: str, namespace: str, name: str) -> None:
    time.sleep(0.3)
    backend = SqliteBackend(Path(db), namespace)
    backend.event_append(name, "{}", "child", 100)
    backend.close()


@pytest.mark.timeout(60)
def test_append_in_another_process_rings_the_bells_of_its_namespace(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend, other = SqliteBackend(db, "ns"), SqliteBackend(db, "other-ns")
    bell, deaf = backend.open_bell(), other.open_bell()
    child = spawn.Process(target=_append_later, args=(str(db), "ns", "tick"))
    child.start()
    started = time.monotonic()
    assert bell.wait(20) == "e"
    assert time.monotonic() - started < 10
    assert deaf.wait(0.05) is None  # another namespace's append rings nothing here
    child.join()
    bell.close()
    deaf.close()
    assert list(backend.wake_dir.iterdir()) == []
    backend.close()
    other.close()


@pytest.mark.timeout(60)
def test_blocking_read_is_woken_by_an_append_in_another_process(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    child = spawn.Process(target=_append_later, args=(str(db), "ns", "tick"))
    child.start()
    started = time.monotonic()
    found = backend.event_read("0", 10, 20.0)  # unwoken, it would return [] after 20 s
    assert [e.name for e in found] == ["tick"]
    assert time.monotonic() - started < 10
    child.join()
    backend.close()


@pytest.mark.timeout(60)
async def test_async_blocking_read_waits_on_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = async_sqlite_backend(db, "ns")
    ticks = _Ticks()
    child = spawn.Process(target=_append_later, args=(str(db), "ns", "tick"))
    child.start()
    found = await backend.event_read("0", 10, 20.0)
    assert [e.name for e in found] == ["tick"]
    assert ticks.count >= 10
    ticks.stop()
    child.join()
    assert list((tmp_path / "a.db.wake").iterdir()) == []  # the bell is gone
    await backend.aclose()


def _open_bell_and_sleep(db: str, paths: Any) -> None:
    bell = SqliteBackend(Path(db), "ns").open_bell()
    paths.put(os.path.join(Path(db).with_name("a.db.wake"), bell.id))
    time.sleep(600)


@pytest.mark.timeout(60)
def test_a_bell_whose_reader_died_or_stopped_reading_never_blocks_emit(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    paths = spawn.Queue()
    child = spawn.Process(target=_open_bell_and_sleep, args=(str(db), paths))
    child.start()
    dead = paths.get(timeout=30)
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join()
    listener = SqliteBackend(db, "ns")
    unread = listener.open_bell()  # alive but never read
    for _ in range(100):  # more than a pipe holds
        post(os.path.join(listener.wake_dir, unread.id), "x" * 1000)
    coord = accord.connect(_url(db), namespace="ns", agent="emitter")
    started = time.monotonic()
    for n in range(100):
        coord.emit("tick", {"n": n})
    assert time.monotonic() - started < 10
    assert not os.path.exists(dead)  # the first ring found no reader and removed it
    assert unread.wait(0) == "x" * 1000
    unread.close()
    listener.close()
    coord.close()


def test_a_bell_opened_after_a_kept_listing_is_rung(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    first = backend.open_bell()
    settled = time.time_ns() - 10 * SETTLED_NS  # the listing of an old directory is kept
    os.utime(backend.wake_dir, ns=(settled, settled))
    backend.event_append("one", "{}", "a", 10)
    assert first.wait(0) == "e"
    second = backend.open_bell()  # changes the directory: the kept listing is stale
    first.close()  # gone from the directory, still in the kept listing if it were used
    backend.event_append("two", "{}", "a", 10)
    assert second.wait(0) == "e"
    second.close()
    backend.close()


def test_appends_of_one_transaction_and_of_others_take_the_next_ids(tmp_path: Path) -> None:
    mine, other = SqliteBackend(tmp_path / "a.db", "ns"), SqliteBackend(tmp_path / "a.db", "ns")
    with mine._transaction():  # the newest id is read once, then counted on
        ids = [mine._append_event("e", "{}", "a", 0.0, 100).id for _ in range(2)]
    ids.append(other.event_append("e", "{}", "b", 100).id)
    ids.append(mine.event_append("e", "{}", "a", 100).id)  # not counted from its last
    assert ids == ["1", "2", "3", "4"]
    mine.close()
    other.close()


def test_events_survive_reopening_the_file_and_ids_go_on(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    coord = accord.connect(_url(db), namespace="ns", agent="first")
    ids = [coord.emit("tick", {"n": n}) for n in range(3)]
    coord.close()
    again = accord.connect(_url(db), namespace="ns", agent="second")
    assert [(e.id, e["n"], e.source) for e in again.events.read()] == [
        (ids[0], 0, "first"), (ids[1], 1, "first"), (ids[2], 2, "first")
    ]
    assert again.emit("tick", {"n": 3}) == str(int(ids[-1]) + 1)
    assert [e.source for e in again.events.history(source="first")] == ["first"] * 3
    again.close()


def test_retention_deletes_the_oldest_rows(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend, other = SqliteBackend(db, "ns"), SqliteBackend(db, "other")
    other.event_append("kept", "{}", "agent", 1)
    for n in range(1, 11):
        backend.event_append("tick", str(n), "agent", 4)
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT ns, id, data FROM events ORDER BY ns, id").fetchall()
    conn.close()
    assert rows == [("ns", i, str(i)) for i in range(7, 11)] + [("other", 1, "{}")]
    assert backend.event_tail() == "10"
    backend.close()
    other.close()


def test_history_filters_by_name_and_source_newest_first(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    for n, (name, source) in enumerate([("a", "x"), ("b", "x"), ("a", "y"), ("a", "x")]):
        backend.event_append(name, str(n), source, 100)
    assert [e.data for e in backend.event_history("a", None, 10)] == ["3", "2", "0"]
    assert [e.data for e in backend.event_history(None, "x", 2)] == ["3", "1"]
    assert [e.data for e in backend.event_history("a", "x", 10)] == ["3", "0"]
    assert [e.data for e in backend.event_history(None, None, 10)] == ["3", "2", "1", "0"]
    backend.close()


def test_readers_neither_wait_for_nor_block_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    backend.event_append("tick", "{}", "agent", 100)
    backend.state_set("m", "k", "1", "agent", None, None)
    writing, done = threading.Event(), threading.Event()

    def write_slowly() -> None:  # another thread of this process, mid-transaction
        with backend._transaction():
            backend._append_event("slow", "{}", "agent", 0.0, 100)
            writing.set()
            done.wait(30)

    writer = threading.Thread(target=write_slowly)
    writer.start()
    assert writing.wait(30)
    other_process = sqlite3.connect(db, timeout=0, isolation_level=None)
    started = time.monotonic()
    assert [e.name for e in backend.event_read("0", 10, 0.0)] == ["tick"]  # not "slow" yet
    assert backend.state_get("m", "k") is not None
    assert backend.event_tail() == "1"
    assert time.monotonic() - started < 1.0  # no wait for the writer's mutex or lock
    done.set()
    writer.join()

    other_process.execute("BEGIN")  # a reader in another process holds a snapshot
    assert other_process.execute("SELECT count(*) FROM events").fetchone() == (2,)
    started = time.monotonic()
    backend.event_append("after", "{}", "agent", 100)
    assert time.monotonic() - started < 1.0
    assert other_process.execute("SELECT count(*) FROM events").fetchone() == (2,)
    other_process.execute("COMMIT")
    other_process.close()
    assert backend.event_tail() == "3"
    backend.close()


def test_group_claims_expire_alone_and_acks_are_exact(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    backend.group_create("pool")
    for n in range(5):
        backend.event_append("job", str(n), "agent", 100)
    short = backend.group_read("pool", "a", 0.2, 3, 0.0)
    long = backend.group_read("pool", "b", 60.0, 10, 0.0)
    assert ([e.id for e in short], [e.id for e in long]) == (["1", "2", "3"], ["4", "5"])
    backend.group_ack("pool", ["2", "5"])
    assert backend.group_read("pool", "c", 60.0, 10, 0.0) == []  # every claim is live
    time.sleep(0.3)
    assert [e.id for e in backend.group_read("pool", "c", 60.0, 10, 0.0)] == ["1", "3"]
    backend.group_ack("pool", ["1", "3", "4"])
    with sqlite3.connect(tmp_path / "a.db") as conn:
        assert conn.execute("SELECT count(*) FROM group_claims").fetchone() == (0,)
    conn.close()
    backend.close()


def test_new_boot_lets_group_claims_expire(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    backend.group_create("pool")
    backend.event_append("job", "{}", "agent", 100)
    assert [e.id for e in backend.group_read("pool", "dead", 3600.0, 10, 0.0)] == ["1"]
    backend.close()
    _set_stored_boot(db, "an-earlier-boot")

    backend = SqliteBackend(db, "ns")
    assert [e.id for e in backend.group_read("pool", "next", 60.0, 10, 0.0)] == ["1"]
    backend.close()


# --- paths and files that cannot work -------------------------------------------------


def test_directory_path_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        accord.connect(_url(tmp_path))


def test_path_below_a_file_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    coord = accord.connect(_url(blocker / "accord.db"))
    with pytest.raises(BackendUnavailable, match=r"sqlite store is unavailable .*file/accord\.db"):
        coord.lock("x").acquire()


def test_corrupt_file_is_unavailable_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "accord.db"
    garbage = b"this is not a database, it is a shopping list\n" * 200
    db.write_bytes(garbage)
    coord = accord.connect(_url(db))
    with pytest.raises(BackendUnavailable, match="file is not a database"):
        coord.state("m").set("k", 1)
    assert db.read_bytes() == garbage


# --- SQL details --------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["KEY_PAGE", "ITEM_PAGE"])
def test_a_page_of_keys_seeks_the_primary_key_and_scans_nothing(tmp_path: Path, query: str) -> None:
    """A page costs what it walks: every step of the walk is a seek of the primary key
    (no scan of the table, of the map, or of a key's versions)."""
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    backend.state_set("m", "k", "1", "agent", None, None)
    db = sqlite3.connect(tmp_path / "a.db")
    sql = getattr(sqlite_module, query)
    plan = db.execute("EXPLAIN QUERY PLAN " + sql, ("ns", "m", "", b"\xff", 10)).fetchall()
    details = [row[-1] for row in plan]
    assert not [d for d in details if d.startswith("SCAN versions")], details
    assert any("SEARCH versions USING PRIMARY KEY" in d for d in details), details
    db.close()
    backend.close()


def test_prefixes_are_literal_not_like_patterns(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    for name in ["a%", "a%b", "a_b", "axb", "A_b"]:
        req = LeaseRequest(f"lock/{name}", "h", "agent", "", 60.0, 1, False)
        backend.acquire(req, detect_deadlock=False)
        backend.state_set("m", name, "1", "agent", None, None)
    assert [s.name for s in backend.list_leases("lock/a%")] == ["a%", "a%b"]
    assert [s.name for s in backend.list_leases("lock/a_")] == ["a_b"]
    assert [k for k, _ in backend.state_items("m", "a_", None, 10)[0]] == ["a_b"]
    assert backend.state_keys("m", "a_", None, 10) == (["a_b"], None)
    assert len(backend.state_items("m", "", None, 10)[0]) == 5
    backend.close()


def test_history_keeps_the_newest_versions_only(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    for _ in range(130):
        backend.state_incr("m", "k", 1, "agent")
    history = backend.state_history("m", "k", 1000)
    assert [e.version for e in history] == list(range(130, 30, -1))
    backend.close()
    with sqlite3.connect(db) as conn:
        (stored,) = conn.execute("SELECT count(*) FROM versions").fetchone()
        assert HISTORY_KEEP <= stored < HISTORY_KEEP + TRIM_SLACK  # trimmed every few writes
    conn.close()


def test_a_lease_changed_elsewhere_is_read_from_the_file_not_from_memory(
    tmp_path: Path,
) -> None:
    # Each connection keeps the lease records it saved decoded; a record another
    # connection (another process) changed since must be decoded afresh.
    a, b = SqliteBackend(tmp_path / "a.db", "ns"), SqliteBackend(tmp_path / "a.db", "ns")
    try:
        first = a.acquire(_req("h1"), detect_deadlock=False)
        assert isinstance(first, Granted) and a.release("lock/x", "h1", first.token)
        second = b.acquire(_req("h2"), detect_deadlock=False)  # a's copy is out of date now
        assert isinstance(second, Granted) and second.token == first.token + 1
        held = a.acquire(_req("h1"), detect_deadlock=False)
        assert isinstance(held, Waiting) and held.holder == "agent-h2"
        assert not a.release("lock/x", "h1", first.token)  # a's old lease is gone
        assert b.release("lock/x", "h2", second.token)
        third = a.acquire(_req("h1"), detect_deadlock=False)
        assert isinstance(third, Granted) and third.token == second.token + 1
        assert not a.extend("lock/x", "h1", first.token, 60.0)
        assert a.extend("lock/x", "h1", third.token, 60.0)
        assert not b.release("lock/x", "h2", second.token)
        assert a.release("lock/x", "h1", third.token)
    finally:
        a.close()
        b.close()


def test_a_write_decided_on_an_outdated_version_is_redone_from_the_file(tmp_path: Path) -> None:
    # Two processes' views of one file: each decides a write from the newest version it
    # saw, and the INSERT of the next version must fail when that is no longer so.
    from accord.errors import VersionConflict

    a, b = SqliteBackend(tmp_path / "a.db", "ns"), SqliteBackend(tmp_path / "a.db", "ns")
    try:
        assert a.state_set("m", "k", "1", "a", None, None).version == 1  # a saw version 1
        assert b.state_incr("m", "k", 10, "b").value == 11  # b writes version 2
        with pytest.raises(VersionConflict) as caught:
            a.state_set("m", "k", "5", "a", 1, None)  # a still thinks 1 is the newest
        assert caught.value.current is not None and caught.value.current.value == 11
        assert a.state_incr("m", "k", 1, "a").value == 12  # redone from version 2
        assert b.state_incr("m", "k", 1, "b").value == 13  # b saw 2, the newest is 3
        assert [e.value for e in a.state_history("m", "k", 10)] == [13, 12, 11, 1]
    finally:
        a.close()
        b.close()


def test_a_write_decided_on_a_version_trimmed_since_is_redone(tmp_path: Path) -> None:
    # a saw version 1; b then writes so many that versions 1 and 2 are trimmed away. a's
    # one-statement INSERT of version 2 must not fill that gap below b's newest.
    a, b = SqliteBackend(tmp_path / "a.db", "ns"), SqliteBackend(tmp_path / "a.db", "ns")
    try:
        a.state_set("m", "k", "0", "a", None, None)
        writes = HISTORY_KEEP + 2 * TRIM_SLACK
        for _ in range(writes):
            b.state_incr("m", "k", 1, "b")
        assert a.state_incr("m", "k", 1, "a").version == writes + 2
        history = a.state_history("m", "k", HISTORY_KEEP)
        newest = writes + 2
        assert [e.version for e in history] == list(range(newest, newest - HISTORY_KEEP, -1))
        assert history[0].value == writes + 1
    finally:
        a.close()
        b.close()


def test_the_file_takes_only_the_next_version_of_a_key(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    backend.state_set("m", "k", "1", "agent", None, None)
    backend.close()
    row = "INSERT INTO versions VALUES ('ns', 'm', ?, ?, '2', 'x', 0, NULL, 0)"
    with sqlite3.connect(db) as conn:
        assert conn.execute(row, ("k", 3)).rowcount == 0  # skips version 2
        assert conn.execute(row, ("k", 1)).rowcount == 0  # repeats version 1
        assert conn.execute(row, ("new", 2)).rowcount == 0  # a new key starts at 1
        assert conn.execute(row, ("k", 2)).rowcount == 1
    conn.close()
    backend = SqliteBackend(db, "ns")
    assert [e.version for e in backend.state_history("m", "k", 10)] == [2, 1]
    assert backend.state_get("m", "new") is None
    backend.close()


def test_interrupt_reads_ends_the_reads_in_progress_and_no_later_one(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    try:
        tail = backend.event_tail()
        done: list[list[Any]] = []
        reader = threading.Thread(target=lambda: done.append(backend.event_read(tail, 10, 10)))
        reader.start()
        time.sleep(0.3)  # asleep on its bell by now
        backend.interrupt_reads()
        reader.join(2.0)
        assert done == [[]]
        began = time.monotonic()
        assert backend.event_read(tail, 10, 0.3) == []
        assert time.monotonic() - began >= 0.25  # a read begun later waits as before
    finally:
        backend.close()


def test_namespaces_share_nothing_in_one_file(tmp_path: Path) -> None:
    one, two = SqliteBackend(tmp_path / "a.db", "one"), SqliteBackend(tmp_path / "a.db", "two")
    one.state_set("m", "k", "1", "agent", None, None)
    assert one.acquire(_req("h1"), detect_deadlock=False) == Granted(1, 600.0)
    assert two.state_get("m", "k") is None
    assert two.acquire(_req("h2"), detect_deadlock=False) == Granted(1, 600.0)
    one.close()
    two.close()


def test_close_closes_the_connections_of_every_thread(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    backend = SqliteBackend(db, "ns")
    used, done = threading.Barrier(5), threading.Event()

    def work(i: int) -> None:
        backend.state_set("m", f"k{i}", "1", "agent", None, None)
        used.wait()
        done.wait()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    used.wait()
    assert Path(f"{db}-wal").exists()
    backend.close()  # from another thread than the ones that opened them
    assert not Path(f"{db}-wal").exists()  # the last connection closed checkpoints it
    done.set()
    for t in threads:
        t.join()
    assert len(backend.state_items("m", "", None, 10)[0]) == 4  # usable again: it reconnects
    backend.close()


def test_close_waits_for_running_transactions_of_other_threads(tmp_path: Path) -> None:
    # Closing a connection while another thread is inside a statement on it crashes
    # the interpreter; close() must wait for that transaction, and the thread goes on
    # with a new connection. Every increment lands exactly once.
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    stop = threading.Event()
    counts = [0] * 4

    def work(i: int) -> None:
        while not stop.is_set():
            backend.state_incr("m", "n", 1, "agent")
            backend.event_read(None, 10, 0.0)
            counts[i] += 1

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for _ in range(200):
        backend.close()
        time.sleep(0.001)
    stop.set()
    for t in threads:
        t.join()
    entry = backend.state_get("m", "n")
    assert entry is not None and entry.value == sum(counts)
    backend.close()


def test_a_closed_store_does_not_make_its_deleted_file_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reader thread asleep on its bell when the coordinator closes is woken and
    # waited for by close(); the caller may then delete the directory, which must stay
    # deleted (a read still running after close would open the file again).
    from accord._sync import events

    monkeypatch.setattr(events, "READ_WAIT", 0.2)
    where = tmp_path / "gone"
    coord = accord.connect(_url(where / "a.db"), namespace="ns")
    coord.when("x")(lambda event: None)
    coord.emit("x")
    assert coord.wait_idle(5)
    coord.close()
    assert not [t for t in threading.enumerate() if t.name == "accord-events"]
    shutil.rmtree(where)
    time.sleep(0.6)  # the reader has woken and stopped
    assert not where.exists()


def _use_inherited(backend: SqliteBackend, out: Any) -> None:
    out.put(backend.state_incr("m", "n", 1, "child").value)


def test_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    backend.state_incr("m", "n", 1, "parent")
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    child = fork.Process(target=_use_inherited, args=(backend, out))
    child.start()
    assert out.get(timeout=30) == 2
    child.join()
    assert backend.state_incr("m", "n", 1, "parent").value == 3
    backend.close()


# asyncio: operations on the loop unless they would wait --------------------------------


class _CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor, counting what is sent to a worker thread."""

    submitted = 0

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        self.submitted += 1
        return super().submit(*args, **kwargs)


async def test_async_operations_on_a_free_file_take_no_thread_hop(tmp_path: Path) -> None:
    executor = _CountingExecutor(2)
    asyncio.get_running_loop().set_default_executor(executor)
    coord = accord.connect_async(_url(tmp_path / "a.db"), namespace="ns")
    for n in range(20):
        async with coord.lock("x") as lease:
            await coord.state("m").set("k", n, fence=lease)
    assert (await coord.state("m").get("k")).value == 19  # type: ignore[union-attr]
    assert await coord.rate_limit("r", rate=100).try_acquire()
    assert executor.submitted == 0
    await coord.aclose()


@pytest.mark.timeout(60)
async def test_an_async_write_waits_for_another_process_off_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    coord = accord.connect_async(_url(db), namespace="ns")
    inv = coord.state("inv")
    await inv.set("k", 1)
    other = sqlite3.connect(db, isolation_level=None)  # another writer holds the file
    other.execute("BEGIN IMMEDIATE")
    ticks = _Ticks()
    write = asyncio.create_task(inv.update("k", lambda n: n + 1))
    await asyncio.sleep(0.3)
    assert not write.done()  # it waits for the file ...
    assert ticks.count >= 10  # ... in a thread: the loop kept running
    other.execute("COMMIT")
    entry = await asyncio.wait_for(write, 10)
    assert (entry.value, entry.version) == (2, 2)  # done once, not once per attempt
    assert [e.version for e in await inv.history("k")] == [2, 1]
    ticks.stop()
    other.close()
    await coord.aclose()


@pytest.mark.timeout(60)
async def test_an_async_lock_waits_for_this_process_writer_off_the_loop(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    coord = accord.connect_async(_url(db), namespace="ns")
    await coord.state("m").set("k", 0)  # the file exists and the loop has its connection
    writer = _file_mutex(db)  # the mutex a writing thread of this process holds
    writer.acquire()
    ticks = _Ticks()
    take = asyncio.create_task(coord.lock("x").acquire())
    await asyncio.sleep(0.3)
    assert not take.done() and ticks.count >= 10
    writer.release()
    lease = await asyncio.wait_for(take, 10)
    assert (await coord.lock("x").statistics()).token == lease.token
    await lease.release()
    ticks.stop()
    await coord.aclose()


async def test_checkpoints_keep_the_wal_short_under_async_writes(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    coord = accord.connect_async(_url(db), namespace="ns")
    m = coord.state("m")
    for n in range(3 * CHECKPOINT_EVERY):
        await m.set("k", n)
    wal = db.with_name(db.name + "-wal").stat().st_size
    # without checkpoints the WAL would hold every write: ~3 * 500 pages of 2 KiB
    assert wal < 1.5 * CHECKPOINT_EVERY * PAGE_SIZE
    assert (await m.get("k")).value == 3 * CHECKPOINT_EVERY - 1  # type: ignore[union-attr]
    await coord.aclose()


def test_a_group_read_skips_to_what_its_caller_read(tmp_path: Path) -> None:
    # skip_to: events up to it are for no member of the group (the reader read them):
    # the cursor moves on to it without claiming them, and never back.
    backend = SqliteBackend(tmp_path / "a.db", "ns")
    backend.group_create("narrow")
    ids = [backend.event_append("noise", str(n), "agent", 1000).id for n in range(300)]
    wanted = backend.event_append("rare", "x", "agent", 1000).id
    got = backend.group_read("narrow", "a", 30.0, 2, 0.0, skip_to=ids[-1])
    assert [e.id for e in got] == [wanted]
    later = backend.event_append("rare", "y", "agent", 1000).id
    got = backend.group_read("narrow", "a", 30.0, 2, 0.0, skip_to=ids[0])  # behind: no-op
    assert [e.id for e in got] == [later]
    backend.close()


# --- versioned layout ---------------------------------------------------------------


def test_a_file_of_a_newer_layout_is_refused_naming_both_versions(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    with accord.connect(_url(path), namespace="n") as coord:
        coord.state("m").set("k", 1)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    coord = accord.connect(_url(path), namespace="n")
    with coord, pytest.raises(ConfigError) as info:
        coord.state("m").get("k")
    message = str(info.value)
    assert f"layout version {SCHEMA_VERSION + 1}" in message
    assert f"up to {SCHEMA_VERSION}" in message and "upgrade accord" in message
    with sqlite3.connect(path) as raw:  # refused before any change
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_a_file_of_the_unversioned_layout_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    with accord.connect(_url(path), namespace="n") as coord:
        coord.state("m").set("k", "kept")
    old = {"limit": 1, "token": 7, "holders": {}, "queue": []}  # a lease of layout 0
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO leases VALUES ('n', 'lock/x', ?)", (json.dumps(old),))
        raw.execute("PRAGMA user_version = 0")
    with accord.connect(_url(path), namespace="n") as coord:
        assert coord.state("m").get("k").value == "kept"
        with coord.lock("x") as lease:
            assert lease.token == 8  # the old record's token goes on
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (record,) = raw.execute("SELECT record FROM leases WHERE key = 'lock/x'").fetchone()
        assert json.loads(record)[:2] == [1, 8]


def test_a_new_file_carries_the_layout_version(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with accord.connect(_url(path), namespace="n") as coord:
        coord.state("m").set("k", 1)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4


def test_a_file_of_layout_1_lists_the_leases_held_in_it(tmp_path: Path) -> None:
    path = tmp_path / "older.db"
    with accord.connect(_url(path), namespace="n") as coord:
        held = coord.lock("held", ttl=30).acquire()
        coord.lock("done").acquire().release()
        with sqlite3.connect(path) as raw:  # as layout 1 had it: no list of leases
            raw.execute("DELETE FROM leases_listed")
            raw.execute("PRAGMA user_version = 1")
        with accord.connect(_url(path), namespace="n", agent="later") as later:
            assert [s.name for s in later.list_locks()] == ["held"]
        held.release()


def test_a_file_of_layout_2_reads_its_contended_leases(tmp_path: Path) -> None:
    """Layout 3 added lease modes and intents; a record of layout 2 (holders and
    waiters of five fields) reads as exclusive leases, and the file is migrated."""
    path = tmp_path / "older.db"
    with accord.connect(_url(path), namespace="n", agent="a") as coord:
        coord.state("m").set("k", 1)
    now = time.time()
    record = [1, 4, [["a#1:t", "a", 4, 30.0, now + 30]], [["w1", "b#2:t", "b", 30.0, now + 30]]]
    with sqlite3.connect(path) as raw:
        raw.execute("INSERT INTO leases (ns, key, record) VALUES ('n', 'lock/x', ?)",
                    (json.dumps(record),))
        raw.execute("PRAGMA user_version = 2")
    with accord.connect(_url(path), namespace="n", agent="later") as later:
        stats = later.lock("x").statistics()
        assert [h.agent for h in stats.holders] == ["a"] and stats.waiters == ("b",)
        assert stats.last_token == 4
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_file_of_layout_3_moves_the_holders_of_a_big_lease_into_rows(
    tmp_path: Path,
) -> None:
    """Layout 4 keeps the holders of a lease of more than INLINE_MAX in rows of
    lease_holders; a record of layout 3 with 20 holders in it moves them there, and a
    small one stays as it is."""
    path = tmp_path / "older.db"
    with accord.connect(_url(path), namespace="n") as coord:
        coord.state("m").set("k", 1)
    now = time.monotonic()
    holders = [[f"h{i:02}#1:t", f"agent-{i}", i + 1, 60.0, now + 60 + i] for i in range(20)]
    holders[3] += ["", "reading"]  # a holder of layout 3 with an intent
    big = [30, 20, holders, [["w1", "late#2:t", "late", 60.0, now + 60, "", "", now]]]
    small = [5, 2, holders[:2], []]
    with sqlite3.connect(path) as raw:
        for key, record in (("sem/big", big), ("sem/small", small)):
            raw.execute("INSERT INTO leases (ns, key, record) VALUES ('n', ?, ?)",
                        (key, json.dumps(record)))
        raw.execute("DROP TABLE lease_holders")  # as layout 3 had it
        raw.execute("PRAGMA user_version = 3")
    with accord.connect(_url(path), namespace="n", agent="later") as later:
        stats = later.semaphore("big", limit=30).statistics()
        assert [h.agent for h in stats.holders] == [f"agent-{i}" for i in range(20)]
        assert stats.holders[3].intent == "reading" and stats.waiters == ("late",)
        assert stats.last_token == 20
        assert [h.agent for h in later.semaphore("small", limit=5).statistics().holders] == [
            "agent-0", "agent-1"]
        with later.semaphore("big", limit=30).acquire(timeout=0) as lease:
            assert lease.token == 22  # 21 went to the waiter, first in the queue
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        rows = raw.execute("SELECT count(*) FROM lease_holders WHERE key = 'sem/big'")
        assert rows.fetchone()[0] == 21  # and the waiter promoted
        (record,) = raw.execute("SELECT record FROM leases WHERE key = 'sem/big'").fetchone()
        assert json.loads(record)[2]["modes"] == {"": 21}
        (record,) = raw.execute("SELECT record FROM leases WHERE key = 'sem/small'").fetchone()
        assert len(json.loads(record)[2]) == 2  # kept in the record
