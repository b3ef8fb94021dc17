"""``sqlite:///path``: one file shared by every process on one machine.

Each seam operation is one transaction on the calling thread's own connection:
``BEGIN IMMEDIATE`` for a change, a plain (deferred) ``BEGIN`` for a read, which in
WAL mode never waits for a writer nor makes one wait. Two common changes take one
statement instead, which SQLite runs as a transaction of its own: an uncontended
lease operation (``_lease_step``) and a state write to a key this process has seen
(``_write``); both apply the same rules. WAL with ``synchronous=NORMAL`` means a
writer killed mid-way loses its unfinished transaction and nothing else. A database
busy with another writer is waited for here; an error SQLite cannot get past
(unreadable, corrupt, disk full) raises ``BackendUnavailable`` and the transaction is
rolled back.

Time is the machine's monotonic clock, which every process shares but which restarts
at boot, so the file remembers the boot it was written in: on a new boot every
holder, waiter, rate-limit time and group claim is dropped (fencing tokens, state and
events survive).

Wake-ups across processes go through named pipes in ``<db>.wake/`` (see
:mod:`accord.backends._pipes`): a lock hand-off posts the new holder's token to its
mailbox; an append rings every bell of the namespace. A waiter that died leaves a
slot that is back after its ttl; the next waiter is nudged (an empty message) to ask
again then rather than at its usual re-check (the wait loop in ``_lease.py``).
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar, cast

from accord import _json
from accord._event import EventRecord
from accord._models import AcquireResult, LeaseRequest
from accord.backends._adapter import AsyncEventRecordBackend, Runner, in_thread
from accord.backends._capabilities import CAPABILITIES
from accord.backends._pipes import (
    AsyncFifoMailbox,
    FifoMailbox,
    bell_prefix,
    post,
    ring,
    sweep,
)
from accord.backends._records import RecordStore, event_id
from accord.backends._sql import queries
from accord.backends._sqlite_file import (
    CHECKPOINT_EVERY,
    SCHEMA_VERSION,
    Connection,
    SqliteFile,
    WouldBlock,
)
from accord.backends.agents.sqlite import SqliteAgentStorage
from accord.backends.approvals.sqlite import SqliteApprovals
from accord.backends.events.rule import GroupRecord
from accord.backends.leases import rule as _lease
from accord.backends.leases.barrier import BarrierRecord
from accord.backends.leases.holders import INLINE_MAX
from accord.backends.leases.rule import LeaseRecord
from accord.backends.leases.sqlite_holders import RowHolders, placed, record_text
from accord.backends.signals.rule import Signal
from accord.backends.state import rule as _state
from accord.backends.state.rule import HISTORY_KEEP, Refused, Stored, page_start
from accord.backends.streams.sqlite import SqliteStreams
from accord.backends.tasks._sqlite import SqliteTasks, forget_boot

_FULL = object()  # a lease step that needs the full transaction
_PARSED_LIMIT = 64  # lease records a connection keeps decoded (see _apply_step)
_ROWED_LIMIT = 4096  # keys of leases with holders in rows a backend remembers
T = TypeVar("T")
LeaseStep = Callable[[LeaseRecord, float], tuple[Any, "list[Signal] | None"]]
_BLOB_MAX = b"\xff"  # every TEXT value sorts below any BLOB: "no upper bound"

# The SQL of each feature, from its queries.sql (named there in lower case).
_LEASES, _STATE, _RATES, _EVENTS = (queries(f) for f in ("leases", "state", "rates", "events"))
LOAD_LEASE, SAVE_LEASE = _LEASES["LOAD_LEASE"], _LEASES["SAVE_LEASE"]
STEP_LEASE, LEASE_KEYS = _LEASES["STEP_LEASE"], _LEASES["LEASE_KEYS"]  # see _lease_step
UNLIST_LEASE = _LEASES["UNLIST_LEASE"]
LOAD_WAIT, SAVE_WAIT, DROP_WAIT = _LEASES["LOAD_WAIT"], _LEASES["SAVE_WAIT"], _LEASES["DROP_WAIT"]
LOAD_BARRIER, SAVE_BARRIER = _LEASES["LOAD_BARRIER"], _LEASES["SAVE_BARRIER"]
LOAD_CURRENT, LOAD_HISTORY = _STATE["LOAD_CURRENT"], _STATE["LOAD_HISTORY"]
SAVE_VERSION, KEY_PAGE, ITEM_PAGE = (_STATE[q] for q in ("SAVE_VERSION", "KEY_PAGE", "ITEM_PAGE"))
SAVE_FENCED = _STATE["SAVE_FENCED_VERSION"]
LOAD_TAT, SAVE_TAT = _RATES["LOAD_TAT"], _RATES["SAVE_TAT"]
LAST_EVENT, SAVE_EVENT = _EVENTS["LAST_EVENT"], _EVENTS["SAVE_EVENT"]
TRIM_EVENTS, EVENTS_AFTER = _EVENTS["TRIM_EVENTS"], _EVENTS["EVENTS_AFTER"]
EVENT_BY_ID, EVENT_HISTORY = _EVENTS["EVENT_BY_ID"], _EVENTS["EVENT_HISTORY"]
LOAD_GROUP, SAVE_GROUP = _EVENTS["LOAD_GROUP"], _EVENTS["SAVE_GROUP"]
EXPIRED_CLAIMS, SAVE_CLAIM = _EVENTS["EXPIRED_CLAIMS"], _EVENTS["SAVE_CLAIM"]
DROP_CLAIM = _EVENTS["DROP_CLAIM"]

_dumps, _loads = _json.dumps_record, _json.loads


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


def _lease_records_as_arrays(conn: Connection) -> None:
    """Layout 0 to 1: a lease record in the object form of earlier builds becomes the
    array of ``LeaseRecord.to_json``."""
    rows = conn.execute("SELECT ns, key, record FROM leases WHERE record LIKE '{%'")
    for ns, key, text in rows.fetchall():
        old = json.loads(text)
        holders = [[k, *v] for k, v in old["holders"].items()]
        record = [old["limit"], old["token"], holders, old["queue"]]
        conn.execute(SAVE_LEASE, (ns, key, _dumps(record)))


def _list_live_leases(conn: Connection) -> None:
    """Layout 1 to 2: the leases with holders or waiters enter ``leases_listed``."""
    conn.execute(_LEASES["LIST_LIVE_LEASES"])


def _nothing_to_migrate(conn: Connection) -> None:
    """Layout 2 to 3: records of layout 2 read as they are (see SCHEMA_VERSION)."""


def _many_holders_in_rows(conn: Connection) -> None:
    """Layout 3 to 4: the holders of a lease with more than INLINE_MAX of them move
    from its record into ``lease_holders`` (``sqlite_holders.py``)."""
    cur = conn.cursor()
    rows = conn.execute("SELECT ns, key, record FROM leases").fetchall()
    for ns, key, text in rows:
        rec = LeaseRecord.from_json(json.loads(text))
        if len(rec.holders) > INLINE_MAX:
            rec.holders = placed(cur, ns, key, rec.holders)
            conn.execute(SAVE_LEASE, (ns, key, _dumps(rec.to_json())))


MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    0: _lease_records_as_arrays,
    1: _list_live_leases,
    2: _nothing_to_migrate,
    3: _many_holders_in_rows,
}
"""Each step from a layout version to the next (``_sqlite_file.SCHEMA_VERSION``)."""


class SqliteBackend(
    SqliteAgentStorage, SqliteFile, SqliteTasks, SqliteStreams, SqliteApprovals, RecordStore
):
    """The sync SQLite backend: records of one namespace in the file at ``path``."""

    name = "sqlite"
    capabilities = CAPABILITIES

    def __init__(self, path: Path, namespace: str) -> None:
        super().__init__(path)
        self.namespace = namespace
        self._bells = bell_prefix(namespace)
        self._newest = _Newest()
        # keys of leases seen with holders in rows, which the one-statement step leaves
        # to the transaction anyway (a hint: the step checks the record itself)
        self._rowed: set[str] = set()

    def __repr__(self) -> str:
        return f"<SqliteBackend {str(self.path)!r} namespace={self.namespace!r}>"

    # leases in one statement ----------------------------------------------------------
    # An uncontended lease operation changes its record and nothing else, so it runs as
    # one UPDATE whose accord_lease() applies the same lease rule to the stored record
    # (twice as fast as BEGIN, SELECT, UPDATE, COMMIT from Python). An operation that
    # would wake someone, a waiter, or a record not stored yet takes the transaction
    # of RecordBackend, which also keeps the wait-for graph and posts the wake-ups.

    def acquire(self, req: LeaseRequest, *, detect_deadlock: bool) -> AcquireResult:
        if not req.wait:
            done = self._lease_step(req.key, lambda rec, now: _lease.acquire(rec, req, now))
            if done is not _FULL:
                return cast(AcquireResult, done)
        return super().acquire(req, detect_deadlock=detect_deadlock)

    def release(self, key: str, holder: str, token: int) -> bool:
        def step(rec: LeaseRecord, now: float) -> tuple[bool, list[Signal] | None]:
            signals = _lease.release(rec, holder, token, now)
            return signals is not None, signals

        done = self._lease_step(key, step)
        return super().release(key, holder, token) if done is _FULL else bool(done)

    def extend(self, key: str, holder: str, token: int, ttl: float) -> bool:
        def step(rec: LeaseRecord, now: float) -> tuple[bool, list[Signal] | None]:
            ok = _lease.extend(rec, holder, token, ttl, now)
            return ok, [] if ok else None

        done = self._lease_step(key, step)
        return super().extend(key, holder, token, ttl) if done is _FULL else bool(done)

    def _lease_step(self, key: str, step: LeaseStep) -> object:
        """``step(record, now)`` on the stored lease ``key`` in one statement: its
        outcome, or _FULL when the transaction must do it. ``step`` returns (outcome,
        signals): signals None leaves the record as it was, [] saves it."""
        if key in self._rowed:
            return _FULL
        local = self._local
        local.step, local.outcome, local.step_key = step, _FULL, key
        self._write_one(STEP_LEASE, (self.namespace, key))
        return local.outcome

    def _apply_step(self, parsed: dict[str, LeaseRecord], text: str) -> str:
        """accord_lease(): the new record text (the old one when nothing changes).

        ``parsed`` maps the texts this connection saved to their records, so that the
        next step on a record nobody changed since skips decoding it (an uncontended
        lock cycle then runs 14 % fewer instructions). A lease whose holders are in
        rows, or that would have more than INLINE_MAX, is left to the transaction."""
        rec = parsed.pop(text, None)
        local = self._local
        if rec is None:
            data = _loads(text)
            if type(data[2]) is dict:  # holders in rows
                self._rowed.add(local.step_key)
                return text
            rec = LeaseRecord.from_json(data)
        outcome, signals = local.step(rec, self._now())
        if signals or rec.counted or len(rec.holders) > INLINE_MAX:
            return text  # a wake-up, a counter for metrics or rows: the transaction
        local.outcome = outcome
        if signals is None:
            return text
        new = record_text(rec)
        if len(parsed) >= _PARSED_LIMIT:
            parsed.clear()
        parsed[new] = rec  # an exact copy of the text: nothing changes rec after this
        return new

    def _configure(self, conn: Connection) -> None:
        super()._configure(conn)
        parsed: dict[str, LeaseRecord] = {}  # this connection's own, as its thread is
        conn.create_function("accord_lease", 1, functools.partial(self._apply_step, parsed))

    def _migrate(self, conn: Connection, found: int) -> None:
        for version in range(found, SCHEMA_VERSION):
            MIGRATIONS[version](conn)

    def _forget_boot(self, conn: Connection) -> None:
        """Monotonic times of another boot mean nothing now: drop holders, waiters and
        rates, and let every group claim expire (re-delivered to the next reader)."""
        for ns, key, text in conn.execute("SELECT ns, key, record FROM leases").fetchall():
            limit, token, *_ = json.loads(text)
            conn.execute(SAVE_LEASE, (ns, key, _dumps([limit, token, [], []])))
        conn.execute("DELETE FROM lease_holders")
        conn.execute("UPDATE group_claims SET deadline = 0")
        conn.execute("UPDATE agents SET expires_at = 0")  # every session of that boot lapsed
        for table in ("waits", "rates", "barriers"):  # barrier waiters died with the boot
            conn.execute(f"DELETE FROM {table}")
        forget_boot(conn)
        sweep(self.wake_dir)  # pipes of the old boot (not those opened already in this one)

    # clock --------------------------------------------------------------------------
    def _now(self) -> float:
        return time.monotonic()  # CLOCK_MONOTONIC: one clock for all processes

    def _wall(self) -> float:
        return time.time()

    # storage (always inside a transaction) ------------------------------------------
    def _load_json(self, sql: str, key: str) -> Any:
        """The JSON record at ``key``, remembered so that saving it unchanged is skipped."""
        row = self._local.cur.execute(sql, (self.namespace, key)).fetchone()
        if row is None:
            return None
        self._local.loaded[sql, key] = row[0]
        return _loads(row[0])

    def _save_json(self, load_sql: str, save_sql: str, key: str, data: object) -> None:
        text = _dumps(data)
        if self._local.loaded.get((load_sql, key)) != text:  # else a write of nothing new
            self._local.cur.execute(save_sql, (self.namespace, key, text))
            self._local.loaded[load_sql, key] = text

    def _load_lease(self, key: str) -> LeaseRecord | None:
        data = self._load_json(LOAD_LEASE, key)
        if data is None:
            return None
        if type(data[2]) is not dict:
            self._rowed.discard(key)
            return LeaseRecord.from_json(data)
        if len(self._rowed) >= _ROWED_LIMIT:
            self._rowed.clear()
        self._rowed.add(key)
        cur, ns = self._local.cur, self.namespace
        return LeaseRecord.from_json(data, lambda d: RowHolders(cur, ns, key, d))

    def _save_lease(self, key: str, rec: LeaseRecord) -> None:
        rec.holders = placed(self._local.cur, self.namespace, key, rec.holders)
        self._local.saved = _nudge(rec)  # read now, inside the transaction
        self._save_json(LOAD_LEASE, SAVE_LEASE, key, rec.to_json())

    def _lease_keys(self, prefix: str) -> Iterator[str]:
        rows = self._local.cur.execute(LEASE_KEYS, (self.namespace, *_prefix_range(prefix)))
        return iter([key for (key,) in rows.fetchall()])

    def _unlist(self, keys: list[str]) -> None:
        self._local.cur.executemany(UNLIST_LEASE, [(self.namespace, k) for k in keys])

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
        found = None if row is None else Stored(*row)
        self._newest.seen(map_name, key, found)
        return found

    def _load_history(self, map_name: str, key: str, limit: int) -> list[Stored]:
        where = (self.namespace, map_name, key, min(limit, HISTORY_KEEP))
        return [Stored(*row) for row in self._local.cur.execute(LOAD_HISTORY, where).fetchall()]

    def _append_version(self, map_name: str, key: str, version: Stored) -> None:
        self._local.cur.execute(SAVE_VERSION, self._version_row(map_name, key, version))
        self._newest.seen(map_name, key, version)

    def _version_row(self, map_name: str, key: str, v: Stored) -> tuple[Any, ...]:
        """SAVE_VERSION's bind values for ``v``."""
        return (self.namespace, map_name, key, v.value, v.version, v.updated_by,
                v.updated_at, v.fence_name or "", v.fence_token)

    # state writes in one statement -----------------------------------------------------
    # A write is decided by the state rule from the newest version this process saw of the
    # key (a version row never changes once written) and saved by one INSERT, which the
    # schema's trigger lets add a row only if that is still the newest. If someone wrote
    # in between, or the key was not seen here, or the rule refuses on what was seen, the
    # transaction of RecordBackend decides instead (and raises the refusal from what it
    # reads).

    def _write(
        self,
        map_name: str,
        key: str,
        value: str | None,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
        delta: int | float | None = None,
    ) -> Stored:
        seen = self._newest.get((map_name, key))
        if seen is not None:
            try:
                if delta is not None:
                    value = _state.incremented(seen, delta)
                new = _state.write(seen, value, agent, self._wall(), expected_version, fence)
            except Refused:
                pass
            else:
                row = self._version_row(map_name, key, new)
                if fence is not None:  # refused (nothing written) if its lease was revoked
                    if self._write_one(SAVE_FENCED, (*row, fence[0], fence[1])):
                        self._newest.seen(map_name, key, new)
                        return new
                elif self._write_one(SAVE_VERSION, row):
                    self._newest.seen(map_name, key, new)
                    return new
        # the transaction reads the newest version, and remembers it in _newest
        return super()._write(map_name, key, value, agent, expected_version, fence, delta)

    def _key_page(
        self, map_name: str, prefix: str, after: str | None, limit: int, values: bool
    ) -> tuple[list[tuple[str, Stored | None]], str | None]:
        start, inclusive = page_start(prefix, after)
        first = start if inclusive else start + "\0"  # the least string above ``start``
        bounds = (self.namespace, map_name, first, _prefix_range(prefix)[1], limit)
        rows = self._local.cur.execute(ITEM_PAGE if values else KEY_PAGE, bounds).fetchall()
        cursor = rows[-1][0] if len(rows) == limit else None
        if values:
            return [(key, Stored(*rest)) for key, *rest in rows if rest[0] is not None], cursor
        return [(key, None) for key, live in rows if live], cursor

    def _load_tat(self, key: str) -> float:
        row = self._local.cur.execute(LOAD_TAT, (self.namespace, key)).fetchone()
        return 0.0 if row is None else float(row[0])

    def _save_tat(self, key: str, tat: float) -> None:
        self._local.cur.execute(SAVE_TAT, (self.namespace, key, tat))

    # events -------------------------------------------------------------------------
    def _append_event(
        self, name: str, data: str, source: str, time: float, max_events: int
    ) -> EventRecord:
        cur, ns = self._local.cur, self.namespace
        event = self._event_tail() + 1
        cur.execute(SAVE_EVENT, (ns, event, name, data, source, time))
        self._local.loaded[LAST_EVENT, ns] = event  # the next append of this transaction
        keep = max(max_events, 1)  # the newest stays: the next id is counted from it
        if event > keep:  # ids are consecutive: one range of the primary key
            cur.execute(TRIM_EVENTS, (ns, event - keep))
        return EventRecord(str(event), name, data, source, time)

    def _events_after(self, after: int, limit: int) -> list[EventRecord]:
        rows = self._local.cur.execute(EVENTS_AFTER, (self.namespace, after, limit))
        return [EventRecord(str(i), *rest) for i, *rest in rows.fetchall()]

    def _event_by_id(self, event: int) -> EventRecord | None:
        row = self._local.cur.execute(EVENT_BY_ID, (self.namespace, event)).fetchone()
        return None if row is None else EventRecord(str(row[0]), *row[1:])

    def _event_tail(self) -> int:
        """The newest id, read once per transaction (its appends keep it: nobody else
        writes meanwhile). A step that hands a task out appends two events."""
        tail: int | None = self._local.loaded.get((LAST_EVENT, self.namespace))
        if tail is None:
            (last,) = self._local.cur.execute(LAST_EVENT, (self.namespace,)).fetchone()
            tail = 0 if last is None else int(last)
        return tail

    def _event_history(
        self, name: str | None, source: str | None, limit: int
    ) -> list[EventRecord]:
        where = " AND name = ?" * (name is not None) + " AND source = ?" * (source is not None)
        args = [a for a in (self.namespace, name, source, limit) if a is not None]
        rows = self._local.cur.execute(EVENT_HISTORY.format(where), args).fetchall()
        return [EventRecord(str(i), *rest) for i, *rest in rows]

    def _load_group(self, group: str) -> GroupRecord | None:
        """The cursor and the *expired* claims only: the ones a read may take over
        (``group_claim`` skips live ones, ``group_ack`` below deletes rows directly)."""
        cur, key = self._local.cur, (self.namespace, group)
        row = cur.execute(LOAD_GROUP, key).fetchone()
        if row is None:
            return None
        rows = cur.execute(EXPIRED_CLAIMS, (*key, self._now())).fetchall()
        rec = GroupRecord(row[0], {eid: (consumer, due) for eid, consumer, due in rows})
        self._local.loaded[LOAD_GROUP, group] = (rec.cursor, dict(rec.pending))
        return rec

    def _save_group(self, group: str, rec: GroupRecord) -> None:
        """Write what changed since :meth:`_load_group`: the cursor, new or moved claims,
        dropped ones."""
        cur, key = self._local.cur, (self.namespace, group)
        cursor, before = self._local.loaded.get((LOAD_GROUP, group), (None, {}))
        if rec.cursor != cursor:
            cur.execute(SAVE_GROUP, (*key, rec.cursor))
        pending = rec.pending
        moved = [(*key, e, *claim) for e, claim in pending.items() if before.get(e) != claim]
        dropped = [(*key, e) for e in before if e not in pending]
        if moved:
            cur.executemany(SAVE_CLAIM, moved)
        if dropped:
            cur.executemany(DROP_CLAIM, dropped)
        self._local.loaded[LOAD_GROUP, group] = (rec.cursor, dict(pending))

    def group_ack(self, group: str, ids: list[str]) -> None:
        """Delete the acknowledged claims, without loading the group."""
        rows = [(self.namespace, group, event_id(eid)) for eid in ids]
        with self._transaction():
            self._local.cur.executemany(DROP_CLAIM, rows)

    def _load_barrier(self, name: str) -> BarrierRecord | None:
        data = self._load_json(LOAD_BARRIER, name)
        return None if data is None else BarrierRecord(**data)

    def _save_barrier(self, name: str, rec: BarrierRecord) -> None:
        self._save_json(LOAD_BARRIER, SAVE_BARRIER, name, asdict(rec))

    # wake-ups -----------------------------------------------------------------------
    def _post(self, signals: list[Signal]) -> None:
        nudge, self._local.saved = self._local.saved, None
        if not signals:
            return
        for waiter, message in signals if nudge is None else [*signals, nudge]:
            if waiter.isalnum():  # a mailbox id, never a path
                post(os.path.join(self.wake_dir, waiter), message)

    def open_mailbox(self) -> FifoMailbox:
        """A pipe to block on, open before the acquire that may queue."""
        return FifoMailbox(self.wake_dir)

    def open_bell(self) -> FifoMailbox:
        """A pipe rung by every append to this namespace's log, in any process."""
        return FifoMailbox(self.wake_dir, self._bells)

    def _ring(self) -> None:
        ring(self.wake_dir, self._bells)


