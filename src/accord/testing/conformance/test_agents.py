"""Agents: sessions, the registry, liveness and progress, the kill switch, halting,
force release, shared and file leases with intent, metrics, system events,
``as_agent``, ``spec`` and ``drop_namespace``; on every store, sync and async.
Killed, dead and paused agents in real processes are in test_agent_processes.py."""

from __future__ import annotations

import asyncio
import os
import pickle
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.errors import (
    AgentExists,
    AgentKilled,
    ConfigError,
    Halted,
    InvalidName,
    LeaseLost,
    LockTimeout,
    StaleFence,
    UnknownAgent,
)
from accord.testing.harness import Twin, eventually

pytestmark = pytest.mark.accord_capability("leases", "state", "events", "signals", "agents")


class Sessions:
    """Opens sessions of the test's mode; ``async with`` closes those still open."""

    def __init__(self, url: str, mode: str, namespace: str) -> None:
        self.url, self.mode, self.namespace = url, mode, namespace
        self.made: list[Any] = []

    async def __call__(self, name: str, **options: Any) -> Any:
        options.setdefault("namespace", self.namespace)
        options.setdefault("heartbeat", 0.5)
        if self.mode == "async":
            coord: Any = await accord.session_async(self.url, name=name, **options)
        else:
            coord = Twin(accord.session(self.url, name=name, **options))
        self.made.append(coord)
        return coord

    async def __aenter__(self) -> Sessions:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        for coord in self.made:
            await coord.aclose()


@pytest.fixture
def sessions(url: str, mode: str, namespace: str) -> Sessions:
    return Sessions(url, mode, namespace)


async def names_of(coord: Any, name: str | None = None) -> list[str]:
    return [e.name for e in reversed(await coord.events.history(name=name, limit=100))]


async def test_a_session_registers_reports_and_leaves(coord: Any, sessions: Sessions) -> None:
    async with sessions:
        agent = await sessions("Agent-1", role="Engineer", working_on="Building features",
                               capabilities=("backend",))
        found = await coord.agents.get("Agent-1")
        assert (found.name, found.role, found.status) == ("Agent-1", "Engineer", "active")
        assert found.working_on == "Building features"
        assert found.capabilities == ("backend",)
        assert found.pid == os.getpid() and found.host
        assert found.started_at <= found.last_heartbeat
        await agent.working_on("Add /health endpoint")
        async with agent.lock("deploy"):
            found = await coord.agents.get("Agent-1")
            assert found.working_on == "Add /health endpoint"
            assert found.holds == ("lock deploy",)
        await agent.progress("tests pass")
        assert [a.name async for a in coord.agents.list()] == ["Agent-1"]
        await agent.aclose()
        assert await coord.agents.get("Agent-1") is None
    assert await names_of(coord) == ["agent_joined", "agent_left"]


async def test_a_name_has_one_live_session(coord: Any, sessions: Sessions) -> None:
    async with sessions:
        first = await sessions("solo")
        with pytest.raises(AgentExists) as exists:
            await sessions("solo")
        assert exists.value.pid == os.getpid()
        assert f"pid {os.getpid()}" in str(exists.value) and exists.value.host in str(exists.value)
        await first.aclose()
        again = await sessions("solo")  # free once the first ended
        assert (await coord.agents.get("solo")).status == "idle"
        await again.aclose()


async def test_bad_session_input_is_refused_before_anything_is_registered(
    coord: Any, sessions: Sessions
) -> None:
    async with sessions:
        with pytest.raises(InvalidName):
            await sessions("")
        with pytest.raises(ConfigError, match="heartbeat"):
            await sessions("x", heartbeat=0)
        with pytest.raises(TypeError, match="capabilities"):
            await sessions("x", capabilities="backend")
        with pytest.raises(InvalidName):
            await sessions("x", role="a\0b")
        assert [a async for a in coord.agents.list()] == []
        with pytest.raises(InvalidName):
            await coord.agents.kill("", reason="x")
        with pytest.raises(InvalidName):
            await coord.agents.kill("x", reason="")


