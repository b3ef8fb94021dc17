"""The SQLite store when its file goes wrong: deleted or replaced while open, read-only,
a full disk; and which file a ``sqlite:///`` URL names, wherever a process starts.

Each fault runs real agents (threads, and processes where the fault is about them) and
checks what they were told: no two holders told they hold the lock at once, no
acknowledged write lost, every failure a typed accord error that says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import multiprocessing
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import accord
from accord.backends._sqlite_file import CHECK_EVERY
from accord.backends._sqlite_path import default_store
from accord.errors import AccordError, BackendUnavailable
from accord.surfaces.cli import main

spawn = multiprocessing.get_context("spawn")
TTL, TIMEOUT = 1.0, 0.5  # of the workers' lock: short, so a lease left by a failure ends soon


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


# --- what the agents were told ----------------------------------------------------------


@dataclass
class History:
    """What every worker was told: critical sections, acknowledged and unsure writes,
    errors (type name, message, seconds the call took). Plain data: it crosses processes."""

    sections: list[tuple[float, float]] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)  # keys written, each acknowledged
    incr_acked: int = 0
    incr_unsure: int = 0  # raised: "may or may not have taken effect"
    errors: list[tuple[str, str, float]] = field(default_factory=list)
    log: list[tuple[int, str]] = field(default_factory=list)  # (worker, "ack" or an error)

    def check(self, *hints: str) -> None:
        """No two sections overlap; every error is typed, says one of ``hints``, and
        came within the call's timeout (not a speed check: it did not hang)."""
        ordered = sorted(self.sections)
        for (_, left), (entered, _) in itertools.pairwise(ordered):
            assert entered >= left, "two holders were told they hold the lock at once"
        for kind, message, took in self.errors:
            assert kind in ("BackendUnavailable", "LockTimeout"), (kind, message)
            if kind == "BackendUnavailable":
                assert any(h in message for h in hints), message
            assert took < TIMEOUT + 5.0, (kind, message, took)


class _Run:
    """Worker threads taking the lock, incrementing a counter and writing a new key
    inside it, until stopped; ``when(n)`` waits for n more acknowledged cycles."""

    def __init__(self, url: str, workers: int = 3) -> None:
        self.coord = accord.connect(url, namespace="ns", agent="worker")
        self.history = History()
        self._guard = threading.Condition()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, args=(i,)) for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def _work(self, index: int) -> None:
        lock, state, h = self.coord.lock("L", ttl=TTL), self.coord.state("m"), self.history
        for i in range(10**9):
            if self._stop.is_set():
                return
            started = time.monotonic()
            try:
                lease = lock.acquire(timeout=TIMEOUT)
            except AccordError as exc:
                self._failed(exc, started, index)
                continue
            entered = time.monotonic()
            key = f"w{index}-{i}"
            try:
                state.incr("n")
                with self._guard:
                    h.incr_acked += 1
                state.set(key, "x" * 2000)
                with self._guard:
                    h.acked.append(key)
                    h.log.append((index, "ack"))
                    self._guard.notify_all()
            except AccordError as exc:
                with self._guard:
                    h.incr_unsure += 1
                self._failed(exc, entered, index)
            left = time.monotonic()  # before the release: told it holds until here
            with self._guard:
                h.sections.append((entered, left))
            try:
                lease.release()
            except AccordError as exc:
                self._failed(exc, left, index)

    def _failed(self, exc: AccordError, started: float, index: int) -> None:
        with self._guard:
            self.history.errors.append((type(exc).__name__, str(exc), time.monotonic() - started))
            self.history.log.append((index, str(exc)))
            self._guard.notify_all()
        self._stop.wait(0.005)  # an agent backs off a little before it tries again

    def when(self, test: Callable[[History], bool], timeout: float = 20.0) -> None:
        with self._guard:
            assert self._guard.wait_for(lambda: test(self.history), timeout), self.history.errors

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


# --- which file: the default store, relative paths ---------------------------------------


def _parents_are_plain(path: Path) -> bool:
    return not any((p / ".accord").is_dir() or (p / ".git").exists() for p in path.parents)


