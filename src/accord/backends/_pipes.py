"""Wake-ups across processes on one machine: named pipes in a directory.

A *mailbox* is a pipe one waiter reads; a poster opens it without blocking, writes
one line and closes it. Lock hand-offs use it like this::

    waiter    mkfifo + open <id> -> acquire: queued as <id> -> poll(<id>) ....... wakes
    releaser                        release: <id> promoted, COMMIT -> write "7\\n" --^

The pipe is open before the waiter queues, so a message written before it polls is
kept. A waiter that died has no reader left, so the write fails at once (ENXIO), the
pipe is removed and the poster carries on.

A *bell* is a mailbox whose name starts with a prefix shared by everyone waiting for
the same thing (``bell-<hash of the namespace>-``); :func:`ring` posts to every pipe
with that prefix, found with a directory scan that is kept while the directory's
modification time says nothing was added or removed since (one ``stat`` instead of a
scan per ring).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import logging
import os
import secrets
import select
import stat
import time
from pathlib import Path

from accord.errors import BackendUnavailable

log = logging.getLogger("accord")

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_READ = 4096  # bytes a mailbox reads at a time


def bell_prefix(topic: str) -> str:
    """The name prefix of the bells of ``topic`` (any string: hashed to be a file name)."""
    return f"bell-{hashlib.blake2b(topic.encode(), digest_size=8).hexdigest()}-"


def post(path: str, message: str) -> bool:
    """Write ``message`` to a waiter's pipe without blocking; a vanished waiter is skipped.
    False when the pipe has no reader (or is gone): the waiter closed it or died.

    Missing a wake-up only costs the waiter time (it re-checks on a timer), so a
    failure here never fails the operation that already committed.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # no reader: its process died, clear the pipe
            with contextlib.suppress(OSError):
                os.unlink(path)
        elif exc.errno != errno.ENOENT:
            log.warning("accord: could not wake the waiter at %s: %s", path, exc)
        return False
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):  # never write into a planted file
            os.write(fd, f"{message}\n".encode())
            return True
        return False
    except OSError as exc:  # EPIPE: the reader just closed; EAGAIN: it stopped reading
        log.debug("accord: wake-up to %s dropped: %s", path, exc)
        return exc.errno == errno.EAGAIN  # a full pipe: its reader is there
    finally:
        os.close(fd)


def ring(wake_dir: Path, prefix: str, message: str = "e") -> None:
    """Post ``message`` to every pipe in ``wake_dir`` whose name starts with ``prefix``."""
    for path in _listed(os.fspath(wake_dir), prefix):
        post(path, message)


# The pipes of each (directory, prefix) as last scanned, with the directory's mtime
# then. A directory's mtime changes with every name added, renamed or removed, but it
# has the granularity of the file system's clock (a kernel tick, up to 2 s on some file
# systems): a scan is kept only when that mtime was older than SETTLED_NS at the scan,
# so that any change after it has a later mtime. A change the scan missed then makes
# the next ring scan again; a stale name only costs a failed open (ENOENT).
SETTLED_NS = 2_000_000_000
_LISTED: dict[tuple[str, str], tuple[int, list[str]]] = {}
_LISTED_MAX = 256  # (directory, prefix) pairs kept


def _listed(wake_dir: str, prefix: str) -> list[str]:
    """The paths of the pipes in ``wake_dir`` named with ``prefix``."""
    try:
        mtime = os.stat(wake_dir).st_mtime_ns
    except FileNotFoundError:  # nobody has waited yet
        return []
    key = (wake_dir, prefix)
    kept = _LISTED.get(key)
    if kept is not None and kept[0] == mtime:
        return kept[1]
    scanned = time.time_ns()  # before the scan: what it misses is changed after
    try:
        with os.scandir(wake_dir) as entries:
            paths = [e.path for e in entries if e.name.startswith(prefix)]
    except FileNotFoundError:
        return []
    if scanned - mtime > SETTLED_NS:
        if len(_LISTED) >= _LISTED_MAX:
            _LISTED.clear()
        _LISTED[key] = (mtime, paths)
    return paths


def sweep(wake_dir: Path) -> None:
    """Remove every pipe nobody reads (its process died), and nothing else."""
    with contextlib.suppress(FileNotFoundError), os.scandir(wake_dir) as entries:
        for entry in entries:
            if entry.name.startswith("."):  # being made: its reader opens it next
                continue
            try:
                os.close(os.open(entry.path, os.O_WRONLY | os.O_NONBLOCK | _NOFOLLOW))
            except OSError as exc:
                if exc.errno == errno.ENXIO:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _mkfifo(wake_dir: Path, path: str) -> None:
    """Make the pipe at ``path``, and ``wake_dir`` first only when it is missing (it is
    there but for the first wait of a file: checking each time costs two system calls)."""
    try:
        os.mkfifo(path, 0o666)  # the umask applies, as for the database
    except FileNotFoundError:
        wake_dir.mkdir(parents=True, exist_ok=True)
        os.mkfifo(path, 0o666)


class _Pipe:
    """A named pipe one waiter reads: the part both mailboxes share.

    Opened at once, so a message posted before ``wait`` stays in the pipe. The reader
    also holds a write end, so poll never reports a hang-up when a poster closes.
    """

    def __init__(self, wake_dir: Path, prefix: str = "") -> None:
        self.id = prefix + secrets.token_hex(8)
        # Made under a name no poster looks for, and renamed once open: a poster that
        # found it without a reader would take it for a dead waiter's and remove it.
        self._path = os.path.join(wake_dir, "." + self.id)
        self._buffer = b""
        try:
            _mkfifo(wake_dir, self._path)
        except OSError as exc:
            raise BackendUnavailable(
                "sqlite",
                f"cannot make a wake-up pipe in {wake_dir}: {exc.strerror or exc}; check that "
                "the directory of the database is writable by this user",
            ) from exc
        self._fd = self._keep = -1
        try:
            self._fd = os.open(self._path, os.O_RDONLY | os.O_NONBLOCK)
            self._keep = os.open(self._path, os.O_WRONLY | os.O_NONBLOCK)
            final = os.path.join(wake_dir, self.id)
            os.rename(self._path, final)
            self._path = final
        except BaseException:
            self._close()
            raise

    def _take(self) -> str | None:
        """The next whole message, reading what the pipe holds when none is buffered."""
        if b"\n" not in self._buffer:
            with contextlib.suppress(BlockingIOError):
                while True:  # a short read took all the pipe held: no read to fail
                    chunk = os.read(self._fd, _READ)
                    self._buffer += chunk
                    if len(chunk) < _READ:
                        break
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

    def __init__(self, wake_dir: Path, prefix: str = "") -> None:
        super().__init__(wake_dir, prefix)
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

    def __init__(self, wake_dir: Path, prefix: str = "") -> None:
        super().__init__(wake_dir, prefix)
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