async def test_no_progress_makes_an_agent_hung_once(coord: Any, sessions: Sessions) -> None:
    async with sessions:
        agent = await sessions("stuck", heartbeat=0.3)
        await asyncio.sleep(0.4)  # heartbeats go on; no coordination call
        hung = await coord.agents.hung(threshold=0.3)
        assert [a.name for a in hung] == ["stuck"]
        assert hung[0].status == "hung"
        await coord.agents.hung(threshold=0.3)
        assert await names_of(coord, "agent_hung") == ["agent_hung"]  # once per episode
        await agent.progress()
        assert await coord.agents.hung(threshold=0.3) == []
        with pytest.raises(ConfigError, match="session"):
            await coord.progress()  # a plain coordinator is no agent


async def test_the_kill_switch_revokes_everything_at_once(
    coord: Any, connect: Any, sessions: Sessions, spawn: Any
) -> None:
    async with sessions:
        rogue = await sessions("rogue")
        lease = await rogue.lock("job", ttl=30).acquire()
        permit = await rogue.semaphore("api", limit=1, ttl=30).acquire()
        await rogue.state("inv").set("x", 1, fence=lease)

        async def wait_for_job() -> int:
            async with connect("next").lock("job", ttl=10, timeout=10) as got:
                return int(got.token)

        waiter = spawn(wait_for_job)
        await eventually(lambda: _waiters(coord, "job", ("next",)), what="next queued")
        killed = await coord.agents.kill("rogue", reason="deleting prod files")
        assert killed.status == "killed" and killed.reason == "deleting prod files"
        assert await waiter.join(10) > lease.token  # the next waiter proceeded at once
        assert (await coord.semaphore("api", limit=1).statistics()).holders == ()
        with pytest.raises(AgentKilled, match="deleting prod files"):
            await rogue.state("inv").set("x", 2, fence=lease)
        with pytest.raises(AgentKilled):
            await rogue.lock("other").acquire()
        with pytest.raises(AgentKilled):
            await permit.release()
        with pytest.raises(StaleFence) as stale:  # its token is stale for anyone's write
            await coord.state("inv").set("x", 3, fence=lease)
        assert stale.value.revoked and "revoked" in str(stale.value)
        assert (await coord.state("inv").get("x")).value == 1
        assert (await coord.agents.get("rogue")).status == "killed"
        [event] = await coord.events.history(name="agent_killed")
        assert event["name"] == "rogue" and event["revoked"] == 2
        with pytest.raises(UnknownAgent):
            await coord.agents.kill("nobody", reason="typo")
        await rogue.aclose()  # a killed agent stays listed as killed after it exits
        assert (await coord.agents.get("rogue")).status == "killed"


async def _waiters(coord: Any, name: str, agents: tuple[str, ...]) -> bool:
    return bool((await coord.lock(name).statistics()).waiters == agents)


async def test_halt_freezes_acquisitions_until_resume(coord: Any, connect: Any) -> None:
    other = connect("other")
    held = await other.lock("kept").acquire()
    await coord.halt("runaway swarm")
    assert await coord.halted() == "runaway swarm"
    with pytest.raises(Halted, match="runaway swarm"):
        await other.lock("new").acquire()
    with pytest.raises(Halted):
        await other.semaphore("pool", limit=2).try_acquire()
    with pytest.raises(Halted):
        await other.emit("work")
    await held.release()  # releases and reads still work
    assert (await other.lock("kept").statistics()).holders == ()
    await coord.resume()
    assert await coord.halted() is None
    async with other.lock("new"):
        pass
    with pytest.raises(ConfigError, match="not halted"):
        await coord.resume()
    assert await names_of(coord) == ["namespace_halted", "namespace_resumed"]


async def test_force_release_frees_a_stuck_holder(coord: Any, connect: Any) -> None:
    stuck = connect("stuck")
    old = await stuck.lock("db", ttl=60).acquire()
    await stuck.state("rows").set("r", 1, fence=old)
    assert await coord.lock("db").force_release(reason="holder hung") == ["stuck"]
    with pytest.raises(StaleFence):  # refused at once, before any new holder wrote
        await stuck.state("rows").set("r", 2, fence=old)
    new = await coord.lock("db").acquire(timeout=1)
    assert new.token > old.token
    await coord.state("rows").set("r", 3, fence=new)  # the next holder writes
    with pytest.raises(LeaseLost):
        await old.release()
    await new.release()
    [event] = await coord.events.history(name="lock_force_released")
    assert (event["holders"], event["reason"]) == (["stuck"], "holder hung")


