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
import time
from typing import Annotated, Any, TypedDict

from langchain_core.language_models.fake_chat_models import FakeListChatModel
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
