"""The holders of a SQLite lease with many of them: rows of ``lease_holders``.

A lease keeps up to ``INLINE_MAX`` holders in its record (``InlineHolders``: every
lock, on the one-statement fast path of ``SqliteBackend._lease_step``). When a save
finds more, they move to rows (:func:`spill`) and the record keeps instead
``{"modes": {mode: count}, "soonest": t}``: how many hold in each mode (so counting
and ``fits()`` read no row) and a lower bound of their soonest expiry (so an
operation looks for expired rows only once one may have expired). When they are
down to ``INLINE_BACK`` they move back (:func:`take_back`). Each operation then reads
and writes the rows it needs through an index, inside the transaction of
``LeaseRecords``: O(log holders).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from accord import _json
from accord.backends._sql import queries
from accord.backends.leases.holders import (
    INLINE_BACK,
    INLINE_MAX,
    Holder,
    Holders,
    InlineHolders,
    uncount,
)

if TYPE_CHECKING:
    from accord.backends.leases.rule import LeaseRecord

_Q = queries("leases")
LOAD, SAVE, DROP = _Q["LOAD_HOLDER"], _Q["SAVE_HOLDER"], _Q["DROP_HOLDER"]
EXTEND, SOONEST, FIRST = _Q["EXTEND_HOLDER"], _Q["SOONEST_HOLDER"], _Q["FIRST_HOLDER"]
EXPIRED, DROP_EXPIRED = _Q["EXPIRED_HOLDERS"], _Q["DROP_EXPIRED_HOLDERS"]
ALL, DROP_ALL = _Q["ALL_HOLDERS"], _Q["DROP_HOLDERS"]


class RowHolders(Holders):
    """The holders of lease ``key`` in rows, read through ``cur`` (inside a transaction)."""

    __slots__ = ("_cur", "_modes", "_seen", "_soonest", "_where")

    def __init__(self, cur: sqlite3.Cursor, ns: str, key: str, data: dict[str, Any]) -> None:
        self._cur = cur
        self._where = (ns, key)
        self._modes: dict[str, int] = dict(data["modes"])
        self._soonest: float = data["soonest"]
        self._seen: dict[str, Holder | None] = {}  # rows read or written in this operation

    def to_json(self) -> dict[str, Any]:
        return {"modes": self._modes, "soonest": self._soonest}

    def get(self, holder: str) -> Holder | None:
        if holder in self._seen:
            return self._seen[holder]
        row = self._cur.execute(LOAD, (*self._where, holder)).fetchone()
        found = self._seen[holder] = None if row is None else Holder(*row)
        return found

    def add(self, holder: str, h: Holder) -> None:
        self._cur.execute(SAVE, (*self._where, holder, h.agent, h.token, h.ttl, h.expires_at,
                                 h.mode, h.intent))
        self._modes[h.mode] = self._modes.get(h.mode, 0) + 1
        self._soonest = min(self._soonest, h.expires_at)
        self._seen[holder] = h

    def remove(self, holder: str) -> Holder | None:
        h = self.get(holder)
        if h is not None:
            self._cur.execute(DROP, (*self._where, holder))
            uncount(self._modes, h.mode)
            self._seen[holder] = None
        return h

    def extend(self, holder: str, h: Holder, ttl: float, expires_at: float) -> None:
        h.ttl, h.expires_at = ttl, expires_at  # may be sooner than before (a shorter ttl)
        self._cur.execute(EXTEND, (ttl, expires_at, *self._where, holder))
        self._soonest = min(self._soonest, expires_at)

    def __len__(self) -> int:
        return sum(self._modes.values())

    def __contains__(self, holder: object) -> bool:
        return isinstance(holder, str) and self.get(holder) is not None

    def earliest(self) -> float | None:
        row = self._cur.execute(SOONEST, self._where).fetchone()
        return None if row is None else float(row[0])

    def pop_expired(self, now: float) -> int:
        if now < self._soonest:
            return 0
        where = (*self._where, now)
        gone = self._cur.execute(EXPIRED, where).fetchall()
        if gone:
            self._cur.execute(DROP_EXPIRED, where)
            for holder, mode in gone:
                uncount(self._modes, mode)
                self._seen[holder] = None
        soonest = self.earliest()
        self._soonest = now if soonest is None else soonest
        return len(gone)

    def first(self) -> tuple[str, Holder] | None:
        row = self._cur.execute(FIRST, self._where).fetchone()
        return None if row is None else (row[0], Holder(*row[1:]))

    def modes(self) -> Iterable[str]:
        return self._modes.keys()

    def items(self) -> list[tuple[str, Holder]]:
        return [(row[0], Holder(*row[1:])) for row in self._cur.execute(ALL, self._where)]

    def clear(self) -> None:
        self._cur.execute(DROP_ALL, self._where)
        self._modes.clear()
        self._seen.clear()



def spill(cur: sqlite3.Cursor, ns: str, key: str, holders: Holders) -> RowHolders:
    """Move ``holders`` (kept in the record) into rows."""
    rows = RowHolders(cur, ns, key, {"modes": {}, "soonest": float("inf")})
    for holder, h in list(holders.items()):
        rows.add(holder, h)
    return rows


def take_back(rows: RowHolders) -> InlineHolders:
    """Move the holders of ``rows`` back into the record."""
    found = InlineHolders(dict(rows.items()))
    rows.clear()
    return found


def placed(cur: sqlite3.Cursor, ns: str, key: str, holders: Holders) -> Holders:
    """``holders`` kept where their number says, before their record is saved."""
    if isinstance(holders, RowHolders):
        return take_back(holders) if len(holders) <= INLINE_BACK else holders
    return spill(cur, ns, key, holders) if len(holders) > INLINE_MAX else holders


_quoted = functools.lru_cache(maxsize=1024)(_json.quote_record)


def record_text(rec: LeaseRecord) -> str:
    """``dumps_record(rec.to_json())``, the stored text of a lease record. The records
    of an uncontended lock cycle (no waiter, no holder or one exclusive holder kept
    inline) are written directly, about 2.5 x faster than building the lists and
    encoding them: the SQLite lock cycle writes one on each of its two steps."""
    if not rec.queue:
        holders = rec.holders
        if not holders:
            return f"[{rec.limit},{rec.token},[],[]]"
        if len(holders) == 1 and type(holders) is InlineHolders:
            ((key, h),) = holders.items()
            if not h.mode and not h.intent:
                return (f"[{rec.limit},{rec.token},[[{_quoted(key)},{_quoted(h.agent)},"
                        f"{h.token},{h.ttl!r},{h.expires_at!r}]],[]]")
    return _json.dumps_record(rec.to_json())
