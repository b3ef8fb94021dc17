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

ACTIONS: dict[str, Action] = {a.name: a for a in (EMIT,)}
