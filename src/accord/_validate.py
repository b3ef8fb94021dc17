"""Checks on everything a caller hands to accord, done before anything is written."""

from __future__ import annotations

import math
import re
import threading
from typing import Any

from accord import _json
from accord.errors import ConfigError, InvalidName, PayloadTooLarge


class _Sentinel:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


MISSING: Any = _Sentinel("MISSING")
"""Marks "no default": ``update`` on an absent key then raises KeyError."""

DEFAULT: Any = _Sentinel("DEFAULT")
"""Marks "the primitive's own timeout" in ``acquire(timeout=...)``."""

MAX_NAME = 512
_CONTROL = re.compile("[\x00-\x1f\x7f]")
DEFAULT_MAX_PAYLOAD = 1024 * 1024
MAX_DURATION = 365 * 24 * 3600.0
"""The longest ttl, visibility or rate-limit period: one year, in seconds."""
MAX_TIMEOUT = threading.TIMEOUT_MAX
"""The longest timeout (about 292 years on Linux); None waits for ever."""
MIN_INTERVAL = 1e-9
"""The shortest interval between two calls of a rate limit (``per / rate``)."""
MAX_COUNT = 2**31 - 1
"""The largest count: a semaphore limit, burst, cost, barrier parties or read limit."""


def name(value: object, what: str = "name") -> str:
    """Return ``value`` if it is a usable name, else raise InvalidName."""
    if not isinstance(value, str):
        raise InvalidName(repr(value), f"{what} must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidName(value, f"{what} is empty")
    if len(value) > MAX_NAME:
        raise InvalidName(value, f"{what} has {len(value)} characters, over {MAX_NAME}")
    if _CONTROL.search(value):
        raise InvalidName(value, f"{what} contains a control character")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidName(
                repr(value), f"{what} holds a lone surrogate, which is not text; decode it first"
            ) from None
    return value


def _offending(value: Any) -> str:
    """Name the first type inside ``value`` that JSON cannot carry."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{type(k).__name__} (as a dict key)"
            found = _offending(v)
            if found:
                return found
        return ""
    if isinstance(value, (list, tuple)):
        for v in value:
            found = _offending(v)
            if found:
                return found
        return ""
    if value is None or isinstance(value, (str, bool, int)):
        return ""
    if isinstance(value, float):
        return "" if math.isfinite(value) else f"float {value!r}"
    return type(value).__name__


_PLAIN = (str, int, bool, type(None))


def encode(value: Any, limit: int, *, canonical: bool = False) -> str:
    """JSON-encode ``value``; TypeError if it is not JSON data, PayloadTooLarge if big.
    ``canonical``: sorted keys (what a hash is taken of, see ``_json.dumps_canonical``)."""
    try:
        bad = "" if type(value) in _PLAIN else _offending(value)
    except RecursionError:
        bad = "itself (a circular reference) or nests too deep"
    if bad:
        raise TypeError(
            f"value is not JSON data: it contains {bad}; convert it to dict, list, str, "
            "int, float, bool or None first"
        )
    text = (_json.dumps_canonical if canonical else _json.dumps_data)(value)
    size = len(text) if text.isascii() else len(text.encode())
    if size > limit:
        raise PayloadTooLarge(size, limit)
    return text


def decode(text: str) -> Any:
    """The inverse of :func:`encode`."""
    return _json.loads(text)


def positive(
    value: float, what: str, maximum: float = MAX_DURATION, *, minimum: float = 0.0
) -> float:
    """Return ``value`` as a float if it is a finite number above zero (and at least
    ``minimum``) and at most ``maximum`` (by default :data:`MAX_DURATION`, one year of
    seconds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be a number of seconds, not {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{what} must be a finite number above 0, got {value!r}")
    if value < minimum:
        raise ConfigError(f"{what} must be at least {minimum:g} seconds, got {value!r}")
    if value > maximum:
        raise ConfigError(
            f"{what} must be at most {maximum:g}{_unit(maximum)}, got {value!r}; "
            "use a shorter one (renew a long lease with extend() or auto_renew=True)"
        )
    return float(value)


def _unit(maximum: float) -> str:
    return " seconds (one year)" if maximum == MAX_DURATION else ""


def rate_interval(rate: float, per: float, burst: int) -> float:
    """The seconds between two calls of a limit of ``rate`` calls every ``per`` seconds
    (and ``burst`` at once, which must refill within one year)."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise ConfigError(f"rate must be a number of calls, not {type(rate).__name__}")
    if not math.isfinite(rate) or rate <= 0:
        raise ConfigError(f"rate must be a finite number above 0, got {rate!r}")
    per = positive(per, "per")
    interval = per / rate
    if not MIN_INTERVAL <= interval <= MAX_DURATION:
        raise ConfigError(
            f"rate={rate!r} per={per!r} allows one call every {interval:g} s; it must be "
            f"between {MIN_INTERVAL:g} s and {MAX_DURATION:g} s (one year)"
        )
    if burst * interval > MAX_DURATION:
        raise ConfigError(
            f"burst={burst} at one call every {interval:g} s takes {burst * interval:g} s "
            f"to refill, over one year ({MAX_DURATION:g} s); lower burst or raise rate"
        )
    return interval


def timeout_or(value: float | None, fallback: float | None) -> float | None:
    """``fallback`` when ``value`` is DEFAULT, else ``value`` checked by :func:`timeout`."""
    return fallback if value is DEFAULT else timeout(value)


def timeout(value: float | None, what: str = "timeout") -> float | None:
    """None (wait for ever) or a finite number >= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{what} must be None or seconds, not {type(value).__name__}")
    if math.isnan(value) or value < 0:
        raise ConfigError(f"{what} must be None or >= 0 seconds, got {value!r}")
    if value > MAX_TIMEOUT:
        raise ConfigError(
            f"{what} must be at most {MAX_TIMEOUT:g} seconds, got {value!r}; "
            "pass None to wait for ever"
        )
    return float(value)


def count(value: int, what: str, maximum: int = MAX_COUNT) -> int:
    """A whole number from 1 to ``maximum`` (by default :data:`MAX_COUNT`)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{what} must be a whole number >= 1, got {value!r}")
    if value > maximum:
        raise ConfigError(f"{what} must be at most {maximum}, got {value!r}")
    return value


_EVENT_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")
_ID_FORM = (
    "an event id is the .id of an Event: digits ('17' on memory and SQLite) or "
    "<digits>-<digits> ('1700000000000-3' on Redis), each part below 2**64"
)


def event_id(value: object, what: str = "event id") -> str:
    """Return ``value`` if it has the form of an event id of some store, else ConfigError."""
    if isinstance(value, str):
        found = _EVENT_ID.fullmatch(value)
        if found is not None and all(int(p) < 2**64 for p in found.groups() if p is not None):
            return value
    raise ConfigError(f"{what} {value!r} is malformed: {_ID_FORM}")
