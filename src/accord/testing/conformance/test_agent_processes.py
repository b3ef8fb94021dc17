"""Agents in real processes (stores processes share: SQLite, Redis): a session killed
with SIGKILL is dead within its heartbeat ttl and its locks are free; a session
stopped (SIGSTOP) past its ttl finds its lease lost when it resumes, and never holds
it beside the new holder; file paths spelled from several working directories are
one lease. Each runs once per store (its child uses the sync or the async API)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from accord.testing.conformance import _agent_children as children_of
from accord.testing.conformance.test_processes import _report_of, _start, children
from accord.testing.harness import eventually

__all__ = ["children"]  # the fixture, shared with test_processes

pytestmark = [
    pytest.mark.accord_capability("leases", "events", "signals", "agents"),
    pytest.mark.accord_processes,
    pytest.mark.accord_sync_only,  # one run per store: the child's API does not matter
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux signals"),
]


async def test_a_killed_session_is_dead_within_its_heartbeat_ttl(
    coord: Any, url: str, namespace: str, mode: str, tmp_path: Path, children: list[Any],
    spawn: Any,
) -> None:
    ttl = 1.0
    out = tmp_path / "doomed.json"
    proc = _start(children, children_of.hold_in_session, url, namespace, ttl, str(out))
    held = await _report_of(out, proc)
    assert (await coord.agents.get("doomed")).holds == ("lock job",)

    async def wait_for_job() -> float:
        async with coord.lock("job", ttl=10, timeout=30):
            return time.monotonic()

    waiter = spawn(wait_for_job)
    await eventually(
        lambda: _is(coord.lock("job").statistics(), lambda s: s.waiters == ("tester",)),
        what="the waiter queued",
    )
    killed_at = time.monotonic()
    os.kill(held["pid"], signal.SIGKILL)

    async def dead() -> bool:  # reading the registry reaps
        return bool((await coord.agents.get("doomed")).status == "dead")

    await eventually(dead, timeout=ttl + 2, what="doomed dead")
    got_at = await waiter.join(10)
    assert got_at - killed_at <= ttl + 1, f"the lock came {got_at - killed_at:.2f} s after"
    [event] = await coord.events.history(name="agent_dead")
    assert event["name"] == "doomed" and event["revoked"] == 1


async def _is(stats: Any, check: Any) -> bool:
    return bool(check(await stats))


@pytest.mark.parametrize("mode", ["async"], indirect=True)  # one run per store
async def test_a_paused_session_finds_its_lease_lost(
    coord: Any, url: str, namespace: str, tmp_path: Path, children: list[Any],
) -> None:
    ttl = 0.5
    out, go = tmp_path / "sleeper.json", tmp_path / "go"
    proc = _start(children, children_of.pause_in_session, url, namespace, ttl, str(go),
                  str(out))
    held = await _report_of(Path(str(out) + ".held"), proc)
    os.kill(held["pid"], signal.SIGSTOP)
    try:
        mine = await coord.lock("job", ttl=30).acquire(timeout=ttl + 5)
        assert mine.token > held["token"]
    finally:
        os.kill(held["pid"], signal.SIGCONT)
    go.write_text("")
    report = await _report_of(out, proc)
    assert report["seen"] == ["LeaseLost", "LeaseLost"]
    stats = await coord.lock("job").statistics()
    assert [(h.agent, h.token) for h in stats.holders] == [("tester", mine.token)]
    await mine.release()


async def test_one_file_is_one_lease_from_any_working_directory(
    coord: Any, url: str, namespace: str, mode: str, tmp_path: Path, children: list[Any],
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src" / "api").mkdir(parents=True)
    (repo / "src" / "api" / "x.py").write_text("")
    (repo / "alias").symlink_to(repo / "src")
    here = os.getcwd()
    os.chdir(repo)
    try:
        lease = await coord.lock_file("src/api/x.py", intent="editing x", ttl=30).acquire()
    finally:
        os.chdir(here)
    attempts = [
        [str(repo), "src/api/x.py"],
        [str(repo / "src"), "./api/x.py"],
        [str(repo / "src" / "api"), "x.py"],
        [str(repo / "src" / "api"), str(repo / "src" / "api" / "x.py")],
        [str(repo / "alias"), "../src/api/../api/x.py"],
        [str(repo), "alias/api/x.py"],
        [str(repo / "src"), "api/y.py"],
    ]
    out = tmp_path / "spellings.json"
    proc = _start(children, children_of.try_spellings, url, namespace, attempts, str(out))
    seen = await _report_of(out, proc)
    assert seen == [["src/api/x.py", True]] * 6 + [["src/api/y.py", False]]
    await lease.release()
