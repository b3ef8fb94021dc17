"""Events as handlers see them, and the checks on event names and patterns."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from accord import _json
from accord.errors import InvalidName

_NAME = re.compile(r"[A-Za-z0-9_.:\-/]{1,200}")
_PATTERN = re.compile(r"[A-Za-z0-9_.:\-/*?]{1,200}")


@lru_cache(maxsize=4096)
def _valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def event_name(name: object) -> str:
    """Return ``name`` if it can name an event, else raise InvalidName."""
    if not isinstance(name, str) or not _valid_name(name):
        raise InvalidName(
            str(name), "an event name is 1-200 of A-Z a-z 0-9 _ . : - / (no spaces or wildcards)"
        )
    return name


def event_pattern(pattern: object) -> str:
    """Return ``pattern`` if it is an event name or a glob (``order.*``), else InvalidName."""
    if not isinstance(pattern, str) or not _PATTERN.fullmatch(pattern):
        raise InvalidName(
            str(pattern), "a pattern is an event name that may use the wildcards * and ?"
        )
    return pattern


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(pattern))


def matches(pattern: str, name: str) -> bool:
    """True when ``name`` matches the glob ``pattern`` (case-sensitive)."""
    if "*" not in pattern and "?" not in pattern:
        return pattern == name
    return _compiled(pattern).match(name) is not None


class EventRecord(NamedTuple):
    """An event as stored: ``data`` is JSON text, ``id`` sorts in emit order."""

    id: str
    name: str
    data: str
    source: str
    time: float


class Event(Mapping[str, Any]):
    """A read-only event: a mapping over its payload, plus who, what and when.

    ``event["result"]`` reads the payload; ``.name``, ``.id``, ``.source`` (the agent
    that emitted it), ``.time`` (Unix time) and ``.data`` (the whole payload, a copy
    of what was emitted) describe it. A payload that is not a dict maps nothing.
    """

    __slots__ = ("data", "id", "name", "source", "time")

    def __init__(self, record: EventRecord) -> None:
        self.id = record.id
        self.name = record.name
        self.source = record.source
        self.time = record.time
        self.data: Any = _json.loads(record.data)

    def _payload(self) -> Mapping[str, Any]:
        return self.data if isinstance(self.data, dict) else {}

    def __getitem__(self, key: str) -> Any:
        return self._payload()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._payload())

    def __len__(self) -> int:
        return len(self._payload())

    def __repr__(self) -> str:
        return f"<Event {self.name} id={self.id} source={self.source!r} data={self.data!r}>"
