"""What every store of the seam has: a name, a namespace, its capabilities, mailboxes
and a way to close; each capability adds a protocol of its own (see the feature
folders ``leases/``, ``state/``, ``rates/``, ``events/``, ``signals/``).

``AsyncStore`` is the source; ``Store`` in ``backends/_sync/store.py`` is generated
from it by ``scripts/unasync.py``.
"""

from __future__ import annotations

from typing import Protocol


class AsyncMailbox(Protocol):
    """Where one waiter is woken. Open it before the ``acquire`` that may queue."""

    id: str

    async def wait(self, timeout: float) -> str | None:
        """A message (a fencing token as text), or None after ``timeout`` seconds."""
        ...

    async def aclose(self) -> None:
        """Release the mailbox; messages posted later are dropped."""
        ...


class AsyncStore(Protocol):
    """A store bound to one namespace; keys never cross namespaces.

    ``capabilities`` names the protocols it implements (``accord.backends.CAPABILITIES``);
    a primitive of a capability it lacks raises ``Unsupported`` when it is made."""

    name: str
    namespace: str
    capabilities: frozenset[str]

    async def open_mailbox(self) -> AsyncMailbox:
        """A fresh mailbox with a unique id (how a waiter of any primitive is woken)."""
        ...

    async def aclose(self) -> None:
        """Release connections and files. Idempotent."""
        ...
