"""What one process of the CrewAI tests runs: a one-agent crew whose scripted LLM
(``accord.testing.ScriptedLLM``) calls a tool that appends a line to one shared
accord record, by read-modify-write under an accord lock."""

from __future__ import annotations

import time
from typing import Any

from crewai import Agent, Crew, Task
from crewai.tools import tool

import accord
from accord.integrations import Concurrency, Connection
from accord.integrations.crewai import LimitedLLM
from accord.testing import ScriptedLLM

THINK = 0.01  # seconds each scripted LLM call takes


def timed(reply: str, held: list[list[float]]) -> Any:
    """A scripted reply that takes THINK seconds and records when it ran."""

    def answer(messages: list[dict[str, Any]]) -> str:
        start = time.monotonic()
        time.sleep(THINK)
        held.append([start, time.monotonic()])
        return reply

    return answer


def crew(url: str, namespace: str, who: str, held: list[list[float]], lock: bool = True) -> Crew:
    coord = accord.connect(url, namespace=namespace, agent=f"crew-{who}")
    report = coord.state("report")

    @tool("append_line")
    def append_line(line: str) -> str:
        """Append one line to the shared report."""

        def read_modify_write() -> None:
            entry = report.get("lines")
            time.sleep(0.1)  # the agent "thinks" between reading and writing
            report.set("lines", (entry.value if entry else []) + [line])

        if lock:
            with coord.lock("report", ttl=10, timeout=30):
                read_modify_write()
        else:
            read_modify_write()
        return "appended"

    llm = LimitedLLM(
        ScriptedLLM([
            timed(ScriptedLLM.action("append_line", line=f"written by {who}"), held),
            timed(ScriptedLLM.final_answer("done"), held),
        ]),
        semaphore=Concurrency("llm", 1),
        coord=Connection(url, namespace=namespace),
    )
    writer = Agent(role=f"writer {who}", goal="add a line to the report",
                   backstory="a careful writer", llm=llm, tools=[append_line])
    task = Task(description="Add your line to the report.", expected_output="done", agent=writer)
    return Crew(agents=[writer], tasks=[task])


def run(url: str, namespace: str, who: str, parties: int) -> list[list[float]]:
    """One process's crew, started with the others at an accord barrier."""
    held: list[list[float]] = []
    one = crew(url, namespace, who, held)
    with accord.connect(url, namespace=namespace) as coord:
        coord.barrier("start", parties, timeout=60).wait()
    assert one.kickoff().raw == "done"
    return held


def file_crew(who: str, path: str, seen: list[str]) -> Crew:
    """A one-agent crew whose tool ``write_file`` appends a line to the file ``path``
    by read-modify-write, with no lock of its own: the file lease comes from
    ``install_file_leases``. ``seen`` gets what the tool call returned to the agent."""

    @tool("write_file")
    def write_file(path: str, line: str) -> str:
        """Append one line to a file."""
        with open(path, encoding="utf-8") as f:
            text = f.read()
        time.sleep(0.1)  # the agent "thinks" between reading and writing
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + line + "\n")
        return "written"

    def observe(messages: list[dict[str, Any]]) -> str:
        seen.append("\n".join(str(m.get("content")) for m in messages))
        return ScriptedLLM.final_answer("done")

    llm = ScriptedLLM([ScriptedLLM.action("write_file", path=path, line=f"line of {who}"),
                       observe])
    writer = Agent(role=f"writer {who}", goal="add a line to the file",
                   backstory="a careful writer", llm=llm, tools=[write_file])
    task = Task(description="Add your line to the file.", expected_output="done", agent=writer)
    return Crew(agents=[writer], tasks=[task])


def leased_writer(url: str, namespace: str, who: str, path: str, parties: int) -> list[str]:
    """One process's crew under file leases ("wait"), started with the others."""
    from accord.integrations.crewai import install_file_leases

    seen: list[str] = []
    one = file_crew(who, path, seen)
    with install_file_leases(accord.integrations.Connection(url, namespace=namespace),
                             mode="wait", timeout=30, ttl=10):
        with accord.connect(url, namespace=namespace) as coord:
            coord.barrier("start", parties, timeout=60).wait()
        assert one.kickoff().raw == "done"
    return seen

