"""Generate the sync code from its async source, so the logic exists once.

    python scripts/unasync.py           rewrite the generated files
    python scripts/unasync.py --check   exit 1 if any generated file is stale

The test suite runs ``--check``, so a change to an async source that was not
regenerated fails CI.

How: the source is read as Python tokens (``tokenize``), never as text, and edited
in place, so the output keeps the source's layout line for line (no formatter runs:
removing ``await`` and renaming only shortens lines, and the output does not depend
on a formatter's version). Code is rewritten by these rules only:

* the keywords ``async`` (before ``def``/``with``/``for``) and ``await`` go;
* a NAME token listed in :data:`NAMES` is renamed (``AsyncLock`` -> ``Lock``,
  ``aclose`` -> ``close``, ``_async`` -> ``_sync`` in module paths);
* ``Awaitable[T]`` becomes ``T``, and ``Awaitable`` leaves its import;
  ``redis.asyncio`` becomes ``redis``.

A NAME that mentions async/await and is in neither :data:`NAMES` nor :data:`KEEP`
stops the generator: a new async name must be mapped on purpose. Strings and
comments are prose and stay as written, except the exact phrases listed in
:data:`TEXT` (code quoted in docstrings, a repr); a listed phrase that no source
uses any more stops the generator too.
"""

from __future__ import annotations

import io
import re
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "accord"

PAIRS = {
    "_async/_lease.py": "_sync/_lease.py",
    "_async/lock.py": "_sync/lock.py",
    "_async/semaphore.py": "_sync/semaphore.py",
    "_async/ratelimit.py": "_sync/ratelimit.py",
    "_async/state.py": "_sync/state.py",
    "_async/coordinator.py": "_sync/coordinator.py",
    "_async/agency.py": "_sync/agency.py",
    "_async/events.py": "_sync/events.py",
    "_async/agents.py": "_sync/agents.py",
    "_async/barrier.py": "_sync/barrier.py",
    "_async/queue.py": "_sync/queue.py",
    "_async/handoffs.py": "_sync/handoffs.py",
    "_async/files.py": "_sync/files.py",
    "_async/registry.py": "_sync/registry.py",
    "_async/session.py": "_sync/session.py",
    "backends/_async/protocol.py": "backends/_sync/protocol.py",
    "backends/_async/store.py": "backends/_sync/store.py",
    "backends/leases/_async_protocol.py": "backends/leases/_sync_protocol.py",
    "backends/state/_async_protocol.py": "backends/state/_sync_protocol.py",
    "backends/rates/_async_protocol.py": "backends/rates/_sync_protocol.py",
    "backends/events/_async_protocol.py": "backends/events/_sync_protocol.py",
    "backends/signals/_async_protocol.py": "backends/signals/_sync_protocol.py",
    "backends/tasks/_async_protocol.py": "backends/tasks/_sync_protocol.py",
    "backends/agents/_async_protocol.py": "backends/agents/_sync_protocol.py",
    "backends/redis/_async_agents.py": "backends/redis/_sync_agents.py",
    "backends/_async/waiting.py": "backends/_sync/waiting.py",
    "backends/redis/_async.py": "backends/redis/_sync.py",
    "backends/redis/_async_events.py": "backends/redis/_sync_events.py",
    "backends/redis/_async_host.py": "backends/redis/_sync_host.py",
    "backends/redis/_async_tasks.py": "backends/redis/_sync_tasks.py",
    "backends/streams/_async_protocol.py": "backends/streams/_sync_protocol.py",
    "backends/approvals/_async_protocol.py": "backends/approvals/_sync_protocol.py",
    "backends/redis/_async_streams.py": "backends/redis/_sync_streams.py",
    "_async/audit.py": "_sync/audit.py",
    "_async/approvals.py": "_sync/approvals.py",
    "_async/board.py": "_sync/board.py",
}

