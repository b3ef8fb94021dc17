# Generated from src/accord/backends/redis/_async_events.py by scripts/unasync.py: do not edit.
"""The event log on Redis (async source): a stream, consumer groups, posts, barriers.

``_sync_events.py`` is generated from this file by ``scripts/unasync.py``; the
backend class mixes :class:`RedisEvents` in.

Design
------
The log is one stream, ``events``, under the namespace's hash tag. An event is an
entry with the fields ``name``, ``data`` and ``source``; its id is the stream id
``<ms>-<seq>`` the server gives it, and its time is that millisecond of the server
clock. ``XADD ... MAXLEN n`` appends and trims the oldest beyond ``n`` exactly, in
one command, run by a script that first refuses it in a halted namespace.

* A reader with nothing to read waits in ``XREAD BLOCK``, which the server answers
  the moment an entry is added: an idle reader costs one blocked client and one
  command per wait. The server times the wait (``BLOCK`` is never 0, which means
  forever); the client gives up a margin later, on the connection the read holds
  for itself, so a vanished server is noticed.
* A consumer group is a stream consumer group, created at the end of the log; each
  coordinator reads under a name of its own, and joining a group forgets the members
  that hold no claims and were idle for ``FORGET_CONSUMERS_AFTER`` seconds.
  ``group_read`` first takes over the claims left unacknowledged for
  ``visibility`` seconds (``XAUTOCLAIM``, which also reports claims whose entry was
  trimmed), then reads new entries (``XREADGROUP ... >``). A group that vanished
  (a restart without persistence, a flushed database) is created again from the
  oldest entry kept, so nothing appended since is skipped.
* ``post`` pushes to a mailbox list with the hand-off's expiry; each barrier step
  is one script (``leases/lua/barrier_*.lua``) over the list of the round's waiters.

Appends, acknowledgements, posts and barriers get the 1 s reply timeout of the
other O(1) commands; reads, listings and group creation get 5 s.
"""

from __future__ import annotations

import re
import time
from typing import Any

from redis.exceptions import RedisError

from accord._event import EventRecord
from accord.backends.redis._sync_host import RedisHost, C
from accord.backends.redis._lua import Script
from accord.errors import ConfigError, Halted

HISTORY_CHUNK = 1000  # entries per XREVRANGE while history filters
RECLAIM_GAP, MAX_RECLAIM_GAP = 0.1, 1.0  # of visibility, seconds: see _reclaim
_GROUP_READS = ("XAUTOCLAIM", "XREADGROUP")
_LOST = ("NOGROUP", "UNBLOCKED")  # the group or the whole log is gone (or we were unblocked)
_ID = re.compile(r"[0-9]{1,19}(-[0-9]{1,19})?")  # below 2**64 on both sides
_POST, _PRUNE, _NEXT = Script("post"), Script("group_prune"), Script("group_next")
_APPEND = Script("append")  # XADD, unless the namespace is halted
FORGET_CONSUMERS_AFTER = 3600.0
"""Seconds idle (in the server's XINFO sense) after which a group member holding no
claims is forgotten; one that is only quiet is made again by its next read."""
_ARRIVE, _BREAK = Script("barrier_arrive", "_barrier"), Script("barrier_break", "_barrier")


class _GroupLost(Exception):
    """A group read found its group gone: a restart without persistence, a flush."""


def _time(event_id: str) -> float:
    return int(event_id.partition("-")[0]) / 1000


def _record(entry: list[Any]) -> EventRecord:
    raw_id, flat = entry
    event_id = raw_id.decode()
    fields = dict(zip(flat[::2], flat[1::2], strict=True))
    name, data, source = (fields[f].decode() for f in (b"name", b"data", b"source"))
    return EventRecord(event_id, name, data, source, _time(event_id))


