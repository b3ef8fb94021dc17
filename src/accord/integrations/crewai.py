"""accord inside CrewAI: one model budget for every crew, in every process.

CrewAI's ``max_rpm`` counts the calls of one crew in one process: three crews, or one
crew run by three workers, each get the whole budget. :class:`LimitedLLM` wraps the
LLM of any agent so that its calls hold a semaphore permit and/or a rate-limit token
shared by every process on the store::

    from crewai import LLM, Agent
    from accord.integrations import Concurrency, Rate
    from accord.integrations.crewai import LimitedLLM

    llm = LimitedLLM(LLM(model="gpt-4o-mini"), semaphore=Concurrency("openai", 4),
                     rate_limit=Rate("openai", 60, per=60))
    writer = Agent(role="writer", goal="...", backstory="...", llm=llm)

Tools that write files get a file lease each call, without touching the tools:
:func:`install_file_leases` registers CrewAI's before/after tool-call hooks, which take
``coord.lock_file(path, intent=...)`` before a listed tool runs and release it after::

    leases = install_file_leases("sqlite:///.accord/accord.db",
                                 tools={"write_file": "path"}, mode="refuse")
    crew.kickoff()          # a file another agent holds: the tool says who and why
    leases.uninstall()

For a tool that writes other shared data, hold an accord lock inside the tool
(``with coord.lock("ledger"): ...``); ``accord.testing.ScriptedLLM`` scripts an
agent's answers for offline tests.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Literal

from crewai.hooks import (
    ToolCallHookContext,
    register_after_tool_call_hook,
    register_before_tool_call_hook,
    unregister_after_tool_call_hook,
    unregister_before_tool_call_hook,
)
from crewai.llms.base_llm import BaseLLM, call_stop_override
from pydantic import ConfigDict, PrivateAttr

import accord
from accord.integrations._connection import Connection, CoordLike, owned
from accord.integrations._limits import Concurrency, Limits, Rate

__all__ = ["FileLeases", "LimitedLLM", "install_file_leases"]


class LimitedLLM(BaseLLM):
    """``llm`` with each ``call``/``acall`` holding a semaphore permit and/or a
    rate-limit token shared by every process on the store.

    ``semaphore=Concurrency(name, limit)``, ``rate_limit=Rate(name, rate, per, burst)``;
    the permit is a lease of ``ttl`` seconds (set it above the longest call, tool
    calls that the LLM runs itself included); each wait lasts at most ``timeout``
    seconds (None: for ever), then LockTimeout fails the call. ``coord``: a URL (None:
    ``ACCORD_URL`` or the default store) connected on first use in each process, a
    Connection, or a coordinator (sync for ``call``, async for ``acall``). The agent's
    stop words reach ``llm``; whether it calls functions natively, its token counts,
    context window and stop-word support are ``llm``'s.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: BaseLLM
    semaphore: Concurrency | None = None
    rate_limit: Rate | None = None
    ttl: float = 120.0
    timeout: float | None = None
    coord: Any = None
    _limits: Limits = PrivateAttr()

    def __init__(
        self,
        llm: BaseLLM,
        *,
        semaphore: Concurrency | None = None,
        rate_limit: Rate | None = None,
        ttl: float = 120.0,
        timeout: float | None = None,
        coord: CoordLike = None,
    ) -> None:
        if not isinstance(llm, BaseLLM):
            raise TypeError(f"LimitedLLM wraps a crewai BaseLLM, not {type(llm).__name__}")
        limits = Limits.for_calls("LimitedLLM", coord, semaphore, rate_limit, ttl, timeout)
        fields: dict[str, Any] = dict(
            model=llm.model, stop=list(llm.stop), llm=llm, semaphore=semaphore,
            rate_limit=rate_limit, ttl=ttl, timeout=timeout, coord=coord,
        )
        super().__init__(**fields)  # pydantic validates this class's fields too
        self._limits = limits

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        with self._limits.held(None), call_stop_override(self.llm, self.stop_sequences):
            return self.llm.call(messages, *args, **kwargs)

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> Any:
        async with self._limits.aheld(None):
            with call_stop_override(self.llm, self.stop_sequences):
                return await self.llm.acall(messages, *args, **kwargs)

    def get_input_tokens_count(self, *args: Any, **kwargs: Any) -> int:
        return int(self.llm.get_input_tokens_count(*args, **kwargs))

    def close(self) -> None:
        """Close the connection made from a URL ``coord`` (one passed in stays open)."""
        self._limits.close()

    async def aclose(self) -> None:
        """The async twin of :meth:`close`: on Redis, before the event loop ends."""
        await self._limits.aclose()

    def supports_function_calling(self) -> bool:
        check = getattr(self.llm, "supports_function_calling", None)
        return bool(check()) if callable(check) else False

    def supports_stop_words(self) -> bool:
        return bool(self.llm.supports_stop_words())

    def get_context_window_size(self) -> int:
        return int(self.llm.get_context_window_size())

    def supports_multimodal(self) -> bool:
        return bool(self.llm.supports_multimodal())


