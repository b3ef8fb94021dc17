"""``sqlite:///path``: one file shared by every process on one machine.

Each seam operation is one ``BEGIN IMMEDIATE`` transaction on the calling thread's
own connection. WAL mode with ``synchronous=NORMAL`` means a writer killed mid-way
loses its unfinished transaction and nothing else. A database busy with another
writer is waited for here; an error SQLite cannot get past (unreadable, corrupt,
disk full) raises ``BackendUnavailable`` and the transaction is rolled back.

Time is the machine's monotonic clock, which every process shares but which restarts
at boot, so the file remembers the boot it was written in: on a new boot every
holder, waiter and rate-limit time is dropped (fencing tokens and state survive).

Hand-offs across processes are pushed through named pipes in ``<db>.wake/``::

    waiter    mkfifo + open <id> -> acquire: queued as <id> -> poll(<id>) ....... wakes
    releaser                        release: <id> promoted, COMMIT -> write "7\\n" --^

The pipe is open before the waiter queues, so a message written before it polls is
kept. A waiter that died has no reader left, so the write fails at once (ENXIO) and
the releaser carries on; the slot it was handed is back after its ttl, and the next
waiter is nudged (an empty message) to ask again then rather than at its usual
re-check (the wait loop in ``_lease.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import logging
import os
import secrets
import select
import sqlite3
import stat
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from accord.backends._adapter import AsyncRecordBackend
from accord.backends._core import HISTORY_KEEP, LeaseRecord, Signal, Stored
from accord.backends._records import RecordBackend
from accord.errors import BackendUnavailable, ConfigError

T = TypeVar("T")
log = logging.getLogger("accord")

BOOT_ID_FILE = Path("/proc/sys/kernel/random/boot_id")
NO_BOOT_ID = "no-boot-id"
LOCKED_FOR = 10.0
"""Seconds to wait for another process's write transaction before giving up."""
BUSY_TIMEOUT = 0.0
"""SQLite's own busy wait; 0 because it sleeps 1 ms at first, ``_retry_busy`` 50 us."""
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BLOB_MAX = b"\xff"  # every TEXT value sorts below any BLOB: "no upper bound"

