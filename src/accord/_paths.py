"""File lease paths: every spelling of one file becomes one repository-relative POSIX
path, so ``./a.py``, ``a.py``, ``src/../a.py``, a symlink to it and its absolute path
are one lease.

The root is the top of the git repository holding the working directory (the nearest
directory upward with a ``.git`` entry, as git finds it), else the working directory.
Paths are resolved (``..``, symlinks) against the working directory; a path outside
the root is refused. A path naming an existing directory, or ending with ``/``, is a
directory lease: its key ends with ``/`` (the root itself is ``./``).
"""

from __future__ import annotations

import os
from pathlib import Path

from accord.errors import InvalidName

ROOT_KEY = "./"


def repository_root(cwd: str | None = None) -> str:
    """The git top level above ``cwd`` (default: the working directory), else ``cwd``;
    symlinks resolved."""
    here = os.path.realpath(cwd or os.getcwd())
    probe = here
    while True:
        if os.path.exists(os.path.join(probe, ".git")):
            return probe
        parent = os.path.dirname(probe)
        if parent == probe:
            return here
        probe = parent


def normalise(path: object, cwd: str | None = None) -> str:
    """The lease name of ``path``: ``src/api/x.py``, ``src/api/`` for a directory,
    ``./`` for the root. Raises InvalidName for an empty path, a NUL byte or a path
    outside the repository."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if isinstance(path, bytes) or not isinstance(path, str):
        raise InvalidName(repr(path), "a path must be a str or os.PathLike of str")
    if not path:
        raise InvalidName(path, "the path is empty")
    if "\0" in path:
        raise InvalidName(path, "the path contains a NUL byte")
    base = os.path.realpath(cwd or os.getcwd())
    root = repository_root(base)
    full = os.path.realpath(os.path.join(base, path))
    directory = path.endswith(("/", os.sep)) or os.path.isdir(full)
    if full == root:
        return ROOT_KEY
    if not full.startswith(root.rstrip(os.sep) + os.sep):
        raise InvalidName(path, f"the path is outside the repository {root}")
    rel = Path(os.path.relpath(full, root)).as_posix()
    return rel + "/" if directory else rel


def ancestors(name: str) -> list[str]:
    """The directory leases above a normalised path, the root first."""
    if name == ROOT_KEY:
        return []
    parts = name.rstrip("/").split("/")[:-1]
    return [ROOT_KEY] + ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def plan(names: list[tuple[str, bool]]) -> list[tuple[str, str]]:
    """(name, mode) of every lease a set of file leases takes, in the one global order
    (sorted names; a directory sorts before what is under it): each path ``""``
    (exclusive) or ``"S"`` (shared), each directory above it ``"IX"`` or ``"IS"``.
    One name asked in two modes gets one that serves both."""
    wanted: dict[str, str] = {}
    for name, shared in names:
        for parent in ancestors(name):
            wanted[parent] = _join(wanted.get(parent), "IS" if shared else "IX")
        wanted[name] = _join(wanted.get(name), "S" if shared else "")
    return sorted(wanted.items())


def _join(have: str | None, more: str) -> str:
    if have is None or have == more:
        return more
    if have == "IS":
        return more
    if more == "IS":
        return have
    return ""  # exclusive with anything else (S and IX together too)
