"""What the surfaces show, as plain JSON documents: read once, shown three ways.

The CLI prints these documents (``--json`` prints them as they are), the dashboard
renders them and the MCP server returns them, so a field means the same everywhere.
They are stable: a field, once documented in the README, keeps its name and meaning;
new fields may be added.

``accord status`` is assembled from :data:`SECTIONS`, one :class:`Section` per
capability (locks, the halt switch, agents, tasks, approvals). A new capability adds
one ``Section`` to the tuple and its key appears in ``accord status``,
``status --json``, ``accord watch``, the dashboard's summary and the MCP ``status``
tool at once.
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


# --- tasks -------------------------------------------------------------------------------

TASK_STATUSES = ("waiting", "ready", "claimed", "done", "failed", "dead", "cancelled")


def task_doc(task: accord.AsyncTask) -> Doc:
    """One task: ``{"id", "queue", "title", "description", "status", "priority", "tags",
    "to", "depends_on", "attempts", "max_attempts", "claimed_by", "created_by",
    "created_at", "updated_at", "data", "result", "error"}``."""
    return {
        "id": task.id, "queue": task.queue, "title": task.title,
        "description": task.description, "status": task.status, "priority": task.priority,
        "tags": list(task.tags), "to": task.to, "depends_on": list(task.depends_on),
        "attempts": task.attempts, "max_attempts": task.max_attempts,
        "claimed_by": task.claimed_by, "created_by": task.created_by,
        "created_at": task.created_at, "updated_at": task.updated_at,
        "data": task.data, "result": task.result, "error": task.error,
    }  # fmt: skip


async def read_tasks(coord: accord.AsyncCoordinator, queue: str = "default", *,
                     status: str | None = None, tags: list[str] | None = None,
                     limit: int = 100) -> list[Doc]:
    """Up to ``limit`` tasks of ``queue``, in the order they were put."""
    found = await coord.queue(queue).list(status, tags, limit=limit)
    return [task_doc(t) for t in found]


async def read_task_counts(coord: accord.AsyncCoordinator, queue: str = "default") -> Doc:
    """``{"queue", <status>: count, ...}`` for every task status."""
    stats = await coord.queue(queue).stats()
    return {"queue": queue, **{s: getattr(stats, s) for s in TASK_STATUSES}}


# --- approvals, board, audit, metrics ------------------------------------------------------


def approval_doc(approval: accord.Approval) -> Doc:
    """One approval request: ``{"id", "action", "details", "requested_by", "approvers",
    "status", "created_at", "expires_at", "decision"}`` (``decision``: None while
    pending, else ``{"approved", "by", "reason", "at", "status"}``)."""
    decision = approval.decision
    return {
        "id": approval.id, "action": approval.action, "details": approval.details,
        "requested_by": approval.requested_by,
        "approvers": None if approval.approvers is None else list(approval.approvers),
        "status": approval.status, "created_at": approval.created_at,
        "expires_at": approval.expires_at,
        "decision": None if decision is None else {
            "approved": decision.approved, "by": decision.by, "reason": decision.reason,
            "at": decision.at, "status": decision.status,
        },
    }  # fmt: skip


async def read_approvals(coord: accord.AsyncCoordinator, limit: int = 100) -> list[Doc]:
    """The pending approval requests, oldest first."""
    return [approval_doc(a) for a in await coord.approvals.pending(limit=limit)]


def thread_doc(thread: accord.AsyncBoardThread) -> Doc:
    """One board thread: ``{"id", "title", "message", "author", "priority", "tags", "to",
    "status", "created_at"}`` (``message``: the post; text written by agents)."""
    return {
        "id": thread.id, "title": thread.title, "message": thread.message,
        "author": thread.author, "priority": thread.priority, "tags": list(thread.tags),
        "to": thread.to, "status": thread.status, "created_at": thread.created_at,
    }  # fmt: skip


def message_doc(message: accord.Message) -> Doc:
    """One message of a thread: ``{"id", "author", "text", "at"}``."""
    return {"id": message.id, "author": message.author, "text": message.text, "at": message.at}


async def read_threads(coord: accord.AsyncCoordinator, status: str | None = None) -> list[Doc]:
    """The board's threads (of ``status``: open or resolved), newest first."""
    return [thread_doc(t) for t in await coord.board.threads(status=status)]


def audit_doc(entry: accord.AuditEntry) -> Doc:
    """One audit entry: ``{"id", "time", "agent", "kind", "details", "hash"}`` (``time``
    in Unix seconds)."""
    return {"id": entry.id, "time": entry.time_us / 1e6, "agent": entry.agent,
            "kind": entry.kind, "details": entry.details, "hash": entry.hash}


async def read_audit(coord: accord.AsyncCoordinator, *, agent: str | None = None,
                     kind: str | None = None, limit: int = 100) -> list[Doc]:
    """Up to ``limit`` audit entries of that agent and kind, oldest first."""
    return [audit_doc(e) for e in await coord.audit.read(agent=agent, kind=kind, limit=limit)]


def metrics_doc(m: accord.LockMetrics) -> Doc:
    """One lock's contention: ``{"name", "kind", "acquisitions", "waits", "total_wait",
    "max_wait", "mean_wait", "timeouts", "deadlocks", "lost_leases", "revoked"}``."""
    return {
        "name": m.name, "kind": KINDS.get(m.kind, m.kind), "acquisitions": m.acquisitions,
        "waits": m.waits, "total_wait": round(m.total_wait, 6),
        "max_wait": round(m.max_wait, 6),
        "mean_wait": round(m.total_wait / m.waits, 6) if m.waits else 0.0,
        "timeouts": m.timeouts, "deadlocks": m.deadlocks, "lost_leases": m.lost_leases,
        "revoked": m.revoked,
    }  # fmt: skip


async def read_metrics(coord: accord.AsyncCoordinator) -> list[Doc]:
    """Every lock's contention metrics, the most waited on first."""
    found = [metrics_doc(m) for m in await coord.metrics()]
    return sorted(found, key=lambda d: (-d["total_wait"], d["name"]))


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


async def _read_halted(coord: accord.AsyncCoordinator) -> Doc:
    reason = await coord.halted()
    return {"halted": reason is not None, "reason": reason}


def _halted_lines(doc: Doc) -> list[tuple[str, str]]:
    return [("halted", f"yes: {doc['reason']}" if doc["halted"] else "no")]


async def _read_agents_summary(coord: accord.AsyncCoordinator) -> Doc:
    counts: Doc = {}
    for agent in await read_agents(coord, HUNG_AFTER):
        counts[agent["status"]] = counts.get(agent["status"], 0) + 1
    return counts


def _counts_line(label: str, doc: Doc) -> list[tuple[str, str]]:
    shown = ", ".join(f"{n} {k}" for k, n in doc.items() if isinstance(n, int) and n)
    return [(label, shown or "none")]


async def _read_approvals_summary(coord: accord.AsyncCoordinator) -> Doc:
    return {"pending": len(await coord.approvals.pending(limit=1000))}


HUNG_AFTER = 300.0  # seconds without progress that make an agent hung in ``status``
HALTED = Section("halted", _read_halted, _halted_lines)
AGENTS = Section("agents", _read_agents_summary, lambda d: _counts_line("agents", d))
TASKS = Section("tasks", read_task_counts, lambda d: _counts_line("tasks", d))
APPROVALS = Section("approvals", _read_approvals_summary,
                    lambda d: [("pending approvals", str(d["pending"]))])

# In the order ``accord status`` shows them.
SECTIONS: tuple[Section, ...] = (HALTED, AGENTS, LOCKS, TASKS, APPROVALS)


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