class FileLeases:
    """The hooks :func:`install_file_leases` registered; :meth:`uninstall` removes
    them (also on leaving a ``with`` block) and closes a connection made from a URL.
    Leases of calls still running are released by their own after-hooks."""

    def __init__(
        self,
        coord: CoordLike,
        tools: Mapping[str, str],
        mode: Literal["refuse", "wait"],
        timeout: float,
        ttl: float,
    ) -> None:
        self._conn, self._owns = Connection.of(coord), owned(coord)
        self.tools, self.mode, self.timeout, self.ttl = dict(tools), mode, timeout, ttl
        self._lock = threading.Lock()
        # per tool call (its input dict, shared by its before- and after-hook): the
        # lease this object took, or the refusal to report instead of the result
        self._taken: dict[int, tuple[dict[str, Any], Any]] = {}
        self._refused: dict[int, tuple[dict[str, Any], str]] = {}
        self.installed = True
        register_before_tool_call_hook(self._before)
        register_after_tool_call_hook(self._after)

    def _before(self, context: ToolCallHookContext) -> bool | None:
        if context.tool_name not in self.tools:
            return None
        try:
            return self._take(context, self.tools[context.tool_name])
        except Exception as e:  # CrewAI swallows a hook's error and runs the tool: refuse
            return self._refuse(context, f"{context.tool_name} refused: its file lease "
                                f"could not be taken ({type(e).__name__}: {e})")

    def _take(self, context: ToolCallHookContext, field: str) -> bool | None:
        args = context.tool_input
        path = args.get(field) if isinstance(args, dict) else None
        if not isinstance(path, str) or not path:
            return self._refuse(context, f"{context.tool_name} refused: its argument "
                                f"{field!r} (the file to lease) is missing; pass the path")
        role = getattr(context.agent, "role", None) or "an agent"
        intent = f"{context.tool_name} by {role}"
        lock = self._conn.sync().lock_file(path, intent=intent, ttl=self.ttl, auto_renew=False)
        wait = self.timeout if self.mode == "wait" else 0.0
        try:
            lease = lock.acquire(timeout=wait)
        except accord.LockTimeout as e:
            held = f"{e.holder} ({e.intent})" if e.intent else str(e.holder)
            waited = f" after waiting {e.waited:.1f} s" if self.mode == "wait" else ""
            return self._refuse(context, (
                f"{context.tool_name} refused{waited}: {path} is being written by {held}. "
                "Do not write it now: work on something else, or try again later."
            ))
        with self._lock:
            self._taken[id(args)] = (args, lease)
        return None

    def _refuse(self, context: ToolCallHookContext, message: str) -> bool:
        with self._lock:
            self._refused[id(context.tool_input)] = (context.tool_input, message)
        return False  # blocks the call; the after-hook reports the message

    def _after(self, context: ToolCallHookContext) -> str | None:
        key = id(context.tool_input)
        with self._lock:
            taken = self._taken.pop(key, None)
            refused = self._refused.pop(key, None)
        if taken is not None and taken[0] is context.tool_input:
            taken[1].release()  # only a lease this object took, once
        if refused is not None and refused[0] is context.tool_input:
            return refused[1]
        return None

    def uninstall(self) -> None:
        """Remove the hooks (idempotent) and close a connection made from a URL."""
        if self.installed:
            self.installed = False
            unregister_before_tool_call_hook(self._before)
            unregister_after_tool_call_hook(self._after)
            if self._owns:
                self._conn.close()

    def __enter__(self) -> FileLeases:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()

    def __repr__(self) -> str:
        state = "installed" if self.installed else "uninstalled"
        return f"<FileLeases {state} tools={self.tools!r} mode={self.mode!r}>"


def install_file_leases(
    coord: CoordLike = None,
    *,
    tools: Mapping[str, str] | None = None,
    mode: Literal["refuse", "wait"] = "refuse",
    timeout: float = 10.0,
    ttl: float = 60.0,
) -> FileLeases:
    """Take a file lease around each call of a file-writing tool, in every crew of
    this process (CrewAI's global before/after tool-call hooks).

    ``tools`` maps a tool's name to the argument naming its file (default
    ``{"write_file": "path"}``). Before such a call, ``coord.lock_file(path,
    intent="<tool> by <agent role>", ttl=ttl)`` is taken; after it, released. When
    another agent holds the file, ``mode="refuse"`` skips the tool at once and
    ``"wait"`` waits up to ``timeout`` seconds for it first; a skipped tool's result is
    a message naming the holder and its intent, which the agent reads. A lease it did
    not take is never released; a lease that cannot be taken (a path outside the
    repository, a store that is down) skips the call too. ``ttl`` must exceed the
    longest tool call. In ``"wait"`` mode an async crew's event loop waits too.
    Returns the handle whose ``uninstall()`` removes the hooks.
    """
    tools = {"write_file": "path"} if tools is None else tools
    if not isinstance(tools, Mapping) or not tools or not all(
        isinstance(k, str) and k and isinstance(v, str) and v for k, v in tools.items()
    ):
        raise ValueError(
            "tools maps tool names to the argument holding the file path, e.g. "
            f"{{'write_file': 'path'}}; got {tools!r}"
        )
    if mode not in ("refuse", "wait"):
        raise ValueError(f"mode is 'refuse' or 'wait', not {mode!r}")
    for what, value in (("timeout", timeout), ("ttl", ttl)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{what} must be a number of seconds > 0, got {value!r}")
    return FileLeases(coord, tools, mode, float(timeout), float(ttl))
