"""Which locks were contended lately: a hint the sync and async wait loops share."""

from __future__ import annotations


class ContendedKeys:
    """The lease keys whose last acquisition by this coordinator had to wait.

    The next acquisition of such a key joins the queue in its first call to the store
    instead of first trying without waiting: under contention that saves one round
    trip per acquisition. A key granted at once is dropped again, so an uncontended
    lock never opens a mailbox it does not need.
    """

    LIMIT = 1024  # keys kept; past it the set starts afresh (a hint, not a record)

    def __init__(self) -> None:
        self._keys: set[str] = set()

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def note(self, key: str, waited: bool) -> None:
        """Remember how the last acquisition of ``key`` went."""
        if not waited:
            self._keys.discard(key)
        elif key not in self._keys:
            if len(self._keys) >= self.LIMIT:
                self._keys.clear()
            self._keys.add(key)
