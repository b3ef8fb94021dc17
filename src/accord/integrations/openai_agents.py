"""accord inside the OpenAI Agents SDK: run events, shared model limits, leased tools.

The SDK coordinates one run in one process. Several runs (several workers, several
processes) share nothing: each calls the model as fast as it likes, and two tools
writing one record interleave. Three tools::

    from agents import Agent, RunConfig, Runner, function_tool
    from accord.integrations import Concurrency, Rate
    from accord.integrations.openai_agents import (
        AccordRunHooks, LimitedModelProvider, leased)

    @function_tool
    @leased(lambda path, line: f"file:{path}")     # one writer per file, in every process
    async def append_line(path: str, line: str) -> str: ...

    config = RunConfig(model_provider=LimitedModelProvider(
        semaphore=Concurrency("openai", 8), rate_limit=Rate("openai", 60, per=60)))
    await Runner.run(agent, "...", run_config=config, hooks=AccordRunHooks())

- :class:`AccordRunHooks` appends the run's agent, handoff, tool and model start/end
  events to the accord event log (``agents.agent_start`` ...), each with the run id
  and the agent's name, and the tool call id for tools.
- :class:`LimitedModelProvider` (for every agent whose model is a name) and
  :class:`LimitedModel` (around one ``Model`` object) put each model call under a
  semaphore and/or a rate limit shared by every process on the store.
- :func:`leased` holds a lock around each call of a tool function; put it under
  ``@function_tool``, which then reads the function's own signature and docstring.
- :class:`Approvals` parks a run stopped at ``needs_approval`` tools as accord
  approval requests; a person decides them anywhere (``accord approvals``, the
  dashboard, ``coord.approvals.approve``) and any process resumes the run.
- :class:`ParallelHandoffs` fans one triage request out to several specialists
  through accord handoffs (the SDK hands off to one agent at a time): each offer is
  claimed by exactly one specialist process, and the triage side gathers the answers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

from agents import (
    Agent,
    Model,
    ModelProvider,
    MultiProvider,
    RunContextWrapper,
    RunHooks,
    Runner,
    RunResult,
    RunState,
    Tool,
)
from agents.items import ModelResponse
from agents.tracing import get_current_trace

import accord
from accord.integrations._connection import Connection, CoordLike, owned
from accord.integrations._limits import Concurrency, Limits, Rate

__all__ = [
    "AccordRunHooks", "Approvals", "LimitedModel", "LimitedModelProvider", "ParallelHandoffs",
    "leased",
]

F = TypeVar("F", bound=Callable[..., Any])


class AccordRunHooks(RunHooks[Any]):
    """Run hooks that append each step of a run to the accord event log.

    Events, each with ``run_id`` and ``agent`` (the acting agent's name) in its payload:
    ``<prefix>.agent_start`` / ``.agent_end`` (with a short ``output``),
    ``.handoff`` (``from_agent``, ``to_agent``), ``.tool_start`` / ``.tool_end``
    (``tool``, ``tool_call_id``; ``.tool_end`` a short ``result``), ``.llm_start`` /
    ``.llm_end`` (``.llm_end`` the response's ``total_tokens``). ``run_id`` is the one
    given, else the run's trace id, else (tracing disabled) an id made for this hooks
    object: with tracing disabled, make one hooks object per run.

    ``coord`` is where the log is: a URL (None: ``ACCORD_URL`` or the default store)
    connected on first use in each process, a Connection, or an async coordinator. A
    failing store fails the run (BackendUnavailable): nothing is silently dropped.
    """

    def __init__(
        self, coord: CoordLike = None, *, prefix: str = "agents", run_id: str | None = None
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError(f"prefix must be a non-empty event name prefix, got {prefix!r}")
        self._conn, self._owns = Connection.of(coord), owned(coord)
        self.prefix, self._run_id, self._own_id = prefix, run_id, uuid.uuid4().hex

    async def aclose(self) -> None:
        """Close the connections made from a URL ``coord`` (a Connection or coordinator
        you passed stays open): on Redis, before the event loop ends."""
        if self._owns:
            await self._conn.aclose()

    def run_id(self) -> str:
        """The id this hooks object puts in its events now (see the class docstring)."""
        if self._run_id is not None:
            return self._run_id
        trace = get_current_trace()
        trace_id = str(trace.trace_id) if trace is not None else ""
        if trace_id and trace_id != "no-op":  # the SDK's id of a disabled trace
            return trace_id
        return self._own_id

    async def _emit(self, event: str, agent: str, **payload: Any) -> None:
        """Append one event as ``agent``'s (``coord.as_agent(agent)``): the event's
        source is the agent's name rather than the process's; the payload keeps
        ``agent`` too."""
        data = {"run_id": self.run_id(), "agent": agent, **payload}
        await self._conn.aio_as(agent).emit(f"{self.prefix}.{event}", data)

    async def on_agent_start(self, context: Any, agent: Agent[Any]) -> None:
        await self._emit("agent_start", agent.name)

    async def on_agent_end(self, context: Any, agent: Agent[Any], output: Any) -> None:
        await self._emit("agent_end", agent.name, output=_short(output))

    async def on_handoff(
        self, context: RunContextWrapper[Any], from_agent: Agent[Any], to_agent: Agent[Any]
    ) -> None:
        await self._emit(
            "handoff", from_agent.name, from_agent=from_agent.name, to_agent=to_agent.name
        )

    async def on_tool_start(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool
    ) -> None:
        await self._emit(
            "tool_start", agent.name, tool=tool.name, tool_call_id=_call_id(context)
        )

    async def on_tool_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool, result: object
    ) -> None:
        await self._emit(
            "tool_end", agent.name, tool=tool.name, tool_call_id=_call_id(context),
            result=_short(result),
        )

    async def on_llm_start(
        self,
        context: RunContextWrapper[Any],
        agent: Agent[Any],
        system_prompt: str | None,
        input_items: list[Any],
    ) -> None:
        await self._emit("llm_start", agent.name)

    async def on_llm_end(
        self, context: RunContextWrapper[Any], agent: Agent[Any], response: ModelResponse
    ) -> None:
        await self._emit("llm_end", agent.name, total_tokens=response.usage.total_tokens)


def _call_id(context: object) -> str | None:
    """The tool call id of a function tool's context (other tools have none)."""
    call_id = getattr(context, "tool_call_id", None)
    return call_id if isinstance(call_id, str) else None


def _short(value: object, limit: int = 200) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LimitedModel(Model):
    """``model`` with each call (``get_response``, a whole ``stream_response``) holding
    a semaphore permit and/or a rate-limit token shared by every process on the store.

    ``semaphore=Concurrency(name, limit)``, ``rate_limit=Rate(name, rate, per, burst)``;
    the permit is a lease of ``ttl`` seconds (set it above the longest call); each wait
    lasts at most ``timeout`` seconds (None: for ever), then LockTimeout fails the call.
    ``coord``: a URL (None: ``ACCORD_URL`` or the default store) connected on first use
    in each process, a Connection, or an async coordinator.
    """

    def __init__(
        self,
        model: Model,
        *,
        semaphore: Concurrency | None = None,
        rate_limit: Rate | None = None,
        ttl: float = 120.0,
        timeout: float | None = None,
        coord: CoordLike = None,
    ) -> None:
        if not isinstance(model, Model):
            raise TypeError(f"LimitedModel wraps an agents.Model, not {type(model).__name__}")
        limits = Limits.for_calls("LimitedModel", coord, semaphore, rate_limit, ttl, timeout)
        self.model, self._limits, self._closes = model, limits, True

    @classmethod
    def _sharing(cls, model: Model, limits: Limits) -> LimitedModel:
        """A model of a provider, under the provider's limits (the provider closes them)."""
        limited = cls.__new__(cls)
        limited.model, limited._limits, limited._closes = model, limits, False
        return limited

    async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
        async with self._limits.aheld(None):
            return await self.model.get_response(*args, **kwargs)

    async def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        async with self._limits.aheld(None):
            async for event in self.model.stream_response(*args, **kwargs):
                yield event

    def get_retry_advice(self, request: Any) -> Any:
        return self.model.get_retry_advice(request)

    async def close(self) -> None:
        """Close the wrapped model, and the connections made from a URL ``coord``."""
        try:
            await self.model.close()
        finally:
            if self._closes:
                await self._limits.aclose()

    def __repr__(self) -> str:
        return f"<LimitedModel {self.model!r}>"


class LimitedModelProvider(ModelProvider):
    """A model provider whose models all share one semaphore and/or rate limit.

    ``RunConfig(model_provider=LimitedModelProvider(...))`` limits every agent of the
    run whose ``model`` is a name (or unset); an agent given a ``Model`` object bypasses
    any provider, so wrap that one in :class:`LimitedModel`. ``provider`` is the one to
    ask for models (default: the SDK's ``MultiProvider``); the other arguments are
    :class:`LimitedModel`'s.
    """

    def __init__(
        self,
        provider: ModelProvider | None = None,
        *,
        semaphore: Concurrency | None = None,
        rate_limit: Rate | None = None,
        ttl: float = 120.0,
        timeout: float | None = None,
        coord: CoordLike = None,
    ) -> None:
        self._limits = Limits.for_calls(
            "LimitedModelProvider", coord, semaphore, rate_limit, ttl, timeout
        )
        self.provider = provider if provider is not None else MultiProvider()

    def get_model(self, model_name: str | None) -> Model:
        return LimitedModel._sharing(self.provider.get_model(model_name), self._limits)

    async def aclose(self) -> None:
        """Close the wrapped provider, and the connections made from a URL ``coord``."""
        try:
            await self.provider.aclose()
        finally:
            await self._limits.aclose()


def leased(
    lock: str | Callable[..., str],
    ttl: float = 30.0,
    *,
    timeout: float | None = None,
    coord: CoordLike = None,
    agent: str | None = None,
) -> Callable[[F], F]:
    """Hold the lock ``lock`` around each call of a tool function, in every process.

    ``lock`` is a name, or a function of the tool's arguments (called like the tool)
    returning one. Put ``@leased`` under ``@function_tool``: the tool's schema and
    description come from the function's own signature and docstring, which the
    wrapper keeps. A sync tool (the SDK runs it in a thread) uses the sync API, an
    async one the async API. The lease lasts ``ttl`` seconds (a tool running longer
    loses it and raises LeaseLost); waiting lasts at most ``timeout`` seconds (None:
    for ever), then LockTimeout, which the SDK reports to the model as the tool's error.
    ``agent`` (e.g. ``"billing"``) is whom the lock's holder shows (None: the process).
    """
    limits = Limits(coord, lock=lock, ttl=ttl, timeout=timeout, agent=agent)

    def decorate(fn: F) -> F:
        if not callable(fn) or hasattr(fn, "on_invoke_tool"):
            raise TypeError(
                "leased() wraps the tool's function: put @leased(...) below @function_tool"
            )
        return limits.wrap(fn, _tool_args)

    return decorate


def _tool_args(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """What a lock function gets: the tool's own arguments (see :func:`leased`)."""
    return args, kwargs


class Approvals:
    """``needs_approval`` tools decided by people through accord, across processes.

    A run whose tool needs approval stops with ``result.interruptions``. Instead of
    answering them in that process::

        approvals = Approvals("redis://...")
        result = await Runner.run(agent, "refund order 42")
        if result.interruptions:
            ids = await approvals.park(result, "refund-42")   # one request per call
        # later, anyone: accord approve <id>   (or the dashboard, or the API)
        # later, any process:
        result = await approvals.resume(agent, "refund-42")  # None while undecided

    :meth:`park` stores the run's ``RunState`` under ``key`` (state map ``name``) with
    one accord approval request per pending tool call (action ``<prefix>.<tool>``,
    details: key, agent, tool, arguments, call id), expiring, denied, after
    ``timeout`` seconds; ``approvers`` restricts who may decide. Parking a key again
    reuses the requests of calls already asked about. :meth:`resume` approves or
    rejects each call as decided (a denial's reason is what the model reads), runs
    the agent on, parks again under the same key if the run stops once more, and
    otherwise forgets the key; two processes resuming one key run it once (a lock).
    The run's context must be JSON-serializable, as for ``RunState.to_string``.
    """

    def __init__(
        self,
        coord: CoordLike = None,
        *,
        timeout: float = 24 * 3600.0,
        approvers: list[str] | None = None,
        name: str = "openai-agents.parked",
        prefix: str = "tool",
    ) -> None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ValueError(f"timeout must be a number of seconds > 0, got {timeout!r}")
        self._conn, self._owns = Connection.of(coord), owned(coord)
        self.timeout, self.approvers, self.name, self.prefix = timeout, approvers, name, prefix

    async def aclose(self) -> None:
        """Close the connections made from a URL ``coord``."""
        if self._owns:
            await self._conn.aclose()

    async def park(self, result: RunResult, key: str) -> list[str]:
        """Store ``result``'s run under ``key`` and ask for each pending tool call's
        approval; the ids of the requests, one per call, in order. ValueError if the
        run is not waiting for any approval."""
        if not result.interruptions:
            raise ValueError(
                f"the run parked as {key!r} waits for no approval (result.interruptions is "
                "empty): use its final_output"
            )
        coord = self._conn.aio()
        runs = coord.state(self.name)
        old = await runs.get(key)
        asked = {r["call_id"]: r["approval"] for r in (old.value["requests"] if old else [])}
        requests = []
        for item in result.interruptions:
            call_id = _item_field(item, "call_id")
            approval = asked.get(call_id) if call_id else None
            if approval is None:
                tool = item.tool_name or _item_field(item, "name") or "tool"
                request = await coord.approvals.request(
                    f"{self.prefix}.{tool}", timeout=self.timeout, approvers=self.approvers,
                    details={"key": key, "agent": item.agent.name, "tool": tool,
                             "arguments": _item_field(item, "arguments"), "call_id": call_id},
                )
                approval = request.id
            requests.append({"call_id": call_id, "approval": approval})
        await runs.set(key, {"state": result.to_state().to_string(), "requests": requests})
        return [r["approval"] for r in requests]

    async def pending(self, key: str) -> list[accord.Approval]:
        """The approval requests of the run parked as ``key`` still undecided
        (LookupError if no run is parked under it)."""
        coord = self._conn.aio()
        record = await coord.state(self.name).get(key)
        if record is None:
            raise LookupError(f"no run is parked as {key!r}: park(result, key) first")
        found = [await coord.approvals.get(r["approval"]) for r in record.value["requests"]]
        return [a for a in found if a.pending]

    async def resume(
        self, agent: Agent[Any], key: str, **run_options: Any
    ) -> RunResult | None:
        """Continue the run parked as ``key`` from ``agent`` (the run's starting agent)
        once every request is decided: its ``RunResult`` (``Runner.run`` with
        ``run_options``); None while any is pending. LookupError if no run is parked
        under ``key`` (never parked, or resumed already)."""
        coord = self._conn.aio()
        runs = coord.state(self.name)
        async with coord.lock(f"{self.name}.{key}", ttl=300, auto_renew=True):
            record = await runs.get(key)
            if record is None:
                raise LookupError(
                    f"no run is parked as {key!r}: it was resumed already or never parked"
                )
            decisions = {}
            for request in record.value["requests"]:
                approval = await coord.approvals.get(request["approval"])
                if approval.decision is None:
                    return None
                decisions[request["call_id"]] = approval.decision
            state: RunState[Any] = await RunState.from_string(agent, record.value["state"])
            for item in state.get_interruptions():
                decision = decisions.get(_item_field(item, "call_id"))
                if decision is None:
                    raise LookupError(
                        f"the run parked as {key!r} waits for a tool call it did not ask "
                        "about; park it again"
                    )
                if decision.approved:
                    state.approve(item)
                else:
                    why = decision.reason or decision.status
                    state.reject(item, rejection_message=f"not approved ({why}) by "
                                 f"{decision.by or 'nobody, in time'}")
            result = await Runner.run(agent, state, **run_options)
            if result.interruptions:
                await self.park(result, key)
            else:
                await runs.delete(key)
            return result


def _item_field(item: Any, field: str) -> Any:
    """A field of a tool approval item's raw call (a model object or a dict)."""
    raw = item.raw_item
    value = raw.get(field) if isinstance(raw, dict) else getattr(raw, field, None)
    return value if value is None or isinstance(value, str) else str(value)


class ParallelHandoffs:
    """One request handed to several specialists at once, across processes.

    The triage side offers the input to each specialist (an agent name or role) and
    gathers their final outputs; each specialist process serves its own offers::

        handoffs = ParallelHandoffs("redis://...")
        # triage:
        tasks = await handoffs.fan_out("order 42 arrived broken", to=["billing", "shipping"])
        answers = await handoffs.gather(tasks, timeout=120)  # {"billing": ..., ...}
        # each specialist process, in a loop:
        await handoffs.serve(billing_agent, run_config=...)

    Each offer is an accord handoff (``coord.handoff``): exactly one claimant runs it;
    a claimant that dies before answering leaves it to another after ``lease``
    seconds. ``key`` makes a fan-out idempotent (offered again, nothing is added).
    The specialist acts as its agent's name: holders and events show "billing".
    """

    def __init__(self, coord: CoordLike = None) -> None:
        self._conn, self._owns = Connection.of(coord), owned(coord)

    async def aclose(self) -> None:
        """Close the connections made from a URL ``coord``."""
        if self._owns:
            await self._conn.aclose()

    async def fan_out(
        self, input: str, *, to: list[str], key: str | None = None
    ) -> list[accord.AsyncTask]:
        """Offer ``input`` to each of ``to`` (distinct names); the offers, in order."""
        if isinstance(to, str) or len(set(to)) != len(to) or not to:
            raise ValueError(f"to is a list of distinct specialist names, got {to!r}")
        handoffs = self._conn.aio().handoffs
        return [
            await handoffs.offer(name, {"input": input}, title=f"handoff to {name}",
                                 key=None if key is None else f"{key}.{name}")
            for name in to
        ]

    async def gather(
        self, tasks: list[accord.AsyncTask], timeout: float | None = None
    ) -> dict[str, Any]:
        """Each offer's answer (the specialist's final output), by specialist name;
        TaskTimeout after ``timeout`` seconds, TaskFailed if a specialist failed for good.
        The offers are read again here: they may come from another process or loop."""
        queue = self._conn.aio().handoffs.queue
        fresh = [await queue.get(task.id) for task in tasks]
        if None in fresh:
            raise LookupError("an offer to gather is gone (pruned, or from another store)")
        answers = await asyncio.gather(*(task.wait(timeout) for task in fresh if task))
        return {str(task.to): answer for task, answer in zip(tasks, answers, strict=True)}

    async def serve(
        self,
        agent: Agent[Any],
        *,
        timeout: float | None = 0.0,
        lease: float = 120.0,
        **run_options: Any,
    ) -> RunResult | None:
        """Claim one offer to ``agent.name`` (waiting up to ``timeout`` seconds; None:
        for ever), run ``agent`` on its input (``Runner.run`` with ``run_options``) and
        answer with the final output (its ``str``); the run's result, or None when no
        offer came. A run that raises fails the offer (retried by another claimant)."""
        coord = self._conn.aio_as(agent.name)
        claim = await coord.handoffs.claim(agent.name, timeout=timeout, lease=lease)
        if claim is None:
            return None
        async with claim:
            claim.renew_in_background()
            result = await Runner.run(agent, str(claim.data["input"]), **run_options)
            await claim.complete(str(result.final_output))
        return result
