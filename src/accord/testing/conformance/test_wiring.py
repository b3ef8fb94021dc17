"""The task queue, agents and people in the loop as one product: the kill switch, the
reaper and a session's exit end the agent's task claims; kills, halts, resumes and
force releases are audited; approvers may name roles, matched through the registry.
On every store, sync and async; the reaper with a SIGKILLed session process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from accord.errors import AgentKilled, LeaseLost, NotAnApprover
from accord.testing.conformance import _agent_children as children_of
from accord.testing.conformance.test_agents import Sessions, sessions
from accord.testing.conformance.test_processes import _report_of, _start, children
from accord.testing.harness import eventually

__all__ = ["children", "sessions"]  # the fixtures, shared with test_agents, test_processes

pytestmark = pytest.mark.accord_capability(
    "leases", "state", "events", "signals", "agents", "tasks", "streams"
)


async def _kinds(coord: Any) -> list[str]:
    return [e.kind for e in await coord.audit.read(limit=1000) if e.kind.startswith("accord.")]


async def test_the_kill_switch_ends_the_agents_task_claims(
    coord: Any, sessions: Sessions
) -> None:
    q = coord.queue("build")
    again = await q.put("retried", max_attempts=2)
    last = await q.put("last try", max_attempts=1)
    async with sessions:
        rogue = await sessions("rogue")
        first = await rogue.queue("build").claim(lease=30)
        second = await rogue.queue("build").claim(lease=30)
        assert {first.task.id, second.task.id} == {again.id, last.id}
        shown = sorted([f"task {again.id} (build)", f"task {last.id} (build)"])
        assert sorted((await coord.agents.get("rogue")).holds) == shown
        listed = [a async for a in coord.agents.list()]
        assert [sorted(a.holds) for a in listed if a.name == "rogue"] == [shown]
        await coord.agents.kill("rogue", reason="runaway")
        back = await q.get(again.id)
        assert (back.status, back.attempts) == ("ready", 1)
        assert (await q.get(last.id)).status == "dead"
        with pytest.raises(AgentKilled):
            await first.complete(result=1)
        [event] = await coord.events.history(name="agent_killed")
        assert event["revoked"] == 2
    # the claims are gone for anyone: a new claim takes the task, the old token is stale
    taken = await q.claim(lease=30)
    assert taken.task.id == again.id and taken.task.attempts == 2
    await taken.complete(result="ok")
    [killed] = await coord.audit.read(kind="accord.agent_killed")
    assert (killed.agent, killed.details["name"], killed.details["reason"]) == (
        "tester", "rogue", "runaway",
    )


async def test_a_sessions_exit_gives_its_claims_back(coord: Any, sessions: Sessions) -> None:
    q = coord.queue("build")
    task = await q.put("half done", max_attempts=1)
    async with sessions:
        worker = await sessions("worker")
        claim = await worker.queue("build").claim(lease=30)
        assert claim.task.id == task.id
        await worker.aclose()
        back = await q.get(task.id)
        assert (back.status, back.attempts) == ("ready", 0)  # released, not failed
        with pytest.raises(LeaseLost):
            await claim.extend(30)
    assert (await q.claim(lease=30)).task.id == task.id


async def test_kills_halts_resumes_and_force_releases_are_audited(
    coord: Any, connect: Any, sessions: Sessions
) -> None:
    async with sessions:
        await sessions("victim")
        await coord.agents.kill("victim", reason="misbehaving")
    await coord.halt("freeze")
    await coord.resume()
    await connect("stuck").lock("db", ttl=60).acquire()
    await coord.lock("db").force_release(reason="holder hung")
    assert await _kinds(coord) == [
        "accord.agent_killed", "accord.namespace_halted", "accord.namespace_resumed",
        "accord.lock_force_released",
    ]
    [forced] = await coord.audit.read(kind="accord.lock_force_released")
    assert (forced.details["lock"], forced.details["holders"]) == ("db", ["stuck"])
    assert await coord.audit.verify() is None


@pytest.mark.accord_capability("approvals")
async def test_approvers_may_name_roles_of_registered_agents(
    coord: Any, sessions: Sessions
) -> None:
    async with sessions:
        ops = await sessions("alice", role="ops")
        dev = await sessions("bob", role="dev")
        req = await coord.approvals.request("deploy", timeout=30, approvers=["ops"])
        with pytest.raises(NotAnApprover):
            await dev.approvals.approve(req.id, reason="looks fine")
        decision = await ops.approvals.approve(req.id, reason="tested")
        assert decision.approved and decision.by == "alice"
        await ops.aclose()  # a role counts only while its agent is registered
        other = await coord.approvals.request("drop db", timeout=30, approvers=["dev"])
        await dev.approvals.deny(other.id, reason="no")
        assert (await coord.approvals.get(other.id)).status == "denied"


async def test_a_killed_agents_role_is_refused_by_the_store_itself(
    coord: Any, sessions: Sessions, connect: Any
) -> None:
    """The role is read in the decision's own step: a connection under the killed
    agent's name, which no heartbeat has told of the kill, cannot use it."""
    async with sessions:
        await sessions("alice", role="ops")
        req = await coord.approvals.request("deploy", timeout=30, approvers=["ops"])
        await coord.agents.kill("alice", reason="rogue")
        with pytest.raises(NotAnApprover):
            await connect("alice").approvals.approve(req.id, reason="mine now")
        assert (await coord.approvals.get(req.id)).status == "pending"


