"""``accord.testing.ScriptedLLM``: a CrewAI LLM that answers from a script, offline.

CrewAI ships no fake LLM. This one is imported only when ``accord.testing.ScriptedLLM``
is first used, so ``accord.testing`` imports without CrewAI installed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from crewai.llms.base_llm import BaseLLM
from pydantic import PrivateAttr

Reply = str | Callable[[list[dict[str, Any]]], str]


class ScriptedLLM(BaseLLM):
    """Answers each call with the next reply of ``replies``: a string, or a function of
    the call's messages returning one. Thread-safe; ``calls`` holds each call's messages.

    Agents without native function calling (as here) speak CrewAI's text protocol: a
    reply :meth:`action` makes the agent run a tool, :meth:`final_answer` ends its
    task. A call with no reply left raises AssertionError naming the model::

        llm = ScriptedLLM([ScriptedLLM.action("append_line", line="hello"),
                           ScriptedLLM.final_answer("done")])
    """

    _replies: list[Reply] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _calls: list[list[dict[str, Any]]] = PrivateAttr(default_factory=list)

    def __init__(self, replies: Iterable[Reply] = (), *, model: str = "scripted") -> None:
        super().__init__(model=model)
        self._replies = list(replies)

    @staticmethod
    def action(tool: str, /, **arguments: Any) -> str:
        """A reply that runs ``tool`` with ``arguments`` (CrewAI's text protocol)."""
        return (
            f"Thought: I should use {tool}.\nAction: {tool}\n"
            f"Action Input: {json.dumps(arguments)}"
        )

    @staticmethod
    def final_answer(text: str) -> str:
        """A reply that ends the task with ``text``."""
        return f"Thought: I now know the final answer.\nFinal Answer: {text}"

    @property
    def calls(self) -> list[list[dict[str, Any]]]:
        """The messages of each call so far, in order."""
        with self._lock:
            return list(self._calls)

    def call(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        listed = [{"role": "user", "content": messages}] if isinstance(messages, str) else [
            dict(m) for m in messages
        ]
        with self._lock:
            self._calls.append(listed)
            if not self._replies:
                raise AssertionError(
                    f"ScriptedLLM {self.model!r} got call {len(self._calls)} with no reply "
                    "left in its script: give it one more reply"
                )
            reply = self._replies.pop(0)
        return reply(listed) if callable(reply) else reply

    async def acall(self, messages: Any, *args: Any, **kwargs: Any) -> str:
        return self.call(messages, *args, **kwargs)

    def get_input_tokens_count(self, messages: Any, *args: Any, **kwargs: Any) -> int:
        """A token a four characters, as CrewAI estimates (without its warning)."""
        texts = [messages] if isinstance(messages, str) else [
            str(m.get("content", "")) for m in messages
        ]
        return (sum(len(t) for t in texts) + 3) // 4
