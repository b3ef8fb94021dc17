"""One SQLite file shared by threads and processes: the connections and transactions
under :class:`accord.backends.sqlite.SqliteBackend`.

Each thread has its own connection (closed by :meth:`SqliteFile.close` from any
thread; a forked child opens new ones). A write is ``BEGIN IMMEDIATE ... COMMIT``
after the threads of this process queued on a mutex, so only another process can find
the file busy, and that wait is retried here with short sleeps. A read is ``BEGIN``
and a snapshot, without the mutex: in WAL mode the one writer and any number of
readers never wait for each other.

:meth:`SqliteFile.without_waiting` runs an operation that must not wait (on an event
loop): where it would wait for the mutex or the file, it raises :class:`WouldBlock`
before it changed anything, and the caller runs it again in a thread. Connections
made that way leave checkpoints (which sync the file to disk) to :meth:`checkpoint`.

The path must keep naming the file that was opened. A file deleted (or replaced)
while open stays usable through the open handles, so a process would go on granting
locks in a file nobody else can see while a new process makes a fresh store at the
path and grants the same locks with the same tokens. A transaction therefore starts
by checking that the path still names the device and inode opened first, and raises
``BackendUnavailable`` when it does not: with one ``stat`` (1-4 us, 5-10 % of a lock
cycle) unless the last check passed less than CHECK_EVERY ago, so a process notices
a deleted or replaced file within 1 ms, for well under 1 % of a cycle.
"""

from __future__ import annotations

import abc
import functools
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from accord.backends._sql import schema
from accord.backends.state.rule import HISTORY_KEEP, TRIM_SLACK
from accord.errors import BackendUnavailable, ConfigError

T = TypeVar("T")
log = logging.getLogger("accord")

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
NO_BOOT_ID = "no-boot-id"
LOCKED_FOR = 10.0
"""Seconds to wait for another process's write transaction before giving up."""
BUSY_TIMEOUT = 0.0
"""SQLite's own busy wait; 0 because it sleeps 1 ms at first, ``_retry_busy`` 50 us."""
PAGE_SIZE = 2048
"""Bytes per page of a new file. Every commit writes (and checksums) each page it
changed into the WAL, and most commits here change one small record: 2 KiB pages make
a lock cycle ~12 % faster than the default 4 KiB; values near 1 MiB write ~25 % slower.
A file keeps the page size it was created with."""
CHECKPOINT_EVERY = 500
"""Operations run on an event loop between two checkpoints in a thread (SQLite's
own default is one every 1,000 pages written; each write here writes at least one)."""
CHECK_EVERY = 1e-3
"""Seconds a check that the path still names the open file holds good (see above)."""
# The layout of the file (tables and record forms), in PRAGMA user_version: a file of a
# newer layout is refused, one of an older layout is migrated when it is first opened.
# 0: files of accord before the layout carried a version (lease records may be objects)
# 1: lease records are arrays (LeaseRecord.to_json)
# 2: leases_listed, the lease keys listings walk (leases/schema.sql)
# 3: lease records may carry modes and intents (holders of 7 fields, waiters of 8),
#    which accord of layout 2 cannot read; the tables of tasks, streams, approvals,
#    agents and fence floors. Nothing to migrate: the tables are made when a file is
#    opened, and records of layout 2 read as exclusive leases without an intent.
# 4: a lease of more than INLINE_MAX holders keeps them in lease_holders, its record
#    their count by mode (leases/sqlite_holders.py); such records moved there.
SCHEMA_VERSION = 4
SNAPSHOT = "SELECT 1 FROM meta LIMIT 0"  # a read transaction takes its snapshot here
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_HINTS = {  # SQLite's primary result code -> what to do about it
    3: "check the permissions of the file and its directory",  # PERM
    8: "make the file, its -wal and -shm files and their directory writable by this user",
    10: "check the disk: free space, and errors in the system log",  # IOERR
    11: "move the file away (keep it for recovery) to start anew, or restore a backup",
    13: "free space on its disk",  # FULL
    14: "check that its directory exists and is writable by this user",  # CANTOPEN
    26: "move the file away (keep it for recovery) to start anew, or restore a backup",
}
_HINT_TEXTS = {  # Python < 3.11 gives no error codes: the message names the error
    "readonly": 8, "disk i/o": 10, "malformed": 11, "disk is full": 13, "unable to open": 14,
    "not a database": 26,
}


