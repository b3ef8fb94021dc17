"""``redis://`` and ``rediss://``: many machines, one Redis (async source).

``_sync.py`` is generated from this file by ``scripts/unasync.py``; the few things
that differ (the mailbox's and the event log's blocking reads) live in the
hand-written ``_*_io.py`` pair. The event operations are in ``_async_events.py``, the
task queues in ``_async_tasks.py`` (their keys: ``tasks/lua/_tasks.lua``).

Design: keys and scripts
------------------------
Every key of a namespace starts with ``accord:{<ns>}:``: one hash tag, so every
multi-key script touches one Redis Cluster slot. Braces and ``%`` in the namespace
are %-escaped so the tag stays whole.

==========================  ===================================================
``lease:<key>``             the whole lease, a lock's a string (MessagePack) read
                            with the halt switch in one ``MGET``, a
                            semaphore's a hash: ``token`` (never reset),
                            ``limit``, ``seq``, ``h:<holder>`` per holder
                            (expiry, token, agent) or waiter (queue number,
                            expiry, ttl, mailbox, agent), ``m:<holder>`` (mode,
                            intent), ``c`` (its metrics): see ``_leases.lua``;
                            a semaphore's (``sem/``) also counts (``#n``...)
``lexp:<key>``              sorted set of a semaphore's holders by expiry
``lq:<key>``                sorted set of a semaphore's waiters by queue number
                            (both: ``_indexed.lua``)
``waits``                   hash: holder -> the lease key it queues for, of the
                            waiters that hold a lock (deadlock detection)
``leases``                  sorted set (by name) of the lease keys with holders
                            or waiters (listings walk it, a page a script)
``mb:<waiter>``             list: the mailbox a hand-off pushes the token to
``state:<n>:<map>:<key>``   list of versions, newest first (``n`` = len(map))
``keys:<map>``              sorted set (by name) of the map's live keys
``rate:<key>``              the GCRA theoretical arrival time
``events``                  stream: the event log, its consumer groups
``barrier:<name>``          list: the mailbox ids waiting in the current round
``epoch``                   string: made once, by the first client (see below)
``layout``                  string: the key layout version (``LAYOUT_VERSION``)
``stream:`` ``smeta:``      streams and approval requests: see ``_async_streams.py``
``approval:`` ``approvals``
==========================  ===================================================

Each lease, state, rate-limit, post and barrier operation is one Lua script in the
``lua/`` folder of its feature (``leases/lua/``, ``state/lua/``...) that applies the
rule beside it (``leases/rule.py``...) with the server clock
(``TIME``), after the helpers it shares with its kind (``_leases.lua``, ``_state.lua``,
``_barrier.lua``). It is called by SHA: one round trip, with
``EVAL`` (which caches the script) only after a ``NOSCRIPT`` reply, e.g. after a
restart. A hand-off pushes the token to the waiter's mailbox in the same script.
A script declares the key it is routed by; the other keys it touches carry the same
hash tag, so they are in the same slot. The event log needs no script: each of its
operations is one stream command (``XADD``, ``XREAD``...), and a group read two
(``XAUTOCLAIM``, then ``XREADGROUP``); see ``_async_events.py``.

Connections come from two redis-py pools per event loop (asyncio connections serve
only their loop; those of a closed loop are dropped) and are kept by the backend
between calls (checked for a dead peer before reuse). Lease, rate-limit, mailbox, barrier and
event-append commands are O(1) and use a 1 s reply timeout, so a waiter learns at
once that the store is gone; state, listings and event reads use 5 s, and a blocking
read (``XREAD BLOCK``) its wait plus 1 s, on a connection it holds for itself. Any
failure to reach the server raises ``BackendUnavailable``; nothing is retried, so no
write runs twice. Cleanup after a failure or a timeout (``abandon``, a mailbox's
``DEL``) waits 0.25 s at most, and not at all after the server went silent.

Data loss: each new connection first reads ``epoch`` (one script: the first sets it).
A restart breaks every connection, so after one that lost the data (no persistence)
the next connection finds another epoch than the one this backend first saw: from
then on every call raises ``BackendUnavailable`` ("lost the data"), for the leases,
tokens and versions it saw are void. A new backend adopts the new epoch.

Redis Cluster: every key of a namespace is in one hash slot, so one node serves all
of it. The URL may name any node: a ``MOVED`` reply (the command did not run) sends
both connection sets to the node it names, and the command is sent there. A slot
being migrated (``ASK``, ``TRYAGAIN``) or a cluster that is down raises
``BackendUnavailable``, as any other outage.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import weakref
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from hiredis import pack_command
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    AskError,
    ClusterDownError,
    MasterDownError,
    MovedError,
    NoPermissionError,
    NoScriptError,
    OutOfMemoryError,
    ReadOnlyError,
    RedisError,
    ResponseError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from accord import _json
from accord._models import (
    MODES,
    AcquireResult,
    Deadlocked,
    Entry,
    Granted,
    HolderInfo,
    LeaseRequest,
    LeaseStatistics,
    Waiting,
)
from accord.backends._async.protocol import AsyncMailbox
from accord.backends._capabilities import CAPABILITIES
from accord.backends._records import RecordBackend
from accord.backends._redact import redact
from accord.backends.redis._async_agents import AsyncRedisAgents
from accord.backends.redis._async_events import AsyncRedisEvents
from accord.backends.redis._async_io import (
    AsyncRedisMailbox,
    current_loop,
    forget_connection,
    loop_closed,
    read_blocking,
)
from accord.backends.redis._async_streams import AsyncRedisStreams
from accord.backends.redis._async_tasks import AsyncRedisTasks
from accord.backends.redis._keys import Keys
from accord.backends.redis._lua import NO_FUNCTIONS, Library, Script, without_functions
from accord.backends.state.rule import (
    HISTORY_KEEP,
    PAGE_MAX,
    Refused,
    Stored,
    incremented,
    page_start,
)
from accord.errors import BackendUnavailable, ConfigError, Halted, StaleFence, VersionConflict

SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0
LEASE_TIMEOUT = 1.0  # replies to lease, rate-limit, mailbox and event-append commands
BLOCK_MARGIN = 1.0  # a blocking read's reply is late this long after the server's wait
LIST_PAGE = 100  # lease keys one listing script walks
CLEANUP_WAIT = 0.25  # the reply to cleanup after a failure or timeout (abandon, mailbox)
# the server cannot serve us now (down, loading, read-only, full, busy, refusing us)
_DOWN = (
    RedisConnectionError,  # also refused connections, AUTH failures, LOADING
    RedisTimeoutError,
    ReadOnlyError,
    OutOfMemoryError,
    NoPermissionError,
    ClusterDownError,
    TryAgainError,
    AskError,  # a Cluster slot being migrated (MovedError, its subclass, is followed)
    MasterDownError,
)
MAX_MOVES = 2  # MOVED replies followed for one command
_DOWN_CODES = ("BUSY ", "MISCONF ")  # a long script runs; the server cannot persist
log = logging.getLogger("accord")


_ACQUIRE = Script("acquire", "_leases", "_cycle")
_RELEASE, _ABANDON, _LEASES = (Script(name, "_leases") for name in ["release", "abandon", "leases"])
# the same operations on the indexed layout of the leases that hold many (_indexed.lua)
_ACQUIRE_IX = Script("acquire_ix", "_leases", "_indexed", "_cycle")
_RELEASE_IX, _ABANDON_IX = (Script(name, "_leases", "_indexed")
                            for name in ["release_ix", "abandon_ix"])
_INDEXED = {_ACQUIRE: _ACQUIRE_IX, _RELEASE: _RELEASE_IX, _ABANDON: _ABANDON_IX}


def _indexed(key: str) -> bool:
    """A semaphore's lease, kept in the indexed layout (``indexed`` of _indexed.lua)."""
    return key.startswith("sem/")
