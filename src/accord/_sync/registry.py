# Generated from src/accord/_async/registry.py by scripts/unasync.py: do not edit.
"""The registry of agents as a coordinator shows it (``coord.agents``), the kill
switch, and the one place that revokes everything an agent holds.

Reading the registry also reaps: live agents whose heartbeat lease lapsed are marked
dead, everything they held is revoked (the next waiters proceed) and ``agent_dead``
is emitted, once, by whoever reaped them; every session's heartbeat does the same,
so a dead agent's leases are freed within about one heartbeat ttl even when nobody
reads. A reap or a hung call walks an index of what it returns, not every agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from accord import _validate
from accord._sync import audit
from accord._sync._lease import notify
from accord._context import Context
from accord._models import AgentInfo, LeaseStatistics, Page
from accord.backends import LEASES, TASKS, Backend, capabilities_of
from accord.backends.agents.rule import HUNG_AFTER, PAGE
from accord.errors import UnknownAgent

PAGE_MAX = 1000
CLAIMS_SHOWN = 10_000  # task claims listed at most for one registry read
_List = list  # ``list`` is also a method of the registry below


def holder_prefix(name: str, session: str) -> str:
    """The start of every lease holder id of one session (see ``Context.owner``)."""
    return f"{name}#{session}:"


def revoke_everything(
    ctx: Context[Backend], name: str, session: str, *, give_back: bool = False
) -> int:
    """Revoke at once everything the session ``session`` of agent ``name`` holds and
    return how many went: its leases (locks, semaphore permits, file leases, queued
    waits), so their next waiters proceed and its tokens are stale, and its task
    claims, which go back to ready with ``attempts + 1`` (or dead) as if their lease
    ran out, so the old claim's ``complete``/``extend`` raise LeaseLost. The kill
    switch and a reaped dead agent come here; a session's own exit too, with
    ``give_back``: its claims are released (ready, the attempt does not count)."""
    store: Any = getattr(ctx.store, "unwatched", ctx.store)
    prefix = holder_prefix(name, session)
    revoked = 0
    if LEASES in capabilities_of(store):
        revoked += store.revoke_holders(prefix)
    if TASKS in capabilities_of(store):
        revoked += store.task_revoke(prefix, ctx.agent, ctx.max_events, give_back)
    return revoked


def reap(ctx: Context[Backend]) -> _List[str]:
    """Mark the agents whose heartbeat lapsed dead, revoke what they held and emit
    ``agent_dead`` for each; return their names."""
    store: Any = getattr(ctx.store, "unwatched", ctx.store)
    found = store.agent_reap(PAGE)
    for name, session in found:
        revoked = revoke_everything(ctx, name, session)
        notify(ctx, "agent_dead", {"name": name, "revoked": revoked})
    return [name for name, _ in found]


def describe(stats: LeaseStatistics, intent: str, mode: str) -> str:
    """What one held lease looks like in ``AgentInfo.holds``."""
    kind = {"sem": "semaphore"}.get(stats.kind, stats.kind)
    more = [m for m in ("shared" if mode == "shared" else "", intent) if m]
    return f"{kind} {stats.name}" + (f" ({', '.join(more)})" if more else "")


class AgentRegistry:
    """The agents of the namespace: ``list``, ``get``, ``hung``, ``kill``."""

    def __init__(self, ctx: Context[Backend]) -> None:
        self._ctx = ctx

    def _holds(self, infos: _List[AgentInfo]) -> _List[AgentInfo]:
        """``infos`` with what each agent holds now (one listing of live leases, one
        of live task claims)."""
        store = self._ctx.store
        if not infos:
            return infos
        held: dict[str, _List[str]] = {}
        if LEASES in capabilities_of(store):
            for stats in store.list_leases(""):
                for h in stats.holders:
                    if not h.mode.startswith("intent"):
                        held.setdefault(h.agent, []).append(describe(stats, h.intent, h.mode))
        if TASKS in capabilities_of(store):
            prefix = f"{infos[0].name}#" if len(infos) == 1 else ""  # one agent: its claims
            for agent, task_id, queue in store.task_claims(prefix, CLAIMS_SHOWN):
                held.setdefault(agent, []).append(f"task {task_id} ({queue})")
        return [_with(i, tuple(held.get(i.name, ()))) for i in infos]

    def get(self, name: str) -> AgentInfo | None:
        """The agent called ``name`` with what it holds, or None."""
        name = _validate.name(name, "agent name")
        reap(self._ctx)
        found = self._ctx.store.agent_get(name)
        return None if found is None else (self._holds([found]))[0]

    def list_page(self, after: str | None = None, limit: int = 100) -> Page[AgentInfo]:
        """One page of agents by name, after the name ``after``; ``.next`` asks for the
        next page (None on the last)."""
        limit = _validate.count(limit, "limit", PAGE_MAX)
        if after is not None:
            _validate.name(after, "after")
        reap(self._ctx)
        found, cursor = self._ctx.store.agent_page(after, limit)
        return Page(tuple(self._holds(found)), cursor)

    def list(self, *, page_size: int = 100) -> Iterator[AgentInfo]:
        """Every agent by name, read ``page_size`` at a time as you iterate (dead and
        killed ones too, until their name is used again)."""
        page = self.list_page(None, page_size)
        while True:
            for found in page:
                yield found
            if page.next is None:
                return
            page = self.list_page(page.next, page_size)

    def hung(
        self, threshold: float = HUNG_AFTER, *, limit: int = 1000
    ) -> _List[AgentInfo]:
        """Live agents that made no progress (no coordination call, no ``progress()``)
        for ``threshold`` seconds, at most ``limit``; each is reported as an
        ``agent_hung`` event once per episode (until it makes progress again)."""
        threshold = _validate.positive(threshold, "threshold")
        limit = _validate.count(limit, "limit", PAGE_MAX)
        reap(self._ctx)
        found, fresh = self._ctx.store.agent_hung(threshold, limit)
        for name in fresh:
            notify(self._ctx, "agent_hung", {"name": name, "threshold_s": threshold})
        return self._holds(found)

    def kill(self, name: str, *, reason: str) -> AgentInfo:
        """The kill switch: revoke at once every lease ``name`` holds (its next waiters
        proceed, its tokens are stale) and make its every later call raise
        ``AgentKilled(reason)``. Emits ``agent_killed`` and writes the audit entry
        ``accord.agent_killed``. UnknownAgent if no such agent."""
        name = _validate.name(name, "agent name")
        reason = _validate.name(reason, "reason")
        found = self._ctx.store.agent_kill(name, reason)
        if found is None:
            raise UnknownAgent(name, self._ctx.store.namespace)
        killed, session = found
        mark_killed(self._ctx.store.namespace, name, session, reason)
        revoked = revoke_everything(self._ctx, name, session)
        notify(self._ctx, "agent_killed", {
            "name": name, "reason": reason, "by": self._ctx.agent, "revoked": revoked,
        })  # fmt: skip
        audit.record(self._ctx, "agent_killed", name=name, reason=reason, revoked=revoked)
        return killed

    def __repr__(self) -> str:
        return f"<AgentRegistry namespace={self._ctx.store.namespace!r}>"


def _with(found: AgentInfo, holds: tuple[str, ...]) -> AgentInfo:
    return AgentInfo(**{**found.__dict__, "holds": holds})


# Sessions of this process by (namespace, name, session), so that a kill made here
# reaches them at once (a session elsewhere learns it from its control mailbox).
here: dict[tuple[str, str, str], Any] = {}


def mark_killed(namespace: str, name: str, session: str, reason: str) -> None:
    """Tell a session of this process at once that it was killed."""
    watch = here.get((namespace, name, session))
    if watch is not None:
        watch.killed = reason
