"""Helpers for the surface tests: run the real ``accord`` console script, start its
servers, stop them as a person would (Ctrl-C)."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from accord.testing.redis_server import RedisServer

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")
BIN = Path(sys.executable).with_name("accord")
# the installed console script (pip install -e . makes it); else the same entry point
ACCORD = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "accord"]


def env(**extra: str) -> dict[str, str]:
    """This environment without accord's variables, wide enough for tables, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")}
    return {**base, "COLUMNS": "200", **extra}


def run_cli(*args: str, timeout: float = 60, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ACCORD, *args], env=env(**extra), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A SQLite file of the test, or the session's redis-server."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'accord.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


class Running:
    """A started command: read its output as it comes, stop it with Ctrl-C."""

    def __init__(self, proc: subprocess.Popen[bytes], stream: int) -> None:
        self.proc, self.stream, self.seen = proc, stream, ""

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """Read output until ``pattern`` matches it (then it is consumed), else fail."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.seen)
            if found:
                self.seen = self.seen[found.end():]
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} in ...{self.seen[-1500:]!r} "
                                     f"(exit {self.proc.poll()})")
            if self._readable(min(left, 0.5)):
                chunk = self._read()
                if chunk is None:  # the command ended
                    self.proc.wait(5)
                    raise AssertionError(f"no {pattern!r} in ...{self.seen[-1500:]!r} "
                                         f"(exit {self.proc.returncode})")
                self.seen += chunk

    def _readable(self, timeout: float) -> bool:
        return bool(select.select([self.stream], [], [], timeout)[0])

    def interrupt(self, timeout: float = 15) -> int:
        """Ctrl-C; the exit status once it ended (the rest of its output in ``seen``)."""
        self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout)
        while self._readable(0):
            chunk = self._read()
            if chunk is None:
                break
            self.seen += chunk
        return code

    def _read(self) -> str | None:
        """What came since the last read, without terminal control sequences; None at
        the end (the command closed its output)."""
        try:
            raw = os.read(self.stream, 65536)
        except OSError:  # a pseudo-terminal whose other end closed
            return None
        return ANSI.sub("", raw.decode(errors="replace")) if raw else None


@contextmanager
def started(*args: str, tty: bool = False, stderr: bool = False, both: bool = False,
            **extra: str) -> Iterator[Running]:
    """``accord ARGS`` running until the block ends; its stdout (or its stderr, or
    ``both``, or both on a pseudo-terminal when ``tty``) readable as it comes."""
    if tty:
        import pty

        master, slave = pty.openpty()
        proc = subprocess.Popen([*ACCORD, *args], env=env(TERM="xterm", **extra),
                                stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        stream = master
    else:
        out = subprocess.DEVNULL if stderr else subprocess.PIPE
        err = subprocess.STDOUT if both else subprocess.PIPE if stderr else subprocess.DEVNULL
        proc = subprocess.Popen([*ACCORD, *args], env=env(**extra), stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err)
        pipe = proc.stderr if stderr else proc.stdout
        assert pipe is not None
        stream = pipe.fileno()
    running = Running(proc, stream)
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if tty:
            os.close(stream)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
