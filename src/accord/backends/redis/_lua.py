"""The Lua scripts of the features (``leases/lua/``, ``state/lua/``, ``rates/lua/``,
``events/lua/``, ``signals/lua/``), shared by both twins: loaded once, called by SHA;
the task scripts also as one function library (:class:`Library`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from importlib import resources
from typing import TYPE_CHECKING

from redis.exceptions import NoPermissionError

from accord.backends.leases.rule import MAX_CYCLE
from accord.backends.state.rule import HISTORY_KEEP, MAX_FENCES, TRIM_SLACK
from accord.errors import BackendUnavailable

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

    function: str | None = None
    """Its name in its :class:`Library`, if it is in one."""
    library: Library | None = None

    def __init__(self, name: str, *preludes: str) -> None:
        self.name = name
        body = (_lua_of(name) / f"{name}.lua").read_text()
        self.helpers = "".join((_lua_of(p) / f"{p}.lua").read_text() for p in preludes if p)
        self.before, marker, self.body = body.rpartition("-- @helpers")
        self.head = self.HEADER
        self.source = self.head + self.before + self.helpers + marker + self.body
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()


_CALL_LINE = re.compile(r"local ([\w, ]+?)(?: = (.+?))?(?:  --.*)?")


class Library:
    """Scripts with the same helpers as one Redis function library (Redis 7:
    ``FUNCTION LOAD``, then ``FCALL``): the helpers are defined once, at the load, and
    a call runs only its body and the helpers' per-call lines (those between ``-- @call``
    and ``-- @end``, each ``local NAMES`` or ``local NAMES = EXPR`` on one line, which
    become assignments at the start of every call). Defining ``_tasks.lua``'s helpers
    took ~15 us of a script run's server time (an empty claim: 35 us by EVALSHA, 20 by
    FCALL). Its name holds a hash of its text, so that accord versions never call each
    other's functions."""

    def __init__(self, kind: str, scripts: Sequence[Script]) -> None:
        first = scripts[0]
        if any(s.before or (s.helpers, s.head) != (first.helpers, first.head) for s in scripts):
            raise ValueError("a library's scripts share their helpers, placed in front")
        helpers, starts = _per_call(first.helpers)
        sha = hashlib.sha1((first.head + helpers + "".join(s.body for s in scripts)).encode())
        tag = sha.hexdigest()[:12]
        self.name = f"accord_{kind}_{tag}"
        parts = [f"#!lua name={self.name}\n", first.head, helpers,
                 "local function start_call(ARGV)\n", *starts, "end\n"]
        for script in scripts:
            script.function, script.library = f"{script.name}_{tag}", self
            parts.append(f"redis.register_function('{script.function}', function(KEYS, ARGV)\n"
                         f"start_call(ARGV)\n{script.body}\nend)\n")
        self.source = "".join(parts)


def _per_call(helpers: str) -> tuple[str, list[str]]:
    """``helpers`` with its per-call lines made declarations, and the assignments the
    start of a call makes."""
    before, _, rest = helpers.partition("-- @call")
    block, _, after = rest.partition("-- @end")
    declared, starts = [], []
    for line in block.splitlines()[1:]:  # the rest of the marker's line is its comment
        if not line.strip() or line.lstrip().startswith("--"):
            continue
        found = _CALL_LINE.fullmatch(line)
        if found is None:
            raise ValueError(f"a per-call line must be 'local NAMES [= EXPR]': {line!r}")
        names, value = found.groups()
        declared.append(f"local {names}\n")
        starts.append(f"  {names} = {value or 'nil'}\n")
    if not starts:
        raise ValueError("helpers made a library have their per-call lines in -- @call")
    return before + "".join(declared) + after, starts


NO_FUNCTIONS = object()
"""What a backend's ``_fcall`` returns where the server runs no function of ours."""


def without_functions(exc: Exception) -> bool:
    """Whether ``exc`` (a reply, or BackendUnavailable caused by one) says FCALL or
    FUNCTION is not there (Redis 6) or not allowed to this user (an ACL)."""
    if isinstance(exc, BackendUnavailable):
        return isinstance(exc.__cause__, NoPermissionError)
    return "unknown command" in str(exc).lower()