_EXTEND = Script("extend")
_SET, _INCR, _DELETE, _ITEMS = (
    Script(name, "_state") for name in ["state_set", "state_incr", "state_delete", "state_items"]
)
_RATE = Script("rate")
# The key layout of a namespace, in its ``layout`` key: a namespace of a newer layout is
# refused, one of an older layout migrated by the first connection that finds it.
# 0: namespaces of accord before the layout carried a version (the same keys as 1)
# 1: a lease's waiters in ``queue:<key>`` and ``waiter:<key>``; ``leases`` every lease key
# 2: the keys of the module docstring: waiters in the lease hash, ``leases`` the live ones.
#    Nothing to migrate: holder fields read the same, an old ``leases`` set is pruned by
#    the listings, and a waiter of the old layout queues again when it next asks.
# 3: a lease hash may hold ``m:<holder>`` fields (lease modes and intents), which
#    accord of layout 2 would delete as dead fields; the keys of tasks, streams,
#    approvals, agents and fence floors. Nothing to migrate: a lease of layout 2 reads
#    as exclusive leases without an intent.
# 4: a lock's lease is a string (MessagePack of the fields its hash had), read with the halt
#    switch in one MGET; a waiter's mode, queue time and intent in its own field ('q...',
#    no 'm:' field); a semaphore's lease (``sem/``) in the indexed layout (counts '#...'
#    in its hash, ``lexp:<key>`` and ``lq:<key>``). Migrated lazily, one lease at a
#    time (no script walks the namespace): a lock's hash of layout 3 is read (its
#    string is missing: TYPE) and written back as a string, a waiter field of layout 3
#    is still read, and the first operation on a semaphore's lease of layout 3 indexes
#    it (``ix_rebuild``, once, O(its holders)). accord of layout 3 still connected
#    fails on a lock's string (WRONGTYPE: BackendUnavailable) rather than misread it.
LAYOUT_VERSION = 4
# Run on each new connection: the layout version found (nothing changes when it is
# newer), then the namespace's epoch, made once by the first client (a new one means
# lost data). Migrations of an older layout go between the two.
# One MGET when both exist (every connection but the namespace's first).
_EPOCH_LUA = """
local got = redis.call('MGET', KEYS[2], KEYS[1])
local found = tonumber(got[1] or '0')
if found > tonumber(ARGV[2]) then return {false, found} end
if found < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
if got[2] then return {got[2], found} end
redis.call('SET', KEYS[1], ARGV[1])
return {ARGV[1], found}
"""


