"""Events on the default coordinator, and the names handlers see.

``accord.events.schema(name, model)`` makes ``emit(name, ...)`` on the default
coordinator validate its payload; use ``coord.events.schema`` on your own coordinator.
"""

from __future__ import annotations

from typing import Any

from accord import _default
from accord._event import Event

__all__ = ["Event", "schema"]


def schema(name: str, model: Any) -> None:
    """Validate every payload of event ``name`` emitted through the default coordinator
    (declaring it opens no store)."""
    _default.schema(name, model)
