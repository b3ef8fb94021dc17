"""What the framework suites share: child processes, and measures over what they saw."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any


def in_processes(
    target: Callable[..., Any], *calls: Sequence[Any], timeout: float = 120, start: str = "spawn"
) -> list[Any]:
    """Run ``target(*args)`` for each ``args`` of ``calls``, each in a process of its own
    started with ``start`` ("spawn": a fresh interpreter, as separate agents are), and
    return what each returned, in order; a child's exception fails the test with its
    traceback. The parent starts no thread, so "fork" is safe too."""
    context = multiprocessing.get_context(start)
    readers, children = [], []
    for args in calls:
        reader, writer = context.Pipe(duplex=False)
        child = context.Process(target=_child, args=(writer, target, tuple(args)), daemon=True)
        child.start()
        writer.close()
        readers.append(reader)
        children.append(child)
    try:
        pairs = zip(readers, children, strict=True)
        return [_result(reader, child, timeout) for reader, child in pairs]
    finally:
        for child in children:
            child.join(5)
            if child.is_alive():
                child.kill()
                child.join()


def _child(writer: Any, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        report = (True, target(*args))
    except BaseException:
        report = (False, traceback.format_exc())
    writer.send(report)
    writer.close()


def _result(reader: Any, child: Any, timeout: float) -> Any:
    if not reader.poll(timeout):
        raise AssertionError(f"child process {child.pid} reported nothing within {timeout} s")
    try:
        ok, value = reader.recv()
    except EOFError:
        child.join(5)
        raise AssertionError(
            f"child process {child.pid} died (exit code {child.exitcode}) before reporting"
        ) from None
    if not ok:
        raise AssertionError(f"child process {child.pid} failed:\n{value}")
    return value


def peak_overlap(intervals: Iterable[Sequence[float]]) -> int:
    """The most intervals ``(start, end)`` open at one instant (time.monotonic(),
    which every process of the machine shares)."""
    edges = sorted((t, step) for start, end in intervals for t, step in ((start, 1), (end, -1)))
    open_now = peak = 0
    for _, step in edges:  # at a tie, an end (-1) sorts first: touching is not overlapping
        open_now += step
        peak = max(peak, open_now)
    return peak


def most_in_window(starts: Iterable[float], rate: float, per: float, slack: float) -> float:
    """How far the busiest window passes the rate limit's bound: the largest
    ``count - (burst-free bound)`` over windows ``[a, b]`` between two starts, where the
    bound of a window ``w`` long is ``rate * (w + slack) / per``. A result <= burst
    means no window held more calls than the limit admits (``slack`` absorbs the time
    between a call's admission and its recorded start)."""
    times = sorted(starts)
    worst = 0.0
    for i, a in enumerate(times):
        for j in range(i, len(times)):
            count = j - i + 1
            worst = max(worst, count - rate * (times[j] - a + slack) / per)
    return worst


def run_example(name: str, url: str) -> str:
    """Run ``examples/<name>`` on the store at ``url`` with this interpreter and return
    its output; a failing example fails the test with its output."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(root / "src"), os.environ.get("PYTHONPATH", "")]))}
    run = subprocess.run(
        [sys.executable, str(root / "examples" / name), "--url", url],
        capture_output=True, text=True, timeout=120, env=env, cwd=root,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def hold_file(url: str, namespace: str, path: str, hold: float) -> None:
    """Another agent ("editor") in another process holding ``path`` until the "done"
    barrier, or for ``hold`` seconds when ``hold`` > 0."""
    import time

    import accord

    with (
        accord.connect(url, namespace=namespace, agent="editor") as coord,
        coord.lock_file(path, intent="rewriting the intro", ttl=10),
    ):
        coord.barrier("held", 2, timeout=15).wait()
        if hold > 0:
            time.sleep(hold)  # the holder's own work: what the waiter waits out
        else:
            coord.barrier("done", 2, timeout=15).wait()