def _entries(reply: Any) -> list[EventRecord]:
    """The events of an XREAD/XREADGROUP reply: RESP3 maps the key to its entries,
    RESP2 pairs them; None when nothing came."""
    if not reply:
        return []
    rows = next(iter(reply.values())) if isinstance(reply, dict) else reply[0][1]
    return [_record(e) for e in rows]


def _event_id(after: str | None) -> str:
    if after is None:
        return "0-0"
    if not isinstance(after, str) or not _ID.fullmatch(after):
        raise ConfigError(
            f"event id {after!r} is not an event id of this store: on Redis an id is an "
            "Event's .id, <digits>-<digits> ('1700000000000-3'), each part below 2**64"
        )
    return after


def _block(timeout: float) -> list[Any]:
    """The BLOCK clause of a read that may wait ``timeout`` seconds (none for 0)."""
    return ["BLOCK", max(1, round(timeout * 1000))] if timeout > 0 else []


class RedisEvents(RedisHost[C]):
    """The event operations of the seam, for ``RedisBackend`` (``C``: its
    connection sets, which these operations only hand back to it)."""

    _reclaims: dict[str, tuple[str, float]]  # group -> next XAUTOCLAIM start, when due

    def _stream(self, conns: C, *args: Any, wait: float = 0.0) -> Any:
        """One stream command. An error reply is the store failing us, except that a
        group read whose group is gone raises _GroupLost."""
        try:
            return self._command(conns, *args, wait=wait)
        except RedisError as exc:
            if args[0] in _GROUP_READS and str(exc).startswith(_LOST):
                raise _GroupLost() from exc
            raise self._unavailable(exc) from exc

    def _script(self, script: Script, keys: list[str], *args: Any) -> Any:
        """One O(1) script; any error reply is the store failing us."""
        try:
            return self._eval(self._leases, script, keys, *args)
        except RedisError as exc:
            raise self._unavailable(exc) from exc

    # the log ---------------------------------------------------------------------
    def event_append(
        self, name: str, data: str, source: str, max_events: int
    ) -> EventRecord:
        keys = [self._keys.events, f"{self._keys.prefix}halt"]
        reply = self._script(_APPEND, keys, max_events, name, data, source)
        if reply[0] == 1:
            raise Halted(self.namespace, reply[1].decode())
        event_id = reply[1].decode()
        return EventRecord(event_id, name, data, source, _time(event_id))

    def event_read(self, after: str | None, limit: int, timeout: float) -> list[EventRecord]:
        args = ("COUNT", limit, *_block(timeout), "STREAMS", self._keys.events, _event_id(after))
        return _entries(self._stream(self._data, "XREAD", *args, wait=max(timeout, 0.0)))

    def event_tail(self) -> str:
        events = self._keys.events
        newest = self._stream(self._data, "XREVRANGE", events, "+", "-", "COUNT", 1)
        return newest[0][0].decode() if newest else "0-0"

    def event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        found: list[EventRecord] = []
        chunk = limit if name is None and source is None else max(limit, HISTORY_CHUNK)
        end = "+"
        while len(found) < limit:
            rows = self._stream(
                self._data, "XREVRANGE", self._keys.events, end, "-", "COUNT", chunk
            )
            for record in map(_record, rows):
                if (name is None or record.name == name) and source in (None, record.source):
                    found.append(record)
            if len(rows) < chunk:
                break
            end = "(" + rows[-1][0].decode()
        return found[:limit]

    # consumer groups ---------------------------------------------------------------
    def group_create(self, group: str) -> None:
        self._create_group(group, "$")
        idle_ms = round(FORGET_CONSUMERS_AFTER * 1000)
        self._script(_PRUNE, [self._keys.events], group, idle_ms)

    def _create_group(self, group: str, start: str) -> None:
        events = self._keys.events
        try:
            self._command(self._data, "XGROUP", "CREATE", events, group, start, "MKSTREAM")
        except RedisError as exc:
            if not str(exc).startswith("BUSYGROUP"):  # BUSYGROUP: it exists, fine
                raise self._unavailable(exc) from exc

    def group_read(
        self, group: str, consumer: str, visibility: float, limit: int, timeout: float,
        skip_to: str | None = None,
    ) -> list[EventRecord]:
        try:
            found = self._reclaim(group, consumer, visibility, limit)
            if len(found) < limit:
                wait = 0.0 if found else timeout
                if skip_to is None or wait > 0:
                    found += self._read_new(group, consumer, limit - len(found), wait)
                else:
                    found += self._skip_and_read(group, consumer, limit - len(found), skip_to)
            return found
        except _GroupLost:  # from what the log holds now: everything since it was lost
            self._create_group(group, "0")
            return []

    def _reclaim(
        self, group: str, consumer: str, visibility: float, limit: int
    ) -> list[EventRecord]:
        """Take over claims idle for ``visibility`` seconds, oldest first.

        A scan of the group's pending claims costs the server up to ten entries per
        claim it may return, and a busy group has many claims, none expired: so a new
        scan starts at most every ``visibility * RECLAIM_GAP`` seconds (an expired
        claim is re-delivered that much later at most), not on every read.
        """
        start, due = self._reclaims.get(group, ("0-0", 0.0))
        if start == "0-0" and time.monotonic() < due:
            return []
        idle = max(1, round(visibility * 1000))
        reply = self._stream(
            self._data, "XAUTOCLAIM", self._keys.events, group, consumer, idle, start,
            "COUNT", limit,
        )  # fmt: skip
        gap = min(visibility * RECLAIM_GAP, MAX_RECLAIM_GAP)
        self._reclaims[group] = (reply[0].decode(), time.monotonic() + gap)
        gone = [e[0] for e in reply[1] if e[1] is None] + list(reply[2] if len(reply) > 2 else [])
        if gone:  # trimmed by retention: nothing left to deliver (Redis 7 drops them itself)
            self.group_ack(group, [g.decode() for g in gone])
        return [_record(e) for e in reply[1] if e[1] is not None]

    def _read_new(
        self, group: str, consumer: str, limit: int, timeout: float
    ) -> list[EventRecord]:
        args = ("GROUP", group, consumer, "COUNT", limit, *_block(timeout))
        reply = self._stream(
            self._data, "XREADGROUP", *args, "STREAMS", self._keys.events, ">", wait=timeout
        )
        return _entries(reply)

    def _skip_and_read(
        self, group: str, consumer: str, limit: int, skip_to: str
    ) -> list[EventRecord]:
        """``_read_new`` without waiting, past the entries up to ``skip_to`` (one
        script, ``lua/group_next.lua``)."""
        skip = _event_id(skip_to)
        if "-" not in skip:
            skip += "-0"
        reply = self._script(_NEXT, [self._keys.events], group, consumer, limit, skip)
        if reply == -1:
            raise _GroupLost()
        return [_record(e) for e in reply]

    def group_ack(self, group: str, ids: list[str]) -> None:
        if ids:
            self._stream(self._leases, "XACK", self._keys.events, group, *map(_event_id, ids))

    # mailboxes and barriers --------------------------------------------------------
    def post(self, mailbox: str, message: str) -> None:
        if not message:
            raise ValueError("a posted message must not be empty (an empty one is a nudge)")
        self._script(_POST, [f"{self._keys.prefix}mb:{mailbox}"], message)

    def interrupt_reads(self) -> bool:
        """Nothing to do here: a read blocked in the server ends when close()
        disconnects the pool."""
        return False

    def barrier_arrive(self, name: str, parties: int, waiter: str) -> int:
        keys = self._keys
        index: int = self._script(_ARRIVE, [keys.barrier(name)], keys.prefix, parties, waiter)
        return index

    def barrier_break(self, name: str, waiter: str) -> bool:
        keys = self._keys
        return bool(self._script(_BREAK, [keys.barrier(name)], keys.prefix, waiter))
