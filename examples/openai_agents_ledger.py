"""Two processes of OpenAI Agents SDK runs write one ledger file: lines lost without
accord, none with; every model call under one shared limit; every step in the log.

Each process runs 5 agents at once. Each agent's (scripted, offline) model calls a tool
that appends the agent's line to one ledger file: it reads the file, thinks, writes it
back, as a tool that edits a file does. Two rounds:

1. a plain ``@function_tool``: runs of both processes read the same file and
   overwrite each other's lines;
2. the same tool under ``@leased(...)``: one writer of the file at a time, anywhere.

Both rounds send every model call through ``LimitedModelProvider`` (at most 2 calls at
once over both processes, 40 calls a second) and record each step with
``AccordRunHooks``.

Run it (offline, a few seconds): ``pip install 'accord[openai-agents]'`` then
``python examples/openai_agents_ledger.py [--url redis://localhost:6379/0]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from agents import Agent, ModelProvider, RunConfig, Runner, function_tool
from agents.testing import ScriptedModel, assistant_message, function_call

import accord
from accord.integrations import Concurrency, Connection, Rate
from accord.integrations.openai_agents import AccordRunHooks, LimitedModelProvider, leased

PROCESSES, AGENTS = 2, 5


def append_line(path: str, line: str) -> str:
    """Append one line to the ledger file at path."""
    text = Path(path).read_text()
    time.sleep(0.05)  # the agent thinks between reading and writing
    Path(path).write_text(text + line + "\n")
    return "appended"


class Scripted(ModelProvider):
    """Each agent's model: call the tool once with its line, then answer "done"."""

    def __init__(self, path: str, who: str) -> None:
        self.path, self.who = path, who
        self.models: dict[str | None, ScriptedModel] = {}  # the SDK asks at every turn

    def get_model(self, model_name: str | None) -> ScriptedModel:
        line = f"{self.who} {model_name}"
        write = function_call("append_line", {"path": self.path, "line": line},
                              call_id=f"call-{line}")
        return self.models.setdefault(
            model_name, ScriptedModel([[write], [assistant_message("done")]])
        )


async def run_round(url: str, namespace: str, path: str, round_: str) -> None:
    conn = Connection(url, namespace=namespace, agent=f"worker-{os.getpid()}")
    tool = function_tool(leased(lambda path, line: f"file:{path}", coord=conn)(append_line)
                         if round_ == "leased" else append_line)
    provider = LimitedModelProvider(
        Scripted(path, f"pid {os.getpid()}"),
        semaphore=Concurrency("llm", 2), rate_limit=Rate("llm", 40, burst=2), coord=conn,
    )
    config = RunConfig(model_provider=provider, tracing_disabled=True)
    await conn.aio().barrier(f"start-{round_}", PROCESSES, timeout=60).wait()
    runs = [
        Runner.run(Agent(name=f"clerk-{i}", model=f"clerk-{i}", tools=[tool]), "write",
                   run_config=config, hooks=AccordRunHooks(conn, run_id=f"{round_}-{i}"))
        for i in range(AGENTS)
    ]
    await asyncio.gather(*runs)
    await conn.aclose()


def worker(url: str, namespace: str, paths: dict[str, str]) -> None:
    for round_, path in paths.items():
        asyncio.run(run_round(url, namespace, path, round_))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an accord store URL (default: a temporary SQLite file)")
    folder = Path(tempfile.mkdtemp())
    url = parser.parse_args().url or f"sqlite:///{folder / 'accord.db'}"
    namespace = f"agents-demo-{uuid.uuid4().hex[:6]}"
    paths = {"plain": str(folder / "plain.txt"), "leased": str(folder / "leased.txt")}
    for path in paths.values():
        Path(path).write_text("")
    began = time.monotonic()
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in [pool.submit(worker, url, namespace, paths) for _ in range(PROCESSES)]:
            done.result()

    total = PROCESSES * AGENTS
    print(f"OpenAI Agents SDK: {PROCESSES} processes x {AGENTS} agents, each appending "
          "one line to one ledger file")
    kept = {r: len(Path(p).read_text().splitlines()) for r, p in paths.items()}
    print(f"  plain @function_tool             {total} written, {kept['plain']:>2} kept, "
          f"{total - kept['plain']:>2} lost")
    print(f"  @function_tool + @leased(file)   {total} written, {kept['leased']:>2} kept, "
          f"{total - kept['leased']:>2} lost")
    with accord.connect(url, namespace=namespace) as coord:
        events = coord.events.history(limit=1000)
    steps = collections.Counter(e.name.removeprefix("agents.") for e in events)
    print(f"  AccordRunHooks logged {len(events)} steps: "
          + ", ".join(f"{n} {name}" for name, n in sorted(steps.items())))
    print(f"accord prevented {total - kept['plain']} lost lines "
          f"({time.monotonic() - began:.1f} s)")


if __name__ == "__main__":
    main()