# what a URL's query may set: the connection's identity and, for rediss://, its TLS
_OPTIONS = frozenset({"db", "username", "password", "client_name", "socket_keepalive"})
_TLS_OPTIONS = frozenset({
    "ssl_ca_certs", "ssl_ca_path", "ssl_ca_data", "ssl_cert_reqs", "ssl_certfile",
    "ssl_keyfile", "ssl_password", "ssl_check_hostname", "ssl_ciphers", "ssl_min_version",
    "ssl_include_verify_flags", "ssl_exclude_verify_flags",
})  # fmt: skip
_OWN_OPTIONS = frozenset(
    {"socket_timeout", "socket_connect_timeout", "timeout", "retry_on_timeout"}
)


def _check_url(url: str) -> None:
    """Refuse, as ValueError, what redis-py would take silently or fail on later."""
    userinfo = url.partition("//")[2].rpartition("@")[0]
    if any(c in userinfo for c in "/?#"):
        raise ValueError("the user or password holds '/', '?' or '#': percent-encode it, "
                         "e.g. urllib.parse.quote(password, safe='')")
    parts = urlsplit(url)
    if parts.port == 0:
        raise ValueError("port 0 is no port: name the server's port, or none for 6379")
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise ValueError(f"the database must be a number, not {db!r}")
    allowed = _OPTIONS | (_TLS_OPTIONS if parts.scheme == "rediss" else frozenset())
    for option, _ in parse_qsl(parts.query, keep_blank_values=True):
        if option in _OWN_OPTIONS:
            raise ValueError(f"accord sets {option} itself; remove it from the URL")
        if option not in allowed:
            known = ", ".join(sorted(allowed))
            raise ValueError(f"unknown option {option!r}; the URL may set {known}")


def _open_pool(url: str, shown: str, timeout: float) -> ConnectionPool:
    try:
        _check_url(url)
        return ConnectionPool.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=CONNECT_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
    except (ValueError, TypeError) as exc:
        reason = _scrub(str(exc), url)
        raise ConfigError(
            f"bad Redis URL {shown!r} ({reason}); use redis://[[user]:password@]host"
            "[:port][/db] or rediss://... for TLS"
        ) from None


def _secrets(url: str) -> list[str]:
    """The password of ``url`` as written and decoded, in the userinfo or the query."""
    try:
        parts = urlsplit(url)
        found = [parts.password or ""]
    except ValueError:
        return []
    found += [v for k, v in parse_qsl(parts.query) if k == "password"]
    return [s for s in {*found, *map(unquote, found)} if s]


