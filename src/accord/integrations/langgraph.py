"""accord inside LangGraph: guarded nodes, and a store that loses no update.

LangGraph coordinates inside one graph run: parallel branches that write one state
key raise ``InvalidUpdateError``, and its stores and checkpointers do not make two
processes (two workers running the same graph) take turns. So a read-modify-write of
a record from two ``Send`` branches, or two processes, loses updates. Two tools::

    from accord.integrations import Concurrency
    from accord.integrations.langgraph import AccordStore, guard

    store = AccordStore("sqlite:///.accord/accord.db")     # or redis://..., any accord URL
    builder.add_node("review", guard(review, lock=lambda s: f"doc:{s['doc_id']}",
                                     semaphore=Concurrency("llm", 4)))
    graph = builder.compile(store=store)

    store.update(("counters",), "reviews", lambda v: {"n": (v or {}).get("n", 0) + 1})

- :func:`guard` wraps a node, sync or async, keeping its signature (LangGraph reads
  it to inject ``config``, ``runtime``, ``store``...), so that each run of the node
  holds a lock (a name, or a function of the node's input, so that each ``Send``
  branch locks its own record), a semaphore permit and/or a rate-limit token, shared
  by every process on the store.
- :class:`AccordStore` is a LangGraph ``BaseStore`` over an accord state map:
  ``get``/``put``/``delete``/``search``/``list_namespaces`` and their async twins,
  plus :meth:`AccordStore.update` (an atomic read-modify-write) and
  ``put(..., expected_version=)`` (compare-and-set), since ``BaseStore.put`` alone
  cannot tell that another process wrote in between.
- :func:`approval` / :func:`aapproval`, inside a node, ask people for approval
  through accord (once per thread and step: the node re-run after resume does not
  ask again) and ``interrupt()`` the graph while the request is pending;
  :class:`ApprovalResumer` resumes the thread with ``Command(resume=decision)`` once
  it is decided, from any process whose checkpointer holds the thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

from langgraph.config import get_config
from langgraph.store.base import (
    NOT_PROVIDED,
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)
from langgraph.types import Command, interrupt

import accord
from accord.integrations._connection import Connection, CoordLike, owned
from accord.integrations._limits import Concurrency, Limits, Rate

__all__ = [
    "AccordItem", "AccordSearchItem", "AccordStore", "ApprovalResumer", "aapproval",
    "approval", "guard",
]

N = TypeVar("N", bound=Callable[..., Any])


def guard(
    node: N,
    *,
    lock: str | Callable[[Any], str] | None = None,
    semaphore: Concurrency | None = None,
    rate_limit: Rate | None = None,
    ttl: float = 30.0,
    timeout: float | None = None,
    coord: CoordLike = None,
) -> N:
    """``node`` holding a lock, a semaphore permit and/or a rate-limit token while it runs.

    ``lock`` is a lock name, or a function of the node's input (the state, or a
    ``Send``'s argument) returning one. ``semaphore=Concurrency(name, limit)`` admits
    at most ``limit`` runs at once; ``rate_limit=Rate(name, rate, per)`` spaces their
    starts; both count every process on the store. They are taken in that order, each
    waiting at most ``timeout`` seconds (None: for ever; then LockTimeout), and the
    lock and permit are leases of ``ttl`` seconds: a node still running after ``ttl``
    has lost them and raises LeaseLost when it ends, so set ``ttl`` above the node's
    longest run. ``coord`` is where to coordinate: a URL (None: ``ACCORD_URL`` or the
    default store) connected on first use in each process, a
    :class:`~accord.integrations.Connection`, or a coordinator of the node's flavour.

    The result has the node's signature, name and docstring; a sync node runs under the
    sync API (LangGraph runs it in a worker thread), an async node under the async one.
    """
    limits = Limits(
        coord, lock=lock, semaphore=semaphore, rate_limit=rate_limit, ttl=ttl, timeout=timeout
    )
    if not limits:
        raise ValueError("guard() needs a lock, a semaphore or a rate_limit to hold")
    return limits.wrap(node, _node_input)


def _node_input(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """What a lock function gets: the node's input, its first argument."""
    return args[:1], {}


