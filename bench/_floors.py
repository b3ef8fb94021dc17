"""Baselines and bounds measured beside accord.

:class:`RawSqlite` does, with :mod:`sqlite3` alone, the writes of an accord SQLite
lock cycle and compare-and-set the plain way, one ``BEGIN IMMEDIATE`` transaction
each: accord's SQL, tables and pragmas (not its triggers, which do in the file what
the plain way does in its transaction), one connection and one cursor, on a fresh
file, with bind values that change on every call (SQLite skips writing an unchanged
page). It is what the same work costs with no library around it; accord runs the
uncontended cases in one statement each instead, so it may come close to it or pass it.

:func:`critical_section_rate` is the GET+SET a contended holder does, back to back
from one thread on one connection: holders that run one at a time cannot together
acquire a lock more often than that.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import redis
from _contend import critical_section
from _measure import rate

from accord.backends._sqlite_file import PAGE_SIZE, _schema
from accord.backends.sqlite import (
    LOAD_CURRENT,
    LOAD_LEASE,
    SAVE_LEASE,
    SAVE_VERSION,
)
from accord.backends.state.rule import HISTORY_KEEP

NAMESPACE, LEASE, HOLDER = "bench", "lock/uncontended", "bench#abcdef0123:thread-1"
STATE = (NAMESPACE, "bench", "cas")  # ns, map, key of the compare-and-set row
TRIM_VERSIONS = "DELETE FROM versions WHERE ns = ? AND map = ? AND key = ? AND version <= ?"


class RawSqlite:
    """One sqlite3 connection on a new database file set up as accord sets up its own."""

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None)
        cur = self._cur = self._conn.cursor()
        cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        for statement in _schema():
            if "CREATE TRIGGER" not in statement:  # the plain way checks in its transaction
                cur.execute(statement)
        self._cycles = 0

    def cycle(self) -> None:
        """A lock cycle's two write transactions: save the record held, then released."""
        self._cycles += 1
        n = self._cycles
        self._save_lease(f'[1,{n},[["{HOLDER}","bench",{n},30.0,{time.monotonic()!r}]],[]]')
        self._save_lease(f"[1,{n},[],[]]")

    def _save_lease(self, record: str) -> None:
        cur = self._cur
        cur.execute("BEGIN IMMEDIATE")
        cur.execute(LOAD_LEASE, (NAMESPACE, LEASE)).fetchone()
        cur.execute(SAVE_LEASE, (NAMESPACE, LEASE, record))
        cur.execute("COMMIT")

    def compare_and_set(self) -> None:
        """One compare-and-set transaction: read the current version, append the next."""
        cur = self._cur
        cur.execute("BEGIN IMMEDIATE")
        row = cur.execute(LOAD_CURRENT, STATE).fetchone()
        version = (0 if row is None else row[1]) + 1
        cur.execute(SAVE_VERSION, (*STATE, str(version), version, "bench", time.time(), None, 0))
        if version > HISTORY_KEEP:
            cur.execute(TRIM_VERSIONS, (*STATE, version - HISTORY_KEEP))
        cur.execute("COMMIT")

    def close(self) -> None:
        self._conn.close()


def critical_section_rate(redis_url: str, key: str, seconds: float) -> float:
    """The contended workers' GET+SET, back to back, one thread, one connection, per second."""
    client = redis.Redis.from_url(redis_url)
    try:
        return rate(lambda: critical_section(client, key), seconds)
    finally:
        client.delete(key)
        client.close()