async def test_shared_leases_serve_readers_together_and_writers_in_turn(
    coord: Any, connect: Any, spawn: Any
) -> None:
    r1 = await connect("r1").lock("doc", shared=True).acquire()
    r2 = await connect("r2").lock("doc", shared=True).acquire()
    stats = await coord.lock("doc").statistics()
    assert [(h.agent, h.mode) for h in stats.holders] == [("r1", "shared"), ("r2", "shared")]
    assert await connect("w0").lock("doc").try_acquire() is None
    order: list[str] = []

    async def take(agent: str, shared: bool) -> None:
        async with connect(agent).lock("doc", shared=shared, timeout=10):
            order.append(agent)
            await asyncio.sleep(0.05)

    writer = spawn(lambda: take("writer", False))
    await eventually(lambda: _waiters(coord, "doc", ("writer",)), what="writer queued")
    late = spawn(lambda: take("late-reader", True))  # behind the writer: FCFS
    await eventually(lambda: _waiters(coord, "doc", ("writer", "late-reader")),
                     what="reader queued")
    await r1.release()
    await r2.release()
    await writer.join(10)
    await late.join(10)
    assert order == ["writer", "late-reader"]


async def test_file_leases_are_one_per_file_and_nest_in_directories(
    coord: Any, connect: Any, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src" / "api").mkdir(parents=True)
    (repo / "src" / "api" / "x.py").write_text("")
    (repo / "link.py").symlink_to(repo / "src" / "api" / "x.py")
    here = os.getcwd()
    os.chdir(repo / "src")
    try:
        other = connect("other")
        lease = await coord.lock_file("api/x.py", intent="refactor x", ttl=30).acquire()
        assert lease.path == "src/api/x.py"
        for spelling in ("./api/x.py", "api/../api/x.py", str(repo / "src/api/x.py"),
                         "../link.py"):
            await _refused(other, spelling)
        [stats] = await coord.lock_file("api/x.py", intent="look").statistics()
        assert (stats.holder, stats.intent) == ("tester", "refactor x")
        listed = {s.name: s for s in await coord.list_locks()}
        assert listed["src/api/x.py"].intent == "refactor x"
        assert "src/" not in listed  # the intent leases above stay out of listings
        with pytest.raises(LockTimeout, match="refactor x"):
            await other.lock_file("api/", intent="move the package", timeout=0.1).acquire()
        async with other.lock_file("api/y.py", intent="new file", timeout=1):
            pass  # a sibling file is another lease
        await coord.state("files").set("x", 1, fence=lease)  # a file lease fences too
        await lease.release()
        directory = await other.lock_file("api", intent="move the package").acquire(1)
        assert directory.path == "src/api/"
        with pytest.raises(LockTimeout, match="move the package"):
            await coord.lock_file("api/x.py", intent="again", timeout=0.1).acquire()
        await directory.release()
        both = await coord.lock_files(["api/y.py", "api/x.py"], intent="rename").acquire(1)
        assert both.paths == ("src/api/y.py", "src/api/x.py")
        await both.release()
        for bad in ("", "a\0b", "../../outside.py"):
            with pytest.raises(InvalidName):
                coord.lock_file(bad, intent="x")
    finally:
        os.chdir(here)


async def _refused(coord: Any, path: str) -> None:
    with pytest.raises(LockTimeout):
        await coord.lock_file(path, intent="peek", timeout=0).acquire()


async def test_file_leases_of_one_owner_share_their_directories(
    coord: Any, connect: Any
) -> None:
    reader = await coord.lock_file("notes/a.md", intent="read", shared=True).acquire()
    writer = await coord.lock_file("notes/b.md", intent="write").acquire()  # IS and IX
    await reader.release()  # notes/ stays leased for the writer
    with pytest.raises(LockTimeout):
        await connect("other").lock_file("notes/", intent="tidy", timeout=0).acquire()
    first = await coord.lock_file("notes/c.md", intent="edit").acquire()
    again = await coord.lock_file("notes/c.md", intent="edit").acquire()  # nested
    assert again.token == first.token
    await writer.release()
    await first.release()  # released first: the nested one keeps the file and notes/
    with pytest.raises(LockTimeout):
        await connect("other").lock_file("notes/", intent="tidy", timeout=0).acquire()
    await again.release()
    assert await coord.list_locks() == []


async def test_metrics_and_lease_events(coord: Any, connect: Any, spawn: Any) -> None:
    for _ in range(3):
        async with coord.lock("hot"):
            pass
    # 0.6 s: the impatient and the patient agent connect and queue well within it,
    # even on a loaded machine, so that the patient's wait is longer than 0.1 s
    held = await coord.lock("hot", ttl=0.6).acquire()
    with pytest.raises(LockTimeout):
        await connect("impatient").lock("hot", timeout=0.05).acquire()

    async def patient() -> None:
        async with connect("patient").lock("hot", ttl=5, alert_after=0.1, timeout=5):
            pass

    waiter = spawn(patient)
    await waiter.join(10)  # granted once the 0.6 s lease expired
    with pytest.raises(LeaseLost):
        await held.release()
    [found] = [m for m in await coord.metrics() if m.name == "hot"]
    assert found.kind == "lock" and found.acquisitions == 5
    assert found.waits == 2 and found.timeouts == 1 and found.lost_leases == 1
    assert 0.1 < found.max_wait <= found.total_wait < 5
    assert await names_of(coord, "lock_wait_long") == ["lock_wait_long"]
    [lost] = await coord.events.history(name="lease_lost")
    assert (lost["name"], lost["agent"]) == ("hot", "tester")


async def test_as_agent_acts_as_another_agent_on_one_connection(coord: Any) -> None:
    billing = coord.as_agent("billing")
    async with billing.lock("invoice"):
        assert (await coord.lock("invoice").statistics()).holder == "billing"
    entry = await billing.state("books").set("q1", 10)
    assert entry.updated_by == "billing"
    await billing.emit("invoiced")
    [event] = await coord.events.history(name="invoiced")
    assert event.source == "billing"
    await billing.aclose()  # closes nothing of the connection
    assert (await coord.state("books").get("q1")).value == 10


async def test_a_view_of_a_session_is_an_agent_of_its_own(
    coord: Any, sessions: Sessions
) -> None:
    async with sessions:
        crew = await sessions("crew", heartbeat=0.3)
        billing = crew.as_agent("billing")
        lease = await billing.lock("invoice").acquire()

        async def registered() -> bool:
            return await coord.agents.get("billing") is not None

        await eventually(registered, what="the view registered")
        found = await coord.agents.get("billing")
        assert (found.host, found.pid, found.holds) == ((await coord.agents.get("crew")).host,
                                                         os.getpid(), ("lock invoice",))
        await coord.agents.kill("billing", reason="wrong customer")
        with pytest.raises(AgentKilled):
            await billing.state("books").set("q1", 1)
        assert (await coord.lock("invoice").statistics()).holders == ()
        with pytest.raises(AgentKilled):
            await lease.release()
        await crew.state("books").set("q1", 2)  # the session itself goes on
        await crew.aclose()
        assert (await coord.agents.get("crew")) is None


async def test_spec_reopens_the_coordinator_elsewhere(coord: Any, url: str) -> None:
    spec = pickle.loads(pickle.dumps(coord.spec()))
    assert spec["namespace"] == coord.namespace and spec["agent"] == "tester"
    again = accord.connect(**spec)
    try:
        again.state("s").set("k", 1)
    finally:
        again.close()
    assert (await coord.state("s").get("k")).value == 1
    secret = accord.connect("redis://:hunter2@localhost:1/0").spec() if url.startswith(
        "redis") else None
    if secret is not None:
        assert "hunter2" not in repr(secret) and secret["url"].count("hunter2") == 1


async def test_drop_namespace_removes_everything(coord: Any, connect: Any) -> None:
    await coord.state("s").set("k", 1)
    await coord.emit("e")
    held = await coord.lock("l").acquire()
    with pytest.raises(ConfigError, match="repeat"):
        await coord.drop_namespace(confirm="other")
    assert (await coord.state("s").get("k")).value == 1
    await coord.drop_namespace(confirm=coord.namespace)
    fresh = connect("fresh")
    assert await fresh.state("s").get("k") is None
    assert await fresh.events.history() == []
    assert await fresh.list_locks() == []
    with pytest.raises(LeaseLost):
        await held.release()