class AccordItem(Item):
    """An :class:`~langgraph.store.base.Item` with its accord ``version``, which
    ``put(..., expected_version=item.version)`` expects. ``created_at`` is the time of
    this version too: accord keeps no creation time."""

    __slots__ = ("version",)

    def __init__(self, *, version: int, **fields: Any) -> None:
        super().__init__(**fields)
        self.version = version


class AccordSearchItem(SearchItem):
    """A :class:`~langgraph.store.base.SearchItem` with its accord ``version``."""

    __slots__ = ("version",)

    def __init__(self, *, version: int, **fields: Any) -> None:
        super().__init__(**fields)
        self.version = version


class AccordStore(BaseStore):
    """A LangGraph store on an accord URL, shared by every process that opens it.

    Items live in the accord state map ``state`` (default ``"langgraph"``) of the
    accord ``namespace``, one versioned entry per item, keyed
    ``"<label>.<label>..<key>"`` (LangGraph labels hold no ``.``). Each process
    connects on first use, with the sync API for ``get``/``put``/... and the async one
    for ``aget``/``aput``/...; a batch runs its operations one by one (it is not a
    transaction). Writes never lose each other's effect when they go through
    :meth:`update` or ``put(..., expected_version=)``; a plain ``put`` overwrites.

    Values are JSON objects (else TypeError; over the coordinator's ``max_payload``,
    PayloadTooLarge). There is no vector index: ``search(query=...)`` ignores the
    query, as LangGraph's ``InMemoryStore`` does without ``index=``; ``filter`` works.
    ``search`` and ``list_namespaces`` read every item under the prefix they are given.
    No TTLs (``put(ttl=...)`` raises NotImplementedError, as ``BaseStore`` does).
    """

    supports_ttl = False

    def __init__(
        self,
        url: str | None = None,
        *,
        namespace: str = "default",
        agent: str | None = None,
        state: str = "langgraph",
    ) -> None:
        if not isinstance(state, str) or not state:
            raise ValueError(f"state must be the name of an accord state map, got {state!r}")
        self._conn = Connection(url, namespace=namespace, agent=agent)
        self._state = state

    # --- the BaseStore operations ------------------------------------------------------
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run each operation in turn on this process's sync coordinator."""
        state = self._conn.sync().state(self._state)
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                results.append(_item(op.namespace, op.key, state.get(_key(op))))
            elif isinstance(op, PutOp):
                if op.value is None:
                    state.delete(_key(op))
                else:
                    state.set(_key(op), _value(op.value))
                results.append(None)
            elif isinstance(op, SearchOp):
                search = _Search(op)
                for full, entry in state.items(_prefix(op.namespace_prefix)):
                    if search.add(full, entry):
                        break
                results.append(search.results)
            else:
                names = _Namespaces(_list_op(op))
                for full in state.keys(names.prefix):
                    names.add(full)
                results.append(names.results())
        return results

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run each operation in turn on this process's async coordinator."""
        state = self._conn.aio().state(self._state)
        results: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                entry = await state.get(_key(op))
                results.append(_item(op.namespace, op.key, entry))
            elif isinstance(op, PutOp):
                if op.value is None:
                    await state.delete(_key(op))
                else:
                    await state.set(_key(op), _value(op.value))
                results.append(None)
            elif isinstance(op, SearchOp):
                search = _Search(op)
                async for full, entry in state.items(_prefix(op.namespace_prefix)):
                    if search.add(full, entry):
                        break
                results.append(search.results)
            else:
                names = _Namespaces(_list_op(op))
                async for full in state.keys(names.prefix):
                    names.add(full)
                results.append(names.results())
        return results

    # --- compare-and-set and read-modify-write ----------------------------------------
    def put(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
        expected_version: int | None = None,
    ) -> None:
        """``BaseStore.put``; with ``expected_version`` (an item's ``version``, or 0 for
        "only if absent") it writes only if the item is still at that version, else
        raises :class:`accord.VersionConflict` (``.current`` is the accord entry that won)."""
        if expected_version is None:
            super().put(namespace, key, value, index, ttl=ttl)
            return None
        op = _cas_op(namespace, key, value, ttl)
        self._conn.sync().state(self._state).set(
            _key(op), _value(value), expected_version=expected_version
        )
        return None

    async def aput(
        self,
        namespace: tuple[str, ...],
        key: str,
        value: Mapping[str, Any],
        index: Literal[False] | list[str] | None = None,
        *,
        ttl: float | NotProvided | None = NOT_PROVIDED,
        expected_version: int | None = None,
    ) -> None:
        """The async twin of :meth:`put`."""
        if expected_version is None:
            await super().aput(namespace, key, value, index, ttl=ttl)
            return None
        op = _cas_op(namespace, key, value, ttl)
        await self._conn.aio().state(self._state).set(
            _key(op), _value(value), expected_version=expected_version
        )
        return None

    def update(
        self,
        namespace: tuple[str, ...],
        key: str,
        fn: Callable[[Any], Mapping[str, Any]],
        *,
        default: Mapping[str, Any] | None = None,
    ) -> AccordItem:
        """Atomically replace the item's value with ``fn(value)`` and return the new item.

        ``fn`` gets the current value, or ``default`` when the item is absent. It runs
        again on the newer value after each conflict with another writer, so it must
        have no side effects; no update is ever lost, in any process.
        """
        op = _cas_op(namespace, key, {}, None)
        entry = self._conn.sync().state(self._state).update(
            _key(op), lambda current: _value(fn(current)), default=default
        )
        return _made(op.namespace, op.key, entry)

    async def aupdate(
        self,
        namespace: tuple[str, ...],
        key: str,
        fn: Callable[[Any], Mapping[str, Any]],
        *,
        default: Mapping[str, Any] | None = None,
    ) -> AccordItem:
        """The async twin of :meth:`update`."""
        op = _cas_op(namespace, key, {}, None)
        entry = await self._conn.aio().state(self._state).update(
            _key(op), lambda current: _value(fn(current)), default=default
        )
        return _made(op.namespace, op.key, entry)

    def close(self) -> None:
        """Close this process's sync connection (the next call connects again)."""
        self._conn.close()

    async def aclose(self) -> None:
        """Close this process's connections, sync and async."""
        await self._conn.aclose()

    def __repr__(self) -> str:
        return f"<AccordStore {self._conn.url or 'ACCORD_URL'} state={self._state!r}>"


