"""Two worker processes run one LangGraph graph: lost updates without accord, none with.

The graph fans out with ``Send``: each of 10 branches asks an LLM (LangGraph's offline
``FakeListChatModel``) how many units to reserve and adds them to its product's
record in the store. Two processes run the graph at once, as two workers of one
deployment would. Three rounds, the same work each time:

1. ``store.get`` then ``store.put``, all that LangGraph's ``BaseStore`` offers: the
   branches of both processes read the same count and overwrite each other.
2. ``AccordStore.update``: an atomic read-modify-write.
3. ``guard(node, lock=...)``: each branch holds its product's lock around get/put.

Run it (offline, a few seconds): ``pip install 'accord[langgraph]'`` then
``python examples/langgraph_fanout.py [--url redis://localhost:6379/0]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

import accord
from accord.integrations import Connection
from accord.integrations.langgraph import AccordStore, guard

WORKERS, BRANCHES, PRODUCTS = 2, 10, 2
ROUNDS = {
    "plain": "store.get + store.put (BaseStore)",
    "update": "AccordStore.update",
    "guard": "guard(lock=product) + get/put",
}


class Order(TypedDict):
    round: str


def build(url: str, namespace: str, round_: str) -> tuple[Any, AccordStore]:
    store = AccordStore(url, namespace=namespace)
    llm = FakeListChatModel(responses=["1"])
    conn = Connection(url, namespace=namespace)

    def reserve(branch: dict[str, Any]) -> dict[str, Any]:
        units = int(llm.invoke(f"How many units of {branch['product']}?").content)
        key = (round_, "reserved")
        if round_ == "update":
            store.update(key, branch["product"], lambda v: {"n": (v or {"n": 0})["n"] + units})
        else:
            item = store.get(key, branch["product"])
            time.sleep(0.02)  # the agent thinks between reading and writing
            store.put(key, branch["product"], {"n": (item.value["n"] if item else 0) + units})
        return {}

    node: Any = reserve
    if round_ == "guard":
        node = guard(reserve, lock=lambda b: f"product:{b['product']}", coord=conn)
    builder = StateGraph(Order)
    builder.add_node("plan", lambda state: {})
    builder.add_node("reserve", node)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges(
        "plan",
        lambda s: [Send("reserve", {"product": f"sku-{i % PRODUCTS}"}) for i in range(BRANCHES)],
        ["reserve"],
    )
    builder.add_edge("reserve", END)
    return builder.compile(store=store), store


def worker(url: str, namespace: str) -> None:
    """One worker process: each round, wait for the other worker, run the graph."""
    with accord.connect(url, namespace=namespace) as coord:
        for round_ in ROUNDS:
            graph, store = build(url, namespace, round_)
            coord.barrier(f"start-{round_}", WORKERS, timeout=60).wait()
            graph.invoke({"round": round_})
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="an accord store URL (default: a temporary SQLite file)")
    url = parser.parse_args().url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'accord.db'}"
    namespace = f"langgraph-demo-{uuid.uuid4().hex[:6]}"
    began = time.monotonic()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(WORKERS, mp_context=spawn) as pool:
        for done in [pool.submit(worker, url, namespace) for _ in range(WORKERS)]:
            done.result()

    print(f"LangGraph: {WORKERS} processes x {BRANCHES} Send branches, each adding 1 unit "
          f"to one of {PRODUCTS} products")
    store = AccordStore(url, namespace=namespace)
    lost = {}
    for round_, what in ROUNDS.items():
        kept = sum(store.get((round_, "reserved"), f"sku-{i}").value["n"] for i in range(PRODUCTS))
        lost[round_] = WORKERS * BRANCHES - kept
        print(f"  {what:<36} {WORKERS * BRANCHES} added, {kept:>2} kept, {lost[round_]:>2} lost")
    store.close()
    print(f"accord prevented {lost['plain']} lost updates ({time.monotonic() - began:.1f} s)")


if __name__ == "__main__":
    main()
