"""The ``signals`` capability: a short message to any mailbox of the namespace.

Every store opens mailboxes (``AsyncStore.open_mailbox``) to wake its own waiters;
``post`` lets one agent wake another's (``request`` / ``@responder`` use it).
"""

from __future__ import annotations

from typing import Protocol

from accord.backends._async.store import AsyncStore


class AsyncSignals(AsyncStore, Protocol):
    """Posting to mailboxes, in any process that shares the store."""

    async def post(self, mailbox: str, message: str) -> None:
        """Deliver a short message to a mailbox (dropped if it is gone)."""
        ...