def _hint(exc: BaseException) -> str:
    """What to do about a store error ``exc`` ("" when there is nothing specific)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        text = str(exc)
        code = next((c for t, c in _HINT_TEXTS.items() if t in text), None)
    return "" if code is None else _HINTS.get(code & 0xFF, "")


@functools.cache
def _schema() -> list[str]:
    """The statements that make the tables (``sqlite_schema.sql`` and the features')."""
    return schema(HISTORY_KEEP=HISTORY_KEEP, TRIM_SLACK=TRIM_SLACK)


def boot_id() -> str:
    """This boot of the machine (Linux), or a constant where the kernel does not say."""
    try:
        return BOOT_ID_FILE.read_text().strip() or NO_BOOT_ID
    except OSError:
        return NO_BOOT_ID


def _is_busy(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def _is_store_error(exc: BaseException) -> bool:
    """An error of the file or the disk, not a bug in a query."""
    return isinstance(exc, (sqlite3.OperationalError, sqlite3.InternalError)) or (
        type(exc) is sqlite3.DatabaseError  # "file is not a database", "malformed"
    )


class WouldBlock(Exception):
    """An operation run by :meth:`SqliteFile.without_waiting` would have had to wait;
    it changed nothing."""


class Connection(sqlite3.Connection):
    """A connection that can be tracked weakly (the base class cannot), with a guard
    held by its thread for each transaction, so that :meth:`SqliteFile.close` from
    another thread never closes it mid-statement (which crashes the interpreter)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = threading.RLock()
        self.retired = False
        self.cur = self.cursor()  # one per connection, reused: saves making one per statement


class _Local(threading.local):
    conn: Connection
    cur: sqlite3.Cursor  # conn.cur
    held: Connection  # the connection whose guard the running transaction holds
    loaded: dict[tuple[str, str], Any]  # (query, key): what was read in this transaction
    saved: Any = None  # what the last write saved, for the wake-ups after it
    step: Any  # the rule a one-statement operation applies (sqlite.py, _lease_step)
    step_key: str  # the lease key it applies it to
    outcome: Any  # and what it returned
    nowait: bool = False  # in without_waiting(): raise WouldBlock instead of waiting


_mutexes: dict[str, threading.Lock] = {}
_mutexes_guard = threading.Lock()


def _file_mutex(path: Path) -> threading.Lock:
    """The lock the threads of this process take before writing ``path``."""
    with _mutexes_guard:
        return _mutexes.setdefault(os.path.realpath(path), threading.Lock())


class _Txn:
    """``with``: one transaction on this thread's connection, ROLLBACK on error. With the
    process's write ``mutex``: BEGIN IMMEDIATE ... COMMIT; without: BEGIN ... COMMIT, a
    read-only snapshot taking no mutex and no lock."""

    __slots__ = ("_db", "mutex")

    def __init__(self, db: SqliteFile, mutex: threading.Lock | None) -> None:
        self._db = db
        self.mutex = mutex

    def __enter__(self) -> None:
        conn = self._db._local.held = self._db._hold(self.mutex)
        try:
            if self.mutex is None:
                self._db._begin_read(conn.cur)
            else:
                self._db._begin(conn.cur)
        except BaseException:
            self._db._unhold(conn, self.mutex)
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._db._end(exc)
        finally:  # the connection it began on, even if _end discarded it
            self._db._unhold(self._db._local.held, self.mutex)


class SqliteFile(abc.ABC):
    """Connections to the file at ``path``, one per thread, tracked for :meth:`close`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(os.path.abspath(path))  # resolved once: a chdir later changes nothing
        if self.path.is_dir():
            raise ConfigError(
                f"SQLite path {str(self.path)!r} is a directory; give a file in it, "
                f"e.g. sqlite:///{self.path / 'accord.db'}"
            )
        real = Path(os.path.realpath(self.path))  # one directory however the file is named
        self.wake_dir = real.with_name(real.name + ".wake")
        self._local = _Local()
        self._conns: weakref.WeakSet[Connection] = weakref.WeakSet()
        self._setup_lock = threading.Lock()
        self._ready = False
        self._closed = False
        self._spath = str(self.path)
        self._dev = self._ino = -1  # the file the connections opened (-1: none yet)
        self._checked = -CHECK_EVERY  # monotonic time of the last check that passed
        self._txn = _Txn(self, _file_mutex(self.path))
        self._read = _Txn(self, None)
        _files.add(self)

    @abc.abstractmethod
    def _migrate(self, conn: Connection, found: int) -> None:
        """Bring the records of a file of layout version ``found`` to SCHEMA_VERSION."""

    @abc.abstractmethod
    def _forget_boot(self, conn: Connection) -> None:
        """Drop what the file holds in monotonic times of an earlier boot."""

    # connections --------------------------------------------------------------------
    def _enter(self) -> Connection:
        """This thread's connection, guarded against :meth:`close` until its guard is
        released; a connection closed meanwhile is replaced by a new one."""
        local = self._local
        while True:
            conn: Connection | None = getattr(local, "conn", None)
            if conn is None:
                conn = self._connect()
            conn.guard.acquire()
            if not conn.retired:
                try:
                    self._check_file()
                except BaseException:
                    conn.guard.release()
                    raise
                return conn
            conn.guard.release()
            del local.conn, local.cur

    def _check_file(self) -> None:
        """Raise BackendUnavailable unless the path names the file opened first (or
        did less than CHECK_EVERY ago)."""
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY:
            return
        try:
            st = os.stat(self._spath)
        except OSError as exc:
            raise self._moved(exc) from exc
        if st.st_ino != self._ino or st.st_dev != self._dev:
            raise self._moved(None)
        self._checked = now

    def _moved(self, exc: OSError | None) -> BackendUnavailable:
        if exc is not None and not isinstance(exc, FileNotFoundError):
            return self._unavailable(exc, "check the file and its directory")
        what = "was deleted" if exc is not None else "was replaced by another file"
        return BackendUnavailable(
            "sqlite",
            f"{self.path} {what} while this process had it open; a file made anew at that "
            "path is another store, where the locks and state held here do not exist. Stop "
            "every process using it, then connect again (restore the file from a backup to "
            "keep its data)",
        )

    def _hold(self, mutex: threading.Lock | None) -> Connection:
        """:meth:`_enter`, then for a write the process's ``mutex`` for the file, waited
        for up to LOCKED_FOR (an untimed try first: a timed acquire costs three times as
        much when the mutex is free). The first connection writes the schema before."""
        conn = self._enter()
        if mutex is None or mutex.acquire(False):
            return conn
        nowait = self._local.nowait
        if not nowait and mutex.acquire(timeout=LOCKED_FOR):
            return conn
        conn.guard.release()
        raise WouldBlock() if nowait else self._locked()

    @staticmethod
    def _unhold(conn: Connection, mutex: threading.Lock | None) -> None:
        if mutex is not None:
            mutex.release()
        conn.guard.release()

    def _connect(self) -> Connection:
        """Open this thread's connection; the first one also writes the schema."""
        if self._closed and not self.path.exists():  # say, a reader waking after close
            raise BackendUnavailable(
                "sqlite", f"{self.path} was closed and is gone; connect again to make it anew"
            )
        later = self._ino >= 0  # the file is known: open it, never make one anew
        try:
            if not later:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                f"{self.path.as_uri()}?mode=rw" if later else self.path,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,  # so close() can close other threads' ones
                factory=Connection,
                uri=later,
            )
        except (OSError, sqlite3.Error) as exc:
            if later and not self.path.exists():
                raise self._moved(FileNotFoundError()) from exc
            raise self._unavailable(exc, "check that its directory is writable") from exc
        try:
            if later:  # the file it opened, before any statement runs there
                self._note_file()
            self._configure(conn)  # a new file exists once this has set WAL mode
            if not later:
                self._note_file()
            self._local.conn, self._local.cur = conn, conn.cur
            with self._setup_lock:
                if not self._ready:
                    self._set_up(conn)
                    self._ready = True
        except BaseException:
            self._discard(conn)
            raise
        self._conns.add(conn)
        return conn

    def _note_file(self) -> None:
        """Remember the file the first connection opened; a later connection must have
        opened that same file: one opened after the file was replaced is refused here,
        before its first statement (the throttled check of :meth:`_enter` could pass it
        within CHECK_EVERY of its last check)."""
        try:
            st = os.stat(self._spath)
        except OSError as exc:
            raise self._moved(exc) from exc
        with self._setup_lock:
            if self._ino < 0:
                self._dev, self._ino = st.st_dev, st.st_ino
            elif st.st_ino != self._ino or st.st_dev != self._dev:
                raise self._moved(None)
        self._checked = -CHECK_EVERY  # a new connection checks at once
        self._check_file()

    def _configure(self, conn: Connection) -> None:
        try:
            conn.execute(f"PRAGMA page_size={PAGE_SIZE}")  # no-op unless the file is new
            if self._local.nowait:  # its commits must not sync the disk: checkpoint() does
                conn.execute("PRAGMA wal_autocheckpoint=0")
            mode = self._retry_busy(conn.execute, "PRAGMA journal_mode=WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        if mode != "wal":
            raise BackendUnavailable("sqlite", f"{self.path} refused WAL mode (got {mode!r})")

    def _set_up(self, conn: Connection) -> None:
        """Check the file's layout version, create the tables, migrate the records of an
        older layout and forget the times of a previous boot, in one transaction."""
        with self._txn:
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise self._newer(found)
            fresh = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'meta'"
            ).fetchone() is None
            for statement in _schema():
                conn.execute(statement)
            if found < SCHEMA_VERSION:
                if not fresh:
                    self._migrate(conn, found)
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            row = conn.execute("SELECT value FROM meta WHERE name = 'boot_id'").fetchone()
            boot = boot_id()
            if row is None or row[0] != boot:
                self._forget_boot(conn)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('boot_id', ?)", (boot,))

    def _newer(self, found: int) -> ConfigError:
        return ConfigError(
            f"{self.path} has accord's SQLite layout version {found}, written by a newer "
            f"accord; this accord reads layout versions up to {SCHEMA_VERSION}: upgrade "
            "accord (pip install -U accord) in every process that opens this file"
        )

    def _discard(self, conn: Connection) -> None:
        """Close a connection that must not be used again (closing rolls back)."""
        if getattr(self._local, "conn", None) is conn:
            del self._local.conn, self._local.cur
        conn.retired = True
        conn.close()

    def _after_fork(self) -> None:
        """In a forked child: leave the parent's connections alone, open new ones."""
        _inherited.extend(self._conns)
        self._conns = weakref.WeakSet()
        self._local = _Local()
        self._setup_lock = threading.Lock()
        self._txn.mutex = _file_mutex(self.path)

    def close(self) -> None:
        """Close every connection this backend opened, in any thread, each once its
        running transaction ended; a thread that comes back opens a new one. Idempotent."""
        self._closed = True
        conns, self._conns = list(self._conns), weakref.WeakSet()
        for conn in conns:
            with conn.guard:
                conn.retired = True
                conn.close()

    def _unavailable(self, exc: BaseException, hint: str = "") -> BackendUnavailable:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        hint = _hint(exc) or hint
        return BackendUnavailable("sqlite", f"{self.path}: {detail}{'; ' + hint if hint else ''}")

    def _locked(self) -> BackendUnavailable:
        return BackendUnavailable(
            "sqlite", f"{self.path} stayed locked by another writer for {LOCKED_FOR:.0f} s"
        )

    # transactions -------------------------------------------------------------------
    def _transaction(self, write: bool = True) -> _Txn:
        return self._txn if write else self._read

    def _begin(self, cur: sqlite3.Cursor) -> None:
        self._local.loaded, self._local.saved = {}, None
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise self._unavailable(exc) from exc
            self._retry_busy(cur.execute, "BEGIN IMMEDIATE")

    def _begin_read(self, cur: sqlite3.Cursor) -> None:
        """BEGIN, then take the snapshot at once: the first read is the only step that
        can find the file busy (another process recovering the WAL or closing it)."""
        self._local.loaded = {}
        cur.execute("BEGIN")
        try:
            self._retry_busy(cur.execute, SNAPSHOT)
        except BaseException as exc:
            self._rollback(self._local.conn)
            if _is_store_error(exc):
                raise self._unavailable(exc) from exc
            raise

    def _write_one(self, sql: str, params: tuple[Any, ...]) -> int:
        """One writing statement as its own transaction: SQLite takes the write lock
        when it starts and commits when it ends, so it is atomic like ``BEGIN
        IMMEDIATE ... COMMIT`` with three fewer round trips through the driver.
        Returns the number of rows it changed."""
        mutex = self._txn.mutex
        conn = self._hold(mutex)
        try:
            return conn.cur.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                if _is_store_error(exc):
                    raise self._unavailable(exc) from exc
                raise
            return self._retry_busy(lambda sql: conn.cur.execute(sql, params), sql).rowcount
        finally:
            self._unhold(conn, mutex)

    def _retry_busy(self, step: Callable[[str], T], arg: str) -> T:
        """``step(arg)``, retried with short sleeps while another process writes."""
        deadline = time.monotonic() + LOCKED_FOR
        delay = 50e-6
        while True:
            try:
                return step(arg)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise self._unavailable(exc) from exc
                if self._local.nowait:
                    raise WouldBlock() from exc
                if time.monotonic() > deadline:
                    raise self._locked() from exc
            time.sleep(delay)
            delay = min(delay * 2, 1e-3)

    # running on an event loop ------------------------------------------------------
    def without_waiting(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)``, raising WouldBlock (having changed nothing) where it
        would wait for another thread's or process's write. An operation of the seam
        waits only before the one change it commits (a one-statement try that hands
        over to a transaction writes the record back unchanged), so it can be run
        again whole."""
        local = self._local
        local.nowait = True
        try:
            return fn(*args, **kwargs)
        finally:
            local.nowait = False

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without waiting for anyone (PASSIVE),
        so that it stays short; a failure is left to the next operation to report."""
        try:
            conn = self._hold(None)
        except BackendUnavailable as exc:  # closed meanwhile, or the file is gone
            log.debug("accord: checkpoint of %s skipped: %s", self.path, exc)
            return
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            log.debug("accord: checkpoint of %s skipped: %s", self.path, exc)
        finally:
            self._unhold(conn, None)

    def _end(self, failed: BaseException | None) -> None:
        conn = self._local.conn
        if failed is None:
            try:
                self._local.cur.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback(conn)
                raise self._unavailable(exc) from exc
            return
        self._rollback(conn)
        if _is_store_error(failed):
            raise self._unavailable(failed) from failed

    def _rollback(self, conn: Connection) -> None:
        if not conn.in_transaction:
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._discard(conn)  # closing rolls back; the caller raises the first error


_files: weakref.WeakSet[SqliteFile] = weakref.WeakSet()
_inherited: list[Connection] = []  # a forked child's copies, kept open: closing is unsafe


def _after_fork_in_child() -> None:
    global _mutexes, _mutexes_guard
    _mutexes, _mutexes_guard = {}, threading.Lock()  # other threads' ones may be held
    for db in list(_files):
        db._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
