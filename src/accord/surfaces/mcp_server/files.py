"""File leases for the MCP tools: who holds a path, renewing and releasing what
``lock_files`` took (the session keeps one lease under each of its paths)."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver.exceptions import ToolError

import accord
from accord.errors import InvalidName, LeaseLost
from accord.surfaces import guard
from accord.surfaces.mcp_server.agents import AgentSession


async def file_holders(coord: accord.AsyncCoordinator, path: str) -> list[dict[str, Any]]:
    """Who leased ``path`` (or a directory above it) exclusively: ``[{"path", "leased",
    "holder", "intent", "expires_in"}]``; [] for a name that is no path of the repository."""
    try:
        return await guard.conflicts(coord, [path], None)
    except InvalidName:
        return []


def files_doc(paths: tuple[str, ...], lease: accord.AsyncFileLease, ttl: float) -> dict[str, Any]:
    return {"granted": True, "paths": list(paths), "token": lease.token, "ttl": ttl}


async def files_renew(me: AgentSession, path: str, ttl: float | None) -> dict[str, Any]:
    lease = me.files[path]
    try:
        await lease.extend(ttl)
    except LeaseLost:
        forget(me, lease)
        raise ToolError(f"your lease of {path!r} expired and another agent may hold it now: "
                        "take it again with lock_files") from None
    return {"renewed": True, "paths": list(lease.paths), "token": lease.token}


async def files_release(me: AgentSession, path: str) -> dict[str, Any]:
    lease = me.files[path]
    forget(me, lease)
    try:
        await lease.release()
    except LeaseLost:
        raise ToolError(f"your lease of {path!r} had expired before the release") from None
    return {"released": True, "paths": list(lease.paths), "token": lease.token}


def forget(me: AgentSession, lease: accord.AsyncFileLease) -> None:
    for path in lease.paths:
        if me.files.get(path) is lease:
            del me.files[path]
