# Generated from src/accord/backends/redis/_async.py by scripts/unasync.py: do not edit.
"""``redis://`` and ``rediss://``: many machines, one Redis (async source).

``_sync.py`` is generated from this file by ``scripts/unasync.py``; the few things
that differ (the mailbox's and the event log's blocking reads) live in the
hand-written ``_*_io.py`` pair. The event operations are in ``_sync_events.py``.

Design: keys and scripts
------------------------
Every key of a namespace starts with ``accord:{<ns>}:``: one hash tag, so every
multi-key script touches one Redis Cluster slot. Braces and ``%`` in the namespace
are %-escaped so the tag stays whole.

==========================  ===================================================
``lease:<key>``             hash: ``token`` (never reset), ``limit``, and
                            ``h:<holder>`` = expiry, token, agent per holder
``queue:<key>``             list of waiter ids, first come first served
``waiter:<key>``            hash: waiter id -> expiry, ttl, holder, agent
``waits``                   hash: holder -> the lease key it queues for (deadlocks)
``leases``                  sorted set (by name) of every lease key, for listing
``mb:<waiter>``             list: the mailbox a hand-off pushes the token to
``state:<n>:<map>:<key>``   list of versions, newest first (``n`` = len(map))
``keys:<map>``              sorted set (by name) of the map's live keys
``rate:<key>``              the GCRA theoretical arrival time
``events``                  stream: the event log, its consumer groups
``barrier:<name>``          list: the mailbox ids waiting in the current round
==========================  ===================================================

Each lease, state, rate-limit, post and barrier operation is one Lua script in ``lua/``
that applies the rules of ``_core`` (``_core_events``) with the server clock
(``TIME``), after the helpers it shares with its kind (``lua/_leases.lua``,
``_state.lua``, ``_barrier.lua``). It is called by SHA: one round trip, with
``EVAL`` (which caches the script) only after a ``NOSCRIPT`` reply, e.g. after a
restart. A hand-off pushes the token to the waiter's mailbox in the same script.
A script declares the key it is routed by; the other keys it touches carry the same
hash tag, so they are in the same slot. The event log needs no script: each of its
operations is one stream command (``XADD``, ``XREAD``...), and a group read two
(``XAUTOCLAIM``, then ``XREADGROUP``); see ``_sync_events.py``.

Connections come from two redis-py pools and are kept by the backend between calls
(checked for a dead peer before reuse). Lease, rate-limit, mailbox, barrier and
event-append commands are O(1) and use a 1 s reply timeout, so a waiter learns at
once that the store is gone; state, listings and event reads use 5 s, and a blocking
read (``XREAD BLOCK``) its wait plus 1 s, on a connection it holds for itself. Any
failure to reach the server raises ``BackendUnavailable``; nothing is retried, so no
write runs twice.

Redis Cluster: every key of a namespace is in one hash slot, so one node serves all
of it. The URL may name any node: a ``MOVED`` reply (the command did not run) sends
both connection sets to the node it names, and the command is sent there. A slot
being migrated (``ASK``, ``TRYAGAIN``) or a cluster that is down raises
``BackendUnavailable``, as any other outage.
"""

from __future__ import annotations

import os
import weakref
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from redis import ConnectionPool
from redis.retry import Retry
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
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from accord import _json
from accord._models import (
    AcquireResult,
    Deadlocked,
    Entry,
    Granted,
    HolderInfo,
    LeaseRequest,
    LeaseStatistics,
    Waiting,
)
from accord.backends import redact
from accord.backends._sync.protocol import Mailbox
from accord.backends._core import HISTORY_KEEP, Refused, Stored, incremented
from accord.backends._records import RecordBackend
from accord.backends.redis._sync_events import RedisEvents
from accord.backends.redis._sync_io import RedisMailbox, read_blocking
from accord.backends.redis._lua import Script
from accord.errors import BackendUnavailable, ConfigError, VersionConflict

SOCKET_TIMEOUT = 5.0
CONNECT_TIMEOUT = 2.0
LEASE_TIMEOUT = 1.0  # replies to lease, rate-limit, mailbox and event-append commands
BLOCK_MARGIN = 1.0  # a blocking read's reply is late this long after the server's wait
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


