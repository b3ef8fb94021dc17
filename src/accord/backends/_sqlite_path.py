"""Which file a ``sqlite:///`` URL names, decided once, when a store is opened.

Agents of one project are often started in different directories (one in ``src/``,
one at the top), so a path relative to each one's working directory would give each
its own store and they would never see each other's locks. The default store is
therefore found the way git finds ``.git``: the nearest ``.accord/`` directory upward
from the working directory, stopping at the top of the repository (a directory
holding ``.git``, the directory of a clone or the file of a worktree or submodule),
which is used when no ``.accord/`` is found below it; outside a repository, the
working directory. A relative path in a URL is taken from the working directory, as
written, and made absolute at once, so that every message shows the file in use.
"""

from __future__ import annotations

import os
from pathlib import Path

from accord.errors import ConfigError

STORE_DIR = ".accord"
STORE_FILE = "accord.db"
_SQLITE = "sqlite:///"


def _cwd() -> Path:
    try:
        return Path(os.getcwd())
    except OSError as exc:  # the working directory was deleted
        raise ConfigError(
            f"cannot find the default store: the working directory is gone ({exc.strerror}); "
            "change to an existing directory or give an absolute sqlite:////path URL"
        ) from exc


def default_store(start: Path | None = None) -> Path:
    """The default database file, found upward from ``start`` (the working directory)."""
    here = _cwd() if start is None else Path(os.path.abspath(start))
    for directory in (here, *here.parents):
        if (directory / STORE_DIR).is_dir() or (directory / ".git").exists():
            return directory / STORE_DIR / STORE_FILE
    return here / STORE_DIR / STORE_FILE


def default_url() -> str:
    """``sqlite:///`` and the absolute path of :func:`default_store`."""
    return f"{_SQLITE}{default_store()}"


def absolute_url(url: str) -> str:
    """``url`` with a relative SQLite path made absolute (from the working directory);
    any other URL, or a malformed SQLite one (refused when opened), unchanged."""
    if not url.startswith(_SQLITE):
        return url
    rest = url[len(_SQLITE) :]
    if not rest or rest.startswith("/") or "?" in rest:
        return url
    return f"{_SQLITE}{os.path.normpath(_cwd() / rest)}"