def test_the_default_store_is_found_the_way_git_finds_dot_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "src" / "pkg"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    assert default_store(deep) == repo / ".accord" / "accord.db"  # the repository's top
    (repo / "src" / ".accord").mkdir()
    assert default_store(deep) == repo / "src" / ".accord" / "accord.db"  # nearest .accord/
    worktree = tmp_path / "wt"
    (worktree / "docs").mkdir(parents=True)
    (worktree / ".git").write_text("gitdir: /elsewhere\n")  # a worktree's .git is a file
    assert default_store(worktree / "docs") == worktree / ".accord" / "accord.db"
    if _parents_are_plain(tmp_path):  # else a .accord/ or .git above the test's tmp dir
        assert default_store(tmp_path / "wt" / "..") == tmp_path / ".accord" / "accord.db"


CHILD = """
import accord
coord = accord.connect(namespace="ns", agent="child")
print(coord.url)
print(coord.lock("L").try_acquire())
coord.close()
"""


def test_agents_started_in_different_directories_share_the_default_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, deep = tmp_path / "repo", tmp_path / "repo" / "src" / "pkg"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    monkeypatch.delenv("ACCORD_URL", raising=False)
    monkeypatch.chdir(repo)
    coord = accord.connect(namespace="ns", agent="top")
    expected = _url(repo / ".accord" / "accord.db")
    assert coord.url == expected
    with coord.lock("L"):
        child = subprocess.run([sys.executable, "-c", CHILD], cwd=deep, capture_output=True,
                               text=True, timeout=60, env=dict(os.environ))
        assert child.returncode == 0, child.stderr
        assert child.stdout.split("\n")[:2] == [expected, "None"]  # the child sees it held
        monkeypatch.chdir(deep)
        shown = CliRunner().invoke(main, ["locks", "-n", "ns"])
        assert shown.exit_code == 0, shown.output
        flat = "".join(shown.output.split())
        assert expected in flat and "top" in flat
    coord.close()


def test_a_relative_url_is_resolved_once_and_shown_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    coord = accord.connect("sqlite:///rel/../store.db", namespace="ns")
    assert coord.url == _url(tmp_path / "a" / "store.db")
    monkeypatch.chdir(tmp_path)  # a later chdir changes nothing
    coord.state("m").set("k", 1)
    assert (tmp_path / "a" / "store.db").exists() and not (tmp_path / "store.db").exists()
    coord.close()
    monkeypatch.setenv("ACCORD_URL", "sqlite:///env.db")
    with accord.connect() as from_env:
        assert from_env.url == _url(tmp_path / "env.db")
    (tmp_path / "file").write_text("not a directory")
    bad = accord.connect("sqlite:///file/x.db")
    with pytest.raises(BackendUnavailable, match=f"{tmp_path}/file/x.db: .* writable"):
        bad.state("m").get("k")
    shown = CliRunner().invoke(main, ["status", "--url", "sqlite:///rel.db"])
    assert shown.exit_code == 0, shown.output
    assert _url(tmp_path / "rel.db") in "".join(shown.output.split())


# --- a file deleted or replaced while open -------------------------------------------------

GONE = ("was deleted", "was replaced")
B_PROCESS = """
import sys, accord
coord = accord.connect(sys.argv[1], namespace="ns", agent="B")
lease = coord.lock("L").acquire(timeout=5)
print(lease.token, coord.state("m").incr("n").value, coord.state("m").get("w0-0"))
coord.close()
"""