_ACQUIRE, _RELEASE, _ABANDON, _LEASES = (
    Script(name, "_leases") for name in ["acquire", "release", "abandon", "leases"]
)
_EXTEND = Script("extend")
_SET, _INCR, _DELETE, _ITEMS = (
    Script(name, "_state") for name in ["state_set", "state_incr", "state_delete", "state_items"]
)
_RATE = Script("rate")


class _Keys:
    """The key names of one namespace, all under one hash tag."""

    def __init__(self, namespace: str) -> None:
        tag = namespace.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
        self.prefix = p = f"accord:{{{tag}}}:"
        self.leases = f"{p}leases"
        self.events = f"{p}events"

    def lease(self, key: str) -> str:
        return f"{self.prefix}lease:{key}"

    def state_base(self, map_name: str) -> str:
        return f"{self.prefix}state:{len(map_name)}:{map_name}:"

    def state(self, map_name: str, key: str) -> str:
        return self.state_base(map_name) + key

    def live_keys(self, map_name: str) -> str:
        return f"{self.prefix}keys:{map_name}"

    def barrier(self, name: str) -> str:
        return f"{self.prefix}barrier:{name}"


def _open_pool(url: str, shown: str, timeout: float) -> ConnectionPool:
    try:
        db = urlsplit(url).path.strip("/")
        if db and not db.isdigit():
            raise ValueError(f"the database must be a number, not {db!r}")
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


def _tls_hint(error: str, url: str) -> str:
    """What to change when ``error`` looks like TLS on one side only, or an untrusted
    certificate (the usual first-day mistakes with ``rediss://``)."""
    if "CERTIFICATE_VERIFY_FAILED" in error:
        return (
            "; the server's certificate is not trusted here: name its CA in the URL "
            "(rediss://...?ssl_ca_certs=/path/to/ca.pem)"
        )
    tls = url.startswith("rediss:")
    if tls and ("Timeout connecting" in error or "WRONG_VERSION_NUMBER" in error):
        return "; if the server does not speak TLS, use redis:// instead of rediss://"
    if not tls and ("reset by peer" in error or "closed by server" in error):
        return "; if the server speaks only TLS, use rediss:// instead of redis://"
    return ""


