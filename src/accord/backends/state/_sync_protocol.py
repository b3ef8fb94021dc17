# Generated from src/accord/backends/state/_async_protocol.py by scripts/unasync.py: do not edit.
"""The ``state`` capability: named maps of versioned JSON entries.

Every write (a delete too) is the next version of its key, in one atomic step; the
``state_*`` writes raise ``VersionConflict``, ``StaleFence`` or ``TypeError`` with
nothing written.
"""

from __future__ import annotations

from typing import Protocol

from accord._models import Entry
from accord.backends._sync.store import Store


class StateStore(Store, Protocol):
    """Versioned entries with compare-and-set, fencing and a bounded history."""

    def state_get(self, map_name: str, key: str) -> Entry | None:
        """The live entry, or None."""
        ...

    def state_set(
        self,
        map_name: str,
        key: str,
        value: str,
        agent: str,
        expected_version: int | None,
        fence: tuple[str, int] | None,
    ) -> Entry:
        """Write JSON text ``value`` as the next version, after the checks."""
        ...

    def state_incr(self, map_name: str, key: str, delta: int | float, agent: str) -> Entry:
        """Add ``delta`` to a number (absent counts as 0); TypeError if not a number."""
        ...

    def state_delete(
        self, map_name: str, key: str, agent: str, expected_version: int | None
    ) -> bool:
        """Delete (a tombstone version); False if the key was absent."""
        ...

    def state_keys(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[str], str | None]:
        """A page of live keys starting with ``prefix``, above ``after`` (None: from the
        first), sorted, and the cursor of the next page (None once no key is left).

        The work is bounded by ``limit`` (at most ``PAGE_MAX``), not by the size of
        the map: a store returns at most ``limit`` keys and may return fewer before
        the end (SQLite steps over deleted keys within the bound), so only a None
        cursor means the end. Values are not read."""
        ...

    def state_items(
        self, map_name: str, prefix: str, after: str | None, limit: int
    ) -> tuple[list[tuple[str, Entry]], str | None]:
        """:meth:`state_keys` with each key's live entry."""
        ...

    def state_history(self, map_name: str, key: str, limit: int) -> list[Entry]:
        """The newest ``limit`` versions, newest first (deletes have ``deleted=True``)."""
        ...