def _delete_store(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{db}{suffix}")


@pytest.mark.timeout(60)
def test_a_deleted_file_fails_every_later_call_and_never_splits_the_lock(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run = _Run(_url(db))
    run.when(lambda h: len(h.acked) >= 10)
    _delete_store(db)
    run.when(lambda h: sum(any(g in m for g in GONE) for _, m, _ in h.errors) >= 6)

    # B, a new process, makes a fresh store at the path and takes L with token 1 ...
    b = subprocess.run([sys.executable, "-c", B_PROCESS, _url(db)], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ))
    assert b.returncode == 0, b.stderr
    assert b.stdout.split() == ["1", "1", "None"]  # nothing of A's is there
    # ... while A grants nothing more: not in its workers, nor in a new thread, whose
    # new connection would open B's file.
    errors = len(run.history.errors)
    run.when(lambda h: len(h.errors) >= errors + 6)
    run.stop()
    for worker in range(3):  # once told the file is gone, a worker is never told it holds
        told = [m for w, m in run.history.log if w == worker]
        first = next(i for i, m in enumerate(told) if any(g in m for g in GONE))
        assert "ack" not in told[first:]
    outcome: list[BaseException] = []
    fresh = threading.Thread(target=lambda: outcome.append(_raised(run.coord.lock("L").acquire)))
    fresh.start()
    fresh.join()
    assert isinstance(outcome[0], BackendUnavailable) and "was replaced" in str(outcome[0])
    run.history.check(*GONE)
    gone = [m for kind, m, _ in run.history.errors if any(g in m for g in GONE)]
    assert all(str(db) in m and "connect again" in m for m in gone)
    run.coord.close()


@pytest.mark.parametrize("replaced", [True, False], ids=["replaced", "deleted"])
def test_a_new_connection_never_opens_a_file_made_anew_at_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replaced: bool
) -> None:
    """A thread's first call opens a new connection. If the file was replaced or
    deleted meanwhile, that connection is refused before its first statement, even
    within CHECK_EVERY of the last check that passed (held open for ever here: a
    worker whose connection was dropped after an error once ran a statement on the new
    file), and a deleted file is not made anew by it."""
    monkeypatch.setattr("accord.backends._sqlite_file.CHECK_EVERY", 3600.0)
    db = tmp_path / "a.db"
    with accord.connect(_url(db), namespace="ns", agent="a") as coord:
        coord.lock("L").acquire().release()  # the first connection: the file is known
        _delete_store(db)
        if replaced:  # another store made at the path, with the same tables
            with accord.connect(_url(db), namespace="ns", agent="b") as other:
                other.state("m").set("k", 1)
        outcome: list[BaseException | None] = []
        fresh = threading.Thread(target=lambda: outcome.append(
            _raised(lambda: coord.state("m").get("k"))))
        fresh.start()
        fresh.join()
        assert isinstance(outcome[0], BackendUnavailable), outcome
        assert ("was replaced" if replaced else "was deleted") in str(outcome[0])
        assert db.exists() == replaced  # nothing made at the path of a deleted file


def _raised(fn: Callable[[], Any]) -> BaseException | None:
    try:
        fn()
    except BaseException as exc:  # the test inspects it
        return exc
    return None


async def test_a_replaced_file_is_noticed_sync_and_async(tmp_path: Path) -> None:
    db, copy = tmp_path / "a.db", tmp_path / "copy.db"
    coord = accord.connect(_url(db), namespace="ns")
    acoord = accord.connect_async(_url(db), namespace="ns")
    lease = coord.lock("L", ttl=30).acquire()
    await acoord.state("m").set("k", 1)
    with sqlite3.connect(db) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    os.replace(copy, db)  # same path, another inode
    time.sleep(2 * CHECK_EVERY)
    with pytest.raises(BackendUnavailable, match=r"was replaced by another file.*connect again"):
        lease.extend()
    with pytest.raises(BackendUnavailable, match="was replaced by another file"):
        await acoord.state("m").get("k")
    coord.close()
    await acoord.aclose()


# --- read-only ----------------------------------------------------------------------------

_GETFLAGS, _SETFLAGS, _IMMUTABLE = 0x80086601, 0x40086602, 0x10  # linux/fs.h


