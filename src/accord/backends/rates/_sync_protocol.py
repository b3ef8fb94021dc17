# Generated from src/accord/backends/rates/_async_protocol.py by scripts/unasync.py: do not edit.
"""The ``rate_limits`` capability: GCRA in one atomic step per check."""

from __future__ import annotations

from typing import Protocol

from accord.backends._sync.store import Store


class RateLimits(Store, Protocol):
    """Rate limits shared by every process of the store."""

    def rate_acquire(
        self, key: str, interval: float, burst: int, cost: int, consume: bool
    ) -> float:
        """GCRA: 0.0 if admitted (consumed when ``consume``), else seconds to wait."""
        ...
