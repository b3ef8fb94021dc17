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

For a tool that writes shared data, hold an accord lock inside the tool
(``with coord.lock("ledger"): ...``); ``accord.testing.ScriptedLLM`` scripts an
agent's answers for offline tests.
"""

from __future__ import annotations

from typing import Any

from crewai.llms.base_llm import BaseLLM, call_stop_override
from pydantic import ConfigDict, PrivateAttr

from accord.integrations._connection import CoordLike
from accord.integrations._limits import Concurrency, Limits, Rate

__all__ = ["LimitedLLM"]


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