# NAME tokens renamed in code (never in strings or comments)
NAMES = {
    # accord's async classes
    "AsyncBackend": "Backend",
    "AsyncBarrier": "Barrier",
    "AsyncClaim": "Claim",
    "AsyncHandoffs": "Handoffs",
    "AsyncQueue": "Queue",
    "AsyncTask": "Task",
    "AsyncCoordinator": "Coordinator",
    "AsyncEvents": "Events",
    "AsyncAgency": "Agency",
    "AsyncAgentRegistry": "AgentRegistry",
    "AsyncFileLease": "FileLease",
    "AsyncFileLock": "FileLock",
    "AsyncSession": "Session",
    "AsyncLease": "Lease",
    "AsyncLock": "Lock",
    "AsyncMailbox": "Mailbox",
    "AsyncMultiLock": "MultiLock",
    "AsyncNestedLease": "NestedLease",
    "AsyncRateLimit": "RateLimit",
    "AsyncRedisBackend": "RedisBackend",
    "AsyncRedisEvents": "RedisEvents",
    "AsyncRedisMailbox": "RedisMailbox",
    "AsyncRedisTasks": "RedisTasks",
    "AsyncSemaphore": "Semaphore",
    "AsyncStateMap": "StateMap",
    # the seam's capability protocols (backends/<feature>/_async_protocol.py)
    "AsyncAgents": "Agents",
    "AsyncRedisAgents": "RedisAgents",
    "AsyncEventLog": "EventLog",
    "AsyncLeases": "Leases",
    "AsyncRateLimits": "RateLimits",
    "AsyncSignals": "Signals",
    "AsyncStateStore": "StateStore",
    "AsyncStore": "Store",
    "AsyncTasks": "Tasks",
    "AsyncStreams": "Streams",
    "AsyncApprovalStore": "ApprovalStore",
    # issue 14: people in the loop (audit, approvals, the board) and their Redis glue
    "AsyncAudit": "Audit",
    "AsyncApprovals": "Approvals",
    "AsyncApprovalRequest": "ApprovalRequest",
    "AsyncBoard": "Board",
    "AsyncBoardThread": "BoardThread",
    "AsyncRedisStreams": "RedisStreams",
    "_async_streams": "_sync_streams",
    "AsyncRedisHost": "RedisHost",
    "_async_host": "_sync_host",
    # the standard library's
    "AsyncExitStack": "ExitStack",
    "AsyncIterator": "Iterator",
    "StopAsyncIteration": "StopIteration",
    "enter_async_context": "enter_context",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "aclose": "close",
    # modules
    "_async": "_sync",
    "_async_events": "_sync_events",
    "_async_agents": "_sync_agents",
    "_async_io": "_sync_io",
    "_async_tasks": "_sync_tasks",
}

# NAME tokens that mention async but stay (none today; ``asyncio`` only in ``redis.asyncio``)
KEEP: frozenset[str] = frozenset()

# the only rewrites inside strings and comments: exact phrases, code quoted in prose
TEXT = [
    ("``async with``", "``with``"),
    (":meth:`AsyncCoordinator.", ":meth:`Coordinator."),
    (":class:`AsyncMailbox`", ":class:`Mailbox`"),
    (":class:`AsyncRedisEvents`", ":class:`RedisEvents`"),
    ("``AsyncLock``", "``Lock``"),
    ("``AsyncRedisBackend``", "``RedisBackend``"),
    ("<AsyncCoordinator ", "<Coordinator "),  # the repr
    (":func:`accord.connect_async`", ":func:`accord.connect`"),
]

ASYNCISH = re.compile(
    r"(?i)async|await|^a(close|enter|exit|iter|next)$|^__a(enter|exit|iter|next)__$"
)
TEXT_TOKENS = {tokenize.STRING, tokenize.COMMENT}
if sys.version_info >= (3, 12):  # f-strings are split into parts
    TEXT_TOKENS.add(tokenize.FSTRING_MIDDLE)

HEADER = "# Generated from {src} by scripts/unasync.py: do not edit.\n"


class UnasyncError(Exception):
    """The source uses something the rules above do not cover."""


