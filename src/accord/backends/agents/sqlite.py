"""The SQLite store's storage of the registry, the halt switch and lease metrics
(``sqlite.py`` stays as it was but for a base class): the tables of ``schema.sql``
beside this file and ``leases/schema.sql``'s ``lease_metrics``, read and written
inside the transaction of the operation (``self._local.cur``)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from accord import _json
from accord.backends._sql import queries
from accord.backends.agents.memory import add_metrics
from accord.backends.agents.rule import AgentRecord
from accord.backends.leases.rule import LeaseRecord
from accord.backends.leases.sqlite_holders import RowHolders

_Q = queries("agents")
_L = queries("leases")
_ROW = tuple[str, float, float]


def _record(row: _ROW) -> AgentRecord:
    rec = AgentRecord.from_json(_json.loads(row[0]))
    rec.expires_at, rec.progress = row[1], row[2]
    return rec


class SqliteAgentStorage:
    """The storage hooks of ``AgentRecords`` and of the lease metrics, for SQLite."""

    _local: Any  # _sqlite_file's per-thread connection and cursor
    namespace: str

    def _load_agent(self, name: str) -> AgentRecord | None:
        row = self._local.cur.execute(_Q["LOAD_AGENT"], (self.namespace, name)).fetchone()
        return None if row is None else _record(row)

    def _save_agent(self, rec: AgentRecord) -> None:
        data = rec.to_json()
        del data["expires_at"], data["progress"]
        row = (self.namespace, rec.name, _json.dumps_record(data), int(rec.state == "live"),
               rec.expires_at, rec.progress)
        self._local.cur.execute(_Q["SAVE_AGENT"], row)

    def _delete_agent(self, name: str) -> None:
        self._local.cur.execute(_Q["DELETE_AGENT"], (self.namespace, name))

    def _rows(self, query: str, *args: Any) -> list[AgentRecord]:
        rows = self._local.cur.execute(_Q[query], (self.namespace, *args)).fetchall()
        return [_record(row) for row in rows]

    def _agents_after(self, after: str | None, limit: int) -> list[AgentRecord]:
        return self._rows("AGENTS_AFTER", after if after is not None else "", limit)

    def _agents_lapsed(self, now: float, limit: int) -> list[AgentRecord]:
        return self._rows("AGENTS_LAPSED", now, limit)

    def _agents_stalled(self, before: float, limit: int) -> list[AgentRecord]:
        return self._rows("AGENTS_STALLED", before, limit)

    def _load_halt(self) -> str | None:
        row = self._local.cur.execute(_Q["LOAD_HALT"], (self.namespace,)).fetchone()
        return None if row is None else str(row[0])

    def _save_halt(self, reason: str | None) -> None:
        if reason is None:
            self._local.cur.execute(_Q["DROP_HALT"], (self.namespace,))
        else:
            self._local.cur.execute(_Q["SAVE_HALT"], (self.namespace, reason))

    def _drop_all(self) -> None:
        cur = self._local.cur
        for (table,) in cur.execute(_Q["NAMESPACED_TABLES"]).fetchall():
            cur.execute(f'DELETE FROM "{table}" WHERE ns = ?', (self.namespace,))

    # fence floors, lease metrics ------------------------------------------------------
    def _raise_floor(self, key: str, token: int) -> None:
        self._local.cur.execute(_L["RAISE_FLOOR"], (self.namespace, key, token))

    def _fence_floor(self, lock_key: str) -> int:
        row = self._local.cur.execute(_L["LOAD_FLOOR"], (self.namespace, lock_key)).fetchone()
        return 0 if row is None else int(row[0])

    def _add_metrics(self, key: str, counted: list[float]) -> None:
        cur = self._local.cur
        row = cur.execute(_L["LOAD_METRIC"], (self.namespace, key)).fetchone()
        found = {} if row is None else {key: _json.loads(row[0])}
        add_metrics(found, key, counted)
        cur.execute(_L["SAVE_METRIC"], (self.namespace, key, _json.dumps_record(found[key])))

    def _load_metrics(self, prefix: str) -> dict[str, list[float]]:
        rows = self._local.cur.execute(
            _L["METRICS_UNDER"], (self.namespace, len(prefix), prefix)
        ).fetchall()
        return {key: _json.loads(text) for key, text in rows}

    def _lease_records(self, prefix: str) -> Iterator[tuple[str, LeaseRecord]]:
        rows = self._local.cur.execute(
            _L["RECORDS_UNDER"], (self.namespace, len(prefix), prefix)
        ).fetchall()
        cur, ns = self._local.cur, self.namespace
        found = []
        for key, text in rows:
            rows_of = functools.partial(RowHolders, cur, ns, key)
            found.append((key, LeaseRecord.from_json(_json.loads(text), rows_of)))
        return iter(found)