def _set_immutable(path: Path, on: bool) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        (flags,) = struct.unpack("i", fcntl.ioctl(fd, _GETFLAGS, struct.pack("i", 0)))
        flags = flags | _IMMUTABLE if on else flags & ~_IMMUTABLE
        fcntl.ioctl(fd, _SETFLAGS, struct.pack("i", flags))
    finally:
        os.close(fd)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` (a file or a directory) read-only, even for root: the permission bits
    for others, the immutable attribute for root (skipped where the system refuses)."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(mode & ~0o222)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    try:
        _set_immutable(path, True)
    except OSError as exc:
        pytest.skip(f"cannot make {path} read-only as root here: {exc}")
    try:
        yield
    finally:
        _set_immutable(path, False)


def test_a_store_in_a_read_only_directory_is_unavailable_and_says_why(tmp_path: Path) -> None:
    where = tmp_path / "ro"
    where.mkdir()
    with read_only(where):
        coord = accord.connect(_url(where / "a.db"), namespace="ns")
        for call in (coord.lock("L").try_acquire, lambda: coord.state("m").set("k", 1)):
            with pytest.raises(BackendUnavailable, match=f"{where}/a.db: .*writable by this user"):
                call()
        coord.close()
        assert os.listdir(where) == []


def test_a_read_only_file_keeps_every_acknowledged_write_and_grants_nothing(
    tmp_path: Path,
) -> None:
    db = tmp_path / "a.db"
    with accord.connect(_url(db), namespace="ns") as coord:
        versions = [coord.state("m").set(f"k{i}", i).version for i in range(5)]
        with coord.lock("L") as lease:
            token = lease.token
    with read_only(db):
        coord = accord.connect(_url(db), namespace="ns")
        assert [coord.state("m").get(f"k{i}").version for i in range(5)] == versions
        for call in (coord.lock("L").try_acquire, lambda: coord.state("m").set("k0", 9)):
            with pytest.raises(BackendUnavailable, match="readonly database; make the file"):
                call()
        coord.close()
    with accord.connect(_url(db), namespace="ns") as coord:
        assert coord.state("m").get("k0").value == 0
        with coord.lock("L") as lease:
            assert lease.token == token + 1


def test_a_waiter_that_cannot_make_its_wake_up_pipe_says_why(tmp_path: Path) -> None:
    where = tmp_path / "store"
    where.mkdir()
    holder = accord.connect(_url(where / "a.db"), namespace="ns", agent="holder")
    # the file is open, so its -wal and -shm stay: only the pipe's directory is missing
    with holder.lock("L", ttl=30), read_only(where):
        waiter = accord.connect(_url(where / "a.db"), namespace="ns", agent="waiter")
        with pytest.raises(BackendUnavailable, match=r"wake-up pipe in .*\.wake.*writable"):
            waiter.lock("L").acquire(timeout=5)
        waiter.close()
    holder.close()


# --- a full disk --------------------------------------------------------------------------

DISK = 1 << 20


def _fill(directory: Path) -> Callable[[], None]:
    """Fill the small file system at ``directory``; the returned call frees it again."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 512)
    finally:
        os.close(fd)
    return filler.unlink


def _limit_file_size() -> Callable[[], None]:
    """Limit this process's files to their size now (SIGXFSZ ignored: a write fails)."""
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, hard))
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


def _full_disk(url: str, on_tmpfs: bool, out: Any) -> None:
    """In a child process: workers run, the disk fills (or the file size limit bites),
    space comes back; the history and what the store holds after go to ``out``."""
    run = _Run(url)
    run.when(lambda h: len(h.acked) >= 10)
    heal = _fill(Path(url[len("sqlite:///") :]).parent) if on_tmpfs else _limit_file_size()
    run.when(lambda h: sum("disk" in m for _, m, _ in h.errors) >= 6)
    heal()
    acked = len(run.history.acked)
    run.when(lambda h: len(h.acked) >= acked + 10)
    run.stop()
    state = run.coord.state("m")
    n = state.get("n")
    present = [key for key in run.history.acked if state.get(key) is not None]
    run.coord.close()
    out.put((run.history, None if n is None else n.value, present))


@contextlib.contextmanager
def small_disk(directory: Path, on_tmpfs: bool) -> Iterator[None]:
    """A 1 MiB tmpfs mounted at ``directory`` (skipped where the system refuses), or a
    plain directory (the child limits its file sizes instead)."""
    directory.mkdir()
    if not on_tmpfs:
        yield
        return
    mount = ["mount", "-t", "tmpfs", "-o", f"size={DISK}", "tmpfs", str(directory)]
    if not shutil.which("mount") or subprocess.run(mount, capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (the RLIMIT_FSIZE case runs anyway)")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=True)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("on_tmpfs", [True, False], ids=["tmpfs", "rlimit-fsize"])
def test_a_full_disk_loses_no_acknowledged_write_and_never_splits_the_lock(
    tmp_path: Path, on_tmpfs: bool
) -> None:
    with small_disk(tmp_path / "disk", on_tmpfs):
        out = spawn.Queue()
        url = _url(tmp_path / "disk" / "a.db")
        child = spawn.Process(target=_full_disk, args=(url, on_tmpfs, out))
        child.start()
        history, n, present = out.get(timeout=80)
        child.join()
    assert child.exitcode == 0
    history.check("free space on its disk", "check the disk")
    assert sum("disk" in m for _, m, _ in history.errors) >= 6
    assert present == history.acked  # every acknowledged write is there
    assert history.incr_acked <= n <= history.incr_acked + history.incr_unsure