@dataclass
class _Edits:
    """Replacements of (start, end) character offsets of the source."""

    text: str
    lines: list[int] = field(default_factory=list)
    edits: list[tuple[int, int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        offset = 0
        self.lines = [0]
        for line in io.StringIO(self.text):
            offset += len(line)
            self.lines.append(offset)

    def at(self, pos: tuple[int, int]) -> int:
        return self.lines[pos[0] - 1] + pos[1]

    def replace(self, start: tuple[int, int], end: tuple[int, int], new: str) -> None:
        self.edits.append((self.at(start), self.at(end), new))

    def apply(self) -> str:
        out, last = [], 0
        for start, end, new in sorted(self.edits):
            if start < last:
                raise UnasyncError(f"overlapping edits at offset {start}")
            out += [self.text[last:start], new]
            last = end
        out.append(self.text[last:])
        return "".join(out)


def convert(text: str, where: str = "<source>", used: set[str] | None = None) -> str:
    """The sync twin of the async module ``text``."""
    tokens = [
        t for t in tokenize.generate_tokens(io.StringIO(text).readline)
        if t.type not in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT)
    ]
    edits = _Edits(text)
    closers: list[int] = []  # depths of the ``]`` that end an ``Awaitable[``
    depth = 0
    for i, tok in enumerate(tokens):
        after = tokens[i + 1] if i + 1 < len(tokens) else tok
        before = tokens[i - 1] if i else tok
        if tok.type == tokenize.OP and tok.string in "([{":
            depth += 1
        elif tok.type == tokenize.OP and tok.string in ")]}":
            if closers and closers[-1] == depth and tok.string == "]":
                closers.pop()
                edits.replace(tok.start, tok.end, "")
            depth -= 1
        elif tok.type in TEXT_TOKENS:
            new = tok.string
            for old, repl in TEXT:
                if old in new:
                    new = new.replace(old, repl)
                    if used is not None:
                        used.add(old)
            if new != tok.string:
                edits.replace(tok.start, tok.end, new)
        elif tok.type == tokenize.NAME:
            _name(tok, before, after, tokens, i, edits, closers, depth, where)
    return edits.apply()


def _name(
    tok: tokenize.TokenInfo,
    before: tokenize.TokenInfo,
    after: tokenize.TokenInfo,
    tokens: list[tokenize.TokenInfo],
    i: int,
    edits: _Edits,
    closers: list[int],
    depth: int,
    where: str,
) -> None:
    name = tok.string
    if name == "await" or (name == "async" and after.string in ("def", "with", "for")):
        edits.replace(tok.start, after.start, "")
    elif name in NAMES:
        edits.replace(tok.start, tok.end, NAMES[name])
    elif name == "Awaitable" and after.string == "[":
        edits.replace(tok.start, after.end, "")
        closers.append(depth + 1)
    elif name == "Awaitable" and _in_import(tokens, i):
        if after.string == ",":  # "Awaitable, " goes
            edits.replace(tok.start, tokens[i + 2].start, "")
        elif before.string == ",":  # ", Awaitable" goes
            edits.replace(before.start, tok.end, "")
        else:
            raise UnasyncError(f"{where}:{tok.start[0]}: import Awaitable with other names")
    elif name == "asyncio" and before.string == "." and tokens[i - 2].string == "redis":
        edits.replace(before.start, tok.end, "")
    elif ASYNCISH.search(name) and name not in KEEP:
        raise UnasyncError(
            f"{where}:{tok.start[0]}: {name!r} is async but has no sync name: "
            "add it to NAMES (or KEEP) in scripts/unasync.py"
        )


def _in_import(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """True if token ``i`` is in a ``from ... import`` statement."""
    while i > 0 and tokens[i - 1].type not in (tokenize.NEWLINE, tokenize.ENCODING):
        i -= 1
    return tokens[i].string == "from"


def generate() -> dict[str, str]:
    """Every generated file's wanted text, by its path under ``src/accord``."""
    used: set[str] = set()
    out = {}
    for src, dst in PAIRS.items():
        source = ROOT / src
        text = convert(source.read_text(), src, used)
        out[dst] = HEADER.format(src=f"src/accord/{src}") + text
    unused = [old for old, _ in TEXT if old not in used]
    if unused:
        raise UnasyncError(f"TEXT rewrites no source uses any more: {unused}")
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    try:
        wanted = generate()
    except UnasyncError as exc:
        print(f"unasync: {exc}", file=sys.stderr)
        return 2
    stale = []
    for dst, text in wanted.items():
        target = ROOT / dst
        if target.exists() and target.read_text() == text:
            continue
        stale.append(dst)
        if not check:
            target.write_text(text)
    if check and stale:
        print("stale generated files (run python scripts/unasync.py):", *stale, sep="\n  ")
        return 1
    if not check:
        print("regenerated:", *stale, sep="\n  ") if stale else print("up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
