"""Which locks were contended lately: a hint the sync and async wait loops share."""

from __future__ import annotations


class ContendedKeys(set[str]):
    """The lease keys whose last acquisition by this coordinator had to wait.

    The next acquisition of such a key joins the queue in its first call to the store
    instead of first trying without waiting: under contention that saves one round
    trip per acquisition. A key granted at once is dropped again, so an uncontended
    lock never opens a mailbox it does not need.
    """

    # A set itself, so that the check on every acquisition is a C call.
    LIMIT = 1024  # keys kept; past it the set starts afresh (a hint, not a record)

    def note(self, key: str, waited: bool) -> None:
        """Remember how the last acquisition of ``key`` went."""
        if not waited:
            self.discard(key)
        elif key not in self:
            if len(self) >= self.LIMIT:
                self.clear()
            self.add(key)