def _tls_hint(error: str, url: str, first_reply: bool) -> str:
    """What to change when ``error`` looks like TLS on one side only, or an untrusted
    certificate (the usual first-day mistakes with ``rediss://``). A plain connection
    closed by the server hints at TLS only on its ``first_reply`` (a TLS-only server
    drops it there); later, it is a server that went away."""
    if "CERTIFICATE_VERIFY_FAILED" in error:
        return (
            "; the server's certificate is not trusted here: name its CA in the URL "
            "(rediss://...?ssl_ca_certs=/path/to/ca.pem)"
        )
    tls = url.startswith("rediss:")
    if tls and ("Timeout connecting" in error or "WRONG_VERSION_NUMBER" in error):
        return "; if the server does not speak TLS, use redis:// instead of rediss://"
    if not tls and first_reply and ("reset by peer" in error or "closed by server" in error):
        return "; if the server speaks only TLS, use rediss:// instead of redis://"
    return ""


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL's password, wherever a library may have put it."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def _us(seconds: float) -> int:
    return max(1, round(seconds * 1_000_000))


def _lex_range(prefix: str, after: str | None) -> tuple[bytes, bytes]:
    """ZRANGEBYLEX bounds of the keys starting with ``prefix``, from ``after`` on
    (exclusive). No UTF-8 text holds the byte 0xFF, so ``prefix`` + it bounds them."""
    start, inclusive = page_start(prefix, after)
    first = (b"[" if inclusive else b"(") + start.encode()
    return first, (b"(" + prefix.encode() + b"\xff") if prefix else b"+"


def _cursor(names: list[str], limit: int) -> str | None:
    """The cursor after a page of ``limit`` keys of the ``limit + 1`` asked for: the
    last key returned, or None if no key is left."""
    return names[limit - 1] if len(names) > limit else None


def _stored(raw: bytes) -> Stored:
    """A version as ``state/lua/_state.lua`` writes it."""
    head, at, agent, json_text = raw.split(b"\n", 3)
    version, fence_token, fence = head.split(b" ", 2)
    value = json_text.decode() if fence[:1] == b"=" else None
    return Stored(
        value, int(version), agent.decode(), float(at), fence[1:].decode() or None, int(fence_token)
    )


def _statistics(row: list[Any]) -> LeaseStatistics:
    key, limit, token, flat, waiters = row
    kind, _, name = key.decode().partition("/")
    holders = tuple(
        HolderInfo(flat[i].decode(), flat[i + 1].decode(), flat[i + 2], flat[i + 3] / 1e6,
                   MODES[flat[i + 4].decode()], flat[i + 5].decode())
        for i in range(0, len(flat), 6)
    )
    return LeaseStatistics(name, kind, limit, holders, tuple(w.decode() for w in waiters), token)


def _acquired(reply: list[Any]) -> AcquireResult:
    if reply[0] == 1:
        return Granted(reply[1], reply[2] / 1e6)
    if reply[0] == 2:
        return Waiting(reply[1].decode() or None, reply[2] / 1e6, reply[3].decode())
    steps = [part.decode() for part in reply[1:]]
    return Deadlocked(tuple(zip(steps[::2], steps[1::2], strict=True)))


def _refused(
    reply: list[Any],
    map_name: str,
    key: str,
    expected: int | None,
    fence: tuple[str, int] | None,
) -> Exception:
    """The error of a refused write, exactly as the other backends word it."""
    kind = {1: "version", 2: "fence", 3: "type"}[reply[0]]
    if kind == "fence":
        return RecordBackend._refusal(Refused(kind, reply[1]), map_name, key, None, None, fence)
    cur = _stored(reply[1]) if reply[1] else None
    return RecordBackend._refusal(Refused(kind), map_name, key, cur, expected, fence)


class _Connections:
    """Connections of one pool, kept here between calls to skip the pool's bookkeeping."""

    def __init__(self, url: str, shown: str, timeout: float, on_connect: Any) -> None:
        self._shown, self._timeout, self._on_connect = shown, timeout, on_connect
        self.idle: list[Any] = []
        self._open(url)

    def _open(self, url: str) -> None:
        self.url = url
        self.pool: Any = _open_pool(url, self._shown, self._timeout)
        self.pool.connection_kwargs["decode_responses"] = False  # replies are parsed as bytes
        self.pool.connection_kwargs["redis_connect_func"] = self._on_connect
        kwargs = self.pool.connection_kwargs
        self.address = (kwargs.get("host"), kwargs.get("port"))

    async def move(self, host: str, port: int) -> None:
        """Talk to the server at ``host:port`` from now on (a Cluster node); connections
        to the old one are closed as they come back."""
        if (host, port) != self.address:
            self._open(_at(self.url, host, port))
            stale, self.idle = self.idle, []  # one swap: other threads may check out now
            for conn in stale:
                await conn.disconnect()

    async def checkout(self) -> Any:
        """A live connection for one caller: an idle one, else a new one."""
        while self.idle:
            conn = self.idle.pop()
            if (getattr(conn, "host", None), getattr(conn, "port", None)) != self.address:
                await conn.disconnect()  # to a server this was moved away from
                continue
            try:
                stale = await conn.can_read()  # data or EOF while idle: the server went away
            except RedisConnectionError:
                stale = True
            if stale:
                await conn.disconnect()
                await conn.connect()
            return conn
        return await self.pool.get_connection()

    def checkin(self, conn: Any) -> None:
        """Keep ``conn`` for the next call (redis-py disconnects it after any error)."""
        self.idle.append(conn)

    async def aclose(self) -> None:
        for conn in self.idle:
            await conn.disconnect()
        self.idle.clear()
        await self.pool.aclose()

    def forget(self) -> None:
        """Drop the connections of an event loop that is closed (nothing can be awaited
        on it any more): their sockets are closed here, without it."""
        for conn in self.idle:
            forget_connection(conn)
        self.idle.clear()


