"""accord.integrations.openai_agents: run events, shared model limits, leased tools,
with the SDK's own scripted model (``agents.testing.ScriptedModel``)."""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from agents import Agent, RunConfig, Runner, function_tool, set_trace_processors, trace
from agents.testing import ScriptedModel, assistant_message, function_call

import accord
from accord.integrations import Concurrency, Connection, Rate
from accord.integrations.openai_agents import (
    AccordRunHooks,
    LimitedModel,
    LimitedModelProvider,
    leased,
)

from .. import _shared
from . import _agents


@pytest.fixture(autouse=True)
def _no_trace_export() -> None:
    set_trace_processors([])  # traces keep their ids; nothing is sent anywhere


def _triage(billing_tool: Any) -> Agent[Any]:
    billing = Agent(
        name="billing",
        model=ScriptedModel([
            [function_call(billing_tool.name, {"amount": 2}, call_id="call-1")],
            [assistant_message("refunded")],
        ]),
        tools=[billing_tool],
    )
    return Agent(
        name="triage",
        model=ScriptedModel([[function_call("transfer_to_billing", {}, call_id="call-0")]]),
        handoffs=[billing],
    )


@function_tool
def refund(amount: int) -> str:
    """Refund an amount."""
    return f"refunded {amount}"


def test_hooks_emit_each_step_with_run_agent_and_tool_call(url: str, namespace: str) -> None:
    async def main() -> list[accord.Event]:
        conn = Connection(url, namespace=namespace)
        try:
            hooks = AccordRunHooks(conn, run_id="run-7")
            result = await Runner.run(_triage(refund), "refund me", hooks=hooks,
                                      run_config=_agents.NO_TRACING)
            assert result.final_output == "refunded"
            events = await conn.aio().events.history(limit=50)
        finally:
            await conn.aclose()
        return list(reversed(events))

    events = asyncio.run(main())
    assert [(e.name, e["agent"]) for e in events] == [
        ("agents.agent_start", "triage"), ("agents.llm_start", "triage"),
        ("agents.llm_end", "triage"), ("agents.handoff", "triage"),
        ("agents.agent_start", "billing"), ("agents.llm_start", "billing"),
        ("agents.llm_end", "billing"), ("agents.tool_start", "billing"),
        ("agents.tool_end", "billing"), ("agents.llm_start", "billing"),
        ("agents.llm_end", "billing"), ("agents.agent_end", "billing"),
    ]
    assert {e["run_id"] for e in events} == {"run-7"}
    assert [e.source for e in events] == [e["agent"] for e in events]  # acting as the agent
    handoff = events[3]
    assert (handoff["from_agent"], handoff["to_agent"]) == ("triage", "billing")
    tool_events = [e for e in events if e.name.startswith("agents.tool_")]
    assert [(e["tool"], e["tool_call_id"]) for e in tool_events] == [("refund", "call-1")] * 2
    assert tool_events[1]["result"] == "refunded 2"
    assert events[-1]["output"] == "refunded"


def test_hooks_take_the_run_id_from_the_trace_else_make_one() -> None:
    url = f"memory://hooks-{uuid.uuid4().hex[:6]}"

    async def run(config: RunConfig, hooks: AccordRunHooks) -> set[str]:
        await Runner.run(_triage(refund), "go", hooks=hooks, run_config=config)
        async with accord.connect_async(url) as coord:
            events = await coord.events.history(limit=100)
        await hooks.aclose()
        return {e["run_id"] for e in events}

    async def main() -> None:
        hooks = AccordRunHooks(url)
        with trace("refunds") as current:
            traced = await run(RunConfig(), hooks)
        assert traced == {current.trace_id}
        untraced = AccordRunHooks(url)
        ids = await run(_agents.NO_TRACING, untraced)
        assert ids == {current.trace_id, untraced.run_id()} and untraced.run_id() != "no-op"

    asyncio.run(main())


