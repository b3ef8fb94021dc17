"""Three CrewAI crews in three processes write one shared report: lines lost without
accord, none with; their LLM calls under one budget for all three.

Each crew has one writer agent whose (scripted, offline) LLM makes it call a tool that
appends the crew's line to a report kept in an accord state map: the tool reads the
report, thinks, writes it back. CrewAI's ``max_rpm`` would count each crew on its own;
here every LLM call of the three crews goes through one ``LimitedLLM`` budget (one
call at a time). Two rounds:

1. the tool reads and writes with nothing around it: crews overwrite each other;
2. the tool holds an accord lock around its read and write;
3. a plain ``write_file`` tool appends to a real file, and ``install_file_leases``
   takes a file lease around each call (the tool itself knows nothing of accord).

Run it (offline, well under 30 s): ``pip install 'accord[crewai]'`` then
``python examples/crewai_crews.py [--url redis://localhost:6379/0]``.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

os.environ.setdefault("CREWAI_DISABLE_TELEMETRY", "true")  # offline: no telemetry,
os.environ.setdefault("OTEL_SDK_DISABLED", "true")  # no traces sent anywhere
os.environ.setdefault("CREWAI_TRACING_ENABLED", "false")

from crewai import Agent, Crew, Task  # imported after the environment is set
from crewai.tools import tool

import accord
from accord.integrations import Concurrency, Connection
from accord.integrations.crewai import LimitedLLM, install_file_leases
from accord.testing import ScriptedLLM

CREWS = 3
ROUNDS = {"plain": "tool without a lock", "locked": "tool under an accord lock",
          "leased": "write_file, file leases"}
REPORT = "report.md"  # the file of the third round, in the demo's working folder


def crew(coord: accord.Coordinator, conn: Connection, who: str, round_: str) -> Crew:
    report = coord.state(f"report-{round_}")

    @tool("append_line")
    def append_line(line: str) -> str:
        """Append one line to the shared report."""
        # The crews start at different speeds: meet here, so that all three reach the
        # report together, as busy crews sooner or later do.
        coord.barrier(f"report-{round_}", CREWS, timeout=60).wait()
        held = coord.lock("report", ttl=30) if round_ == "locked" else contextlib.nullcontext()
        with held:
            entry = report.get("lines")
            time.sleep(0.05)  # the agent thinks between reading and writing
            report.set("lines", (entry.value if entry else []) + [line])
        return "appended"

    @tool("write_file")
    def write_file(path: str, line: str) -> str:
        """Append one line to the file at path."""
        text = Path(path).read_text()
        time.sleep(0.05)  # the agent thinks between reading and writing
        Path(path).write_text(text + line + "\n")
        return "written"

    action = (ScriptedLLM.action("write_file", path=REPORT, line=f"{who}'s findings")
              if round_ == "leased" else
              ScriptedLLM.action("append_line", line=f"{who}'s findings"))
    llm = LimitedLLM(
        ScriptedLLM([action,
                     ScriptedLLM.final_answer("report updated")]),
        semaphore=Concurrency("llm", 1), coord=conn,
    )
    writer = Agent(role=f"{who} analyst", goal="add your findings to the team report",
                   backstory="You write one line and stop.", llm=llm,
                   tools=[write_file if round_ == "leased" else append_line])
    task = Task(description="Add your findings to the report.", expected_output="done",
                agent=writer)
    return Crew(agents=[writer], tasks=[task])


def worker(url: str, namespace: str, who: str, folder: str) -> None:
    os.chdir(folder)  # file leases are named inside the repository: here, this folder
    with accord.connect(url, namespace=namespace, agent=f"crew-{who}") as coord:
        conn = Connection(url, namespace=namespace, agent=f"crew-{who}")
        for round_ in ROUNDS:
            one = crew(coord, conn, who, round_)
            coord.barrier(f"start-{round_}", CREWS, timeout=60).wait()
            if round_ == "leased":
                with install_file_leases(coord, mode="wait", timeout=30, ttl=30):
                    one.kickoff()
            else:
                one.kickoff()
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an accord store URL (default: a temporary SQLite file)")
    url = parser.parse_args().url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'accord.db'}"
    folder = tempfile.mkdtemp()
    Path(folder, REPORT).write_text("")
    namespace = f"crewai-demo-{uuid.uuid4().hex[:6]}"
    began = time.monotonic()
    names = ["market", "pricing", "risk"][:CREWS]
    with ProcessPoolExecutor(CREWS, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done in [pool.submit(worker, url, namespace, who, folder) for who in names]:
            done.result()

    print(f"CrewAI: {CREWS} crews in {CREWS} processes, each adding one line to one report")
    with accord.connect(url, namespace=namespace) as coord:
        lost = {}
        for round_, what in ROUNDS.items():
            if round_ == "leased":
                kept = len(Path(folder, REPORT).read_text().splitlines())
            else:
                kept = len(coord.state(f"report-{round_}").get("lines").value)
            lost[round_] = CREWS - kept
            print(f"  {what:<28} {CREWS} written, {kept} kept, {lost[round_]} lost")
    print(f"accord prevented {lost['plain']} lost lines; the crews' LLM calls ran one at "
          f"a time ({time.monotonic() - began:.1f} s)")


if __name__ == "__main__":
    main()
