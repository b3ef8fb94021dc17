"""The state rule of the memory and SQLite stores, free of I/O: the next version of a
key, compare-and-set, fences and ``incr``. SQLite also keeps the version rule in its
schema (``schema.sql`` beside this file); Redis runs it in ``lua/``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord import _json
from accord._models import Entry

HISTORY_KEEP = 100
MAX_FENCES = 16  # locks whose highest token a state key remembers (see fences())
TRIM_SLACK = 16  # versions beyond HISTORY_KEEP before a trim; reads never show them
PAGE_MAX = 1000  # keys one listing call walks at most, so its work is bounded

@dataclass(slots=True)
class Stored:
    """One stored version: ``value`` is JSON text, or None for a delete (a tombstone).

    ``fence_name``/``fence_token`` record the fences of the key (see :func:`fences`):
    the lock that fenced the newest fenced write and its token, followed in
    ``fence_name`` by a tab and ``<token> <lock key>`` for each other lock remembered.
    """

    value: str | None
    version: int
    updated_by: str
    updated_at: float
    fence_name: str | None = None
    fence_token: int = 0

    def entry(self) -> Entry | None:
        """The live entry, or None for a tombstone."""
        return None if self.value is None else self.version_entry()

    def version_entry(self) -> Entry:
        """This version as history shows it (a delete has ``deleted=True``)."""
        value = None if self.value is None else _json.loads(self.value)
        return Entry(value, self.version, self.updated_by, self.updated_at, self.value is None)


def page_start(prefix: str, after: str | None) -> tuple[str, bool]:
    """Where a page of the keys starting with ``prefix`` begins: (key, inclusive?)."""
    if after is None or after < prefix:
        return prefix, True
    return after, False


class Refused(Exception):
    """A write check failed: ``kind`` is 'version' or 'fence' (or 'type' for incr)."""

    def __init__(self, kind: str, detail: int = 0) -> None:
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


def fences(name: str | None, token: int) -> dict[str, int]:
    """The highest token of each lock that fenced a write of a key, the most recently
    fenced lock first, from a version's ``fence_name`` and ``fence_token``.

    A key remembers :data:`MAX_FENCES` locks: a write fenced by yet another lock
    forgets the one that fenced least recently (a stale write of that lock is then
    accepted)."""
    if not name:
        return {}
    first, *others = name.split("\t")
    found = {first: token}
    for other in others:
        tok, _, lock = other.partition(" ")
        found.setdefault(lock, int(tok))
    return found


def fences_text(found: dict[str, int]) -> tuple[str | None, int]:
    """(fence_name, fence_token) of a version that remembers ``found`` (see :func:`fences`)."""
    if not found:
        return None, 0
    (first, token), *others = list(found.items())[:MAX_FENCES]
    return first + "".join(f"\t{tok} {lock}" for lock, tok in others), token


def check(cur: Stored | None, expected_version: int | None, fence: tuple[str, int] | None) -> None:
    """Refused('version') unless the live version is ``expected_version`` (0: absent or
    deleted); Refused('fence') if a newer token of the fence's lock wrote the key."""
    if cur is None:
        if expected_version:
            raise Refused("version")
        return
    if expected_version is not None and expected_version != (
        0 if cur.value is None else cur.version
    ):
        raise Refused("version")
    if fence is not None and cur.fence_name:
        if cur.fence_name == fence[0]:  # the common case: one lock fences this key
            newest = cur.fence_token
        else:
            newest = fences(cur.fence_name, cur.fence_token).get(fence[0], 0)
        if fence[1] < newest:
            raise Refused("fence", newest)


def write(
    cur: Stored | None,
    value: str | None,
    agent: str,
    now: float,
    expected_version: int | None = None,
    fence: tuple[str, int] | None = None,
) -> Stored:
    """The next version of a key after a set (``value``) or a delete (None); it keeps
    the fences of ``cur``, and records ``fence`` as its lock's highest token."""
    check(cur, expected_version, fence)
    if cur is None:
        return Stored(value, 1, agent, now, *(fence or (None, 0)))
    name, token = cur.fence_name, cur.fence_token
    if fence is not None and fence[0] != name:
        found = {fence[0]: fence[1]}
        found.update((k, v) for k, v in fences(name, token).items() if k != fence[0])
        name, token = fences_text(found)
    elif fence is not None:
        token = fence[1]
    return Stored(value, cur.version + 1, agent, now, name, token)


def incremented(cur: Stored | None, delta: int | float) -> str:
    """The JSON text of ``cur + delta``; Refused('type') if ``cur`` is not a number."""
    base: Any = 0 if cur is None or cur.value is None else _json.loads(cur.value)
    if isinstance(base, bool) or not isinstance(base, (int, float)):
        raise Refused("type")
    return _json.dumps_data(base + delta)
