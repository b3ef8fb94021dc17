"""The ``tasks`` capability: task queues with leased claims (``coord.queue(...)``).

Tasks are records of the namespace, ids from one counter (so they also order a
priority's tasks, first in first out); each belongs to a named queue. Every operation
is atomic: one Lua script on Redis, one transaction on SQLite, one critical section in
memory, and each appends the lifecycle events it causes (``task_put``,
``task_claimed``, ``task_done``, ``task_failed``, ``task_dead``, ``task_cancelled``,
payload ``{"queue", "id", "title", "agent", "attempts", ...}``) to the namespace's
event log in that same step, keeping the newest ``max_events``. ``agent`` is who
acts (the source of the events).

A claim is a lease: ``token`` (fresh from the same counter, so it only grows) must be
given to ``task_extend``/``task_complete``/``task_fail``/``task_release``, which
return False once the lease ran out or the task left the claim (the caller raises
``LeaseLost``). Timed changes (a delay over, a lease run out) are applied by the next
claim of the task's queue, at most ``PROMOTE_MAX`` per call, and by the operations on
that task. Waiting is pushed and direct: a claim that finds nothing registers its
``waiter`` mailbox with the claim it asks for; a task made ready is claimed, in the
same step, for the first registered waiter that may take it (unregistered then, its
claim's holder ``rule.handed(holder, waiter)``), and ``rule.handed_message`` is
posted to it, so that it wakes with its claim made. A waiter that cannot be told (its
mailbox has no reader) has the claim given back; the waiter's next ``task_claim`` or
``task_unwait`` returns a claim handed to it that it did not read. ``task_watch``
registers a mailbox that the task's end (done, dead, cancelled) posts to.
"""

from __future__ import annotations

from typing import Protocol

from accord._task import ClaimRequest, ClaimResult, TaskRecord, TaskSpec
from accord.backends._async.store import AsyncMailbox, AsyncStore


class AsyncTasks(AsyncStore, Protocol):
    """Task queues: put, claim (a lease with a fencing token), complete, fail, ..."""

    async def task_put(
        self, queue: str, spec: TaskSpec, agent: str, max_events: int
    ) -> tuple[TaskRecord, bool]:
        """Add a task; (task, True). With ``spec.key`` naming a task of the queue
        already: (that task, False), nothing added. Raises TaskNotFound for an unknown
        ``depends_on`` id, DependencyCycle when ``depends_on`` names the keyed task or a
        task waiting for it."""
        ...

    async def task_mailbox(self) -> AsyncMailbox:
        """A mailbox for a claimer to wait in (``open_mailbox``; Redis: one that keeps
        the waiter's presence key alive, so that a dead waiter is handed nothing)."""
        ...

    async def task_claim(self, req: ClaimRequest, max_events: int) -> ClaimResult:
        """Apply due timed changes, then take the best ready task of ``req.lanes``
        (see ``tasks/rule.py``): claimed, ``attempts + 1``, a fresh token, leased for
        ``req.lease`` seconds. Nothing ready: register ``req.waiter`` (if any) and say
        when the queue's next timed change is due."""
        ...

    async def task_unwait(self, queue: str, waiter: str, holder: str) -> TaskRecord | None:
        """Unregister a waiter that stops waiting; the claim handed to it meanwhile
        (posted, maybe not read yet), now the caller's, or None."""
        ...

    async def task_handed(self, message: str) -> TaskRecord | None:
        """The task of the claim a waiter was posted (``rule.handed_message``) while
        that claim holds it, else None (the waiter asks again)."""
        ...

    async def task_extend(self, task_id: int, token: int, lease: float) -> bool:
        """Make the claim's lease end ``lease`` seconds from now."""
        ...

    async def task_complete(
        self, task_id: int, token: int, result: str, agent: str, max_events: int
    ) -> bool:
        """Done with ``result`` (JSON text); its dependents whose dependencies are now
        all done become ready."""
        ...

    async def task_fail(
        self, task_id: int, token: int, error: str, retry: bool, delay: float, agent: str,
        max_events: int,
    ) -> bool:
        """End the attempt: failed until ``delay`` passes (ready at once for 0) when
        ``retry`` and attempts are left, else dead (its dependents are cancelled)."""
        ...

    async def task_release(self, task_id: int, token: int, agent: str) -> bool:
        """Give the claim back: ready, and the attempt does not count."""
        ...

    async def task_get(self, task_id: int) -> TaskRecord | None:
        ...

    async def task_cancel(
        self, task_id: int, reason: str, agent: str, max_events: int
    ) -> TaskRecord | None:
        """Cancel a task that has not finished (a claimed one too: its claim is lost),
        and every task waiting for it, transitively. A finished task is returned as it
        is; None when there is no such task."""
        ...

    async def task_retry(self, task_id: int, agent: str, max_events: int) -> TaskRecord | None:
        """A dead or failed task ready again, attempts from zero; any other task is
        returned unchanged (the caller refuses); None when there is no such task."""
        ...

    async def task_watch(self, task_id: int, mailbox: str) -> TaskRecord | None:
        """The task; unless it has finished, ``mailbox`` is posted to when it does."""
        ...

    async def task_unwatch(self, task_id: int, mailbox: str) -> None:
        ...

    async def task_list(
        self, queue: str, status: str | None, after: int, limit: int
    ) -> tuple[list[TaskRecord], int | None]:
        """Tasks of ``queue`` (of ``status``; None: any) with ids above ``after``, in
        id order, and the ``after`` of the next page (None at the end). A page may
        hold fewer than ``limit`` tasks before its end (tasks of other queues skipped)."""
        ...

    async def task_stats(self, queue: str) -> dict[str, int]:
        """The number of tasks of ``queue`` in each status."""
        ...

    async def task_prune(
        self, queue: str, status: str, before: float, after: int, limit: int
    ) -> tuple[int, int | None]:
        """Delete tasks of ``status`` (done, dead or cancelled) last changed before the
        Unix time ``before``, looking at up to ``limit`` of them with ids above
        ``after``: (deleted, the ``after`` of the next call, None at the end)."""
        ...

    async def task_claims(self, holder_prefix: str, limit: int) -> list[tuple[str, int, str]]:
        """Up to ``limit`` live claims whose holder starts with ``holder_prefix`` (``""``:
        every claim of the namespace), as (the claiming agent, task id, queue), by holder:
        what the agent registry shows an agent holds."""
        ...

    async def task_revoke(
        self, holder_prefix: str, agent: str, max_events: int, give_back: bool = False
    ) -> int:
        """End every claim whose holder starts with ``holder_prefix`` as if its lease
        ran out (ready again, or dead when its attempts are used up); return how many.
        With ``give_back`` each is released instead (ready, the attempt does not count):
        a session's own exit.
        For the agent registry: a killed agent's claims go back at once (a holder is
        ``<agent>#<coordinator id>:<thread or task>``, so ``"<agent>#"`` is every
        claim of that agent)."""
        ...
