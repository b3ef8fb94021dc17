"""The Redis mailbox and blocking reads for asyncio: what cannot be generated.

Hand-written twin of ``_sync_io.py``. A mailbox is a list ``mb:<id>`` that the
hand-off script pushes the new token to; ``wait`` is a BLPOP on it. Redis times a
BLPOP out only at its ``hz`` tick (every 100 ms by default), so the wait is timed
here, precisely: when it ends first, the BLPOP stays pending on the mailbox's own
connection and the next ``wait`` reads its reply. A BLPOP waits at most ``HEARTBEAT``
seconds on the server, so even a long wait learns within ``HEARTBEAT + SILENCE``
seconds that the server stopped answering (its nil reply did not come). An empty
message is a nudge: ``wait`` returns None early so the waiter asks the store again.
An idle waiter costs the server one blocked client and a BLPOP every ``HEARTBEAT``.

``read_blocking`` reads the reply to a command the server times itself (``XREAD
BLOCK``): the client only guards it, a margin later, against a server that is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from typing import Any, Protocol

from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from accord._aio import within
from accord.backends.redis._lua import MAILBOX_ALIVE_MS
from accord.errors import BackendUnavailable


class _Store(Protocol):
    """What a mailbox uses of its store (the Redis backend), named here so that this
    module does not import the backend back."""

    @property
    def _leases(self) -> Any: ...  # its lease connections: checkout() and checkin(conn)

    @property
    def _silent(self) -> bool: ...

    def _unavailable(self, exc: RedisError) -> BackendUnavailable: ...

    async def _command(self, conns: Any, *args: Any, within: float | None = None) -> Any: ...

MIN_WAIT = 0.001
CLEANUP_WAIT = 0.25  # the reply to the DEL of a mailbox (see _async.CLEANUP_WAIT)
HEARTBEAT = 0.5  # a BLPOP waits at most this long, so a wait sees a silent server soon
SILENCE = 1.0  # a reply this late means the server is gone (the lease reply timeout)


def current_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop, which owns the connections opened in it (None outside
    any: the backend is being built)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def loop_closed(loop: asyncio.AbstractEventLoop | None) -> bool:
    return loop is not None and loop.is_closed()


def forget_connection(conn: Any) -> None:
    """Close the socket of ``conn``, whose event loop is closed. asyncio cannot finish
    closing its transport without the loop, so the transport is marked closing (which
    raises RuntimeError after doing so) and its socket is closed here."""
    writer = getattr(conn, "_writer", None)
    conn._reader = conn._writer = None
    outer = getattr(writer, "transport", None)
    # a TLS transport wraps the socket's own transport
    inner = getattr(getattr(outer, "_ssl_protocol", None), "_transport", outer)
    for transport in {id(t): t for t in (outer, inner) if t is not None}.values():
        with contextlib.suppress(RuntimeError):  # "Event loop is closed", once closing
            transport.close()
    sock = getattr(inner, "_sock", None)
    if sock is not None:
        sock.close()
        inner._sock = None  # type: ignore[union-attr]


async def read_blocking(conn: Any, seconds: float) -> Any:
    """The reply on ``conn`` within ``seconds``, else TimeoutError (``conn`` is then
    disconnected: its reply may still come)."""
    try:
        return await within(conn.read_response(timeout=math.inf), seconds)
    except TimeoutError:  # the read was cancelled, which disconnects it
        raise RedisTimeoutError(f"no reply in {seconds:.1f} s") from None


class AsyncRedisMailbox:
    """One waiter's mailbox, on a connection of ``backend`` while it waits."""

    def __init__(self, backend: _Store, prefix: str, alive: bool = False) -> None:
        self.id = secrets.token_hex(8)
        self._key = f"{prefix}mb:{self.id}"
        # a task waiter's presence (the task scripts make the key): each BLPOP renews it
        self._alive = f"{prefix}mba:{self.id}" if alive else ""
        self._backend = backend
        self._conn: Any = None
        self._read: asyncio.Task[Any] | None = None
        self._due = 0.0
        self._received = False

    async def wait(self, timeout: float) -> str | None:
        """The token posted to this mailbox, or None after ``timeout`` seconds.
        BackendUnavailable when a BLPOP's reply is ``SILENCE`` seconds late."""
        deadline = time.monotonic() + max(timeout, MIN_WAIT)
        try:
            while True:
                remaining = deadline - time.monotonic()
                if self._read is None:
                    if remaining <= 0:
                        return None
                    await self._blpop(min(remaining, HEARTBEAT))
                assert self._read is not None
                give_up = self._due + SILENCE
                left = min(deadline, give_up) - time.monotonic()
                done, _ = await asyncio.wait({self._read}, timeout=max(left, 0.0))
                if not done:
                    if time.monotonic() >= give_up:
                        raise RedisTimeoutError(f"no reply to BLPOP {SILENCE:.1f} s after due")
                    return None
                read, self._read = self._read, None
                reply = read.result()
                if reply is not None:
                    return self._message(reply[1])
        except RedisError as exc:
            raise self._backend._unavailable(exc) from exc

    def _message(self, raw: bytes) -> str | None:
        """A token; None for an empty nudge (wake up and ask the store again)."""
        if not raw:
            return None
        self._received = True
        return raw.decode()

    async def _blpop(self, seconds: float) -> None:
        if self._conn is None:
            self._conn = await self._backend._leases.checkout()
        seconds = max(seconds, MIN_WAIT)
        self._received = False  # a message may come after this read: close drops the list
        if self._alive:
            await self._conn.send_command("PEXPIRE", self._alive, MAILBOX_ALIVE_MS)
        await self._conn.send_command("BLPOP", self._key, f"{seconds:.3f}")
        if self._alive:
            await self._conn.read_response()  # PEXPIRE's, at once
        self._due = time.monotonic() + seconds  # the server answers by then, if only nil
        # math.inf: this read has no socket timeout; wait() times it
        self._read = asyncio.ensure_future(self._conn.read_response(timeout=math.inf))

    async def aclose(self) -> None:
        """Drop a pending BLPOP with its connection, and the list unless the last
        read took a message from it (then it is gone, or what was posted after expires)."""
        conn, read = self._conn, self._read
        self._conn = self._read = None
        if read is not None and read.done():
            if not read.cancelled() and read.exception() is None and read.result() is not None:
                self._message(read.result()[1])
        elif read is not None:  # its reply may still come: the connection cannot be reused
            read.cancel()
            await asyncio.wait({read})
            await conn.disconnect()
        if conn is not None:
            self._backend._leases.checkin(conn)
        if not self._received and not self._backend._silent:  # else it expires by itself
            with contextlib.suppress(BackendUnavailable):  # tidying only: never raises
                await self._backend._command(
                    self._backend._leases, "DEL", self._key, within=CLEANUP_WAIT
                )