def _at(url: str, host: str, port: int) -> str:
    """``url`` with another host and port (its credentials, database and options kept)."""
    parts = urlsplit(url)
    auth, _, _ = parts.netloc.rpartition("@")
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=f"{auth}@{where}" if auth else where))


class AsyncRedisBackend(
    AsyncRedisEvents["_Connections"],
    AsyncRedisTasks["_Connections"],
    AsyncRedisStreams["_Connections"],
    AsyncRedisAgents["_Connections"],
):
    """The Redis store, bound to one namespace; see the module docstring."""

    name = "redis"
    capabilities = CAPABILITIES

    def __init__(self, url: str, namespace: str) -> None:
        self.namespace = namespace
        self._url = _scrub(redact(url), url)
        self._raw_url = self._target = url
        _open_pool(url, self._url, LEASE_TIMEOUT)  # a bad URL fails now, in connect()
        # (lease, data) connections by event loop: asyncio connections serve only the
        # loop that opened them (the sync twin has one pair, under None)
        self._pools: dict[Any, tuple[_Connections, _Connections]] = {}
        self._keys = Keys(namespace)
        self._reclaims: dict[str, tuple[str, float]] = {}
        self._epoch: bytes | None = None  # the namespace's epoch, as first seen
        self._lost = False
        self._functions = True  # Library scripts by FCALL (False: the server has none)
        # the last command found the server silent or gone: cleanup is skipped then
        # (a waiter's entry and mailbox expire by themselves), so that a timeout
        # bounds the whole call
        self._silent = False
        _live.add(self)

    def _here(self) -> tuple[_Connections, _Connections]:
        """The lease and data connections of the running event loop."""
        loop = current_loop()
        pair = self._pools.get(loop)
        if pair is None:
            for gone in [key for key in self._pools if loop_closed(key)]:
                for conns in self._pools.pop(gone):
                    conns.forget()
            pair = (
                _Connections(self._target, self._url, LEASE_TIMEOUT, self._on_connect),
                _Connections(self._target, self._url, SOCKET_TIMEOUT, self._on_connect),
            )
            self._pools[loop] = pair
        return pair

    @property
    def _leases(self) -> _Connections:
        return self._here()[0]

    def _forget_epoch(self) -> None:
        """The namespace was dropped on purpose: adopt the epoch the next connection
        makes, rather than take it for lost data."""
        self._epoch = None

    @property
    def _data(self) -> _Connections:
        return self._here()[1]

    # the epoch: a store that lost its data -------------------------------------------
    async def _on_connect(self, conn: Any) -> None:
        """Run on every new connection, before its first command: a restart (the only
        way most data losses happen) breaks every connection, so each new one checks
        that the namespace's epoch is the one this backend first saw."""
        offer = secrets.token_hex(8)  # the epoch to start if there is none: always new
        try:
            await conn.on_connect()
            await conn.send_command(
                "EVAL", _EPOCH_LUA, 2, self._keys.epoch, self._keys.layout, offer,
                LAYOUT_VERSION,
            )  # fmt: skip
            epoch, layout = await conn.read_response()
        except RedisConnectionError as exc:  # closed at once: maybe TLS on one side only
            exc.accord_first_reply = True  # type: ignore[attr-defined]
            raise
        if layout > LAYOUT_VERSION:
            await conn.disconnect()
            raise self._newer(layout)
        if self._epoch is None:
            self._epoch = epoch
        elif epoch != self._epoch:
            self._lost = True
        if self._lost:
            await conn.disconnect()
            raise self._data_lost()

    def _newer(self, found: int) -> BackendUnavailable:
        return BackendUnavailable(
            "redis",
            f"namespace {self.namespace!r} of {self._url} has accord's key layout version "
            f"{found}, written by a newer accord; this accord reads layout versions up to "
            f"{LAYOUT_VERSION}",
            "upgrade accord (pip install -U accord) in every process that uses this "
            "namespace; nothing was changed",
        )

    def _data_lost(self) -> BackendUnavailable:
        return BackendUnavailable(
            "redis",
            f"{self._url} lost the data of namespace {self.namespace!r}: it restarted "
            "without persistence, was flushed, or failed over to a replica without it",
            "the leases, fencing tokens and versions this coordinator saw are void and "
            "it stays unusable: open a new coordinator (tokens start again at 1). Run "
            "Redis with appendonly yes and appendfsync always to keep data and tokens "
            "across restarts",
        )

    # one round trip ------------------------------------------------------------------
    async def _command(
        self,
        conns: _Connections,
        *args: Any,
        wait: float = 0.0,
        within: float | None = None,
        moves: int = MAX_MOVES,
    ) -> Any:
        """``wait`` > 0: a command the server may hold up to ``wait`` seconds;
        ``within``: the reply is awaited that long, not the connection's timeout."""
        if self._lost:
            raise self._data_lost()
        try:
            conn = await conns.checkout()
            try:
                # packed by hiredis alone: redis-py's send_command first encodes each
                # argument in Python, a fifth of a lock operation's time on the client
                await conn.send_packed_command((pack_command(args),))
                if wait > 0:
                    reply = await read_blocking(conn, wait + BLOCK_MARGIN)
                elif within is not None:
                    reply = await read_blocking(conn, within)
                else:
                    reply = await conn.read_response()
                self._silent = False
                return reply
            finally:
                conns.checkin(conn)
        except MovedError as exc:  # a Cluster node that does not serve our slot: not run
            if not moves:
                raise self._unavailable(exc) from exc
            self._target = _at(self._target, exc.host, exc.port)
            await self._leases.move(exc.host, exc.port)
            await self._data.move(exc.host, exc.port)
            return await self._command(conns, *args, wait=wait, within=within, moves=moves - 1)
        except RedisError as exc:
            if isinstance(exc, _DOWN) or str(exc).startswith(_DOWN_CODES):
                raise self._unavailable(exc) from exc
            if "not allowed in cluster mode" in str(exc):  # SELECT of a database but 0
                raise ConfigError(
                    f"{self._url} is a Redis Cluster node, and a Cluster has only database "
                    "0: end the URL with /0"
                ) from None
            raise

    async def _eval(
        self,
        conns: _Connections,
        script: Script,
        keys: list[str],
        *args: Any,
        within: float | None = None,
    ) -> Any:
        n = len(keys)
        try:
            if script.library is not None and self._functions:
                reply = await self._fcall(conns, script, keys, args, within)
                if reply is not NO_FUNCTIONS:
                    return reply
            try:
                return await self._command(
                    conns, "EVALSHA", script.sha, n, *keys, *args, within=within
                )
            except NoScriptError:  # a restarted or flushed server: EVAL runs and caches it
                return await self._command(
                    conns, "EVAL", script.source, n, *keys, *args, within=within
                )
        except ResponseError as exc:  # never a raw redis-py error from a public call
            raise self._failed(f"script {script.name!r}", exc) from exc

    async def _fcall(
        self, conns: _Connections, script: Script, keys: list[str], args: tuple[Any, ...],
        within: float | None,
    ) -> Any:
        """FCALL of ``script``'s function, its library loaded first where the server
        lacks it (a restart, FUNCTION FLUSH, another Cluster node); ``NO_FUNCTIONS``
        where the server or this user has no functions (Redis 6, an ACL or a managed
        service without FUNCTION): this backend's scripts run by EVALSHA from then on."""
        assert script.library is not None and script.function is not None
        call = ("FCALL", script.function, len(keys), *keys, *args)
        try:
            return await self._command(conns, *call, within=within)
        except (ResponseError, BackendUnavailable) as exc:
            refused: Exception | None = exc if without_functions(exc) else None
            if refused is None and "function not found" not in str(exc).lower():
                raise
        if refused is None:
            refused = await self._load(conns, script.library)
            if refused is None:
                return await self._command(conns, *call, within=within)
        self._functions = False
        log.info("accord: %s: scripts run by EVALSHA, not as functions: %s",
                 self._url, _scrub(str(refused), self._raw_url))
        return NO_FUNCTIONS

    async def _load(self, conns: _Connections, library: Library) -> Exception | None:
        """FUNCTION LOAD of ``library``: None when loaded, else why not."""
        try:
            await self._command(conns, "FUNCTION", "LOAD", library.source)
        except ResponseError as exc:
            return None if "already exists" in str(exc) else exc  # (loaded by another)
        except BackendUnavailable as exc:
            if not without_functions(exc):
                raise
            return exc
        return None

    async def _plain(self, conns: _Connections, *args: Any) -> Any:
        """One command that is not a script, an error reply raised as accord's."""
        try:
            return await self._command(conns, *args)
        except ResponseError as exc:
            raise self._failed(f"command {args[0]}", exc) from exc

    def _failed(self, what: str, exc: ResponseError) -> BackendUnavailable:
        """An error reply nothing expects (keys of ours changed by another client, a
        server that is not Redis-compatible enough, or a bug of ours)."""
        detail = _scrub(f"{self._url}: {what} failed: {exc}", self._raw_url)
        return BackendUnavailable(
            "redis",
            detail + "; leave accord:{...}: keys to accord (no other client, no eviction), "
            "and report this if they were",
        )

    async def _lease_eval(
        self, script: Script, key: str, *args: Any, within: float | None = None
    ) -> Any:
        """A lease script: KEYS the lease hash; ARGV prefix, key, *args. A semaphore's
        lease runs the script's twin of the indexed layout."""
        if _indexed(key):
            script = _INDEXED.get(script, script)
        keys = self._keys
        lease = [keys.lease(key)]
        return await self._eval(self._leases, script, lease, keys.prefix, key, *args, within=within)

    async def _state_eval(self, script: Script, map_name: str, key: str, *args: Any) -> Any:
        """A state script: KEYS the versions list; ARGV the live-keys set, key, *args."""
        keys = self._keys
        versions, live = keys.state(map_name, key), keys.live_keys(map_name)
        return await self._eval(self._data, script, [versions], live, key, *args)

    def _unavailable(self, exc: RedisError) -> BackendUnavailable:
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            self._silent = True
        detail = _scrub(f"{self._url}: {type(exc).__name__}: {exc}", self._raw_url)
        first = getattr(exc, "accord_first_reply", False)
        return BackendUnavailable("redis", detail + _tls_hint(str(exc), self._raw_url, first))

    async def open_mailbox(self) -> AsyncMailbox:
        return AsyncRedisMailbox(self, self._keys.prefix)

    # leases ----------------------------------------------------------------------------
    async def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        flags = (req.limit, int(req.wait), int(detect_deadlock))
        more = (req.mode, req.intent) if req.mode or req.intent else ()
        reply = await self._lease_eval(
            _ACQUIRE, req.key, req.holder, req.agent, req.waiter, _us(req.ttl), *flags, *more
        )
        if isinstance(reply, int):
            return Granted(reply, req.ttl)
        if reply[0] == 4:
            raise Halted(self.namespace, reply[1].decode())
        return _acquired(reply)

    async def release(self, key: str, holder: str, token: int) -> bool:
        return bool(await self._lease_eval(_RELEASE, key, holder, token))

    async def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        return bool(await self._lease_eval(_EXTEND, key, holder, token, _us(ttl)))

    async def abandon(self, key: str, waiter: str, holder: str) -> None:
        """Best effort, within ``CLEANUP_WAIT`` seconds: this cleans up after a failure
        or a timeout, which it must neither replace nor prolong. When it cannot run,
        the waiter's entry expires within its ttl (and a slot handed to it meanwhile
        with it)."""
        if self._silent:  # the server did not answer the last command: do not wait again
            return
        with contextlib.suppress(BackendUnavailable):
            await self._lease_eval(_ABANDON, key, waiter, holder, within=CLEANUP_WAIT)

    async def lease_statistics(self, key: str) -> LeaseStatistics:
        keys = self._keys
        rows = await self._eval(self._data, _LEASES, [keys.lease(key)], keys.prefix, "key", key)
        return _statistics(rows[0])

    async def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        """Page by page (``LIST_PAGE`` keys of the index of live leases a script), so
        that no script holds the server longer than a page takes."""
        keys, after = self._keys, ""
        found: list[LeaseStatistics] = []
        while True:
            reply = await self._eval(
                self._data, _LEASES, [keys.leases], keys.prefix, "prefix", prefix, after, LIST_PAGE
            )
            found += [_statistics(row) for row in reply[1:]]
            if not reply[0]:
                return found
            after = reply[0].decode()

    # versioned state -------------------------------------------------------------------
    async def _current(self, map_name: str, key: str) -> Stored | None:
        raw = await self._plain(self._data, "LINDEX", self._keys.state(map_name, key), 0)
        return None if raw is None else _stored(raw)

    async def state_get(self, map_name: str, key: str) -> Entry | None:
        cur = await self._current(map_name, key)
        return None if cur is None else cur.entry()

    async def state_set(
        self,
        map_name: str,
        key: str,
        value: str,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
    ) -> Entry:
        fence_name, fence_token = fence if fence is not None else ("", 0)
        expected = "" if expected_version is None else expected_version
        floors = () if fence is None else (f"{self._keys.prefix}floors",)
        reply = await self._state_eval(
            _SET, map_name, key, value, agent, expected, fence_name, fence_token, *floors
        )
        if reply[0] == 0:
            return Entry(_json.loads(value), reply[1], agent, float(reply[2]))
        if reply[0] == 4:
            raise StaleFence(map_name, key, fence_token, int(reply[1]), revoked=True)
        raise _refused(reply, map_name, key, expected_version, fence)

    async def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        number = repr(int(delta)) if isinstance(delta, int) else repr(float(delta))
        reply = await self._state_eval(_INCR, map_name, key, number, agent)
        if reply[0] == 0:
            return Entry(_json.loads(reply[3].decode()), reply[1], agent, float(reply[2]))
        if reply[0] == 3:
            raise _refused(reply, map_name, key, None, None)
        return await self._incr_exactly(map_name, key, delta, agent)

    async def _incr_exactly(
        self, map_name: str, key: str, delta: int | float, agent: str
    ) -> Entry:
        """Beyond exact double arithmetic: Python numbers, written by compare-and-set."""
        while True:
            cur = await self._current(map_name, key)
            try:
                text = incremented(cur, delta)
            except Refused as exc:
                raise RecordBackend._refusal(exc, map_name, key, cur, None, None) from None
            version = cur.version if cur is not None and cur.value is not None else 0
            try:
                return await self.state_set(map_name, key, text, agent, version, None)
            except VersionConflict:
                continue

    async def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        expected = "" if expected_version is None else expected_version
        reply = await self._state_eval(_DELETE, map_name, key, agent, expected)
        if isinstance(reply, list):
            raise _refused([1, *reply], map_name, key, expected_version, None)
        return bool(reply)

    async def state_keys(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        limit = min(limit, PAGE_MAX)
        live = self._keys.live_keys(map_name)
        raw = await self._plain(self._data, "ZRANGEBYLEX", live, *_lex_range(prefix, after),
                                "LIMIT", 0, limit + 1)
        names = [name.decode() for name in raw]
        return names[:limit], _cursor(names, limit)

    async def state_items(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[tuple[str, Entry]], str | None]:
        limit = min(limit, PAGE_MAX)
        keys = self._keys
        index, base = [keys.live_keys(map_name)], keys.state_base(map_name)
        first, last = _lex_range(prefix, after)
        flat = await self._eval(self._data, _ITEMS, index, base, first, last, limit + 1)
        pairs = zip(flat[::2], flat[1::2], strict=True)
        found = [(name.decode(), _stored(raw).version_entry()) for name, raw in pairs]
        return found[:limit], _cursor([name for name, _ in found], limit)

    async def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        if limit <= 0:
            return []
        versions = self._keys.state(map_name, key)
        last = min(limit, HISTORY_KEEP) - 1
        raw = await self._plain(self._data, "LRANGE", versions, 0, last)
        return [_stored(r).version_entry() for r in raw]

    # rate limits -----------------------------------------------------------------------
    async def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        keys = self._keys
        tat = [f"{keys.prefix}rate:{key}"]
        reply = await self._eval(self._leases, _RATE, tat, interval, burst, cost, int(consume))
        return 0.0 if reply == 0 else float(reply)

    # lifecycle -------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close every connection of this event loop (and forget those of closed
        loops). Idempotent."""
        here = current_loop()
        for loop in list(self._pools):
            if loop is here:
                for conns in self._pools.pop(loop):
                    await conns.aclose()
            elif loop_closed(loop):
                for conns in self._pools.pop(loop):
                    conns.forget()


_live: weakref.WeakSet[AsyncRedisBackend] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    """In a forked child, the inherited sockets belong to the parent."""
    for backend in list(_live):
        for pair in backend._pools.values():
            for conns in pair:
                conns.idle.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_connections)

