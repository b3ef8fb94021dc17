"""Agent-facing helpers built on locks and events: ``@coordinate`` runs, and
request-reply between agents in any process.

A run of a coordinated function::

    [lock, semaphore, rate limit] -> <agent>_started -> fn(...) -> release -> <agent>_complete
                                           fn raised, or release raised LeaseLost -> <agent>_failed
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from accord import _lifecycle
from accord._async import _rt
from accord._async.events import AsyncEvents
from accord._async.lock import AsyncLock
from accord._async.ratelimit import AsyncRateLimit
from accord._async.semaphore import AsyncSemaphore
from accord._async.state import AsyncStateMap
from accord._context import Context
from accord._event import Event, event_name
from accord.backends import AsyncBackend
from accord.errors import RemoteError, RequestTimeout

REPLIES = "accord.replies"


async def run_coordinated(
    ctx: Context[AsyncBackend],
    events: AsyncEvents,
    spec: _lifecycle.Spec,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    proceed: Callable[[], None] | None = None,
) -> Any:
    """One run of a ``@coordinate`` function: guards, lifecycle events, its result.

    The guards are released before ``_complete`` is emitted: a lock lost during the
    run (it outlasted its ttl without ``auto_renew``) makes the run ``_failed`` with
    LeaseLost, never ``_complete`` and then an error. ``proceed`` is called once the
    guards are held: what it raises (a caller gone meanwhile) ends the run unstarted."""
    run_id = uuid.uuid4().hex[:16]
    async with AsyncExitStack() as guards:
        await _enter_guards(ctx, spec, guards)
        if proceed is not None:
            proceed()
        await events.emit(f"{spec.agent}_started", _lifecycle.started(spec.agent, run_id))
        start = time.monotonic()
        try:
            result = await fn(*args, **kwargs)
        except Exception as exc:
            payload = _lifecycle.failed(spec.agent, run_id, exc, time.monotonic() - start)
            await events.emit(f"{spec.agent}_failed", payload)
            raise
        duration = time.monotonic() - start
        try:
            await guards.aclose()  # release now: LeaseLost if the lock was lost meanwhile
        except Exception as exc:
            payload = _lifecycle.failed(spec.agent, run_id, exc, duration)
            await events.emit(f"{spec.agent}_failed", payload)
            raise
    payload = _lifecycle.complete(spec.agent, run_id, result, duration, ctx.max_payload)
    await events.emit(f"{spec.agent}_complete", payload)
    return result


async def _enter_guards(
    ctx: Context[AsyncBackend], spec: _lifecycle.Spec, guards: AsyncExitStack
) -> None:
    """Take the lock, semaphore and rate-limit slot of ``spec``, in that order."""
    if spec.lock_name is not None:
        lock = AsyncLock(ctx, spec.lock_name, spec.ttl, spec.timeout, spec.auto_renew)
        await guards.enter_async_context(lock)
    if spec.semaphore is not None:
        name, limit, ttl, timeout = spec.semaphore
        semaphore = AsyncSemaphore(ctx, name, limit, ttl, timeout)
        await guards.enter_async_context(semaphore)
    if spec.rate_limit is not None:
        name, rate, per, burst = spec.rate_limit
        await AsyncRateLimit(ctx, name, rate, per, burst).acquire()


def request_event(agent: str) -> str:
    return event_name(f"accord.request.{agent}")


async def request(
    ctx: Context[AsyncBackend], events: AsyncEvents, agent: str, payload: Any, timeout: float
) -> Any:
    """Send ``payload`` to the responder of ``agent`` and wait for its reply."""
    name = request_event(agent)
    _rt.check_may_block(f"a reply from {agent!r}", "request")
    mailbox = await ctx.store.open_mailbox()
    try:
        await events.emit(name, {"payload": payload, "reply_to": mailbox.id})
        deadline = time.monotonic() + timeout
        message = None
        while message is None and time.monotonic() < deadline:
            message = await mailbox.wait(max(deadline - time.monotonic(), 0.001))
        if message is None:
            raise RequestTimeout(agent, timeout)
        replies = AsyncStateMap(ctx, REPLIES)
        entry = await replies.get(mailbox.id)
        await replies.delete(mailbox.id)
    finally:
        await mailbox.aclose()
    reply = entry.value if entry is not None else {"error_type": "LostReply", "error": "gone"}
    if "error_type" in reply:
        raise RemoteError(agent, reply["error_type"], reply["error"])
    return reply["result"]


def responder_handler(
    ctx: Context[AsyncBackend], fn: Callable[[Any], Any]
) -> Callable[[Event], Any]:
    """The event handler that runs ``fn`` on a request and posts its reply."""

    async def respond(event: Event) -> None:
        try:
            reply: dict[str, Any] = {"result": await _rt.call(fn, event["payload"])}
            json.dumps(reply)
        except Exception as exc:
            reply = {"error_type": type(exc).__name__, "error": str(exc)[:2000]}
        await AsyncStateMap(ctx, REPLIES).set(event["reply_to"], reply)
        await ctx.store.post(event["reply_to"], "r")

    respond.__qualname__ = f"responder:{getattr(fn, '__qualname__', fn)}"
    return respond