@pytest.mark.accord_processes
def test_model_calls_of_two_processes_stay_under_the_shared_limits(
    url: str, namespace: str
) -> None:
    """Six concurrent runs in each of two processes: never more than LIMIT calls at
    once, and no window holds more calls than the rate limit admits."""
    runs = 6
    held = _shared.in_processes(_agents.model_calls, *[(url, namespace, runs, 2)] * 2)
    intervals = [interval for process in held for interval in process]
    assert len(intervals) == 2 * runs
    assert _shared.peak_overlap(intervals) <= _agents.LIMIT
    starts = [start for start, _ in intervals]
    assert _shared.most_in_window(starts, _agents.RATE, 1.0, slack=0.025) <= _agents.BURST
    assert max(starts) - min(starts) >= (2 * runs - _agents.BURST) / _agents.RATE - 0.025


@pytest.mark.parametrize(
    ("backend_name", "mode"), [("sqlite", "sync"), ("redis", "async")], indirect=["backend_name"]
)
def test_a_leased_tool_keeps_every_line_of_two_processes(
    url: str, namespace: str, mode: str, tmp_path: Path
) -> None:
    """Five concurrent runs in each of two processes append a line to one file through
    a read-modify-write tool: with the lease, all ten lines are kept. (A sync tool runs
    in the SDK's threads, an async one on its loop: one store each, to save time.)"""
    shared = tmp_path / "ledger.txt"
    shared.write_text("")
    _shared.in_processes(
        _agents.tool_calls,
        (url, namespace, mode, str(shared), "a", 5, 2),
        (url, namespace, mode, str(shared), "b", 5, 2),
    )
    lines = shared.read_text().splitlines()
    assert sorted(lines) == sorted(f"{who}-{i}" for who in "ab" for i in range(5))


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_leased_keeps_the_tool_schema_and_description(kind: str) -> None:
    tool = _agents.append_tool("memory://schema", "schema", kind)
    bare = function_tool(inspect.unwrap(tool.__wrapped__))  # the function, not leased
    assert (tool.name, tool.description) == (bare.name, bare.description)
    assert tool.params_json_schema == bare.params_json_schema
    assert list(tool.params_json_schema["properties"]) == ["path", "line"]
    with pytest.raises(TypeError, match="below @function_tool"):
        leased("x")(bare)


def test_limited_model_holds_its_permit_for_a_whole_stream() -> None:
    url = f"memory://stream-{uuid.uuid4().hex[:6]}"
    coord = accord.connect(url)
    seen: list[int] = []

    async def answer(call: Any) -> Any:
        seen.append(len(coord.semaphore("llm", limit=1).statistics().holders))
        return [assistant_message("streamed")]

    from agents.testing import ModelStep

    model = LimitedModel(ScriptedModel([ModelStep.respond(answer)]),
                         semaphore=Concurrency("llm", 1), coord=url)

    async def main() -> str:
        result = Runner.run_streamed(Agent(name="s", model=model), "go",
                                     run_config=_agents.NO_TRACING)
        async for _ in result.stream_events():
            pass
        return str(result.final_output)

    assert asyncio.run(main()) == "streamed"
    assert seen == [1]
    assert coord.semaphore("llm", limit=1).statistics().holders == ()


