"""What ``@coordinate`` needs besides I/O: its options and its event payloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from accord import _validate
from accord._event import event_name
from accord.errors import PayloadTooLarge

REPR_LIMIT = 2000


@dataclass(frozen=True)
class Spec:
    """The options of one ``@coordinate(...)``, checked when decorating."""

    agent: str
    lock_name: str | None
    ttl: float
    timeout: float | None
    semaphore: tuple[str, int, float, float | None] | None
    rate_limit: tuple[str, float, float, int] | None
    auto_renew: bool = False


def make_spec(
    agent: str,
    lock_name: str | None,
    ttl: float,
    timeout: float | None,
    semaphore: Any,
    rate_limit: Any,
    auto_renew: bool = False,
) -> Spec:
    """Check the options; ``semaphore`` and ``rate_limit`` are objects from a coordinator."""
    event_name(agent)
    event_name(f"{agent}_complete")  # the longest name it will emit
    sem = None
    if semaphore is not None:
        if not all(hasattr(semaphore, a) for a in ("name", "limit", "ttl", "timeout")):
            raise TypeError("semaphore= takes coord.semaphore(name, limit=...)")
        sem = (semaphore.name, semaphore.limit, semaphore.ttl, semaphore.timeout)
    rate = None
    if rate_limit is not None:
        if not all(hasattr(rate_limit, a) for a in ("name", "rate", "per", "burst")):
            raise TypeError("rate_limit= takes coord.rate_limit(name, rate=..., per=...)")
        rate = (rate_limit.name, rate_limit.rate, rate_limit.per, rate_limit.burst)
    return Spec(
        agent=agent,
        lock_name=None if lock_name is None else _validate.name(lock_name, "lock_name"),
        ttl=_validate.positive(ttl, "ttl"),
        timeout=_validate.timeout(timeout),
        semaphore=sem,
        rate_limit=rate,
        auto_renew=bool(auto_renew),
    )


def started(agent: str, run_id: str) -> dict[str, Any]:
    return {"agent": agent, "run_id": run_id}


def complete(agent: str, run_id: str, result: Any, duration: float, limit: int) -> dict[str, Any]:
    """The ``_complete`` payload; a result that is not JSON (or too big) goes as its repr."""
    payload: dict[str, Any] = {"agent": agent, "run_id": run_id, "duration_s": duration}
    try:
        _validate.encode(result, limit - 1024)
        payload["result"] = result
    except (TypeError, PayloadTooLarge):
        payload["result_repr"] = repr(result)[:REPR_LIMIT]
    return payload


def failed(agent: str, run_id: str, exc: BaseException, duration: float) -> dict[str, Any]:
    return {
        "agent": agent,
        "run_id": run_id,
        "error_type": type(exc).__name__,
        "error": str(exc)[:REPR_LIMIT],
        "duration_s": duration,
    }
