"""The graph of the LangGraph tests: a ``Send`` fan-out whose branches each ask a fake
LLM for an amount and add it to a record, in the test's process or in children.

Each branch does a plain read-modify-write of its record (``get`` then ``put``), safe
only because ``guard`` holds the record's lock around the node, and adds to a total
with ``AccordStore.update``, safe on its own. Every branch holds a permit of the
semaphore "llm" (limit 2) while it runs and reports when it held it.
"""

from __future__ import annotations

import asyncio
import operator
import os
import pickle
import threading
import time
from collections import defaultdict
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

import accord
from accord.integrations import Concurrency, Connection
from accord.integrations.langgraph import AccordStore, guard

LIMIT = 2
HOLD = 0.02  # seconds a branch "thinks" while it holds its permit


class Fan(TypedDict):
    branches: int
    records: int
    held: Annotated[list[list[float]], operator.add]


def build(url: str, namespace: str, mode: str) -> tuple[Any, AccordStore]:
    """The compiled graph and its store; ``mode`` "sync" (sync nodes, ``invoke``) or
    "async" (async nodes, ``ainvoke``)."""
    store = AccordStore(url, namespace=namespace)
    llm = FakeListChatModel(responses=["1"])

    def work(branch: dict[str, Any]) -> dict[str, Any]:
        start = time.monotonic()
        amount = int(llm.invoke(f"how many units for record {branch['record']}?").content)
        record = store.get(("records",), str(branch["record"]))
        time.sleep(HOLD)
        n = record.value["n"] if record else 0
        store.put(("records",), str(branch["record"]), {"n": n + amount})
        store.update(("totals",), "all", lambda v: {"n": (v or {}).get("n", 0) + amount})
        return {"held": [[start, time.monotonic()]]}

    async def awork(branch: dict[str, Any]) -> dict[str, Any]:
        start = time.monotonic()
        amount = int((await llm.ainvoke(f"how many units for {branch['record']}?")).content)
        record = await store.aget(("records",), str(branch["record"]))
        await asyncio.sleep(HOLD)
        n = record.value["n"] if record else 0
        await store.aput(("records",), str(branch["record"]), {"n": n + amount})
        await store.aupdate(("totals",), "all", lambda v: {"n": (v or {}).get("n", 0) + amount})
        return {"held": [[start, time.monotonic()]]}

    node = guard(
        work if mode == "sync" else awork,
        lock=lambda branch: f"record:{branch['record']}",
        semaphore=Concurrency("llm", LIMIT),
        coord=Connection(url, namespace=namespace),
    )
    builder = StateGraph(Fan)
    builder.add_node("plan", lambda state: {})
    builder.add_node("work", node)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges(
        "plan",
        lambda s: [Send("work", {"record": i % s["records"]}) for i in range(s["branches"])],
        ["work"],
    )
    builder.add_edge("work", END)
    return builder.compile(store=store), store


def run(url: str, namespace: str, mode: str, branches: int, records: int, parties: int) -> Any:
    """One process's part: wait for the others at an accord barrier, run the graph,
    return when each branch held its permit."""
    graph, store = build(url, namespace, mode)
    with accord.connect(url, namespace=namespace) as coord:
        coord.barrier("start", parties, timeout=60).wait()
    state = {"branches": branches, "records": records, "held": []}
    if mode == "sync":
        out = graph.invoke(state)
        store.close()
    else:

        async def main() -> Any:
            try:
                return await graph.ainvoke(state)
            finally:
                await store.aclose()

        out = asyncio.run(main())
    return out["held"]


class FileSaver(InMemorySaver):
    """A checkpointer in a pickle file, read before and written after each use, so
    that processes run one after another share threads (a stand-in for a database
    checkpointer; no locking: not for processes at the same time)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path, self.mutex = path, threading.RLock()  # LangGraph writes from threads

    def _load(self) -> None:
        if os.path.exists(self.path):
            with open(self.path, "rb") as f:
                storage, writes, blobs = pickle.load(f)
            self.storage = defaultdict(lambda: defaultdict(dict))
            for thread, spaces in storage.items():
                self.storage[thread].update(spaces)
            self.writes, self.blobs = defaultdict(dict, writes), blobs

    def _save(self) -> None:
        with open(self.path + ".tmp", "wb") as f:
            pickle.dump(({t: dict(s) for t, s in self.storage.items()}, dict(self.writes),
                         dict(self.blobs)), f)
        os.replace(self.path + ".tmp", self.path)

    def get_tuple(self, config: Any) -> Any:
        with self.mutex:
            self._load()
            return super().get_tuple(config)

    def list(self, *args: Any, **kwargs: Any) -> Any:
        with self.mutex:
            self._load()
            return iter(list(super().list(*args, **kwargs)))

    def put(self, *args: Any, **kwargs: Any) -> Any:
        with self.mutex:
            self._load()
            done = super().put(*args, **kwargs)
            self._save()
            return done

    def put_writes(self, *args: Any, **kwargs: Any) -> None:
        with self.mutex:
            self._load()
            super().put_writes(*args, **kwargs)
            self._save()


class Deploy(TypedDict):
    service: str
    outcome: str


def approval_graph(url: str, namespace: str, mode: str, checkpointer: Any) -> Any:
    """One node asking approval to deploy, then "deploying" (counted in accord state);
    ``mode`` "sync" (``approval``) or "async" (``aapproval``)."""
    from accord.integrations.langgraph import aapproval, approval

    conn = Connection(url, namespace=namespace, agent="deployer")

    def act(state: Deploy, decision: accord.Decision) -> dict[str, Any]:
        if not decision:
            return {"outcome": f"not deployed: {decision.reason}"}
        with accord.connect(url, namespace=namespace) as coord:
            coord.state("deploys").incr(state["service"])
        return {"outcome": f"deployed, approved by {decision.by}"}

    def deploy(state: Deploy) -> dict[str, Any]:
        return act(state, approval("deploy", {"service": state["service"]}, coord=conn))

    async def adeploy(state: Deploy) -> dict[str, Any]:
        decision = await aapproval("deploy", {"service": state["service"]}, coord=conn)
        return await asyncio.to_thread(act, state, decision)

    builder = StateGraph(Deploy)
    builder.add_node("deploy", deploy if mode == "sync" else adeploy)
    builder.add_edge(START, "deploy")
    builder.add_edge("deploy", END)
    return builder.compile(checkpointer=checkpointer)


def start_deploy(url: str, namespace: str, saver_path: str) -> Any:
    """Process one: run the graph until it stops for approval; the interrupt's value."""
    graph = approval_graph(url, namespace, "sync", FileSaver(saver_path))
    out = graph.invoke({"service": "api", "outcome": ""},
                       {"configurable": {"thread_id": "t-1"}})
    return out["__interrupt__"][0].value


def resume_deploy(url: str, namespace: str, saver_path: str) -> Any:
    """Process three: resume the thread; the graph's output."""
    from accord.integrations.langgraph import ApprovalResumer

    graph = approval_graph(url, namespace, "sync", FileSaver(saver_path))
    resumer = ApprovalResumer(graph, Connection(url, namespace=namespace))
    try:
        return resumer.resume("t-1")
    finally:
        resumer.close()
