"""accord.integrations.langgraph: guarded nodes and AccordStore, on every store.

``url`` and ``namespace`` come from accord's pytest plugin (``-p accord.testing.plugin``):
a test that takes ``url`` runs on memory, SQLite and a private redis-server, and one
marked ``accord_processes`` on the stores that processes share.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.store.base import BaseStore, InvalidNamespaceError

import accord
from accord.errors import LockTimeout, VersionConflict
from accord.integrations import Concurrency, Connection, Rate
from accord.integrations.langgraph import AccordItem, AccordStore, guard
from accord.integrations.langgraph import _connection as approval_connection

from .. import _shared
from . import _graph


def _one_node_graph(node: Any, store: BaseStore | None = None) -> Any:
    builder: StateGraph[Any] = StateGraph(dict)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile(store=store)


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_guard_keeps_the_signature_so_langgraph_still_injects(kind: str) -> None:
    url, seen = "memory://guard-signature", dict[str, Any]()

    def node(
        state: dict[str, Any], config: RunnableConfig, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Reads the config and runtime LangGraph injects."""
        seen.update(config=config, runtime=runtime, held=accord.connect(url).lock("n").locked())
        return {"done": True}

    async def anode(
        state: dict[str, Any], config: RunnableConfig, runtime: Runtime[Any]
    ) -> dict[str, Any]:
        """Reads the config and runtime LangGraph injects."""
        seen.update(config=config, runtime=runtime, held=accord.connect(url).lock("n").locked())
        return {"done": True}

    original = node if kind == "sync" else anode
    guarded = guard(original, lock="n", coord=url)
    assert inspect.signature(guarded) == inspect.signature(original)
    assert (guarded.__name__, guarded.__doc__) == (original.__name__, original.__doc__)
    assert inspect.iscoroutinefunction(guarded) == (kind == "async")
    graph = _one_node_graph(guarded)
    config: RunnableConfig = {"configurable": {"thread_id": "t1"}}
    if kind == "sync":
        graph.invoke({"done": False}, config)
    else:
        asyncio.run(graph.ainvoke({"done": False}, config))
    assert seen["config"]["configurable"]["thread_id"] == "t1"
    assert isinstance(seen["runtime"], Runtime)
    assert seen["held"] is True  # the node ran holding its lock
    assert accord.connect(url).lock("n").locked() is False  # and released it


@pytest.mark.accord_processes
def test_send_fan_out_over_two_processes_keeps_every_update(
    url: str, namespace: str, mode: str
) -> None:
    """Two processes run one graph; each ``Send`` branch locks its own record and adds
    to it with a plain get/put: every addition is kept, and never more than the
    semaphore's limit of branches ran at once, across both processes."""
    branches, records = 10, 5
    held = _shared.in_processes(
        _graph.run, *[(url, namespace, mode, branches, records, 2)] * 2
    )
    store = AccordStore(url, namespace=namespace)
    try:
        counts = {r: store.get(("records",), str(r)).value["n"] for r in range(records)}
        assert counts == {r: 2 * branches // records for r in range(records)}
        assert store.get(("totals",), "all").value == {"n": 2 * branches}
    finally:
        store.close()
    intervals = [interval for process in held for interval in process]
    assert len(intervals) == 2 * branches
    assert _shared.peak_overlap(intervals) == _graph.LIMIT


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_guard_holds_semaphore_and_rate_limit_in_one_process(kind: str) -> None:
    """Branches in threads (sync) or tasks (async) of one process share the limits too."""
    url = f"memory://guard-limits-{kind}"
    graph, store = _graph.build(url, "limits", kind)
    state = {"branches": 8, "records": 4, "held": []}
    out = graph.invoke(state) if kind == "sync" else asyncio.run(graph.ainvoke(state))
    assert _shared.peak_overlap(out["held"]) <= _graph.LIMIT
    assert store.get(("totals",), "all").value == {"n": 8}

    starts: list[float] = []

    def call(state: dict[str, Any]) -> dict[str, Any]:
        starts.append(time.monotonic())
        return {}

    spaced = guard(call, rate_limit=Rate("spaced", rate=20, per=1.0, burst=1), coord=url)
    for _ in range(5):
        spaced({})
    assert _shared.most_in_window(starts, rate=20, per=1.0, slack=0.02) <= 1


def test_guard_refuses_bad_arguments_before_any_effect() -> None:
    def node(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="needs a lock, a semaphore or a rate_limit"):
        guard(node)
    with pytest.raises(TypeError, match="Concurrency"):
        guard(node, semaphore=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="limit"):
        Concurrency("llm", 0)
    with pytest.raises(ValueError, match="rate"):
        Rate("llm", rate=0)
    with pytest.raises(TypeError, match="coord"):
        guard(node, lock="x", coord=42)  # type: ignore[arg-type]
    bad_name = guard(node, lock=lambda state: 7, coord="memory://guard-bad")  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match=r"must return the lock.s name"):
        bad_name({})


