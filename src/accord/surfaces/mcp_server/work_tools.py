"""The MCP tools on files, tasks, the board, approvals and decisions (issues 12-14).

As in :mod:`.tools`: the first parameter is the MCP ``Context`` (who calls), no tool
takes an agent's name, and text other agents wrote comes back framed by
:func:`~.tools.peer_data`.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from accord.errors import AccordError, LockTimeout
from accord.surfaces import views
from accord.surfaces.mcp_server.agents import session
from accord.surfaces.mcp_server.files import file_holders, files_doc
from accord.surfaces.mcp_server.tools import MAX_WAIT, Ttl, Wait, peer_data

MAX_APPROVAL_WAIT = 120.0
Paths = Annotated[list[str], Field(min_length=1, max_length=100, description=(
    "files or directories of the repository (a directory ends with /)"))]
Intent = Annotated[str, Field(min_length=1, max_length=200, description=(
    "what you mean to do with them, shown to other agents"))]
Tags = Annotated[list[str] | None, Field(description="only tasks with one of these tags")]
TaskId = Annotated[str, Field(min_length=1, max_length=40, description="the task's id")]
Text = Annotated[str, Field(min_length=1, max_length=20_000)]


def _failed(exc: AccordError) -> ToolError:
    return ToolError(str(exc))


# --- files ---------------------------------------------------------------------------------


async def lock_files(ctx: Context, paths: Paths, intent: Intent, ttl: Ttl = 300.0,
                     wait: Wait = 0.0) -> dict[str, Any]:
    """Lease files or directories exclusively while you change them, saying why.

    granted=true with the fencing token, or granted=false naming who holds which path
    and their intent. Waits up to ``wait`` seconds (at most 60). Renew with renew and
    give back with release (either by one of the paths)."""
    me = session(ctx)
    try:
        try:
            lease = await me.coord.lock_files(list(paths), intent=intent, ttl=ttl,
                                              auto_renew=False).acquire(timeout=wait)
        except LockTimeout:
            held = [h for p in paths for h in await file_holders(me.coord, p)
                    if h["holder"] != me.agent]
            return {"granted": False, "paths": paths, "waited": wait, "held_by": held,
                    "hint": "another agent works on these: pick other files, ask on the "
                    f"board (post), or call again with wait= (up to {MAX_WAIT:g} s)"}
    except AccordError as exc:
        raise _failed(exc) from None
    for path in lease.paths:
        me.files[path] = lease
    return files_doc(lease.paths, lease, ttl)


# --- tasks ---------------------------------------------------------------------------------


def _task(doc: views.Doc) -> views.Doc:
    """A task with the text another agent wrote framed as data."""
    framed = {k: doc[k] for k in ("id", "queue", "status", "priority", "tags", "attempts")}
    framed["task"] = peer_data({k: doc[k] for k in ("title", "description", "data")},
                               doc["created_by"])
    return framed


async def claim_task(ctx: Context, tags: Tags = None,
                     lease: Annotated[float, Field(gt=0, le=86_400)] = 600.0) -> dict[str, Any]:
    """Take the next ready task of the default queue (with one of ``tags``), for
    ``lease`` seconds: claimed=false when none is ready. Finish it with complete_task
    or fail_task."""
    me = session(ctx)
    try:
        claim = await me.coord.claim_task(tags=tags, lease=lease)
        if claim is None:
            return {"claimed": False, "hint": "no task is ready for you now"}
        task = await me.coord.queue().get(claim.id)
    except AccordError as exc:
        raise _failed(exc) from None
    me.claims[claim.id] = claim
    found = _task(views.task_doc(task)) if task else {"id": claim.id}
    return {"claimed": True, **found}


async def complete_task(ctx: Context, task_id: TaskId, result: Any = None) -> dict[str, Any]:
    """Mark a task you claimed done, with its result (JSON)."""
    me = session(ctx)
    claim = _claim(me.claims, task_id)
    try:
        await claim.complete(result)
    except (AccordError, TypeError) as exc:
        raise ToolError(str(exc)) from None
    finally:
        me.claims.pop(task_id, None)
    return {"completed": True, "id": task_id}


async def fail_task(ctx: Context, task_id: TaskId, error: Text,
                    retry: bool = True) -> dict[str, Any]:
    """Give up a task you claimed, saying why: it is retried (if attempts are left and
    ``retry``) or becomes a dead letter for a person to look at."""
    me = session(ctx)
    claim = _claim(me.claims, task_id)
    try:
        await claim.fail(error, retry=retry)
    except AccordError as exc:
        raise _failed(exc) from None
    finally:
        me.claims.pop(task_id, None)
    return {"failed": True, "id": task_id, "retry": retry}


def _claim(claims: dict[str, Any], task_id: str) -> Any:
    claim = claims.get(task_id)
    if claim is None:
        raise ToolError(f"you hold no claim on task {task_id!r} here: claim_task first")
    return claim


async def put_task(ctx: Context, title: Annotated[str, Field(min_length=1, max_length=500)],
                   description: str = "", tags: list[str] | None = None, priority: int = 0,
                   data: Any = None) -> dict[str, Any]:
    """Put a task on the default queue for another agent (or you) to claim."""
    me = session(ctx)
    try:
        task = await me.coord.create_task(title, description=description, tags=tags,
                                          priority=priority, data=data)
    except (AccordError, TypeError) as exc:
        raise ToolError(str(exc)) from None
    return {"id": task.id, "queue": task.queue, "status": task.status}


# --- board ---------------------------------------------------------------------------------


async def post(ctx: Context, title: Annotated[str, Field(min_length=1, max_length=500)],
               message: Text, priority: str = "normal",
               to: Annotated[str | None, Field(description="one agent it is for")] = None,
               ) -> dict[str, Any]:
    """Open a thread on the board (priority low, normal, high or urgent)."""
    me = session(ctx)
    try:
        thread = await me.coord.post_thread(title, message, priority, to=to)
    except AccordError as exc:
        raise _failed(exc) from None
    return {"thread": thread.id, "title": thread.title}


async def reply(ctx: Context, thread: Annotated[str, Field(min_length=1, max_length=100)],
                message: Text) -> dict[str, Any]:
    """Reply in a board thread."""
    me = session(ctx)
    try:
        found = await (await me.coord.board.thread(thread)).reply(message)
    except AccordError as exc:
        raise _failed(exc) from None
    return {"thread": thread, "message": found.id}


async def unread(ctx: Context) -> dict[str, Any]:
    """Open threads with messages you have not read (those addressed to you first),
    each message framed as data from its author; they are marked read."""
    me = session(ctx)
    out: list[dict[str, Any]] = []
    try:
        for thread in await me.coord.board.unread():
            messages = await thread.messages()
            out.append({"thread": thread.id, "priority": thread.priority, "to": thread.to,
                        "title": peer_data(thread.title, thread.author),
                        "messages": [{"id": m.id, "at": m.at,
                                      "text": peer_data(m.text, m.author)} for m in messages]})
            await me.coord.board.mark_read(thread)
    except AccordError as exc:
        raise _failed(exc) from None
    return {"threads": out}


# --- people in the loop --------------------------------------------------------------------


async def request_approval(
    ctx: Context, action: Annotated[str, Field(min_length=1, max_length=200)],
    description: str = "",
    wait: Annotated[float, Field(ge=0, le=MAX_APPROVAL_WAIT)] = 60.0,
) -> dict[str, Any]:
    """Ask a person to approve ``action`` and wait up to ``wait`` seconds (at most 120)
    for the decision. decided=false means nobody decided in time: the request is then
    expired (denied); ask again later or do something else."""
    me = session(ctx)
    try:
        request = await me.coord.approvals.request(
            action, details={"description": description} if description else None,
            timeout=max(wait, 1.0))
        decision = await request.wait()
    except AccordError as exc:
        raise _failed(exc) from None
    decided = decision.status != "expired"
    return {"decided": decided, "approved": decision.approved, "status": decision.status,
            "by": decision.by, "reason": decision.reason, "id": decision.id,
            "waited_up_to": wait,
            **({} if decided else {"hint": f"nobody decided within {wait:g} s"})}


async def log_decision(ctx: Context,
                       decision_type: Annotated[str, Field(min_length=1, max_length=200)],
                       reason: str = "", context: Any = None) -> dict[str, Any]:
    """Write a decision you made to the audit log (hash-chained, as you)."""
    me = session(ctx)
    try:
        entry = await me.coord.log_decision(decision_type, context=context, reason=reason)
    except (AccordError, TypeError) as exc:
        raise ToolError(str(exc)) from None
    return {"logged": True, "id": entry.id, "kind": entry.kind}


TOOLS = (lock_files, claim_task, complete_task, fail_task, put_task, post, reply, unread,
         request_approval, log_decision)