@pytest.mark.accord_processes
@pytest.mark.accord_sync_only  # one run per store: the child's API does not matter
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux signals")
async def test_a_dead_agents_claims_go_back_within_its_heartbeat_ttl(
    coord: Any, url: str, namespace: str, tmp_path: Path, children: list[Any]
) -> None:
    q = coord.queue("build")
    task = await q.put("orphaned", max_attempts=3)
    out = tmp_path / "doomed.json"
    proc = _start(children, children_of.claim_in_session, url, namespace, 0.3, str(out))
    held = await _report_of(out, proc)
    assert held["task"] == task.id and (await q.get(task.id)).status == "claimed"
    os.kill(held["pid"], signal.SIGKILL)

    async def back() -> bool:  # reading the registry reaps
        await coord.agents.get("doomed")
        return bool((await q.get(task.id)).status == "ready")

    await eventually(back, timeout=5, what="the dead agent's task ready again")
    assert (await q.get(task.id)).attempts == 1
    [event] = await coord.events.history(name="agent_dead")
    assert event["name"] == "doomed" and event["revoked"] == 1


async def test_each_dead_task_is_audited_once_in_the_step_that_kills_it(
    coord: Any, connect: Any, sessions: Sessions
) -> None:
    q = coord.queue("build")
    odd = "déploy /api\n\x7f ✓"  # canonical JSON on every store: the chain must verify
    failed = await q.put(odd, max_attempts=1)
    lapsed = await q.put("lapsed", max_attempts=1)
    revoked = await q.put("revoked", max_attempts=1)
    claim = await q.claim(lease=30)
    await claim.fail("broken", retry=True)  # no attempt left: dead
    short = await connect("slow").queue("build").claim(lease=0.2)
    assert short.task.id == lapsed.id
    async with sessions:
        rogue = await sessions("rogue")
        assert (await rogue.queue("build").claim(lease=30)).task.id == revoked.id
        await coord.agents.kill("rogue", reason="runaway")
    other = connect("sweeper").queue("build")
    await asyncio.sleep(0.25)  # the lease must run out: expiry is what this checks
    assert await other.claim(lease=30) is None  # its sweep finds the lapsed claim dead
    with pytest.raises(LeaseLost):
        await short.complete(result=1)
    assert await q.claim(lease=30) is None
    entries = await coord.audit.read(kind="accord.task_dead")
    assert sorted((e.details["id"], e.details["error"]) for e in entries) == sorted([
        (failed.id, "broken"), (lapsed.id, "its claim's lease ran out"),
        (revoked.id, "its claim was revoked"),
    ])
    by_id = {e.details["id"]: e for e in entries}
    assert by_id[failed.id].details["title"] == odd
    assert by_id[failed.id].details["claimed_by"] == "tester"
    assert by_id[lapsed.id].agent == "sweeper" and by_id[lapsed.id].details["claimed_by"] == "slow"
    assert len(await coord.events.history(name="task_dead")) == 3
    assert await coord.audit.verify() is None


async def test_a_coordinator_goes_on_working_after_drop_namespace(
    coord: Any, connect: Any
) -> None:
    await coord.queue().put("gone")
    await coord.drop_namespace(confirm=coord.namespace)
    task = await coord.queue().put("after the drop")
    assert (await connect("other").queue().get(task.id)).title == "after the drop"
