"""What the dashboard can change, and the token every change needs.

Every change is ``POST /api/actions/<name>`` with ``Authorization: Bearer <token>``
and a JSON object of arguments. Without the token the dashboard is read-only: the
request is refused (401, or 403 for a wrong token) before its body is read, and
nothing reaches the store. The page keeps the token in the tab's session storage and
sends it as a header (never a cookie), so another site cannot make a browser act.

An action is a name and an ``async def run(coord, args) -> dict``; add one to
:data:`ACTIONS` (approve, deny, kill, halt, resume, force unlock and retry come with
the approvals, agents and task queue), and its form or button in a panel.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import accord
from accord.surfaces import views

MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[accord.AsyncCoordinator, dict[str, Any]], Awaitable[views.Doc]]


class Refused(Exception):
    """The request may not act; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_token(header: str | None, token: str) -> None:
    """Accept ``Bearer <token>`` only (compared in constant time), else :class:`Refused`."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Refused(401, "this dashboard is read-only without its token: send "
                           "'Authorization: Bearer <token>' (printed by accord dashboard)")
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Refused(403, "wrong token: use the one accord dashboard printed at start "
                           "(or $ACCORD_DASHBOARD_TOKEN)")


async def _emit(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    """Emit an event (``{"name": ..., "data": ...}``) as the dashboard's agent."""
    name = args.get("name")
    if not isinstance(name, str):
        raise Refused(400, "emit takes {\"name\": \"an.event\", \"data\": <JSON>}")
    event_id = await coord.emit(name, args.get("data"))
    return {"id": event_id, "name": name}


EMIT = Action("emit", _emit)


def _text(args: dict[str, Any], key: str, what: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise Refused(400, f"this action takes {{\"{key}\": \"{what}\"}}")
    return value.strip()


def _reason(args: dict[str, Any]) -> str | None:
    value = args.get("reason")
    return value.strip() or None if isinstance(value, str) else None


async def _approve(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    decision = await coord.approvals.approve(_text(args, "id", "approval id"),
                                             reason=_reason(args))
    return {"id": decision.id, "status": decision.status}


async def _deny(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    decision = await coord.approvals.deny(_text(args, "id", "approval id"),
                                          reason=_reason(args))
    return {"id": decision.id, "status": decision.status}


async def _kill(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    agent = await coord.agents.kill(_text(args, "agent", "agent name"),
                                    reason=_text(args, "reason", "why"))
    return {"agent": agent.name, "status": agent.status}


async def _halt(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    await coord.halt(_text(args, "reason", "why"))
    return {"halted": True}


async def _resume(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    await coord.resume()
    return {"halted": False}


async def _unlock(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    name = _text(args, "name", "lock name")
    dropped = await coord.lock(name).force_release(reason=_text(args, "reason", "why"))
    return {"name": name, "released": dropped}


async def _retry(coord: accord.AsyncCoordinator, args: dict[str, Any]) -> views.Doc:
    queue = args.get("queue") if isinstance(args.get("queue"), str) else "default"
    task = await coord.queue(str(queue)).retry(_text(args, "id", "task id"))
    return {"task": task.id, "status": task.status}


ACTIONS: dict[str, Action] = {a.name: a for a in (
    EMIT, Action("approve", _approve), Action("deny", _deny), Action("kill", _kill),
    Action("halt", _halt), Action("resume", _resume), Action("unlock", _unlock),
    Action("retry", _retry),
)}
