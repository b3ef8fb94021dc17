"""The audit log: who did what, append-only and tamper-evident.

The log is the namespace's stream ``accord.audit`` (the ``streams`` capability): kept
in full unless ``connect(audit_keep=N)`` keeps the newest N, and never trimmed by the
event log's ``max_events``. Each entry carries the hash of the one before, so an entry
edited or deleted in the store breaks the chain, which :meth:`AsyncAudit.verify`
finds::

    entry 1: {"kind": "deployment", ...}  prev 000...0   hash a1f3...
    entry 2: {"kind": "accord.lease_lost"} prev a1f3...   hash 9c0d...
    entry 3: edited in the store ......... prev 9c0d...   hash no longer SHA-1 of it

accord writes entries of its own, with kinds starting ``accord.``: approvals decided
(by the store, in the step that decides them), deadlocks, lost leases, and lock
acquisitions and releases with ``connect(audit_locks=True)``. Other layers record
theirs through :func:`record`, the one entry point.
"""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from typing import IO, Any

from accord import _json, _validate
from accord._context import Context
from accord._people import AuditBreak, AuditEntry
from accord.backends import STREAMS, AsyncBackend, capabilities_of
from accord.backends.streams import rule
from accord.backends.streams.rule import AUDIT, GENESIS, StreamEntry, StreamMeta
from accord.errors import ConfigError, InvalidName

log = logging.getLogger("accord")

PAGE = 1000  # entries per store read while reading, verifying or exporting
OWN = "accord."  # the kinds of accord's own entries start with it
_KIND = re.compile(r"[A-Za-z0-9_.:\-/]{1,200}")
_PLAIN = frozenset({str, int, float, bool, type(None)})  # values JSON gives back as they are


def kind_name(kind: object) -> str:
    """``kind`` if a user may log it, else InvalidName (``accord.`` is accord's)."""
    if not isinstance(kind, str) or not _kind_ok(kind):
        raise InvalidName(str(kind), "an audit kind is 1-200 of A-Z a-z 0-9 _ . : - /")
    if kind.startswith(OWN):
        raise InvalidName(kind, "kinds starting with 'accord.' are accord's own entries")
    return kind


@lru_cache(maxsize=1024)
def _kind_ok(kind: str) -> bool:
    return _KIND.fullmatch(kind) is not None


def entry_of(e: StreamEntry) -> AuditEntry:
    """The audit entry of a stream entry."""
    data = _json.loads(e.data)
    kind = data.pop("kind", "") if isinstance(data, dict) else ""
    details = data if isinstance(data, dict) else {"data": data}
    return AuditEntry(e.id, e.time_us, e.source, str(kind), details, e.prev, e.hash)


async def _append(ctx: Context[AsyncBackend], kind: str, details: dict[str, Any]) -> AuditEntry:
    text = _validate.encode({**details, "kind": kind}, ctx.max_payload, canonical=True)
    e = await ctx.store.stream_append(AUDIT, ctx.agent, text, ctx.audit_keep)
    # the details as written, without parsing them back (JSON data: a tuple became a list)
    details = details if _PLAIN.issuperset(map(type, details.values())) else entry_of(e).details
    return AuditEntry(e.id, e.time_us, e.source, kind, details, e.prev, e.hash)


async def record(ctx: Context[AsyncBackend], kind: str, **details: Any) -> AuditEntry | None:
    """Append one of accord's own entries, kind ``accord.<kind>``, as ``ctx.agent``.

    The one entry point for accord's layers (kills, halts, force releases, dead tasks
    come here too). Details must be JSON data. A store without the ``streams``
    capability keeps no audit log: nothing is written and None returned. A failure to
    reach the store raises, as any call does."""
    if STREAMS not in capabilities_of(ctx.store):
        return None
    return await _append(ctx, kind if kind.startswith(OWN) else OWN + kind, details)


async def note(ctx: Context[AsyncBackend], kind: str, **details: Any) -> None:
    """:func:`record` on a path that is raising an error of its own already (a lost
    lease, a deadlock): a failure to write the entry is logged, not raised over it."""
    try:
        await record(ctx, kind, **details)
    except Exception:
        log.warning("accord: writing the audit entry %r failed", kind, exc_info=True)


