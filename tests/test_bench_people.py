"""bench/people.py is runnable: its --help works without starting anything."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_people_help() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "people.py"), "--help"], capture_output=True,
        text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--redis-url" in done.stdout
