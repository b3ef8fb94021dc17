"""The state operations of the seam for record stores (memory, SQLite): each one
transaction around the rule of ``rule.py``."""

from __future__ import annotations

import abc
import json

from accord._models import Entry
from accord.backends._record_base import RecordBase
from accord.backends.state import rule as _state
from accord.backends.state.rule import PAGE_MAX, Refused, Stored
from accord.errors import StaleFence, VersionConflict


class StateRecords(RecordBase):
    """Versioned state over record storage; storage always inside _transaction()."""

    @abc.abstractmethod
    def _load_current(self, map_name: str, key: str) -> Stored | None:
        """The newest version (a tombstone after a delete), or None if never written."""

    @abc.abstractmethod
    def _load_history(self, map_name: str, key: str, limit: int) -> list[Stored]:
        """The newest ``limit`` versions, newest first."""

    @abc.abstractmethod
    def _append_version(self, map_name: str, key: str, version: Stored) -> None: ...

    @abc.abstractmethod
    def _fence_floor(self, lock_key: str) -> int:
        """The newest token of lease ``lock_key`` that was revoked (0: none): a fenced
        write with it or an older one is refused (see ``leases/rule.revoke``)."""

    @abc.abstractmethod
    def _key_page(
        self, map_name: str, prefix: str, after: str | None, limit: int, values: bool
    ) -> tuple[list[tuple[str, Stored | None]], str | None]:
        """Live keys as ``state_keys`` pages them, with their newest version if
        ``values`` (else None), and the cursor; ``limit`` is at most PAGE_MAX."""

    # state --------------------------------------------------------------------------
    def state_get(self, map_name: str, key: str) -> Entry | None:
        with self._transaction(write=False):
            cur = self._load_current(map_name, key)
        return cur.entry() if cur else None

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
        with self._transaction():
            if fence is not None:
                self._check_floor(map_name, key, fence)
            cur = self._load_current(map_name, key)
            try:
                if delta is not None:
                    value = _state.incremented(cur, delta)
                new = _state.write(cur, value, agent, self._wall(), expected_version, fence)
            except Refused as exc:
                raise self._refusal(exc, map_name, key, cur, expected_version, fence) from None
            self._append_version(map_name, key, new)
        return new

    def _check_floor(self, map_name: str, key: str, fence: tuple[str, int]) -> None:
        """StaleFence if the fence's lease was revoked at or after its token."""
        floor = self._fence_floor(fence[0])
        if fence[1] <= floor:
            raise StaleFence(map_name, key, fence[1], floor, revoked=True)

    @staticmethod
    def _refusal(
        exc: Refused,
        map_name: str,
        key: str,
        cur: Stored | None,
        expected: int | None,
        fence: tuple[str, int] | None,
    ) -> Exception:
        if exc.kind == "version":
            return VersionConflict(map_name, key, expected or 0, cur.entry() if cur else None)
        if exc.kind == "fence" and fence is not None:
            return StaleFence(map_name, key, fence[1], exc.detail)
        shown = json.loads(cur.value) if cur and cur.value else None
        return TypeError(
            f"{map_name}[{key!r}] holds {type(shown).__name__}, not a number; incr() "
            "needs an int or float (or an absent key, counted as 0)"
        )

    def state_set(
        self,
        map_name: str,
        key: str,
        value: str,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
    ) -> Entry:
        return self._write(map_name, key, value, agent, expected_version, fence).version_entry()

    def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        return self._write(map_name, key, None, agent, None, None, delta).version_entry()

    def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        with self._transaction():
            cur = self._load_current(map_name, key)
            if cur is None or cur.value is None:
                if expected_version not in (None, 0):
                    raise VersionConflict(map_name, key, expected_version or 0, None)
                return False
            try:
                new = _state.write(cur, None, agent, self._wall(), expected_version)
            except Refused as exc:
                raise self._refusal(exc, map_name, key, cur, expected_version, None) from None
            self._append_version(map_name, key, new)
        return True

    def state_keys(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        with self._transaction(write=False):
            found, cursor = self._key_page(map_name, prefix, after, min(limit, PAGE_MAX), False)
        return [k for k, _ in found], cursor

    def state_items(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[tuple[str, Entry]], str | None]:
        with self._transaction(write=False):
            found, cursor = self._key_page(map_name, prefix, after, min(limit, PAGE_MAX), True)
        return [(k, s.version_entry()) for k, s in found if s is not None], cursor

    def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        with self._transaction(write=False):
            versions = self._load_history(map_name, key, limit)
        return [v.version_entry() for v in versions]
