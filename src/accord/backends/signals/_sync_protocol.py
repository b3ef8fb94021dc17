# Generated from src/accord/backends/signals/_async_protocol.py by scripts/unasync.py: do not edit.
"""The ``signals`` capability: a short message to any mailbox of the namespace.

Every store opens mailboxes (``AsyncStore.open_mailbox``) to wake its own waiters;
``post`` lets one agent wake another's (``request`` / ``@responder`` use it).
"""

from __future__ import annotations

from typing import Protocol

from accord.backends._sync.store import Store


class Signals(Store, Protocol):
    """Posting to mailboxes, in any process that shares the store."""

    def post(self, mailbox: str, message: str) -> None:
        """Deliver a short message to a mailbox (dropped if it is gone)."""
        ...
