# Generated from src/accord/_async/agents.py by scripts/unasync.py: do not edit.
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
from contextlib import ExitStack
from typing import Any

from accord import _lifecycle
from accord._sync import _rt
from accord._sync.events import Events
from accord._sync.lock import Lock
from accord._sync.ratelimit import RateLimit
from accord._sync.semaphore import Semaphore
from accord._sync.state import StateMap
from accord._context import Context
from accord._event import Event, event_name
from accord.backends import Backend
from accord.errors import RemoteError, RequestTimeout

REPLIES = "accord.replies"


def run_coordinated(
    ctx: Context[Backend],
    events: Events,
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
    with ExitStack() as guards:
        _enter_guards(ctx, spec, guards)
        if proceed is not None:
            proceed()
        events.emit(f"{spec.agent}_started", _lifecycle.started(spec.agent, run_id))
        start = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:
            payload = _lifecycle.failed(spec.agent, run_id, exc, time.monotonic() - start)
            events.emit(f"{spec.agent}_failed", payload)
            raise
        duration = time.monotonic() - start
        try:
            guards.close()  # release now: LeaseLost if the lock was lost meanwhile
        except Exception as exc:
            payload = _lifecycle.failed(spec.agent, run_id, exc, duration)
            events.emit(f"{spec.agent}_failed", payload)
            raise
    payload = _lifecycle.complete(spec.agent, run_id, result, duration, ctx.max_payload)
    events.emit(f"{spec.agent}_complete", payload)
    return result


def _enter_guards(
    ctx: Context[Backend], spec: _lifecycle.Spec, guards: ExitStack
) -> None:
    """Take the lock, semaphore and rate-limit slot of ``spec``, in that order."""
    if spec.lock_name is not None:
        lock = Lock(ctx, spec.lock_name, spec.ttl, spec.timeout, spec.auto_renew)
        guards.enter_context(lock)
    if spec.semaphore is not None:
        name, limit, ttl, timeout = spec.semaphore
        semaphore = Semaphore(ctx, name, limit, ttl, timeout)
        guards.enter_context(semaphore)
    if spec.rate_limit is not None:
        name, rate, per, burst = spec.rate_limit
        RateLimit(ctx, name, rate, per, burst).acquire()


def request_event(agent: str) -> str:
    return event_name(f"accord.request.{agent}")


def request(
    ctx: Context[Backend], events: Events, agent: str, payload: Any, timeout: float
) -> Any:
    """Send ``payload`` to the responder of ``agent`` and wait for its reply."""
    name = request_event(agent)
    _rt.check_may_block(f"a reply from {agent!r}", "request")
    mailbox = ctx.store.open_mailbox()
    try:
        events.emit(name, {"payload": payload, "reply_to": mailbox.id})
        deadline = time.monotonic() + timeout
        message = None
        while message is None and time.monotonic() < deadline:
            message = mailbox.wait(max(deadline - time.monotonic(), 0.001))
        if message is None:
            raise RequestTimeout(agent, timeout)
        replies = StateMap(ctx, REPLIES)
        entry = replies.get(mailbox.id)
        replies.delete(mailbox.id)
    finally:
        mailbox.close()
    reply = entry.value if entry is not None else {"error_type": "LostReply", "error": "gone"}
    if "error_type" in reply:
        raise RemoteError(agent, reply["error_type"], reply["error"])
    return reply["result"]


def responder_handler(
    ctx: Context[Backend], fn: Callable[[Any], Any]
) -> Callable[[Event], Any]:
    """The event handler that runs ``fn`` on a request and posts its reply."""

    def respond(event: Event) -> None:
        try:
            reply: dict[str, Any] = {"result": _rt.call(fn, event["payload"])}
            json.dumps(reply)
        except Exception as exc:
            reply = {"error_type": type(exc).__name__, "error": str(exc)[:2000]}
        StateMap(ctx, REPLIES).set(event["reply_to"], reply)
        ctx.store.post(event["reply_to"], "r")

    respond.__qualname__ = f"responder:{getattr(fn, '__qualname__', fn)}"
    return respond
