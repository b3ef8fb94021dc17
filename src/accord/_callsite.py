"""Where a call's result goes, read from its caller's bytecode (CPython): shared by the
sync and async queues, which tell a ``with`` of a claim that came back None apart."""

from __future__ import annotations

import dis
from types import FrameType

_WITH = frozenset({"BEFORE_WITH", "BEFORE_ASYNC_WITH", "SETUP_WITH", "SETUP_ASYNC_WITH"})
_PAST_CALL = frozenset({
    "GET_AWAITABLE", "LOAD_CONST", "SEND", "YIELD_VALUE", "RESUME", "CACHE", "NOP",
    "JUMP_BACKWARD_NO_INTERRUPT", "EXTENDED_ARG",
})  # fmt: skip


def entered_by_caller(frame: FrameType | None) -> bool:
    """Whether ``frame`` (claim's caller) enters what claim returns in a ``with``
    statement next: its next instructions, past those of an ``await``, begin one.
    Only asked when claim returns None, so that the caller gets NoTaskClaimed where
    Python would raise a TypeError; False when unsure (the TypeError comes then)."""
    if frame is None:
        return False
    for ins in dis.get_instructions(frame.f_code):
        if ins.offset <= frame.f_lasti:
            continue
        if ins.opname in _WITH:
            return True
        if ins.opname not in _PAST_CALL:
            return False
    return False
