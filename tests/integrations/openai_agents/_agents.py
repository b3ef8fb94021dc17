"""What one process of the OpenAI Agents tests runs: agent runs on scripted models
(``agents.testing.ScriptedModel``), in the test's process or in children."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from agents import Agent, ModelProvider, RunConfig, Runner, function_tool
from agents.testing import ModelCall, ModelStep, ScriptedModel, assistant_message, function_call

import accord
from accord.integrations import Concurrency, Connection, Rate
from accord.integrations.openai_agents import LimitedModelProvider, leased

LIMIT, RATE, BURST = 3, 40.0, 2
NO_TRACING = RunConfig(tracing_disabled=True)


class Timed(ModelProvider):
    """Each model a one-step script that answers "ok" after a 10 ms think, recording
    when the call started and ended."""

    def __init__(self) -> None:
        self.held: list[list[float]] = []

    def get_model(self, model_name: str | None) -> ScriptedModel:
        async def answer(call: ModelCall) -> Any:
            start = time.monotonic()
            await asyncio.sleep(0.01)
            self.held.append([start, time.monotonic()])
            return [assistant_message("ok")]

        return ScriptedModel([ModelStep.respond(answer)])


def limited_config(url: str, namespace: str, provider: ModelProvider) -> RunConfig:
    return RunConfig(
        model_provider=LimitedModelProvider(
            provider,
            semaphore=Concurrency("llm", LIMIT),
            rate_limit=Rate("llm", RATE, burst=BURST),
            coord=Connection(url, namespace=namespace),
        ),
        tracing_disabled=True,
    )


def model_calls(url: str, namespace: str, runs: int, parties: int) -> list[list[float]]:
    """``runs`` concurrent runs, each one model call through the shared limits."""
    provider = Timed()
    config = limited_config(url, namespace, provider)

    async def main() -> None:
        await _start(url, namespace, parties)
        agents = [Agent(name=f"agent-{i}", model="scripted") for i in range(runs)]
        results = await asyncio.gather(*[Runner.run(a, "go", run_config=config) for a in agents])
        assert [r.final_output for r in results] == ["ok"] * runs

    asyncio.run(main())
    return provider.held


async def _start(url: str, namespace: str, parties: int) -> None:
    async with accord.connect_async(url, namespace=namespace) as coord:
        await coord.barrier("start", parties, timeout=60).wait()


def append_tool(url: str, namespace: str, kind: str) -> Any:
    """A tool appending a line to a file by read-modify-write, under a lease of the
    file's name; ``kind`` "sync" (the SDK runs it in a thread) or "async"."""
    lock = leased(lambda path, line: f"file:{path}", coord=Connection(url, namespace=namespace))

    if kind == "sync":

        @function_tool
        @lock
        def append_line(path: str, line: str) -> str:
            """Append one line to the file at path."""
            text = Path(path).read_text()
            time.sleep(0.005)
            Path(path).write_text(text + line + "\n")
            return "appended"

        return append_line

    @function_tool
    @lock
    async def append_line_async(path: str, line: str) -> str:
        """Append one line to the file at path."""
        text = Path(path).read_text()
        await asyncio.sleep(0.005)
        Path(path).write_text(text + line + "\n")
        return "appended"

    return append_line_async


def tool_calls(
    url: str, namespace: str, kind: str, path: str, who: str, runs: int, parties: int
) -> None:
    """``runs`` concurrent runs, each one call of the leased file tool."""
    tool = append_tool(url, namespace, kind)

    def writer(i: int) -> Agent[Any]:
        call = function_call(tool.name, {"path": path, "line": f"{who}-{i}"}, call_id=f"call-{i}")
        model = ScriptedModel([[call], [assistant_message("done")]])
        return Agent(name=f"writer-{i}", model=model, tools=[tool])

    async def main() -> None:
        await _start(url, namespace, parties)
        runs_ = [Runner.run(writer(i), "write", run_config=NO_TRACING) for i in range(runs)]
        results = await asyncio.gather(*runs_)
        assert [r.final_output for r in results] == ["done"] * runs

    asyncio.run(main())


def refund_agent(url: str, namespace: str, resumed: bool) -> Agent[Any]:
    """An agent whose ``refund`` tool needs approval and counts its runs in accord
    state; its script is the first turn, or (``resumed``) the turn after the tool."""

    @function_tool(needs_approval=True)
    async def refund(amount: int) -> str:
        """Refund an amount."""
        async with accord.connect_async(url, namespace=namespace) as coord:
            await coord.state("refunds").incr("runs")
        return f"refunded {amount}"

    first = [[function_call("refund", {"amount": 5}, call_id="call-r")]]
    rest = [[assistant_message("done: refund handled")]]
    return Agent(name="billing", model=ScriptedModel(rest if resumed else first),
                 tools=[refund])


def park_refund(url: str, namespace: str) -> list[str]:
    """Process one: run until the refund needs approval, park it; the request ids."""
    from accord.integrations.openai_agents import Approvals

    async def main() -> list[str]:
        approvals = Approvals(Connection(url, namespace=namespace))
        try:
            result = await Runner.run(refund_agent(url, namespace, False), "refund 5",
                                      run_config=NO_TRACING)
            assert result.interruptions
            return await approvals.park(result, "refund-42")
        finally:
            await approvals.aclose()

    return asyncio.run(main())


def resume_refund(url: str, namespace: str) -> tuple[Any, int]:
    """Process three: resume the parked run; its output and the tool's run count."""
    from accord.integrations.openai_agents import Approvals

    async def main() -> tuple[Any, int]:
        approvals = Approvals(Connection(url, namespace=namespace))
        try:
            result = await approvals.resume(refund_agent(url, namespace, True), "refund-42",
                                            run_config=NO_TRACING)
            assert result is not None
            coord = Connection(url, namespace=namespace)
            runs = await coord.aio().state("refunds").get("runs")
            await coord.aclose()
            return result.final_output, 0 if runs is None else runs.value
        finally:
            await approvals.aclose()

    return asyncio.run(main())


SPECIALISTS = ("billing", "shipping", "legal")


def specialist(name: str) -> Agent[Any]:
    """A specialist answering ``<name>: <input>`` after a 10 ms think."""
    from agents.testing import ModelStep

    async def answer(call: ModelCall) -> Any:
        await asyncio.sleep(0.01)
        text = call.input if isinstance(call.input, str) else call.input[-1]["content"]
        return [assistant_message(f"{name}: {text}")]

    return Agent(name=name, model=ScriptedModel([ModelStep.respond(answer)]))


def serve_specialists(url: str, namespace: str, parties: int) -> list[str]:
    """One worker process serving every specialist's offers until none is left;
    what it answered."""
    from accord.integrations.openai_agents import ParallelHandoffs

    async def main() -> list[str]:
        conn = Connection(url, namespace=namespace)
        handoffs = ParallelHandoffs(conn)
        done: list[str] = []
        try:
            await conn.aio().barrier("start", parties, timeout=60).wait()
            while True:
                served = [await handoffs.serve(specialist(name), run_config=NO_TRACING)
                          for name in SPECIALISTS]
                done += [str(r.final_output) for r in served if r is not None]
                if not any(served):
                    return done
        finally:
            await conn.aclose()

    return asyncio.run(main())
