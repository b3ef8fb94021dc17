"""What every record store (memory, SQLite) gives the features' record operations:
transactions, clocks and posting after a commit.

Memory and SQLite differ only in where records live and how a transaction is made;
each feature's ``records.py`` (``leases/``, ``state/``, ``rates/``, ``events/``,
``signals/``) runs its rule inside one ``_transaction`` and posts the hand-off
signals only after it committed. ``_records.py`` assembles them.
"""

from __future__ import annotations

import abc
from contextlib import AbstractContextManager

from accord.backends.signals.rule import Signal


class RecordBase(abc.ABC):
    """A sync store built from record storage; subclasses give storage and time."""

    name: str
    namespace: str
    capabilities: frozenset[str]

    @abc.abstractmethod
    def _transaction(self, write: bool = True) -> AbstractContextManager[None]:
        """One atomic step; ``write=False`` for reads that need no write lock."""

    @abc.abstractmethod
    def _now(self) -> float: ...

    @abc.abstractmethod
    def _wall(self) -> float: ...

    @abc.abstractmethod
    def _post(self, signals: list[Signal]) -> None:
        """Deliver hand-off messages; called after the transaction committed."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release files and connections."""
