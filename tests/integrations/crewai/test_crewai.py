"""accord.integrations.crewai and accord.testing.ScriptedLLM, offline."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from crewai.llms.base_llm import call_stop_override

import accord
from accord.integrations import Concurrency, Rate
from accord.integrations.crewai import LimitedLLM
from accord.testing import ScriptedLLM

from .. import _shared
from . import _crews

# Forked, not spawned: a fresh interpreter spends 3 s of CPU importing crewai, and
# three of them on two cores made this test 12 s instead of 2.
START = "fork"


@pytest.mark.accord_processes
def test_three_parallel_crews_keep_every_write(url: str, namespace: str) -> None:
    """Three crews in three processes each append a line to one record under an accord
    lock: all three lines are kept, and their six LLM calls, under one semaphore
    permit, never overlapped."""
    held = _shared.in_processes(
        _crews.run, *[(url, namespace, who, 3) for who in "abc"], start=START
    )
    with accord.connect(url, namespace=namespace) as coord:
        lines = coord.state("report").get("lines").value
    assert sorted(lines) == ["written by a", "written by b", "written by c"]
    calls = [interval for process in held for interval in process]
    assert len(calls) == 6
    assert _shared.peak_overlap(calls) == 1


def test_limited_llm_spaces_calls_of_threads_and_tasks(url: str, namespace: str) -> None:
    starts: list[float] = []

    def answer(messages: list[dict[str, Any]]) -> str:
        starts.append(time.monotonic())
        return "ok"

    conn = accord.integrations.Connection(url, namespace=namespace)
    llm = LimitedLLM(ScriptedLLM([answer] * 8), rate_limit=Rate("llm", 100, burst=1), coord=conn)
    threads = [threading.Thread(target=llm.call, args=("hi",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def tasks() -> list[Any]:
        try:
            return await asyncio.gather(*[llm.acall("hi") for _ in range(4)])
        finally:
            await conn.aclose()

    assert asyncio.run(tasks()) == ["ok"] * 4
    assert len(starts) == 8
    assert _shared.most_in_window(starts, 100, 1.0, slack=0.005) <= 1


def test_limited_llm_passes_the_agents_stop_words_and_abilities() -> None:
    inner = ScriptedLLM([lambda messages: ",".join(inner.stop_sequences)])
    llm = LimitedLLM(inner, semaphore=Concurrency("llm", 1), coord="memory://stop")
    with call_stop_override(llm, ["\nObservation:"]):
        assert llm.call("hi") == "\nObservation:"
    assert (llm.model, llm.supports_function_calling()) == ("scripted", False)
    assert llm.get_context_window_size() == inner.get_context_window_size()


def test_limited_llm_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="semaphore or a rate_limit"):
        LimitedLLM(ScriptedLLM())
    with pytest.raises(TypeError, match="BaseLLM"):
        LimitedLLM("gpt-4o", rate_limit=Rate("llm", 1))  # type: ignore[arg-type]


def test_scripted_llm_answers_in_order_and_records_calls() -> None:
    llm = ScriptedLLM(["one", lambda messages: messages[-1]["content"].upper()])
    assert llm.call("first") == "one"
    assert asyncio.run(llm.acall([{"role": "user", "content": "second"}])) == "SECOND"
    assert [call[-1]["content"] for call in llm.calls] == ["first", "second"]
    with pytest.raises(AssertionError, match="no reply left"):
        llm.call("third")
    assert ScriptedLLM.action("write", line="x") == (
        'Thought: I should use write.\nAction: write\nAction Input: {"line": "x"}'
    )