def _scrub(text: str, url: str) -> str:
    """``text`` without the URL's password, wherever a library may have put it."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


def _us(seconds: float) -> int:
    return max(1, round(seconds * 1_000_000))


def _stored(raw: bytes) -> Stored:
    """A version as ``lua/_state.lua`` writes it."""
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
        HolderInfo(flat[i].decode(), flat[i + 1].decode(), flat[i + 2], flat[i + 3] / 1e6)
        for i in range(0, len(flat), 4)
    )
    return LeaseStatistics(name, kind, limit, holders, tuple(w.decode() for w in waiters), token)


def _acquired(reply: list[Any]) -> AcquireResult:
    if reply[0] == 1:
        return Granted(reply[1], reply[2] / 1e6)
    if reply[0] == 2:
        return Waiting(reply[1].decode() or None, reply[2] / 1e6)
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

    def __init__(self, url: str, shown: str, timeout: float) -> None:
        self._shown, self._timeout = shown, timeout
        self.idle: list[Any] = []
        self._open(url)

    def _open(self, url: str) -> None:
        self.url = url
        self.pool: Any = _open_pool(url, self._shown, self._timeout)
        self.pool.connection_kwargs["decode_responses"] = False  # replies are parsed as bytes
        kwargs = self.pool.connection_kwargs
        self.address = (kwargs.get("host"), kwargs.get("port"))

    def move(self, host: str, port: int) -> None:
        """Talk to the server at ``host:port`` from now on (a Cluster node); connections
        to the old one are closed as they come back."""
        if (host, port) != self.address:
            self._open(_at(self.url, host, port))
            stale, self.idle = self.idle, []  # one swap: other threads may check out now
            for conn in stale:
                conn.disconnect()

    def checkout(self) -> Any:
        """A live connection for one caller: an idle one, else a new one."""
        while self.idle:
            conn = self.idle.pop()
            if (getattr(conn, "host", None), getattr(conn, "port", None)) != self.address:
                conn.disconnect()  # to a server this was moved away from
                continue
            try:
                stale = conn.can_read()  # data or EOF while idle: the server went away
            except RedisConnectionError:
                stale = True
            if stale:
                conn.disconnect()
                conn.connect()
            return conn
        return self.pool.get_connection()

    def checkin(self, conn: Any) -> None:
        """Keep ``conn`` for the next call (redis-py disconnects it after any error)."""
        self.idle.append(conn)

    def close(self) -> None:
        for conn in self.idle:
            conn.disconnect()
        self.idle.clear()
        self.pool.close()


def _at(url: str, host: str, port: int) -> str:
    """``url`` with another host and port (its credentials, database and options kept)."""
    parts = urlsplit(url)
    auth, _, _ = parts.netloc.rpartition("@")
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=f"{auth}@{where}" if auth else where))


class RedisBackend(RedisEvents):
    """The Redis store, bound to one namespace; see the module docstring."""

    name = "redis"

    def __init__(self, url: str, namespace: str) -> None:
        self.namespace = namespace
        self._url = _scrub(redact(url), url)
        self._raw_url = url
        self._leases = _Connections(url, self._url, LEASE_TIMEOUT)
        self._data = _Connections(url, self._url, SOCKET_TIMEOUT)
        self._keys = _Keys(namespace)
        self._reclaims: dict[str, tuple[str, float]] = {}
        _live.add(self)

    def __repr__(self) -> str:
        return f"<RedisBackend {self._url} namespace={self.namespace!r}>"

    # one round trip ------------------------------------------------------------------
    def _command(
        self, conns: _Connections, *args: Any, wait: float = 0.0, moves: int = MAX_MOVES
    ) -> Any:
        """``wait`` > 0: a command the server may hold up to ``wait`` seconds."""
        try:
            conn = conns.checkout()
            try:
                conn.send_command(*args)
                if wait > 0:
                    return read_blocking(conn, wait + BLOCK_MARGIN)
                return conn.read_response()
            finally:
                conns.checkin(conn)
        except MovedError as exc:  # a Cluster node that does not serve our slot: not run
            if not moves:
                raise self._unavailable(exc) from exc
            self._leases.move(exc.host, exc.port)
            self._data.move(exc.host, exc.port)
            return self._command(conns, *args, wait=wait, moves=moves - 1)
        except RedisError as exc:
            if isinstance(exc, _DOWN) or str(exc).startswith(_DOWN_CODES):
                raise self._unavailable(exc) from exc
            if "not allowed in cluster mode" in str(exc):  # SELECT of a database but 0
                raise ConfigError(
                    f"{self._url} is a Redis Cluster node, and a Cluster has only database "
                    "0: end the URL with /0"
                ) from None
            raise

    def _eval(self, conns: _Connections, script: Script, keys: list[str], *args: Any) -> Any:
        try:
            return self._command(conns, "EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:  # a restarted or flushed server: EVAL runs and caches it
            return self._command(conns, "EVAL", script.source, len(keys), *keys, *args)

    def _lease_eval(self, script: Script, key: str, *args: Any) -> Any:
        """A lease script: KEYS the lease hash; ARGV prefix, key, *args."""
        keys = self._keys
        return self._eval(self._leases, script, [keys.lease(key)], keys.prefix, key, *args)

    def _state_eval(self, script: Script, map_name: str, key: str, *args: Any) -> Any:
        """A state script: KEYS the versions list; ARGV the live-keys set, key, *args."""
        keys = self._keys
        versions, live = keys.state(map_name, key), keys.live_keys(map_name)
        return self._eval(self._data, script, [versions], live, key, *args)

    def _unavailable(self, exc: RedisError) -> BackendUnavailable:
        detail = _scrub(f"{self._url}: {type(exc).__name__}: {exc}", self._raw_url)
        return BackendUnavailable("redis", detail + _tls_hint(str(exc), self._raw_url))

    def open_mailbox(self) -> Mailbox:
        return RedisMailbox(self, self._keys.prefix)

    # leases ----------------------------------------------------------------------------
    def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        flags = (req.limit, int(req.wait), int(detect_deadlock))
        reply = self._lease_eval(
            _ACQUIRE, req.key, req.holder, req.agent, req.waiter, _us(req.ttl), *flags
        )
        if isinstance(reply, int):
            return Granted(reply, req.ttl)
        return _acquired(reply)

    def release(self, key: str, holder: str, token: int) -> bool:
        return bool(self._lease_eval(_RELEASE, key, holder, token))

    def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        return bool(self._lease_eval(_EXTEND, key, holder, token, _us(ttl)))

    def abandon(self, key: str, waiter: str, holder: str) -> None:
        self._lease_eval(_ABANDON, key, waiter, holder)

    def lease_statistics(self, key: str) -> LeaseStatistics:
        keys = self._keys
        rows = self._eval(self._data, _LEASES, [keys.lease(key)], keys.prefix, "key", key)
        return _statistics(rows[0])

    def list_leases(self, prefix: str) -> list[LeaseStatistics]:
        keys = self._keys
        rows = self._eval(self._data, _LEASES, [keys.leases], keys.prefix, "prefix", prefix)
        return [_statistics(row) for row in rows]

    # versioned state -------------------------------------------------------------------
    def _current(self, map_name: str, key: str) -> Stored | None:
        raw = self._command(self._data, "LINDEX", self._keys.state(map_name, key), 0)
        return None if raw is None else _stored(raw)

    def state_get(self, map_name: str, key: str) -> Entry | None:
        cur = self._current(map_name, key)
        return None if cur is None else cur.entry()

    def state_set(
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
        reply = self._state_eval(
            _SET, map_name, key, value, agent, expected, fence_name, fence_token
        )
        if reply[0] == 0:
            return Entry(_json.loads(value), reply[1], agent, float(reply[2]))
        raise _refused(reply, map_name, key, expected_version, fence)

    def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        number = repr(int(delta)) if isinstance(delta, int) else repr(float(delta))
        reply = self._state_eval(_INCR, map_name, key, number, agent)
        if reply[0] == 0:
            return Entry(_json.loads(reply[3].decode()), reply[1], agent, float(reply[2]))
        if reply[0] == 3:
            raise _refused(reply, map_name, key, None, None)
        return self._incr_exactly(map_name, key, delta, agent)

    def _incr_exactly(
        self, map_name: str, key: str, delta: int | float, agent: str
    ) -> Entry:
        """Beyond exact double arithmetic: Python numbers, written by compare-and-set."""
        while True:
            cur = self._current(map_name, key)
            try:
                text = incremented(cur, delta)
            except Refused as exc:
                raise RecordBackend._refusal(exc, map_name, key, cur, None, None) from None
            version = cur.version if cur is not None and cur.value is not None else 0
            try:
                return self.state_set(map_name, key, text, agent, version, None)
            except VersionConflict:
                continue

    def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        expected = "" if expected_version is None else expected_version
        reply = self._state_eval(_DELETE, map_name, key, agent, expected)
        if isinstance(reply, list):
            raise _refused([1, *reply], map_name, key, expected_version, None)
        return bool(reply)

    def state_items(self, map_name: str, prefix: str) -> list[tuple[str, Entry]]:
        keys = self._keys
        index, base = [keys.live_keys(map_name)], keys.state_base(map_name)
        flat = self._eval(self._data, _ITEMS, index, base, prefix)
        pairs = zip(flat[::2], flat[1::2], strict=True)
        return [(name.decode(), _stored(raw).version_entry()) for name, raw in pairs]

    def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        if limit <= 0:
            return []
        versions = self._keys.state(map_name, key)
        last = min(limit, HISTORY_KEEP) - 1
        raw = self._command(self._data, "LRANGE", versions, 0, last)
        return [_stored(r).version_entry() for r in raw]

    # rate limits -----------------------------------------------------------------------
    def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        keys = self._keys
        tat = [f"{keys.prefix}rate:{key}"]
        reply = self._eval(self._leases, _RATE, tat, interval, burst, cost, int(consume))
        return 0.0 if reply == 0 else float(reply)

    # lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close every connection. Idempotent."""
        self._leases.close()
        self._data.close()


_live: weakref.WeakSet[RedisBackend] = weakref.WeakSet()


def _forget_parent_connections() -> None:
    """In a forked child, the inherited sockets belong to the parent."""
    for backend in list(_live):
        backend._leases.idle.clear()
        backend._data.idle.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_connections)

