"""The rate-limit operation of the seam for record stores (memory, SQLite): one
transaction around the rule of ``rule.py``."""

from __future__ import annotations

import abc

from accord.backends._record_base import RecordBase
from accord.backends.rates.rule import gcra


class RateRecords(RecordBase):
    """Rate limits over record storage; storage always inside _transaction()."""

    @abc.abstractmethod
    def _load_tat(self, key: str) -> float: ...

    @abc.abstractmethod
    def _save_tat(self, key: str, tat: float) -> None: ...

    # rate limits --------------------------------------------------------------------
    def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        with self._transaction():
            tat = self._load_tat(key)
            new_tat, wait = gcra(tat, self._now(), interval, burst, cost)
            if consume and wait == 0.0:
                self._save_tat(key, new_tat)
        return wait
