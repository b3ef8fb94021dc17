# Generated from src/accord/_async/state.py by scripts/unasync.py: do not edit.
"""Versioned shared state that cannot lose updates.

A map of keys, each holding JSON data with a version that grows by one per write.
``set(expected_version=...)`` is compare-and-set, ``incr`` is atomic in the store,
``update`` retries a read-modify-write until no one wrote in between. The bug this
exists for::

    agent A: reads stock 5 ............ writes 5 - 3 = 2
    agent B:     reads stock 5 .... writes 5 - 1 = 4      <- A's sale is lost
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Callable
from typing import Any, TypeVar

from accord import _validate
from accord._sync import _rt
from accord._sync._lease import Fencing
from accord._context import Context
from accord._models import Entry, Page
from accord.backends import Backend
from accord.backends.state.rule import PAGE_MAX
from accord.errors import InvalidName, VersionConflict

MISSING = _validate.MISSING
_T = TypeVar("_T")


class StateMap:
    """A named map of versioned entries; see :meth:`Coordinator.state`."""

    def __init__(self, ctx: Context[Backend], name: str) -> None:
        self.name = _validate.name(name, "state name")
        self._ctx = ctx

    def get(self, key: str) -> Entry | None:
        """The current entry of ``key``, or None."""
        return self._ctx.store.state_get(self.name, _validate.name(key, "key"))

    def set(
        self,
        key: str,
        value: Any,
        *,
        expected_version: int | None = None,
        fence: Fencing | None = None,
    ) -> Entry:
        """Write ``value`` as the next version and return it.

        ``expected_version``: write only if the current version is this (0: only if
        absent), else VersionConflict. ``fence``: a lease; refused with StaleFence if a
        newer lease of the same lock (or claim of the same task) already wrote the key.
        """
        key = _validate.name(key, "key")
        text = _validate.encode(value, self._ctx.max_payload)
        return self._ctx.store.state_set(
            self.name, key, text, self._ctx.agent, _version(expected_version), _fence(fence)
        )

    def update(
        self, key: str, fn: Callable[[Any], Any], *, default: Any = MISSING
    ) -> Entry:
        """Atomically replace the value with ``fn(value)``, retrying on conflicts.

        ``fn`` may run more than once, so it should have no side effects. An absent
        key uses ``default``; with no default it raises KeyError.
        """
        key = _validate.name(key, "key")
        current = self.get(key)
        attempt = 0
        while True:
            if current is None and default is MISSING:
                raise KeyError(f"{self.name}[{key!r}] is absent; pass default= to update()")
            new = fn(default if current is None else current.value)
            try:
                return self.set(
                    key, new, expected_version=0 if current is None else current.version
                )
            except VersionConflict as conflict:
                current = conflict.current  # what won: no need to read it again
                attempt += 1
                _rt.sleep(retry_pause(attempt))

    def incr(self, key: str, delta: int | float = 1) -> Entry:
        """Add ``delta`` atomically (an absent key counts as 0); TypeError if not a number."""
        key = _validate.name(key, "key")
        if isinstance(delta, bool) or not isinstance(delta, (int, float)):
            raise TypeError(f"incr delta must be an int or float, not {type(delta).__name__}")
        if not math.isfinite(delta):
            raise ValueError(f"incr delta must be finite, got {delta!r}")
        return self._ctx.store.state_incr(self.name, key, delta, self._ctx.agent)

    def delete(self, key: str, *, expected_version: int | None = None) -> bool:
        """Delete ``key`` (the version still grows); False if it was absent."""
        key = _validate.name(key, "key")
        return self._ctx.store.state_delete(
            self.name, key, self._ctx.agent, _version(expected_version)
        )

    def keys(
        self, prefix: str = "", *, after: str | None = None, page_size: int = PAGE_MAX
    ) -> Iterator[str]:
        """Live keys starting with ``prefix``, sorted, after the key ``after`` if given.

        Lazy: ``async for key in inv.keys()`` asks the store for ``page_size`` keys at
        a time (at most 1000), each call costing what it returns, however large the
        map; values are not read. The listing is not a snapshot: a key written or
        deleted meanwhile may or may not show. For one page and a cursor, see
        :meth:`keys_page`.
        """
        fetch = self._ctx.store.state_keys
        return _walk(fetch, self.name, *_listing(prefix, after, page_size, "page_size"))

    def items(
        self, prefix: str = "", *, after: str | None = None, page_size: int = PAGE_MAX
    ) -> Iterator[tuple[str, Entry]]:
        """``(key, entry)`` of the live keys :meth:`keys` lists, lazily, in pages of
        ``page_size`` (``dict(inv.items())`` reads a whole map)."""
        fetch = self._ctx.store.state_items
        return _walk(fetch, self.name, *_listing(prefix, after, page_size, "page_size"))

    def keys_page(
        self, prefix: str = "", *, after: str | None = None, limit: int = PAGE_MAX
    ) -> Page[str]:
        """One page of :meth:`keys`: up to ``limit`` keys (fewer only on the last
        page) and ``next``, the ``after=`` of the following page (None on the last)."""
        fetch = self._ctx.store.state_keys
        return _page(fetch, self.name, *_listing(prefix, after, limit, "limit"), _same)

    def items_page(
        self, prefix: str = "", *, after: str | None = None, limit: int = PAGE_MAX
    ) -> Page[tuple[str, Entry]]:
        """One page of :meth:`items`, as :meth:`keys_page` pages keys."""
        fetch = self._ctx.store.state_items
        return _page(fetch, self.name, *_listing(prefix, after, limit, "limit"), _first)

    def history(self, key: str, limit: int = 20) -> list[Entry]:
        """The last ``limit`` versions, newest first, with who wrote them and when."""
        key = _validate.name(key, "key")
        return self._ctx.store.state_history(self.name, key, _validate.count(limit, "limit"))

    def __repr__(self) -> str:
        return f"<StateMap {self.name!r}>"


def retry_pause(attempt: int) -> float:
    """Seconds to sleep before retry ``attempt`` of update(): random, up to 0.1 ms
    doubled per attempt, at most 10 ms however many attempts (a key written by many
    agents at once can take hundreds)."""
    return random.uniform(0, min(0.01, 0.0001 * 2 ** min(attempt, 7)))


def _version(expected: int | None) -> int | None:
    if expected is None:
        return None
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 0:
        raise TypeError(f"expected_version must be an int >= 0 or None, got {expected!r}")
    return expected


def _fence(lease: Fencing | None) -> tuple[str, int] | None:
    """The (lease key, token) of a lease, a task claim, or a file lease (its first path)."""
    if lease is None:
        return None
    fence = getattr(lease, "fence", None)
    if not (isinstance(fence, tuple) and len(fence) == 2 and isinstance(fence[1], int)):
        raise TypeError("fence must be a Lease from lock().acquire(), a file lease or a "
                        f"Claim from queue().claim(), not {type(lease).__name__}")
    return fence


def _listing(prefix: str, after: str | None, size: int, what: str) -> tuple[str, str | None, int]:
    """The checked arguments of a listing (before any call of the store)."""
    if not isinstance(prefix, str):
        raise TypeError(f"prefix must be a str, not {type(prefix).__name__}")
    if after is not None and not isinstance(after, str):
        raise TypeError(f"after must be a key (str) or None, not {type(after).__name__}")
    for text, name in ((prefix, "prefix"), (after or "", "after")):
        if not text.isascii():
            try:
                text.encode()
            except UnicodeEncodeError:
                raise InvalidName(repr(text), f"{name} holds a lone surrogate, which is "
                                  "not text; decode it first") from None
    most = PAGE_MAX if what == "page_size" else _validate.MAX_COUNT
    return prefix, after, _validate.count(size, what, most)


_Fetch = Callable[[str, str, str | None, int], tuple[list[_T], str | None]]


def _walk(
    fetch: _Fetch[_T], name: str, prefix: str, after: str | None, size: int
) -> Iterator[_T]:
    """Everything ``fetch`` lists from ``after`` on, one call of the store per page."""
    while True:
        found, after = fetch(name, prefix, after, size)
        for item in found:
            yield item
        if after is None:
            return


def _page(
    fetch: _Fetch[_T],
    name: str,
    prefix: str,
    after: str | None,
    limit: int,
    key: Callable[[_T], str],
) -> Page[_T]:
    """``limit`` results and the cursor after them: calls of the store until one more
    than ``limit`` is found (so the last page says it is the last) or none is left."""
    found: list[_T] = []
    while len(found) <= limit:
        more, after = fetch(name, prefix, after, min(limit + 1 - len(found), PAGE_MAX))
        found += more
        if after is None:
            break
    if len(found) > limit:
        return Page(tuple(found[:limit]), key(found[limit - 1]))
    return Page(tuple(found), None)


def _same(key: str) -> str:
    return key


def _first(item: tuple[str, Entry]) -> str:
    return item[0]
