"""Generate the sync code from its async source, so the logic exists once.

    python scripts/unasync.py           rewrite the generated files
    python scripts/unasync.py --check   exit 1 if any generated file is stale

The test suite runs ``--check``, so a change to an async source that was not
regenerated fails CI.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "src" / "accord"

PAIRS = {
    "_async/_lease.py": "_sync/_lease.py",
    "_async/lock.py": "_sync/lock.py",
    "_async/semaphore.py": "_sync/semaphore.py",
    "_async/ratelimit.py": "_sync/ratelimit.py",
    "_async/state.py": "_sync/state.py",
    "_async/coordinator.py": "_sync/coordinator.py",
    "_async/events.py": "_sync/events.py",
    "_async/agents.py": "_sync/agents.py",
    "_async/barrier.py": "_sync/barrier.py",
    "backends/_async/protocol.py": "backends/_sync/protocol.py",
    "backends/_async/store.py": "backends/_sync/store.py",
    "backends/leases/_async_protocol.py": "backends/leases/_sync_protocol.py",
    "backends/state/_async_protocol.py": "backends/state/_sync_protocol.py",
    "backends/rates/_async_protocol.py": "backends/rates/_sync_protocol.py",
    "backends/events/_async_protocol.py": "backends/events/_sync_protocol.py",
    "backends/signals/_async_protocol.py": "backends/signals/_sync_protocol.py",
    "backends/_async/waiting.py": "backends/_sync/waiting.py",
    "backends/redis/_async.py": "backends/redis/_sync.py",
    "backends/redis/_async_events.py": "backends/redis/_sync_events.py",
}

SUBS = [
    (r"\basync def\b", "def"),
    (r"\basync with\b", "with"),
    (r"\basync for\b", "for"),
    (r"\bawait ", ""),
    (r"\b__aenter__\b", "__enter__"),
    (r"\b__aexit__\b", "__exit__"),
    (r"\b__aiter__\b", "__iter__"),
    (r"\b__anext__\b", "__next__"),
    (r"\baclose\b", "close"),
    (r"\bStopAsyncIteration\b", "StopIteration"),
    (r"\benter_async_context\b", "enter_context"),
    (r"\bAwaitable\[([\w\[\], |]+?)\](?=[\],)])", r"\1"),
    (r"\bAsync([A-Z]\w*)", r"\1"),
    (r"\baccord\._async\b", "accord._sync"),
    (r"\bbackends\._async\b", "backends._sync"),
    (r"\bredis\.asyncio\b", "redis"),
    (r"\basyncio twin\b", "sync twin"),
    (r"\b_async_io\b", "_sync_io"),
    (r"\b_async_events\b", "_sync_events"),
    (r"\bredis\._async\b", "redis._sync"),
]

HEADER = "# Generated from {src} by scripts/unasync.py: do not edit.\n"


def convert(text: str) -> str:
    for pattern, repl in SUBS:
        text = re.sub(pattern, repl, text)
    text = re.sub(r"\bimport Awaitable, ", "import ", text)
    return text


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for src, dst in PAIRS.items():
        source = ROOT / src
        if not source.exists():
            continue
        wanted = HEADER.format(src=f"src/accord/{src}") + convert(source.read_text())
        target = ROOT / dst
        if target.exists() and target.read_text() == wanted:
            continue
        stale.append(dst)
        if not check:
            target.write_text(wanted)
    if check and stale:
        print("stale generated files (run python scripts/unasync.py):", *stale, sep="\n  ")
        return 1
    if not check:
        print("regenerated:", *stale, sep="\n  ") if stale else print("up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