class _Newest(dict[tuple[str, str], Stored]):
    """The newest version of each state key (by map and key) this process read or
    wrote, for the one-statement write (a hint: the file checks it is still the
    newest). Versions whose value is over VALUE_LIMIT characters are not kept: their
    keys take the transaction, and this holds at most LIMIT * VALUE_LIMIT characters."""

    LIMIT = 4096
    VALUE_LIMIT = 1024

    def seen(self, map_name: str, key: str, version: Stored | None) -> None:
        if version is None or (version.value and len(version.value) > self.VALUE_LIMIT):
            self.pop((map_name, key), None)
            return
        if len(self) >= self.LIMIT:
            self.clear()
        self[map_name, key] = version


def _nudge(rec: LeaseRecord) -> Signal | None:
    """After a hand-off, an empty message for the new queue head if a lease may end
    before the head next asks on its own (``ttl / 2`` after it last asked): say the
    slot went to a short-lived waiter that has died since. The head asks again and
    then sleeps only until that lease expires."""
    if not rec.queue:
        return None
    head, soonest = rec.queue[0], rec.holders.earliest()
    if soonest is None:
        return None
    return (head.waiter, "") if soonest < head.expires_at - head.ttl / 2 else None


def loop_first(db: SqliteFile) -> Runner:
    """Run each operation on the event loop, where it takes tens of microseconds when
    the file is free (a thread hop costs more); one that would wait for another
    writer runs again in a worker thread. Every CHECKPOINT_EVERY operations a
    checkpoint runs in a thread too, as the loop's connection leaves them out."""

    since_checkpoint = 0

    async def run(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        nonlocal since_checkpoint
        try:
            result = db.without_waiting(fn, *args, **kwargs)
        except WouldBlock:
            return await in_thread(fn, *args, **kwargs)
        since_checkpoint += 1
        if since_checkpoint >= CHECKPOINT_EVERY:
            since_checkpoint = 0
            await in_thread(db.checkpoint)
        return result

    return run


def async_sqlite_backend(path: Path, namespace: str) -> AsyncEventRecordBackend:
    """The asyncio twin: operations on the event loop unless they would wait (then in
    a worker thread, see :func:`loop_first`), waits for hand-offs on the loop."""
    sync = SqliteBackend(path, namespace)

    async def mailbox() -> AsyncFifoMailbox:
        return AsyncFifoMailbox(sync.wake_dir)

    async def bell() -> AsyncFifoMailbox:
        return AsyncFifoMailbox(sync.wake_dir, sync._bells)

    return AsyncEventRecordBackend(sync, mailbox, loop_first(sync), bell=bell)