LOAD_LEASE = "SELECT record FROM leases WHERE ns = ? AND key = ?"
SAVE_LEASE = "INSERT OR REPLACE INTO leases (ns, key, record) VALUES (?, ?, ?)"
LEASE_KEYS = (
    "SELECT key FROM leases WHERE ns = ? AND key >= ? AND key < ? AND substr(key, 1, ?) = ?"
)
LOAD_WAIT = "SELECT key, expires_at FROM waits WHERE ns = ? AND holder = ?"
SAVE_WAIT = "INSERT OR REPLACE INTO waits (ns, holder, key, expires_at) VALUES (?, ?, ?, ?)"
DROP_WAIT = "DELETE FROM waits WHERE ns = ? AND holder = ?"
_VERSION_COLUMNS = "value, version, updated_by, updated_at, fence_name, fence_token"
LOAD_CURRENT = (
    f"SELECT {_VERSION_COLUMNS} FROM versions WHERE ns = ? AND map = ? AND key = ? "
    "ORDER BY version DESC LIMIT 1"
)
LOAD_HISTORY = (
    f"SELECT {_VERSION_COLUMNS} FROM versions WHERE ns = ? AND map = ? AND key = ? "
    "ORDER BY version DESC LIMIT ?"
)
SAVE_VERSION = (
    f"INSERT INTO versions (ns, map, key, {_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
TRIM_VERSIONS = "DELETE FROM versions WHERE ns = ? AND map = ? AND key = ? AND version <= ?"
# SQLite takes the other columns of a MAX() aggregate from the row holding the max.
LIVE_ITEMS = (
    "SELECT key, value, MAX(version), updated_by, updated_at, fence_name, fence_token "
    "FROM versions WHERE ns = ? AND map = ? AND key >= ? AND key < ? "
    "AND substr(key, 1, ?) = ? GROUP BY key"
)
LOAD_TAT = "SELECT tat FROM rates WHERE ns = ? AND key = ?"
SAVE_TAT = "INSERT OR REPLACE INTO rates (ns, key, tat) VALUES (?, ?, ?)"


def _json_codec() -> tuple[Callable[[object], str], Callable[[str], Any]]:
    """Encode and decode lease records without json's per-call Python set-up (the
    C encoder and scanner directly), falling back to the plain functions."""
    make = json.encoder.c_make_encoder  # type: ignore[attr-defined]  # None without _json
    scan = json.decoder.JSONDecoder().scan_once  # type: ignore[attr-defined]
    if make is None:
        return json.JSONEncoder(separators=(",", ":")).encode, json.loads
    enc = make(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii,
               None, ":", ",", False, False, True)

    def dumps(obj: object) -> str:
        return "".join(enc(obj, 0))

    def loads(text: str) -> Any:
        try:
            return scan(text, 0)[0]
        except StopIteration:  # not JSON: let json.loads name the problem
            return json.loads(text)

    return dumps, loads


_dumps, _loads = _json_codec()


@functools.cache
def _schema() -> list[str]:
    text = resources.files("accord.backends").joinpath("sqlite_schema.sql").read_text()
    return [stmt for stmt in text.split(";") if stmt.strip()]


def boot_id() -> str:
    """This boot of the machine (Linux), or a constant where the kernel does not say."""
    try:
        return BOOT_ID_FILE.read_text().strip() or NO_BOOT_ID
    except OSError:
        return NO_BOOT_ID


def _prefix_range(prefix: str) -> tuple[str, str | bytes, int, str]:
    """Bind values for ``key >= ? AND key < ? AND substr(key, 1, ?) = ?``.

    The range lets SQLite walk the primary key; ``substr`` keeps it exact, since
    LIKE would treat ``%`` and ``_`` in names as wildcards.
    """
    stem = prefix.rstrip("\U0010ffff")
    if not stem:
        return prefix, _BLOB_MAX, len(prefix), prefix
    nxt = ord(stem[-1]) + 1
    nxt = 0xE000 if 0xD800 <= nxt <= 0xDFFF else nxt  # surrogates cannot be stored
    return prefix, stem[:-1] + chr(nxt), len(prefix), prefix


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


class _Connection(sqlite3.Connection):
    """A connection that can be tracked weakly (the base class cannot)."""


class _Local(threading.local):
    conn: _Connection
    cur: sqlite3.Cursor  # one per thread, reused: saves making one per statement
    saved: LeaseRecord | None = None  # the record the last operation wrote, for _post


_mutexes: dict[str, threading.Lock] = {}
_mutexes_guard = threading.Lock()


def _file_mutex(path: Path) -> threading.Lock:
    """The lock the threads of this process take before writing ``path``."""
    with _mutexes_guard:
        return _mutexes.setdefault(os.path.realpath(path), threading.Lock())


class _Transaction:
    """``with``: BEGIN IMMEDIATE ... COMMIT on this thread's connection (ROLLBACK on error).

    Threads of one process queue on a mutex first, so only another process can find
    the file busy, and those waits are retried with short sleeps.
    """

    __slots__ = ("_db", "mutex")

    def __init__(self, db: SqliteBackend) -> None:
        self._db = db
        self.mutex = _file_mutex(db.path)

    def __enter__(self) -> None:
        cur = self._db._cursor()  # before the mutex: a first connection writes the schema
        if not self.mutex.acquire(timeout=LOCKED_FOR):
            raise self._db._locked()
        try:
            self._db._begin(cur)
        except BaseException:
            self.mutex.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._db._end(exc)
        finally:
            self.mutex.release()


class SqliteBackend(RecordBackend):
    """The sync SQLite backend: one connection per thread, tracked for :meth:`close`."""

    name = "sqlite"

    def __init__(self, path: Path, namespace: str) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ConfigError(
                f"SQLite path {str(self.path)!r} is a directory; give a file in it, "
                f"e.g. sqlite:///{self.path / 'accord.db'}"
            )
        self.namespace = namespace
        self.wake_dir = self.path.with_name(self.path.name + ".wake")
        self._local = _Local()
        self._conns: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._setup_lock = threading.Lock()
        self._ready = False
        self._txn = _Transaction(self)
        _backends.add(self)

    def __repr__(self) -> str:
        return f"<SqliteBackend {str(self.path)!r} namespace={self.namespace!r}>"

    # connections --------------------------------------------------------------------
    def _cursor(self) -> sqlite3.Cursor:
        cur: sqlite3.Cursor | None = getattr(self._local, "cur", None)
        return self._connect() if cur is None else cur

    def _connect(self) -> sqlite3.Cursor:
        """Open this thread's connection; the first one also writes the schema."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT,
                isolation_level=None,
                check_same_thread=False,  # so close() can close other threads' ones
                factory=_Connection,
            )
        except (OSError, sqlite3.Error) as exc:
            raise self._unavailable(exc, "check that its directory is writable") from exc
        try:
            self._configure(conn)
            self._local.conn, self._local.cur = conn, conn.cursor()
            with self._setup_lock:
                if not self._ready:
                    self._set_up(conn)
                    self._ready = True
        except BaseException:
            self._discard(conn)
            raise
        self._conns.add(conn)
        return self._local.cur

    def _configure(self, conn: _Connection) -> None:
        try:
            mode = self._retry_busy(conn.execute, "PRAGMA journal_mode=WAL").fetchone()[0]
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise self._unavailable(exc) from exc
        if mode != "wal":
            raise BackendUnavailable("sqlite", f"{self.path} refused WAL mode (got {mode!r})")

    def _set_up(self, conn: _Connection) -> None:
        """Create the tables and forget the times of a previous boot, in one transaction."""
        with self._txn:
            for statement in _schema():
                conn.execute(statement)
            row = conn.execute("SELECT value FROM meta WHERE name = 'boot_id'").fetchone()
            boot = boot_id()
            if row is None or row[0] != boot:
                self._forget_boot(conn)
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('boot_id', ?)", (boot,))

    def _forget_boot(self, conn: _Connection) -> None:
        """Monotonic times of another boot mean nothing now: drop holders, waiters, rates."""
        for ns, key, text in conn.execute("SELECT ns, key, record FROM leases").fetchall():
            rec = LeaseRecord.from_json(json.loads(text))
            rec.holders.clear()
            rec.queue.clear()
            conn.execute(SAVE_LEASE, (ns, key, _dumps(rec.to_json())))
        conn.execute("DELETE FROM waits")
        conn.execute("DELETE FROM rates")
        with contextlib.suppress(FileNotFoundError):
            for pipe in self.wake_dir.iterdir():  # their readers died with the old boot
                pipe.unlink(missing_ok=True)

    def _discard(self, conn: _Connection) -> None:
        """Close a connection that must not be used again (closing rolls back)."""
        if getattr(self._local, "conn", None) is conn:
            del self._local.conn, self._local.cur
        conn.close()

    def _after_fork(self) -> None:
        """In a forked child: leave the parent's connections alone, open new ones."""
        _inherited.extend(self._conns)
        self._conns = weakref.WeakSet()
        self._local = _Local()
        self._setup_lock = threading.Lock()
        self._txn.mutex = _file_mutex(self.path)

    def close(self) -> None:
        """Close every connection this backend opened, in any thread. Idempotent."""
        conns, self._conns, self._local = list(self._conns), weakref.WeakSet(), _Local()
        for conn in conns:
            conn.close()

    def _unavailable(self, exc: BaseException, hint: str = "") -> BackendUnavailable:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return BackendUnavailable("sqlite", f"{self.path}: {detail}{'; ' + hint if hint else ''}")

    def _locked(self) -> BackendUnavailable:
        return BackendUnavailable(
            "sqlite", f"{self.path} stayed locked by another writer for {LOCKED_FOR:.0f} s"
        )

    # transactions -------------------------------------------------------------------
    def _transaction(self, write: bool = True) -> _Transaction:
        return self._txn

    def _begin(self, cur: sqlite3.Cursor) -> None:
        try:
            cur.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise self._unavailable(exc) from exc
            self._retry_busy(cur.execute, "BEGIN IMMEDIATE")

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
                if time.monotonic() > deadline:
                    raise self._locked() from exc
            time.sleep(delay)
            delay = min(delay * 2, 1e-3)

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

    def _rollback(self, conn: _Connection) -> None:
        if not conn.in_transaction:
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            self._discard(conn)  # closing rolls back; the caller raises the first error

    # clock --------------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic()  # CLOCK_MONOTONIC: one clock for all processes

    def _wall(self) -> float:
        return time.time()

    # storage (always inside a transaction) ------------------------------------------
    def _load_lease(self, key: str) -> LeaseRecord | None:
        row = self._local.cur.execute(LOAD_LEASE, (self.namespace, key)).fetchone()
        return None if row is None else LeaseRecord.from_json(_loads(row[0]))

    def _save_lease(self, key: str, rec: LeaseRecord) -> None:
        self._local.saved = rec
        self._local.cur.execute(SAVE_LEASE, (self.namespace, key, _dumps(rec.to_json())))

    def _lease_keys(self, prefix: str) -> Iterator[str]:
        rows = self._local.cur.execute(LEASE_KEYS, (self.namespace, *_prefix_range(prefix)))
        return iter([key for (key,) in rows.fetchall()])

    def _waiting_on(self, holder: str) -> tuple[str, float] | None:
        row = self._local.cur.execute(LOAD_WAIT, (self.namespace, holder)).fetchone()
        return None if row is None else (row[0], row[1])

    def _set_waiting(self, holder: str, key: str | None, expires_at: float) -> None:
        if key is None:
            self._local.cur.execute(DROP_WAIT, (self.namespace, holder))
        else:
            self._local.cur.execute(SAVE_WAIT, (self.namespace, holder, key, expires_at))

    def _load_current(self, map_name: str, key: str) -> Stored | None:
        row = self._local.cur.execute(LOAD_CURRENT, (self.namespace, map_name, key)).fetchone()
        return None if row is None else Stored(*row)

    def _load_history(self, map_name: str, key: str, limit: int) -> list[Stored]:
        rows = self._local.cur.execute(LOAD_HISTORY, (self.namespace, map_name, key, limit))
        return [Stored(*row) for row in rows.fetchall()]

    def _append_version(self, map_name: str, key: str, version: Stored) -> None:
        v = version
        cur, where = self._local.cur, (self.namespace, map_name, key)
        row = (v.value, v.version, v.updated_by, v.updated_at, v.fence_name, v.fence_token)
        cur.execute(SAVE_VERSION, (*where, *row))
        if v.version > HISTORY_KEEP:  # versions are consecutive: drop the oldest
            cur.execute(TRIM_VERSIONS, (*where, v.version - HISTORY_KEEP))

    def _live_items(self, map_name: str, prefix: str) -> list[tuple[str, Stored]]:
        bounds = (self.namespace, map_name, *_prefix_range(prefix))
        rows = self._local.cur.execute(LIVE_ITEMS, bounds).fetchall()
        return [(key, Stored(*rest)) for key, *rest in rows if rest[0] is not None]

    def _load_tat(self, key: str) -> float:
        row = self._local.cur.execute(LOAD_TAT, (self.namespace, key)).fetchone()
        return 0.0 if row is None else float(row[0])

    def _save_tat(self, key: str, tat: float) -> None:
        self._local.cur.execute(SAVE_TAT, (self.namespace, key, tat))

    # wake-ups -----------------------------------------------------------------------
    def _post(self, signals: list[Signal]) -> None:
        if not signals:
            return
        nudge = _nudge(self._local.saved)
        for waiter, message in signals if nudge is None else [*signals, nudge]:
            if waiter.isalnum():  # a mailbox id, never a path
                post(os.path.join(self.wake_dir, waiter), message)

    def open_mailbox(self) -> FifoMailbox:
        """A pipe to block on, open before the acquire that may queue."""
        return FifoMailbox(self.wake_dir)


def _nudge(rec: LeaseRecord | None) -> Signal | None:
    """After a hand-off, an empty message for the new queue head if a lease may end
    before the head next asks on its own (``ttl / 2`` after it last asked): say the
    slot went to a short-lived waiter that has died since. The head asks again and
    then sleeps only until that lease expires."""
    if rec is None or not rec.queue or not rec.holders:
        return None
    head = rec.queue[0]
    soonest = min(h.expires_at for h in rec.holders.values())
    return (head.waiter, "") if soonest < head.expires_at - head.ttl / 2 else None


def post(path: str, message: str) -> None:
    """Write ``message`` to a waiter's pipe without blocking; a vanished waiter is skipped.

    Missing a wake-up only costs the waiter time (it re-checks on a timer), so a
    failure here never fails the release that already committed.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # no reader: its process died, clear the pipe
            with contextlib.suppress(OSError):
                os.unlink(path)
        elif exc.errno != errno.ENOENT:
            log.warning("accord: could not wake the waiter at %s: %s", path, exc)
        return
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):  # never write into a planted file
            os.write(fd, f"{message}\n".encode())
    except OSError as exc:  # EPIPE: the reader just closed; EAGAIN: it stopped reading
        log.debug("accord: wake-up to %s dropped: %s", path, exc)
    finally:
        os.close(fd)


class _Pipe:
    """A named pipe one waiter reads: the part both mailboxes share.

    Opened at once, so a message posted before ``wait`` stays in the pipe. The reader
    also holds a write end, so poll never reports a hang-up when a poster closes.
    """

    def __init__(self, wake_dir: Path) -> None:
        self.id = secrets.token_hex(8)
        self._path = os.path.join(wake_dir, self.id)
        self._buffer = b""
        try:
            wake_dir.mkdir(parents=True, exist_ok=True)
            os.mkfifo(self._path, 0o666)  # the umask applies, as for the database
        except OSError as exc:
            raise BackendUnavailable("sqlite", f"cannot make a wake-up pipe: {exc}") from exc
        self._fd = self._keep = -1
        try:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_NONBLOCK)
            self._keep = os.open(self._path, os.O_WRONLY | os.O_NONBLOCK)
        except BaseException:
            self._close()
            raise

    def _take(self) -> str | None:
        """The next whole message, reading what the pipe holds when none is buffered."""
        if b"\n" not in self._buffer:
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(self._fd, 4096):
                    self._buffer += chunk
        line, newline, rest = self._buffer.partition(b"\n")
        if not newline:
            return None
        self._buffer = rest
        return line.decode()

    def _close(self) -> None:
        if self._path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path)
            self._path = ""
        for fd in (self._fd, self._keep):
            if fd >= 0:
                os.close(fd)
        self._fd = self._keep = -1


class FifoMailbox(_Pipe):
    """The mailbox a thread blocks on, in ``poll(2)``."""

    def __init__(self, wake_dir: Path) -> None:
        super().__init__(wake_dir)
        self._poll = select.poll()
        self._poll.register(self._fd, select.POLLIN)

    def wait(self, timeout: float) -> str | None:
        """The next token, or None after ``timeout`` seconds or on a nudge."""
        deadline = time.monotonic() + timeout
        while (message := self._take()) is None:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._poll.poll(left * 1000.0)
        return message or None  # "\n" is a nudge: ask the store again

    def close(self) -> None:
        """Remove the pipe; later messages go nowhere. Idempotent."""
        self._close()


class AsyncFifoMailbox(_Pipe):
    """The mailbox an asyncio task awaits: the loop watches the pipe, never blocks."""

    def __init__(self, wake_dir: Path) -> None:
        super().__init__(wake_dir)
        self._loop = asyncio.get_running_loop()

    async def wait(self, timeout: float) -> str | None:
        """The next token, or None after ``timeout`` seconds or on a nudge."""
        deadline = self._loop.time() + timeout
        while (message := self._take()) is None:
            left = deadline - self._loop.time()
            if left <= 0:
                return None
            await self._readable(left)
        return message or None  # "\n" is a nudge: ask the store again

    async def _readable(self, timeout: float) -> None:
        ready: asyncio.Future[None] = self._loop.create_future()
        self._loop.add_reader(self._fd, _resolve, ready)
        try:
            await asyncio.wait((ready,), timeout=timeout)
        finally:
            self._loop.remove_reader(self._fd)

    async def aclose(self) -> None:
        """Remove the pipe; later messages go nowhere. Idempotent."""
        self._close()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def async_sqlite_backend(path: Path, namespace: str) -> AsyncRecordBackend:
    """The asyncio twin: operations run in worker threads, waits on the event loop."""
    sync = SqliteBackend(path, namespace)

    async def mailbox() -> AsyncFifoMailbox:
        return AsyncFifoMailbox(sync.wake_dir)

    return AsyncRecordBackend(sync, mailbox, offload=True)


_backends: weakref.WeakSet[SqliteBackend] = weakref.WeakSet()
_inherited: list[_Connection] = []  # a forked child's copies, kept open: closing is unsafe


def _after_fork_in_child() -> None:
    global _mutexes, _mutexes_guard
    _mutexes, _mutexes_guard = {}, threading.Lock()  # other threads' ones may be held
    for backend in list(_backends):
        backend._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
