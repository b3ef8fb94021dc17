"""Approvals: one state machine decided in the store; exactly one decision wins, a
timeout denies, the requester cannot decide its own, approvers restrict, waiting is
pushed, every decision is audited once."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from accord.errors import (
    ApprovalClosed,
    ApprovalTimeout,
    ConfigError,
    InvalidName,
    NotAnApprover,
    NotFound,
    PayloadTooLarge,
)

pytestmark = pytest.mark.accord_capability("approvals", "streams")


async def _decisions(coord: Any, approval: str) -> list[Any]:
    found = await coord.audit.read(kind="accord.approval_decided", limit=1000)
    return [e for e in found if e.details["approval"] == approval]


async def test_approved_by_another_agent_and_readable_after(coord: Any, connect: Any) -> None:
    ops = connect("ops")
    req = await coord.approvals.request("deploy", details={"service": "api"}, timeout=30)
    assert [a.id for a in await ops.approvals.pending()] == [req.id]
    pending = await ops.approvals.get(req.id)
    assert (pending.action, pending.requested_by) == ("deploy", "tester")
    assert pending.details == {"service": "api"}
    assert pending.pending and pending.status == "pending" and pending.decision is None
    assert 29 < pending.expires_at - pending.created_at <= 30

    decision = await ops.approvals.approve(req.id, reason="tested")
    assert decision and decision.approved
    assert (decision.by, decision.reason, decision.status) == ("ops", "tested", "approved")
    assert decision.id == req.id
    assert await req.wait(timeout=1) == decision
    assert (await coord.approvals.get(req.id)).decision == decision
    assert await coord.approvals.pending() == []
    [entry] = await _decisions(coord, req.id)
    assert entry.agent == "ops"
    assert entry.details == {"action": "deploy", "approval": req.id, "reason": "tested",
                             "status": "approved"}


async def test_denied_then_every_later_decision_is_closed(coord: Any, connect: Any) -> None:
    ops, other = connect("ops"), connect("other")
    req = await coord.approvals.request("drop_table", timeout=30)
    denied = await ops.approvals.deny(req.id, reason="freeze")
    assert not denied and denied.status == "denied"
    for decide in (other.approvals.approve, other.approvals.deny, ops.approvals.approve):
        with pytest.raises(ApprovalClosed) as closed:
            await decide(req.id)
        assert closed.value.decision == denied
        assert "denied by ops" in str(closed.value)
    assert not await req.wait()
    assert len(await _decisions(coord, req.id)) == 1


async def test_the_requester_cannot_decide_and_approvers_restrict(coord: Any, connect: Any) -> None:
    req = await coord.approvals.request("deploy", timeout=30, approvers=["ops", "alice"])
    with pytest.raises(NotAnApprover) as own:
        await coord.approvals.approve(req.id)
    assert own.value.own and "cannot decide its own" in str(own.value)
    with pytest.raises(NotAnApprover) as outsider:
        await connect("mallory").approvals.approve(req.id)
    assert not outsider.value.own and "only alice, ops may decide" in str(outsider.value)
    assert (await coord.approvals.get(req.id)).pending  # nothing changed
    assert await _decisions(coord, req.id) == []
    decision = await connect("alice").approvals.approve(req.id)
    assert decision.by == "alice"

    # a requester listed as an approver still cannot decide its own
    mine = await coord.approvals.request("restart", timeout=30, approvers=["tester"])
    with pytest.raises(NotAnApprover):
        await coord.approvals.deny(mine.id)


async def test_a_timeout_denies_lazily_and_is_audited_once(coord: Any, connect: Any) -> None:
    ops = connect("ops")
    req = await coord.approvals.request("deploy", timeout=0.2)
    start = time.monotonic()
    decision = await req.wait()
    assert 0.15 < time.monotonic() - start < 2.0
    assert not decision and (decision.status, decision.by) == ("expired", None)
    assert abs(decision.at - req.expires_at) < 1e-6
    with pytest.raises(ApprovalClosed) as late:
        await ops.approvals.approve(req.id)
    assert late.value.decision == decision and "expired" in str(late.value)
    assert (await ops.approvals.get(req.id)).decision == decision
    [entry] = await _decisions(coord, req.id)
    assert entry.details["status"] == "expired" and entry.details["reason"] is None

    # a request nobody looks at expires when a listing finds it past its deadline
    quiet = await coord.approvals.request("quiet", timeout=0.05)
    await asyncio.sleep(0.1)
    assert await ops.approvals.pending() == []
    [entry] = await _decisions(coord, quiet.id)
    assert entry.agent == "ops" and entry.details["status"] == "expired"


async def test_exactly_one_of_many_racing_decisions_wins(
    coord: Any, connect: Any, run_workers: Any
) -> None:
    req = await coord.approvals.request("deploy", timeout=30)
    deciders = [connect(f"d{i}") for i in range(8)]

    async def decide(i: int) -> Any:
        decide = deciders[i].approvals.approve if i % 2 else deciders[i].approvals.deny
        try:
            return await decide(req.id, reason=f"by {i}")
        except ApprovalClosed as exc:
            return exc.decision

    outcomes = await run_workers(8, decide)
    assert len(set(outcomes)) == 1  # every worker saw the one decision that stood
    [entry] = await _decisions(coord, req.id)
    assert entry.agent == outcomes[0].by


async def test_waiting_is_pushed_and_bounded(coord: Any, connect: Any, spawn: Any) -> None:
    ops = connect("ops")
    req = await coord.approvals.request("deploy", timeout=30)
    with pytest.raises(ApprovalTimeout) as early:
        await req.wait(timeout=0.05)
    assert early.value.id == req.id and early.value.expires_in > 25
    assert (await coord.approvals.get(req.id)).pending

    woke: list[float] = []

    async def waiter() -> Any:
        decision = await req.wait(timeout=20)
        woke.append(time.monotonic())
        return decision

    worker = spawn(waiter)
    await asyncio.sleep(0.1)  # the waiter sleeps on its mailbox by now
    decided_at = time.monotonic()
    decision = await ops.approvals.approve(req.id)
    assert await worker.join() == decision
    assert woke[0] - decided_at < 1.0  # woken by the decision, not at a deadline


async def test_request_approval_blocks_until_decided(coord: Any, connect: Any, spawn: Any) -> None:
    ops = connect("ops")

    async def approve_when_asked() -> None:
        while not (found := await ops.approvals.pending()):
            await asyncio.sleep(0.01)
        await ops.approvals.approve(found[0].id, reason="go")

    worker = spawn(approve_when_asked)
    decision = await coord.request_approval("deploy", "Backend v2.0 to production", timeout=30)
    await worker.join()
    assert decision.approved and decision.reason == "go"
    assert (await coord.approvals.get(decision.id)).details == {
        "description": "Backend v2.0 to production"
    }


async def test_bad_input_and_unknown_ids_change_nothing(coord: Any, connect: Any) -> None:
    ops = connect("ops")
    bad: list[tuple[dict[str, Any], type[Exception]]] = [
        ({"action": ""}, InvalidName),
        ({"details": {"when": object()}}, TypeError),
        ({"details": "x" * (1024 * 1024)}, PayloadTooLarge),
        ({"timeout": 0}, ConfigError),
        ({"timeout": float("nan")}, ConfigError),
        ({"approvers": "ops"}, TypeError),
        ({"approvers": []}, ConfigError),
        ({"approvers": ["ok", ""]}, InvalidName),
    ]
    for options, error in bad:
        arguments = {"action": "deploy", **options}
        with pytest.raises(error):
            await coord.approvals.request(arguments.pop("action"), **arguments)
    assert await coord.approvals.pending() == []
    for call in (ops.approvals.get, ops.approvals.approve, ops.approvals.deny):
        with pytest.raises(NotFound, match="no approval request 'nope'"):
            await call("nope")
    req = await coord.approvals.request("deploy", timeout=30)
    with pytest.raises(TypeError):
        await ops.approvals.approve(req.id, reason=42)
    with pytest.raises(PayloadTooLarge):
        await ops.approvals.approve(req.id, reason="x" * (1024 * 1024))
    assert (await coord.approvals.get(req.id)).pending
    assert await coord.audit.read() == []
