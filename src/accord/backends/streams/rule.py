"""The stream rule of the memory and SQLite stores, free of I/O: ids, the hash chain,
retention. Redis runs the same rule in ``lua/_streams.lua`` beside this file.

A stream is named, append-only and numbered: its entries have ids 1, 2, 3 ... with no
gap, each with the store's time (integer microseconds), its ``source`` (an agent) and
``data`` (canonical JSON text, :func:`canonical`). Every entry carries the hash of the
one before (``prev``; the first carries :data:`GENESIS`) and its own ``hash``: the
SHA-1 of its :func:`line`, the canonical JSON of the entry without its hash. SHA-1
because a Redis script computes it (``redis.sha1hex``, its only hash): the chain shows
an entry edited or deleted in the store, unless every later hash was recomputed too.

A stream's *meta* is its last id, the hash of its last entry (``head``) and the id of
the newest entry dropped by retention (``base``: the oldest kept is ``base + 1``), so a
missing newest or oldest entry shows as well. Retention (``keep``) drops the oldest
entries beyond the newest ``keep`` in the append that pushes them out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from accord import _json

GENESIS = "0" * 40
"""The ``prev`` of a stream's first entry."""

AUDIT = "accord.audit"
"""The audit log's stream (the approvals append their decisions to it in the same step)."""

canonical = _json.dumps_canonical
"""Canonical JSON (sorted keys, no spaces, UTF-8 as it is): what a stream's ``data``
must be."""


@lru_cache(maxsize=1024)
def json_str(text: str) -> str:
    """``text`` as a canonical JSON string (cached: sources are a few agent names)."""
    return canonical(text)


class StreamEntry(NamedTuple):
    """One entry as stored."""

    id: int
    time_us: int
    source: str
    data: str
    prev: str
    hash: str


@dataclass
class StreamMeta:
    last: int = 0
    head: str = GENESIS
    base: int = 0


def line(entry_id: int, time_us: int, source: str, data: str, prev: str) -> str:
    """The canonical JSON of an entry without its hash: what its hash is taken of.
    (Keys in order: data, id, prev, source, time; ``data`` is canonical already.)"""
    return (
        f'{{"data":{data},"id":{entry_id},"prev":"{prev}","source":{json_str(source)},'
        f'"time":{time_us}}}'
    )


def chain_hash(text: str, _sha1: Any = hashlib.sha1) -> str:
    return str(_sha1(text.encode()).hexdigest())


def append(meta: StreamMeta, source: str, data: str, now_us: int) -> StreamEntry:
    """The next entry of the stream (``meta`` moves on to it)."""
    entry_id = meta.last + 1
    digest = chain_hash(line(entry_id, now_us, source, data, meta.head))
    entry = StreamEntry(entry_id, now_us, source, data, meta.head, digest)
    meta.last, meta.head = entry_id, digest
    return entry


def trim_to(meta: StreamMeta, keep: int | None) -> int:
    """The id up to which entries go (0: none); ``meta.base`` moves on to it."""
    if keep is None or meta.last - meta.base <= keep:
        return 0
    meta.base = meta.last - keep
    return meta.base


def check(entry: StreamEntry, expected_id: int, prev: str) -> str | None:
    """Why ``entry`` breaks the chain (it should be ``expected_id`` after an entry of
    hash ``prev``), or None when it holds. Its data must be canonical JSON."""
    if entry.id != expected_id:
        return f"entry {expected_id} is missing (found {entry.id} in its place)"
    if entry.prev != prev:
        return f"entry {entry.id} does not follow the entry before it (its prev differs)"
    try:
        data = canonical(_json.loads(entry.data))
    except ValueError:
        return f"entry {entry.id} holds data that is not JSON"
    if chain_hash(line(entry.id, entry.time_us, entry.source, data, entry.prev)) != entry.hash:
        return f"entry {entry.id} was changed after it was written (its hash differs)"
    return None
