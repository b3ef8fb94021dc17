"""What the surfaces show, as plain JSON documents: read once, shown three ways.

The CLI prints these documents (``--json`` prints them as they are), the dashboard
renders them and the MCP server returns them, so a field means the same everywhere.
They are stable: a field, once documented in the README, keeps its name and meaning;
new fields may be added.

``accord status`` is assembled from :data:`SECTIONS`, one :class:`Section` per
capability: the locks today. A capability that comes later (agents and the kill
switch, the task queue, approvals) adds one ``Section`` to the tuple and its key
appears in ``accord status``, ``status --json``, ``accord watch``, the dashboard's
summary and the MCP ``status`` tool at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import accord

Doc = dict[str, Any]

KINDS = {"lock": "lock", "sem": "semaphore"}


def listing(coord: accord.AsyncCoordinator, key: str, items: list[Doc]) -> Doc:
    """A listing's document: ``{"store", "namespace", <key>: [...]}``."""
    return {"store": coord.url, "namespace": coord.namespace, key: items}


# --- locks -------------------------------------------------------------------------------


def lock_doc(stats: accord.LeaseStatistics) -> Doc:
    """One lock, semaphore or file lease: ``{"name", "kind", "limit", "holders":
    [{"agent", "token", "expires_in", "mode", "intent"}], "waiters": [agent, ...],
    "last_token"}`` (``mode``: exclusive, shared, intent-shared, intent-exclusive)."""
    return {
        "name": stats.name,
        "kind": KINDS.get(stats.kind, stats.kind),
        "limit": stats.limit,
        "holders": [
            {"agent": h.agent, "token": h.token, "expires_in": round(h.expires_in, 3),
             "mode": h.mode, "intent": h.intent}
            for h in stats.holders
        ],
        "waiters": list(stats.waiters),
        "last_token": stats.last_token,
    }


async def read_locks(coord: accord.AsyncCoordinator) -> list[Doc]:
    """Every lock and semaphore with holders or waiters, sorted by kind and name."""
    found = [lock_doc(s) for s in await coord.list_locks()]
    return sorted(found, key=lambda d: (d["kind"], d["name"]))


def locks_summary(locks: list[Doc]) -> Doc:
    """``{"held", "locks", "semaphores", "waiting"}``: held counts names with a holder
    (a semaphore once, however many permits are out), waiting counts waiters."""
    held = [d for d in locks if d["holders"]]
    semaphores = sum(1 for d in held if d["kind"] == "semaphore")
    return {
        "held": len(held),
        "locks": len(held) - semaphores,
        "semaphores": semaphores,
        "waiting": sum(len(d["waiters"]) for d in locks),
    }


# --- agents ------------------------------------------------------------------------------


def agent_doc(agent: accord.AgentInfo, hung: bool) -> Doc:
    """One agent: ``{"name", "status", "role", "working_on", "capabilities", "host",
    "pid", "started_at", "last_heartbeat", "last_progress", "holds", "reason"}``
    (``status`` is ``hung`` when it is live without progress past the threshold)."""
    return {
        "name": agent.name,
        "status": "hung" if hung else agent.status,
        "role": agent.role,
        "working_on": agent.working_on,
        "capabilities": list(agent.capabilities),
        "host": agent.host,
        "pid": agent.pid,
        "started_at": agent.started_at,
        "last_heartbeat": agent.last_heartbeat,
        "last_progress": agent.last_progress,
        "holds": list(agent.holds),
        "reason": agent.reason,
    }


async def read_agents(coord: accord.AsyncCoordinator, hung_after: float) -> list[Doc]:
    """Every registered agent, with ``hung`` for those without progress for
    ``hung_after`` seconds."""
    hung = {a.name for a in await coord.agents.hung(hung_after)}
    return [agent_doc(a, a.name in hung) async for a in coord.agents.list()]


# --- events ------------------------------------------------------------------------------


def event_doc(event: accord.Event) -> Doc:
    """One event of the log: ``{"id", "name", "source", "time", "data"}`` (``time`` in
    Unix seconds, ``data`` the payload as emitted)."""
    return {
        "id": event.id,
        "name": event.name,
        "source": event.source,
        "time": event.time,
        "data": event.data,
    }


def id_key(event_id: str) -> tuple[int, ...]:
    """Sorts event ids in log order (digits on memory and SQLite, ``ms-seq`` on Redis)."""
    return tuple(int(part) for part in event_id.split("-"))


async def read_events(
    coord: accord.AsyncCoordinator,
    *,
    name: str | None = None,
    source: str | None = None,
    limit: int = 20,
) -> list[Doc]:
    """The newest ``limit`` events, newest first, optionally of one name or source."""
    found = await coord.events.history(name=name, source=source, limit=limit)
    return [event_doc(e) for e in found]


# --- status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of ``accord status``: ``key`` in the JSON document, ``read`` makes its
    value from the store, ``lines`` says it to people as (label, text) rows."""

    key: str
    read: Callable[[accord.AsyncCoordinator], Awaitable[Doc]]
    lines: Callable[[Doc], list[tuple[str, str]]]


async def _read_locks_summary(coord: accord.AsyncCoordinator) -> Doc:
    return locks_summary(await read_locks(coord))


def _locks_lines(doc: Doc) -> list[tuple[str, str]]:
    return [
        ("held locks", f"{doc['held']} ({doc['locks']} locks, {doc['semaphores']} semaphores)"),
        ("waiting", str(doc["waiting"])),
    ]


LOCKS = Section("locks", _read_locks_summary, _locks_lines)

# In the order ``accord status`` shows them. The slots to come, each one Section:
# "halted" and "agents" (agents by status, with the kill switch), "tasks" (the task
# queue by status), "approvals" (pending approvals).
SECTIONS: tuple[Section, ...] = (LOCKS,)


async def read_status(coord: accord.AsyncCoordinator) -> Doc:
    """``{"store", "namespace", <section key>: {...}, ...}``; the store's password is
    never in it (``coord.url`` is redacted)."""
    doc: Doc = {"store": coord.url, "namespace": coord.namespace}
    for section in SECTIONS:
        doc[section.key] = await section.read(coord)
    return doc


def status_lines(doc: Doc) -> list[tuple[str, str]]:
    """The status document as (label, text) rows for people."""
    rows = [("store", str(doc["store"])), ("namespace", str(doc["namespace"]))]
    for section in SECTIONS:
        if section.key in doc:
            rows += section.lines(doc[section.key])
    return rows
