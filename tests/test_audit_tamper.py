"""The audit chain shows entries edited or deleted behind accord's back, in each store:
memory's own structures, SQLite's rows, Redis's keys."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

import pytest

import accord
from accord.backends import sqlite_path


def _edit_memory(coord: Any, entry: int, data: str | None) -> None:
    entries = coord._backend._space.streams.entries["accord.audit"]
    index = [e.id for e in entries].index(entry)
    if data is None:
        del entries[index]
    else:
        entries[index] = entries[index]._replace(data=data)


def _edit_sqlite(coord: Any, url: str, entry: int, data: str | None) -> None:
    with sqlite3.connect(sqlite_path(url)) as db:
        where = (coord.namespace, "accord.audit", entry)
        if data is None:
            db.execute("DELETE FROM stream_entries WHERE ns = ? AND name = ? AND id = ?", where)
        else:
            db.execute("UPDATE stream_entries SET data = ? WHERE ns = ? AND name = ? AND id = ?",
                       (data, *where))  # fmt: skip


def _edit_redis(coord: Any, url: str, entry: int, data: str | None) -> None:
    import redis

    client = redis.Redis.from_url(url)
    key = f"accord:{{{coord.namespace}}}:stream:accord.audit"
    if data is None:
        client.xdel(key, f"{entry}-0")
    else:  # entries cannot be changed in place: the stream is written again, one edited
        rows = client.xrange(key)
        client.delete(key)
        for raw_id, fields in rows:
            if raw_id == f"{entry}-0".encode():
                fields[b"d"] = data.encode()
            client.xadd(key, fields, id=raw_id)
    client.close()


def _tamper(backend: str, coord: Any, url: str, entry: int, data: str | None = None) -> None:
    if backend == "memory":
        _edit_memory(coord, entry, data)
    elif backend == "sqlite":
        _edit_sqlite(coord, url, entry, data)
    else:
        _edit_redis(coord, url, entry, data)


def _logged(url: str, n: int = 5) -> Any:
    coord = accord.connect(url, namespace=f"t-{uuid.uuid4().hex[:8]}", agent="auditor")
    for i in range(n):
        coord.audit.log("payment", amount=100 * (i + 1))
    assert coord.audit.verify() is None
    return coord


def test_an_edited_entry_breaks_the_chain(backend_name: str, url: str) -> None:
    coord = _logged(url)
    _tamper(backend_name, coord, url, 3, '{"amount":1,"kind":"payment"}')
    found = coord.audit.verify()
    assert found is not None and found.id == 3 and "changed" in found.reason
    assert found.entry is not None and found.entry.details == {"amount": 1}
    coord.close()


@pytest.mark.parametrize("entry", [1, 3, 5])  # the oldest, one in the middle, the newest
def test_a_deleted_entry_breaks_the_chain(backend_name: str, url: str, entry: int) -> None:
    coord = _logged(url)
    _tamper(backend_name, coord, url, entry)
    found = coord.audit.verify()
    assert found is not None and (found.id, found.entry) == (entry, None), found
    assert "missing" in found.reason
    coord.audit.log("payment", amount=600)  # appending after it hides nothing
    assert coord.audit.verify() == found
    coord.close()
