"""The holders of one lease, behind the small interface the lease rule uses (free of I/O
here; the SQLite store's rows are in ``sqlite_holders.py``).

The rule (``rule.py``) asks only what :class:`Holders` offers, so that each store keeps
holders the way that makes every operation cost O(log holders), and the rule stays one:

* :class:`InlineHolders` (SQLite, a lease of at most ``INLINE_MAX`` holders): a dict,
  stored in the record's JSON; its linear scans are over at most ``INLINE_MAX + 1``.
  A lock (one exclusive holder) always stays inline, on the one-statement fast path.
* :class:`HeapHolders` (memory): the same dict, and past ``INLINE_MAX`` holders a heap
  of expiries with lazy deletion (an entry is stale once its holder is gone or moved
  on; the heap is rebuilt when stale entries outnumber live ones) and a count per
  mode, so that ``fits()`` costs O(modes) and dropping the expired O(log holders)
  each. A lock pays for neither.

A dict keeps the order of insertion, and each grant inserts a holder with the lease's
newest token, so iterating holders goes in token order (:meth:`Holders.first` is the
oldest grant, whom a refused request is told it waits for).
"""

from __future__ import annotations

import abc
import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

INLINE_MAX = 8
"""SQLite keeps up to this many holders in a lease's record; more go to rows."""
INLINE_BACK = 4
"""A lease whose holders are in rows takes them back into its record at this many."""


@dataclass(slots=True)
class Holder:
    agent: str
    token: int
    ttl: float
    expires_at: float
    mode: str = ""
    intent: str = ""

    def row(self, holder: str) -> list[Any]:
        """``[holder, agent, token, ttl, expires_at(, mode, intent)]``: the JSON of a
        holder in a record (``mode`` and ``intent`` only when set)."""
        if self.mode or self.intent:
            return [holder, self.agent, self.token, self.ttl, self.expires_at, self.mode,
                    self.intent]
        return [holder, self.agent, self.token, self.ttl, self.expires_at]


class Holders(abc.ABC):
    """The holders of one lease by holder id. Tokens only grow: :meth:`add` gets a
    holder with the lease's newest token."""

    __slots__ = ()

    @abc.abstractmethod
    def get(self, holder: str) -> Holder | None: ...

    @abc.abstractmethod
    def add(self, holder: str, h: Holder) -> None:
        """A fresh grant to ``holder``, which holds nothing now."""

    @abc.abstractmethod
    def remove(self, holder: str) -> Holder | None:
        """Drop ``holder``'s lease; what it was (None: it held nothing)."""

    @abc.abstractmethod
    def extend(self, holder: str, h: Holder, ttl: float, expires_at: float) -> None:
        """Move the expiry of ``h`` (``holder``'s, from :meth:`get`) to ``expires_at``."""

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __contains__(self, holder: object) -> bool: ...

    @abc.abstractmethod
    def earliest(self) -> float | None:
        """The soonest expiry of a holder (None: no holder)."""

    @abc.abstractmethod
    def pop_expired(self, now: float) -> int:
        """Drop every holder whose lease ended by ``now``; how many went."""

    @abc.abstractmethod
    def first(self) -> tuple[str, Holder] | None:
        """The holder with the oldest token."""

    @abc.abstractmethod
    def modes(self) -> Iterable[str]:
        """The modes of the holders, each once."""

    @abc.abstractmethod
    def items(self) -> Iterable[tuple[str, Holder]]:
        """Every holder, in token order (costs O(holders): listings, revocations)."""

    @abc.abstractmethod
    def clear(self) -> None: ...

    @abc.abstractmethod
    def to_json(self) -> Any:
        """The holders' part of a stored record (``LeaseRecord.to_json``)."""


