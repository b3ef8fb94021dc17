"""The Lua scripts of the features (``leases/lua/``, ``state/lua/``, ``rates/lua/``,
``events/lua/``, ``signals/lua/``), shared by both twins: loaded once, called by SHA."""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING

from accord.backends.leases.rule import MAX_CYCLE
from accord.backends.state.rule import HISTORY_KEEP, MAX_FENCES, TRIM_SLACK

if TYPE_CHECKING:
    from importlib.abc import Traversable

MAILBOX_TTL_MS = 60_000
MAILBOX_ALIVE_MS = 2_000
"""A waiter's ``mba:<mailbox>`` key lasts this long past its last BLPOP (a BLPOP is
issued at least every HEARTBEAT seconds): gone, the waiter is taken for dead."""


FEATURES = (
    "leases", "state", "rates", "events", "signals", "tasks", "streams", "approvals", "agents"
)


def _lua_of(name: str) -> Traversable:
    """The ``lua/`` folder of the feature that holds script ``name``."""
    for feature in FEATURES:
        folder = resources.files(f"accord.backends.{feature}") / "lua"
        if (folder / f"{name}.lua").is_file():
            return folder
    raise FileNotFoundError(f"no feature of accord.backends has lua/{name}.lua")


class Script:
    """A script of a feature's ``lua/`` with the constants in front and its shared helpers
    (``preludes``, from any feature's ``lua/``, in order) at its ``-- @helpers`` line,
    else in front: a fast path placed before that line does not pay for defining them."""

    HEADER = (
        f"local HISTORY_KEEP, TRIM_SLACK, MAX_CYCLE, MAILBOX_TTL_MS, MAX_FENCES = "
        f"{HISTORY_KEEP}, {TRIM_SLACK}, {MAX_CYCLE}, {MAILBOX_TTL_MS}, {MAX_FENCES}\n"
    )

    def __init__(self, name: str, *preludes: str) -> None:
        self.name = name
        body = (_lua_of(name) / f"{name}.lua").read_text()
        helpers = "".join((_lua_of(p) / f"{p}.lua").read_text() for p in preludes if p)
        before, marker, after = body.rpartition("-- @helpers")
        self.source = self.HEADER + before + helpers + marker + after
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