def test_guard_on_a_coordinator_of_the_wrong_flavour_says_which_to_pass() -> None:
    async def anode(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    with accord.connect("memory://guard-flavour") as coord:
        guarded = guard(anode, lock="x", coord=coord)
        with pytest.raises(TypeError, match=r"accord\.AsyncCoordinator"):
            asyncio.run(guarded({}))


def test_guard_times_out_naming_the_holder() -> None:
    url = "memory://guard-timeout"

    def node(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    with accord.connect(url, agent="reviewer").lock("doc:1", ttl=5):
        guarded = guard(node, lock="doc:1", timeout=0.05, coord=Connection(url, agent="writer"))
        errors: list[BaseException] = []
        thread = threading.Thread(target=lambda: _catch(errors, guarded, {}))
        thread.start()
        thread.join()
    assert isinstance(errors[0], LockTimeout)
    assert "reviewer" in str(errors[0])


def _catch(errors: list[BaseException], fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except BaseException as exc:  # handed to the test's thread
        errors.append(exc)


# --- AccordStore -----------------------------------------------------------------------


def test_store_operations_behave_like_a_langgraph_store(
    url: str, namespace: str, mode: str
) -> None:
    store = AccordStore(url, namespace=namespace)
    if mode == "sync":
        _store_operations(store)
        store.close()
    else:
        asyncio.run(_astore_operations(store))


def _store_operations(store: AccordStore) -> None:
    assert store.get(("docs",), "a") is None
    store.put(("docs",), "a", {"kind": "report", "score": 3})
    store.put(("docs", "u1"), "b.c", {"kind": "memo", "score": 5})
    store.put(("docs", "u1", "x"), "..d", {"kind": "report", "score": 9})
    store.put(("other",), "z", {"kind": "report"})
    item = store.get(("docs",), "a")
    assert isinstance(item, AccordItem) and item.version == 1
    assert (item.namespace, item.key) == (("docs",), "a")
    assert item.value == {"kind": "report", "score": 3}
    assert store.get(("docs", "u1"), "b.c").value["kind"] == "memo"
    assert store.get(("docs", "u1", "x"), "..d").key == "..d"

    found = store.search(("docs",))
    assert [(i.namespace, i.key) for i in found] == [
        (("docs",), "a"), (("docs", "u1"), "b.c"), (("docs", "u1", "x"), "..d")]
    assert [i.key for i in store.search(("docs",), filter={"kind": "report"})] == ["a", "..d"]
    assert [i.key for i in store.search(("docs",), filter={"score": {"$gt": 4}})] == ["b.c", "..d"]
    assert [i.key for i in store.search(("docs",), limit=1, offset=1)] == ["b.c"]
    assert [i.key for i in store.search(("docs", "u1"))] == ["b.c", "..d"]
    assert store.search(("doc",)) == []  # a label is matched whole
    assert len(store.search(())) == 4

    assert store.list_namespaces() == [("docs",), ("docs", "u1"), ("docs", "u1", "x"), ("other",)]
    assert store.list_namespaces(prefix=("docs", "*")) == [("docs", "u1"), ("docs", "u1", "x")]
    assert store.list_namespaces(suffix=("x",)) == [("docs", "u1", "x")]
    assert store.list_namespaces(prefix=("docs",), max_depth=2) == [("docs",), ("docs", "u1")]

    with pytest.raises(VersionConflict):
        store.put(("docs",), "a", {"kind": "stale"}, expected_version=0)
    store.put(("docs",), "a", {"kind": "fresh"}, expected_version=1)
    with pytest.raises(VersionConflict) as conflict:
        store.put(("docs",), "a", {"kind": "stale"}, expected_version=1)
    assert conflict.value.current.value == {"kind": "fresh"}
    assert store.update(("docs",), "n", lambda v: {"n": (v or {"n": 0})["n"] + 1}).value == {"n": 1}
    assert store.update(("docs",), "n", lambda v: {"n": v["n"] + 1}).version == 2

    store.delete(("docs",), "a")
    assert store.get(("docs",), "a") is None
    with pytest.raises(InvalidNamespaceError):
        store.put(("a.b",), "k", {})
    with pytest.raises(InvalidNamespaceError):
        store.put((), "k", {})
    with pytest.raises(NotImplementedError):
        store.put(("docs",), "t", {}, ttl=5)
    with pytest.raises(TypeError, match="mapping"):
        store.update(("docs",), "n", lambda v: 5)  # type: ignore[arg-type,return-value]


async def _astore_operations(store: AccordStore) -> None:
    try:
        assert await store.aget(("docs",), "a") is None
        await store.aput(("docs",), "a", {"kind": "report"})
        await store.aput(("docs", "u1"), "b", {"kind": "memo"})
        item = await store.aget(("docs",), "a")
        assert isinstance(item, AccordItem) and item.value == {"kind": "report"}
        assert [i.key for i in await store.asearch(("docs",), filter={"kind": "memo"})] == ["b"]
        assert await store.alist_namespaces(prefix=("docs",)) == [("docs",), ("docs", "u1")]
        with pytest.raises(VersionConflict):
            await store.aput(("docs",), "a", {}, expected_version=0)
        await store.aput(("docs",), "a", {"kind": "fresh"}, expected_version=item.version)
        updated = await store.aupdate(("docs",), "n", lambda v: {"n": 1}, default={"n": 0})
        assert (updated.value, updated.version) == ({"n": 1}, 1)
        await store.adelete(("docs",), "a")
        assert await store.aget(("docs",), "a") is None
        assert store.get(("docs",), "b") is None  # the sync API reaches the same items
        assert store.get(("docs", "u1"), "b").value == {"kind": "memo"}
    finally:
        await store.aclose()
        store.close()


def test_store_items_live_in_an_accord_state_map(url: str, namespace: str) -> None:
    """What a LangGraph node writes, any accord program reads (and the other way)."""
    store = AccordStore(url, namespace=namespace, state="memories")
    with accord.connect(url, namespace=namespace) as coord:
        try:
            store.put(("users", "u1"), "prefs", {"tone": "dry"})
            assert coord.state("memories").get("users.u1..prefs").value == {"tone": "dry"}
            coord.state("memories").set("users.u2..prefs", {"tone": "warm"})
            assert store.get(("users", "u2"), "prefs").value == {"tone": "warm"}
        finally:
            store.close()


def _approve(url: str, namespace: str, approval: str) -> str:
    """Process two: a person approving in their own process."""
    with accord.connect(url, namespace=namespace, agent="alice") as coord:
        return coord.approvals.approve(approval, reason="ship it").status


@pytest.mark.accord_processes
def test_an_approval_asked_in_one_process_is_resumed_from_a_third_without_asking_again(
    url: str, namespace: str, tmp_path: Any
) -> None:
    saver = str(tmp_path / "checkpoints.pickle")
    [asked] = _shared.in_processes(_graph.start_deploy, (url, namespace, saver), start="fork")
    assert (asked["action"], asked["details"], asked["thread_id"]) == (
        "deploy", {"service": "api"}, "t-1")
    [status] = _shared.in_processes(_approve, (url, namespace, asked["accord_approval"]),
                                    start="fork")
    assert status == "approved"
    [out] = _shared.in_processes(_graph.resume_deploy, (url, namespace, saver), start="fork")
    assert out["outcome"] == "deployed, approved by alice"
    with accord.connect(url, namespace=namespace) as coord:
        assert coord.approvals.pending() == []  # the re-run node asked no second time
        assert len(list(coord.state("langgraph.approvals").keys())) == 1
        assert coord.state("deploys").get("api").value == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_approval_interrupts_while_pending_and_a_denial_reaches_the_node(mode: str) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from accord.integrations.langgraph import ApprovalResumer

    url = f"memory://lg-appr-{mode}"
    graph = _graph.approval_graph(url, "default", mode, InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": "t-2"}}

    async def main() -> None:
        async with accord.connect_async(url, agent="bob") as coord:
            resumer = ApprovalResumer(graph, coord)
            if mode == "sync":
                out = await asyncio.to_thread(graph.invoke, {"service": "db", "outcome": ""},
                                              config)
            else:
                out = await graph.ainvoke({"service": "db", "outcome": ""}, config)
            asked = out["__interrupt__"][0].value
            assert await resumer.aresume("t-2") is None  # still pending
            again = await graph.ainvoke(None, config) if mode == "async" else (
                await asyncio.to_thread(graph.invoke, None, config))
            assert again["__interrupt__"][0].value == asked  # the same request, asked once
            await coord.approvals.deny(asked["accord_approval"], reason="freeze week")
            out = await resumer.aresume("t-2")
            assert out["outcome"] == "not deployed: freeze week"
            assert await resumer.aresume("t-2") is None  # nothing left to resume
            assert await coord.approvals.pending() == []

    asyncio.run(main())


def test_approval_outside_a_thread_says_what_to_do() -> None:
    graph = _graph.approval_graph("memory://lg-nothread", "default", "sync", None)
    assert approval_connection("memory://x") is approval_connection("memory://x")
    with pytest.raises(ValueError, match="thread_id"):
        graph.invoke({"service": "x", "outcome": ""})
