"""accord.integrations.crewai and accord.testing.ScriptedLLM, offline."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from crewai.hooks import get_before_tool_call_hooks
from crewai.llms.base_llm import call_stop_override

import accord
from accord.integrations import Concurrency, Rate
from accord.integrations.crewai import LimitedLLM, install_file_leases
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
    """Threads and tasks sharing one LimitedLLM are spaced by its rate limit. The rate
    is low (one call per 50 ms) so the slack, which absorbs a thread waiting for the
    GIL (switch interval 5 ms) between its admission and its recorded start, stays far
    below one call: two calls admitted together would still fail."""
    starts: list[float] = []

    def answer(messages: list[dict[str, Any]]) -> str:
        starts.append(time.monotonic())
        return "ok"

    conn = accord.integrations.Connection(url, namespace=namespace)
    llm = LimitedLLM(ScriptedLLM([answer] * 8), rate_limit=Rate("llm", 20, burst=1), coord=conn)
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
    assert _shared.most_in_window(starts, 20, 1.0, slack=0.02) <= 1


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


@pytest.mark.accord_processes
def test_three_parallel_crews_writing_one_file_keep_every_line(
    url: str, namespace: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # file leases are named inside the repository (here: cwd)
    target = tmp_path / "notes.txt"
    target.write_text("")
    seen = _shared.in_processes(
        _crews.leased_writer, *[(url, namespace, who, str(target), 3) for who in "abc"],
        start=START,
    )
    assert sorted(target.read_text().splitlines()) == ["line of a", "line of b", "line of c"]
    assert all("written" in s[0] for s in seen)


@pytest.mark.accord_processes
@pytest.mark.parametrize("mode", ["refuse", "wait"])
def test_a_file_another_process_holds_is_refused_or_waited_for(
    url: str, namespace: str, tmp_path: Path, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "intro.md"
    target.write_text("")
    holder = threading.Thread(target=_shared.in_processes, args=(
        _shared.hold_file, (url, namespace, str(target), 0.3 if mode == "wait" else 0)),
        kwargs={"timeout": 60})  # spawned: a fork of this threaded process could hang
    holder.start()
    seen: list[str] = []
    try:
        with accord.connect(url, namespace=namespace, agent="writer") as coord:
            coord.barrier("held", 2, timeout=15).wait()
            with install_file_leases(coord, mode=mode, timeout=10, ttl=10) as leases:  # type: ignore[arg-type]
                assert _crews.file_crew("w", str(target), seen).kickoff().raw == "done"
            assert not leases.installed
            if mode == "refuse":
                coord.barrier("done", 2, timeout=15).wait()
    finally:
        holder.join(30)
    if mode == "refuse":
        assert "write_file refused" in seen[0] and "editor (rewriting the intro)" in seen[0]
        assert target.read_text() == ""  # the tool never ran
    else:
        assert "written" in seen[0]
        assert target.read_text() == "line of w\n"


def test_file_leases_release_only_their_own_and_uninstall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    target = str(tmp_path / "a.txt")
    (tmp_path / "a.txt").write_text("")
    with accord.connect(f"memory://fl-{uuid.uuid4().hex[:6]}", agent="writer") as coord:
        before = len(get_before_tool_call_hooks())
        leases = install_file_leases(coord)
        assert len(get_before_tool_call_hooks()) == before + 1
        seen: list[str] = []
        assert _crews.file_crew("w", target, seen).kickoff().raw == "done"
        assert "written" in seen[0]
        assert not coord.lock_file(target, intent="check").statistics()[0].holder  # released
        with coord.lock_file(target, intent="mine"):  # held here, by this agent itself
            seen.clear()
            assert _crews.file_crew("w", target, seen).kickoff().raw == "done"
            assert "refused" in seen[0]
            assert coord.lock_file(target, intent="check").statistics()[0].holder == "writer"
        outside = _crews.file_crew("w", "/elsewhere/x.txt", seen := [])
        assert outside.kickoff().raw == "done" and "could not be taken" in seen[0]
        leases.uninstall()
        leases.uninstall()
        assert len(get_before_tool_call_hooks()) == before
    with pytest.raises(ValueError, match="mode"):
        install_file_leases("memory://x", mode="later")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tools maps"):
        install_file_leases("memory://x", tools={"write_file": ""})