class AsyncAudit:
    """The namespace's audit log (``coord.audit``): ``log``, ``read``, ``verify``,
    ``export``. Needs a store with the ``streams`` capability."""

    def __init__(self, ctx: Context[AsyncBackend]) -> None:
        self._ctx = ctx

    async def log(self, kind: str, /, **details: Any) -> AuditEntry:
        """Append an entry of ``kind`` (a name; ``accord.`` kinds are accord's own)
        with ``details`` (JSON data, at most ``max_payload`` bytes in all), as this
        coordinator's agent; return it. Bad input raises before anything is written."""
        return await _append(self._ctx, kind_name(kind), details)

    async def read(
        self,
        *,
        after: int | None = None,
        agent: str | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Up to ``limit`` entries after entry id ``after`` (None: from the oldest
        kept), oldest first, of that ``agent`` and ``kind`` if given. Filters are
        applied as the log is read, so a rare kind costs a read of the log up to it."""
        start = _after(after)
        limit = _validate.count(limit, "limit")
        if agent is not None:
            _validate.name(agent, "agent")
        if kind is not None and (not isinstance(kind, str) or not _KIND.fullmatch(kind)):
            raise InvalidName(str(kind), "an audit kind is 1-200 of A-Z a-z 0-9 _ . : - /")
        found: list[AuditEntry] = []
        while len(found) < limit:
            page = await self._ctx.store.stream_read(AUDIT, start, PAGE)
            for e in page:
                entry = entry_of(e)
                if agent in (None, entry.agent) and kind in (None, entry.kind):
                    found.append(entry)
                    if len(found) == limit:
                        break
            if len(page) < PAGE:
                break
            start = page[-1].id
        return found

    async def verify(self) -> AuditBreak | None:
        """Check the whole chain: None when every entry is as written, else where it
        first breaks (an entry edited, deleted or out of place in the store, or the
        newest ones missing). Costs a read of the whole log (``PAGE`` entries a call).

        The chain shows changes made by anyone who did not also recompute every later
        hash; to catch that too, keep a copy of an entry's hash (or an export) apart.
        Entries appended while it reads are left for the next call."""
        store = self._ctx.store
        while True:
            meta = (await store.stream_meta([AUDIT]))[0]
            found = await self._walk(meta)
            if found is None:
                return None
            # retention may have dropped the oldest meanwhile: a break it explains is none
            if (await store.stream_meta([AUDIT]))[0].base < found.id:
                return found

    async def _walk(self, meta: StreamMeta) -> AuditBreak | None:
        """The first break of the chain up to the entry ``meta`` names last."""
        expected, prev, after = meta.base + 1, GENESIS, meta.base
        while expected <= meta.last:
            page = await self._ctx.store.stream_read(AUDIT, after, PAGE)
            for e in page:
                if e.id > meta.last:  # appended since meta was read
                    break
                if e.id != expected:
                    return AuditBreak(expected, None, f"entry {expected} is missing")
                if e.id == meta.base + 1 and meta.base:
                    prev = e.prev  # the entry before it went by retention
                why = rule.check(e, expected, prev)
                if why is not None:
                    return AuditBreak(e.id, _entry_or_none(e), why)
                prev, expected = e.hash, expected + 1
            if len(page) < PAGE:
                break
            after = page[-1].id
        return _tail(meta, expected - 1, prev)

    async def export(self, out: str | os.PathLike[str] | IO[str]) -> int:
        """Write the whole log as JSON lines (:meth:`AuditEntry.to_json`, oldest first)
        to a path or a text file; return how many. The lines can be checked anywhere:
        each ``hash`` is the SHA-1 of its line without it, each ``prev`` the hash of
        the line before. File writes block (in async code, a short blocking write)."""
        if isinstance(out, (str, os.PathLike)):
            with open(out, "w", encoding="utf-8") as f:
                return await self._write(f)
        if not callable(getattr(out, "write", None)):
            raise TypeError(f"export() takes a path or a text file, not {type(out).__name__}")
        return await self._write(out)

    async def _write(self, out: IO[str]) -> int:
        written, after = 0, 0
        while True:
            page = await self._ctx.store.stream_read(AUDIT, after, PAGE)
            for e in page:
                out.write(entry_of(e).to_json() + "\n")
            written += len(page)
            if len(page) < PAGE:
                return written
            after = page[-1].id

    def __repr__(self) -> str:
        return f"<Audit namespace={self._ctx.store.namespace!r}>"


def _after(after: int | None) -> int:
    if after is None:
        return 0
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise ConfigError(f"after must be an audit entry id (a whole number >= 0), got {after!r}")
    return after


def _entry_or_none(e: StreamEntry) -> AuditEntry | None:
    try:
        return entry_of(e)
    except ValueError:  # its data is not JSON any more
        return None


def _tail(meta: StreamMeta, last: int, head: str) -> AuditBreak | None:
    """A break at the newest end: entries the store appended last are gone."""
    if last < meta.last:
        first = last + 1
        gone = f"entry {first} is" if first == meta.last else f"entries {first} to {meta.last} are"
        return AuditBreak(first, None, f"{gone} missing")
    if last > meta.last or head != meta.head:
        return AuditBreak(last, None, f"entry {last} is not the entry the log appended last")
    return None