def test_limited_model_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="semaphore or a rate_limit"):
        LimitedModel(ScriptedModel([]))
    with pytest.raises(TypeError, match=r"agents\.Model"):
        LimitedModel("gpt-4o", rate_limit=Rate("llm", 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="semaphore or a rate_limit"):
        LimitedModelProvider()
    with pytest.raises(TypeError, match="coord"):
        AccordRunHooks(coord=3)  # type: ignore[arg-type]


def test_leased_tool_holds_the_lock_as_the_agent_named(url: str, namespace: str) -> None:
    conn = Connection(url, namespace=namespace)
    seen: list[str | None] = []

    @leased("ledger", agent="billing", coord=conn)
    async def book(amount: int) -> str:
        seen.append((await conn.aio().lock("ledger").statistics()).holder)
        return "ok"

    async def main() -> None:
        try:
            assert await book(1) == "ok"
        finally:
            await conn.aclose()

    asyncio.run(main())
    assert seen == ["billing"]


def _approve(url: str, namespace: str, approval: str) -> str:
    """Process two: a person approving in their own process."""
    with accord.connect(url, namespace=namespace, agent="alice") as coord:
        return coord.approvals.approve(approval, reason="looks right").status


@pytest.mark.accord_processes
def test_a_run_parked_in_one_process_is_approved_in_another_and_resumed_in_a_third(
    url: str, namespace: str
) -> None:
    [ids] = _shared.in_processes(_agents.park_refund, (url, namespace), start="fork")
    assert len(ids) == 1
    with accord.connect(url, namespace=namespace) as coord:
        request = coord.approvals.get(ids[0])
        assert (request.action, request.details["tool"]) == ("tool.refund", "refund")
        assert json.loads(request.details["arguments"]) == {"amount": 5} and request.pending
    [status] = _shared.in_processes(_approve, (url, namespace, ids[0]), start="fork")
    assert status == "approved"
    [(output, runs)] = _shared.in_processes(_agents.resume_refund, (url, namespace), start="fork")
    assert (output, runs) == ("done: refund handled", 1)  # the tool ran once, after approval


def test_approvals_wait_while_pending_and_pass_a_denial_to_the_model() -> None:
    url = f"memory://appr-{uuid.uuid4().hex[:6]}"
    seen: list[str] = []

    async def main() -> None:
        from accord.integrations.openai_agents import Approvals

        async with accord.connect_async(url, agent="runner") as coord:
            approvals = Approvals(coord)
            result = await Runner.run(_agents.refund_agent(url, "default", False), "refund",
                                      run_config=_agents.NO_TRACING)
            ids = await approvals.park(result, "r-1")
            assert await approvals.park(result, "r-1") == ids  # asked once per call
            assert [a.id for a in await approvals.pending("r-1")] == ids
            later = _agents.refund_agent(url, "default", True)
            assert await approvals.resume(later, "r-1") is None  # still pending
            await coord.as_agent("bob").approvals.deny(ids[0], reason="too much")

            async def observe(call: Any) -> Any:
                seen.append(str(call.input))
                return [assistant_message("ok, no refund")]

            from agents.testing import ModelStep
            denied = Agent(name="billing", model=ScriptedModel([ModelStep.respond(observe)]),
                           tools=later.tools)
            result = await approvals.resume(denied, "r-1", run_config=_agents.NO_TRACING)
            assert result is not None and result.final_output == "ok, no refund"
            with pytest.raises(LookupError, match="resumed already"):
                await approvals.resume(denied, "r-1")
            assert await coord.state("refunds").get("runs") is None  # never ran

    asyncio.run(main())
    assert "too much" in seen[0] and "bob" in seen[0]


@pytest.mark.accord_processes
def test_one_triage_fans_out_to_specialists_each_offer_claimed_once(
    url: str, namespace: str
) -> None:
    from accord.integrations.openai_agents import ParallelHandoffs

    async def offer() -> list[Any]:
        conn = Connection(url, namespace=namespace)
        handoffs = ParallelHandoffs(conn)
        try:
            tasks = [await handoffs.fan_out(f"case {n}", to=list(_agents.SPECIALISTS),
                                            key=f"case-{n}") for n in range(3)]
            again = await handoffs.fan_out("case 0", to=list(_agents.SPECIALISTS), key="case-0")
            assert [t.id for t in again] == [t.id for t in tasks[0]]  # idempotent by key
            return tasks
        finally:
            await conn.aclose()

    async def gather(tasks: list[Any]) -> list[dict[str, Any]]:
        conn = Connection(url, namespace=namespace)
        handoffs = ParallelHandoffs(conn)
        try:
            return [await handoffs.gather(t, timeout=30) for t in tasks]
        finally:
            await conn.aclose()

    tasks = asyncio.run(offer())
    served = _shared.in_processes(
        _agents.serve_specialists, *[(url, namespace, 2)] * 2, start="fork"
    )
    answers = asyncio.run(gather(tasks))
    assert answers == [{s: f"{s}: case {n}" for s in _agents.SPECIALISTS} for n in range(3)]
    everything = served[0] + served[1]
    assert sorted(everything) == sorted(f"{s}: case {n}" for s in _agents.SPECIALISTS
                                        for n in range(3))  # each offer run exactly once
