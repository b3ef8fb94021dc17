"""What a results table was measured on: the date, the machine, the software and the
accord commit, so a table can be matched to the code it measured."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def describe(redis_url: str, command: str) -> dict[str, str]:
    """The header fields every benchmark report starts with."""
    return {
        "date": datetime.date.today().isoformat(),
        "command": command,
        "code": checkout(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "redis": f"redis-server {_server_version(redis_url)}, redis-py {redis.__version__}",
    }


def checkout() -> str:
    """``accord <short commit>``, with ``+ uncommitted changes`` when the tree is
    dirty; ``accord (not a git checkout)`` outside one."""
    try:
        head = _git("rev-parse", "--short=7", "HEAD")
        dirty = _git("status", "--porcelain", "--untracked-files=no", "--", "src", "bench")
    except (OSError, subprocess.CalledProcessError):
        return "accord (not a git checkout)"
    return f"accord {head}" + (" + uncommitted changes" if dirty else "")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def _server_version(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url)
    try:
        return str(client.info("server").get("redis_version", "?"))
    except redis.RedisError:
        return "? (unreachable at the end)"
    finally:
        client.close()


RESULTS = Path(__file__).resolve().parent / "results"


def write_report(report: str, began: float, output: Path | None, kind: str, quick: bool) -> None:
    """Add the run time to ``report``, print it and write it to ``output`` (default
    ``results/<date><kind>[-quick].md``)."""
    report += f"\nTotal run time {time.monotonic() - began:.0f} s.\n"
    name = datetime.date.today().isoformat() + kind + ("-quick" if quick else "") + ".md"
    path = output or RESULTS / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report)
    print(report)
    print(f"written to {path}", file=sys.stderr)
