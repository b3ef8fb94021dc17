"""Read events, or sleep on a bell until the log grows: the check-then-sleep of every
event read on memory and SQLite (Redis blocks in the server instead)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from accord._event import EventRecord
from accord.backends._async.protocol import AsyncMailbox


async def read_or_wait(
    read: Callable[[], Awaitable[list[EventRecord]]],
    open_bell: Callable[[], Awaitable[AsyncMailbox]],
    timeout: float,
    interrupted: Callable[[], bool],
) -> list[EventRecord]:
    """``read()``; when it finds nothing, open a bell and read again (so an append in
    between is not missed), then sleep up to ``timeout`` seconds and read once more.
    Does not sleep once ``interrupted()``: interrupt_reads makes that true, then rings
    the bells (so one rung before this bell was open is not missed either)."""
    found = await read()
    if found or timeout <= 0 or interrupted():
        return found
    bell = await open_bell()
    try:
        found = await read()
        if not found and not interrupted():
            await bell.wait(timeout)
            found = await read()
        return found
    finally:
        await bell.aclose()
