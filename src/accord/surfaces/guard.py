"""Enforcement: which file leases another agent holds on a set of paths (the rule shared
by ``accord guard check``, the git pre-commit hook and ``accord hook pre-edit``).

A path conflicts when another agent holds an exclusive lease on it (``lock_file``)
or on a directory above it (``lock_file("src/api/")``): a shared (read) lease or the
intent leases a file lease takes on its directories never do.
"""

from __future__ import annotations

import os

import accord
from accord.surfaces import views

BYPASS = "ACCORD_GUARD_BYPASS"
AUDIT_KIND = "guard.bypass"


async def conflicts(coord: accord.AsyncCoordinator, paths: list[str], me: str | None,
                    cwd: str | None = None) -> list[views.Doc]:
    """``[{"path", "leased", "holder", "intent", "expires_in"}]``: every path of ``paths``
    that another agent than ``me`` holds exclusively (``leased``: the path's lease, or
    the directory's above it), in the order of ``paths``."""
    held: dict[str, list[views.Doc]] = {}
    for doc in await views.read_locks(coord):
        if doc["kind"] != "file":
            continue
        held[doc["name"]] = [h for h in doc["holders"]
                             if h["mode"] == "exclusive" and h["agent"] != me]
    found: list[views.Doc] = []
    for path in paths:
        name = lease_name(coord, path if cwd is None else os.path.join(cwd, path))
        for leased in (*directories_above(name), name):
            for holder in held.get(leased, []):
                found.append({"path": name, "leased": leased, "holder": holder["agent"],
                              "intent": holder["intent"],
                              "expires_in": holder["expires_in"]})
    return found


def lease_name(coord: accord.AsyncCoordinator, path: str) -> str:
    """The name ``lock_file(path)`` leases: repository-relative, ``dir/`` for a directory
    (the file lock is only built, nothing is taken)."""
    return coord.lock_file(path, intent="guard check").paths[0]


def directories_above(name: str) -> list[str]:
    """The directory lease names above a lease name, the root (``./``) first."""
    if name == "./":
        return []
    parts = name.rstrip("/").split("/")[:-1]
    return ["./"] + ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def describe(conflict: views.Doc) -> str:
    """One line naming the path, the holder and its intent."""
    where = "" if conflict["leased"] == conflict["path"] else f" (under {conflict['leased']})"
    intent = f": {conflict['intent']}" if conflict["intent"] else ""
    return (f"{conflict['path']}{where} is leased by {conflict['holder']}{intent} "
            f"(for {conflict['expires_in']:.0f} s more)")


def bypass_reason() -> str | None:
    """The reason given in ``$ACCORD_GUARD_BYPASS``, None when it is not set."""
    value = os.environ.get(BYPASS, "").strip()
    return value or None