class InlineHolders(dict[str, Holder], Holders):
    """A few holders, in a dict (see the module's docstring); lookups, counting and
    iterating are the dict's own."""

    __slots__ = ()

    @classmethod
    def from_json(cls, rows: list[list[Any]]) -> InlineHolders:
        return cls({h[0]: Holder(*h[1:]) for h in rows})

    def to_json(self) -> list[list[Any]]:
        return [h.row(k) for k, h in self.items()]

    def add(self, holder: str, h: Holder) -> None:
        self[holder] = h

    def remove(self, holder: str) -> Holder | None:
        return self.pop(holder, None)

    def extend(self, holder: str, h: Holder, ttl: float, expires_at: float) -> None:
        h.ttl, h.expires_at = ttl, expires_at

    def earliest(self) -> float | None:
        return min((h.expires_at for h in self.values()), default=None)

    def pop_expired(self, now: float) -> int:
        gone = [k for k, h in self.items() if h.expires_at <= now] if self else ()
        for k in gone:
            del self[k]
        return len(gone)

    def first(self) -> tuple[str, Holder] | None:
        return next(iter(self.items()), None)

    def modes(self) -> Iterable[str]:
        return {h.mode for h in self.values()}


class HeapHolders(InlineHolders):
    """Any number of holders in memory (see the module's docstring): past INLINE_MAX
    of them, a heap of expiries and a count per mode, dropped again at INLINE_BACK."""

    __slots__ = ("_heap", "_modes")

    def __init__(self, holders: Iterable[tuple[str, Holder]] = ()) -> None:
        super().__init__()
        self._heap: list[tuple[float, int, str]] | None = None  # (expires_at, token, holder)
        self._modes: dict[str, int] = {}
        for k, h in holders:
            self.add(k, h)

    def add(self, holder: str, h: Holder) -> None:
        self[holder] = h
        heap = self._heap
        if heap is not None:
            heapq.heappush(heap, (h.expires_at, h.token, holder))
            self._modes[h.mode] = self._modes.get(h.mode, 0) + 1
            if len(heap) > 2 * len(self) + 16:  # stale entries outnumber the live ones
                self._index()
        elif len(self) > INLINE_MAX:
            self._index()

    def remove(self, holder: str) -> Holder | None:
        h = self.pop(holder, None)
        if h is not None and self._heap is not None:
            uncount(self._modes, h.mode)
            if len(self) <= INLINE_BACK:
                self._heap = None
        return h

    def extend(self, holder: str, h: Holder, ttl: float, expires_at: float) -> None:
        h.ttl, h.expires_at = ttl, expires_at
        heap = self._heap
        if heap is not None:  # the old entry goes stale
            heapq.heappush(heap, (expires_at, h.token, holder))
            if len(heap) > 2 * len(self) + 16:
                self._index()

    def _live(self, entry: tuple[float, int, str]) -> bool:
        h = self.get(entry[2])
        return h is not None and h.token == entry[1] and h.expires_at == entry[0]

    def earliest(self) -> float | None:
        heap = self._heap
        if heap is None:
            return super().earliest()
        while heap and not self._live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_expired(self, now: float) -> int:
        heap = self._heap
        if heap is None:  # InlineHolders.pop_expired, without a call to it
            gone = 0
            for k, h in list(self.items()) if self else ():
                if h.expires_at <= now:
                    del self[k]
                    gone += 1
            return gone
        gone = 0
        while heap and heap[0][0] <= now:
            entry = heapq.heappop(heap)
            if self._live(entry):
                uncount(self._modes, self.pop(entry[2]).mode)
                gone += 1
        return gone

    def modes(self) -> Iterable[str]:
        return super().modes() if self._heap is None else self._modes.keys()

    def clear(self) -> None:
        super().clear()
        self._heap = None

    def _index(self) -> None:
        """Build the heap and the mode counts from the holders."""
        self._heap = [(h.expires_at, h.token, k) for k, h in self.items()]
        heapq.heapify(self._heap)
        self._modes = {}
        for h in self.values():
            self._modes[h.mode] = self._modes.get(h.mode, 0) + 1


def uncount(modes: dict[str, int], mode: str) -> None:
    """One holder of ``mode`` fewer in a count per mode (a mode at 0 leaves it)."""
    left = modes[mode] - 1
    if left:
        modes[mode] = left
    else:
        del modes[mode]