# --- keys: "<label>.<label>..<key>" ----------------------------------------------------
_SEP = ".."


def _labels(namespace: tuple[str, ...], what: str) -> tuple[str, ...]:
    if not isinstance(namespace, tuple):
        raise InvalidNamespaceError(f"{what} must be a tuple of str, not {namespace!r}")
    for label in namespace:
        if not isinstance(label, str) or not label or "." in label:
            raise InvalidNamespaceError(
                f"{what} {namespace!r}: each label must be a non-empty str without '.', "
                f"not {label!r}"
            )
    return namespace


def _key(op: GetOp | PutOp) -> str:
    if not _labels(op.namespace, "namespace"):
        raise InvalidNamespaceError("namespace must have at least one label")
    return ".".join(op.namespace) + _SEP + str(op.key)


def _prefix(namespace_prefix: tuple[str, ...]) -> str:
    labels = _labels(namespace_prefix, "namespace prefix")
    return "".join(label + "." for label in labels)


def _split(full: str) -> tuple[tuple[str, ...], str]:
    labels, _, key = full.partition(_SEP)
    return tuple(labels.split(".")), key


def _value(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(
            f"a store value must be a mapping (a JSON object), not {type(value).__name__}"
        )
    return dict(value)


def _cas_op(
    namespace: tuple[str, ...], key: str, value: Mapping[str, Any], ttl: object
) -> PutOp:
    if ttl not in (NOT_PROVIDED, None):
        raise NotImplementedError(
            "AccordStore keeps no TTLs: leave ttl unset (or None) and delete items yourself"
        )
    op = PutOp(namespace, str(key), value)
    _key(op)  # refuses a bad namespace before anything is read or written
    return op


def _item(namespace: tuple[str, ...], key: str, entry: accord.Entry | None) -> AccordItem | None:
    return None if entry is None else _made(namespace, key, entry)


def _made(namespace: tuple[str, ...], key: str, entry: accord.Entry) -> AccordItem:
    when = datetime.fromtimestamp(entry.updated_at, tz=timezone.utc)
    return AccordItem(
        value=entry.value, key=key, namespace=namespace, created_at=when, updated_at=when,
        version=entry.version,
    )


class _Search:
    """One SearchOp over the entries under its prefix, fed in key order."""

    def __init__(self, op: SearchOp) -> None:
        self.op, self._skipped = op, 0
        self.results: list[SearchItem] = []

    def add(self, full: str, entry: accord.Entry) -> bool:
        """Take one entry; True once the page is full."""
        if self.op.limit <= 0:
            return True
        if not isinstance(entry.value, dict) or not _matches(entry.value, self.op.filter or {}):
            return False
        if self._skipped < self.op.offset:
            self._skipped += 1
            return False
        namespace, key = _split(full)
        when = datetime.fromtimestamp(entry.updated_at, tz=timezone.utc)
        self.results.append(AccordSearchItem(
            namespace=namespace, key=key, value=entry.value, created_at=when,
            updated_at=when, version=entry.version,
        ))
        return bool(len(self.results) >= self.op.limit)


def _matches(value: Any, wanted: Any) -> bool:
    """LangGraph's filter: nested equality, and ``$eq``/``$ne``/``$gt``/``$gte``/``$lt``/
    ``$lte`` in a dict of operators."""
    if isinstance(wanted, dict):
        if any(str(k).startswith("$") for k in wanted):
            return all(_compare(value, op, operand) for op, operand in wanted.items())
        return isinstance(value, dict) and all(
            _matches(value.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, (list, tuple)):
        return (
            isinstance(value, (list, tuple)) and len(value) == len(wanted)
            and all(_matches(a, b) for a, b in zip(value, wanted, strict=True))
        )
    return bool(value == wanted)


_ORDER: dict[str, Callable[[float, float], bool]] = {
    "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
}


def _compare(value: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(value == operand)
    if op == "$ne":
        return bool(value != operand)
    if op in _ORDER:
        try:
            return bool(_ORDER[op](float(value), float(operand)))
        except (TypeError, ValueError):
            return False
    raise ValueError(f"unsupported filter operator {op!r}; use $eq, $ne, $gt, $gte, $lt or $lte")


def _list_op(op: Op) -> ListNamespacesOp:
    if not isinstance(op, ListNamespacesOp):
        raise TypeError(f"AccordStore cannot run a {type(op).__name__}")
    return op


class _Namespaces:
    """One ListNamespacesOp over the keys under its longest literal prefix."""

    def __init__(self, op: ListNamespacesOp) -> None:
        self.op = op
        self.found: set[tuple[str, ...]] = set()
        literal: list[str] = []
        for condition in op.match_conditions or ():
            if condition.match_type == "prefix":
                for label in condition.path:
                    if label == "*":
                        break
                    literal.append(label)
                break
        self.prefix = _prefix(tuple(literal))

    def add(self, full: str) -> None:
        namespace, _ = _split(full)
        if all(_namespace_matches(c, namespace) for c in self.op.match_conditions or ()):
            self.found.add(namespace)

    def results(self) -> list[tuple[str, ...]]:
        depth = self.op.max_depth
        names = sorted({n[:depth] for n in self.found} if depth is not None else self.found)
        return names[self.op.offset : self.op.offset + self.op.limit]


def _namespace_matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)  # the path may be shorter
    elif condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    else:
        raise ValueError(f"unsupported match type {condition.match_type!r}; use prefix or suffix")
    return all(p == "*" or n == p for n, p in pairs)


APPROVALS = "langgraph.approvals"  # the state map: step key -> approval request id
_MARK = "accord_approval"  # the key that marks an interrupt value as an accord request


def _step_key(action: str) -> tuple[str, str]:
    """The thread id, and the key of this node run's request for ``action``: the
    thread, the task (its checkpoint namespace, the same when the node re-runs after a
    resume) and the action."""
    configurable = get_config().get("configurable", {})
    thread = configurable.get("thread_id")
    if thread is None:
        raise ValueError(
            "approval() needs a checkpointer and a thread: compile the graph with "
            "checkpointer=..., and invoke it with config={'configurable': {'thread_id': ...}}"
        )
    step = f"{thread}\0{configurable.get('checkpoint_ns', '')}\0{action}"
    return str(thread), "a" + hashlib.sha256(step.encode()).hexdigest()[:40]


_URLS: dict[str | None, Connection] = {}  # approval(coord=<url>): one connection per URL


def _connection(coord: CoordLike) -> Connection:
    """The connection of ``approval(coord=...)``: a URL (or None) is connected once per
    process and kept, not once per call."""
    if coord is None or isinstance(coord, str):
        return _URLS.setdefault(coord, Connection(coord))
    return Connection.of(coord)


def _interrupt_value(found: accord.Approval, thread: str) -> dict[str, Any]:
    return {_MARK: found.id, "action": found.action, "details": found.details,
            "thread_id": thread}


def _decision_value(decision: accord.Decision) -> dict[str, Any]:
    return {"approved": decision.approved, "by": decision.by, "reason": decision.reason,
            "status": decision.status, "id": decision.id}


def approval(
    action: str,
    payload: Any = None,
    *,
    timeout: float = 24 * 3600.0,
    approvers: list[str] | None = None,
    coord: CoordLike = None,
) -> accord.Decision:
    """Inside a sync node: the decision on ``action`` (details ``payload``, JSON data),
    asking for it first if this node run has not asked yet.

    The request is made once per thread, task and action (kept in the accord state map
    ``langgraph.approvals``), so the node, re-run from its start after a resume, finds
    it instead of asking twice. While it is pending the node calls LangGraph's
    ``interrupt()`` with ``{"accord_approval": id, "action", "details", "thread_id"}``:
    the run stops there, and :class:`ApprovalResumer` resumes it once someone decides
    (``accord approve``, the dashboard, ``coord.approvals.approve``). The
    request expires, denied, after ``timeout`` seconds; ``approvers`` restricts who
    may decide. Needs a checkpointer and a ``thread_id``. ``bool(decision)`` is True
    when approved. ``coord``: a URL (None: ``ACCORD_URL`` or the default store),
    connected once per process and kept, a Connection, or a sync coordinator.
    """
    coord_ = _connection(coord).sync()
    thread, key = _step_key(action)
    asked = coord_.state(APPROVALS)
    while True:
        entry = asked.get(key)
        if entry is None:
            request = coord_.approvals.request(
                action, details=payload, timeout=timeout, approvers=approvers
            )
            try:
                asked.set(key, request.id, expected_version=0)
            except accord.VersionConflict:
                continue  # another run of this task asked first: use its request
            entry = asked.get(key)
            if entry is None:
                continue  # deleted meanwhile: ask again
        found = coord_.approvals.get(str(entry.value))
        if found.decision is not None:
            return found.decision
        interrupt(_interrupt_value(found, thread))  # returns once resumed; read again


async def aapproval(
    action: str,
    payload: Any = None,
    *,
    timeout: float = 24 * 3600.0,
    approvers: list[str] | None = None,
    coord: CoordLike = None,
) -> accord.Decision:
    """The async twin of :func:`approval`, inside an async node."""
    coord_ = _connection(coord).aio()
    thread, key = _step_key(action)
    asked = coord_.state(APPROVALS)
    while True:
        entry = await asked.get(key)
        if entry is None:
            request = await coord_.approvals.request(
                action, details=payload, timeout=timeout, approvers=approvers
            )
            try:
                await asked.set(key, request.id, expected_version=0)
            except accord.VersionConflict:
                continue
            entry = await asked.get(key)
            if entry is None:
                continue
        found = await coord_.approvals.get(str(entry.value))
        if found.decision is not None:
            return found.decision
        interrupt(_interrupt_value(found, thread))


class ApprovalResumer:
    """Resumes threads of ``graph`` stopped at :func:`approval`, once decided.

    ``graph`` is the compiled graph with a checkpointer that this process can read
    (a database, not ``InMemorySaver``, to resume from another process than the one
    that ran it). :meth:`resume` (sync) and :meth:`aresume` (async) look at the
    thread's pending interrupts: when every accord request among them is decided they
    invoke the graph with ``Command(resume=decision)`` (``{"approved", "by",
    "reason", "status", "id"}``; one value per interrupt id when several are pending)
    and return its output; while any is pending, or when the thread waits for none,
    they return None. Two processes resuming one thread run it once (an accord lock).
    """

    def __init__(self, graph: Any, coord: CoordLike = None) -> None:
        self.graph = graph
        self._conn, self._owns = Connection.of(coord), owned(coord)

    def close(self) -> None:
        """Close the connection made from a URL ``coord``."""
        if self._owns:
            self._conn.close()

    async def aclose(self) -> None:
        """The async twin of :meth:`close`."""
        if self._owns:
            await self._conn.aclose()

    @staticmethod
    def _ours(snapshot: Any) -> list[Any]:
        return [i for i in snapshot.interrupts
                if isinstance(i.value, dict) and _MARK in i.value]

    @staticmethod
    def _command(pending: list[Any], decisions: list[accord.Decision]) -> Command[Any]:
        values = [_decision_value(d) for d in decisions]
        if len(pending) == 1:
            return Command(resume=values[0])
        return Command(resume={i.id: v for i, v in zip(pending, values, strict=True)})

    def resume(self, thread_id: str, **invoke_options: Any) -> Any:
        """Resume ``thread_id`` if its approvals are decided: the graph's output, or None."""
        coord = self._conn.sync()
        config = {"configurable": {"thread_id": thread_id}}
        with coord.lock(f"{APPROVALS}.{thread_id}", ttl=300, auto_renew=True):
            pending = self._ours(self.graph.get_state(config))
            decisions = [coord.approvals.get(i.value[_MARK]).decision for i in pending]
            if not pending or None in decisions:
                return None
            command = self._command(pending, [d for d in decisions if d is not None])
            return self.graph.invoke(command, config, **invoke_options)

    async def aresume(self, thread_id: str, **invoke_options: Any) -> Any:
        """The async twin of :meth:`resume` (``aget_state``, ``ainvoke``)."""
        coord = self._conn.aio()
        config = {"configurable": {"thread_id": thread_id}}
        async with coord.lock(f"{APPROVALS}.{thread_id}", ttl=300, auto_renew=True):
            pending = self._ours(await self.graph.aget_state(config))
            decisions = [(await coord.approvals.get(i.value[_MARK])).decision
                         for i in pending]
            if not pending or None in decisions:
                return None
            command = self._command(pending, [d for d in decisions if d is not None])
            return await self.graph.ainvoke(command, config, **invoke_options)
