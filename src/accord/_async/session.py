"""Sessions: an agent that registers, keeps a heartbeat lease, reports progress, and
leaves (``accord.session(...)``).

Liveness and progress are apart. A background worker (a thread, or a task of the
session's event loop) renews the heartbeat lease every ``heartbeat / 3`` seconds:
it says the process lives. Progress is any coordination call of the agent (the
session's store counts them, see ``Watched``; renewals and the event reader's reads
do not) or ``progress()``; a heartbeat carries how long ago the last one was, so an
agent stuck in a long tool loop shows as ``hung`` while its heartbeat goes on. The
worker also sleeps on the session's control mailbox: a kill posts ``kill`` there,
so a killed session learns it at once, and every call of it raises AgentKilled.

Each heartbeat also reaps (see ``registry.reap``): a session killed with ``kill -9``
is marked dead, and its leases revoked, by the next heartbeat of any other session
after its lease lapsed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import Any

from accord import _validate
from accord._async import _rt
from accord._async._lease import notify
from accord._async.registry import here, reap, revoke_everything
from accord._context import Context, Watch
from accord.backends import AsyncBackend, AsyncMailbox
from accord.backends.agents.rule import HUNG_AFTER, AgentRecord
from accord.errors import AgentExists

log = logging.getLogger("accord")


class AsyncSession:
    """One agent's registration and heartbeat (the coordinator's ``_session``)."""

    def __init__(
        self,
        ctx: Context[AsyncBackend],
        watch: Watch,
        *,
        role: str,
        working_on: str,
        capabilities: tuple[str, ...],
        heartbeat: float,
    ) -> None:
        self._ctx = ctx
        self._store: Any = getattr(ctx.store, "unwatched", ctx.store)
        self.watch = watch
        self.name = ctx.agent
        self.id = ctx.id
        self.ttl = _validate.positive(heartbeat, "heartbeat", minimum=0.05)
        if isinstance(capabilities, str):
            raise TypeError("capabilities= takes a tuple of names, e.g. ('backend',)")
        self._record = AgentRecord(
            name=self.name,
            session=self.id,
            role=_check(role, "role"),
            working_on=_check(working_on, "working_on"),
            capabilities=[_validate.name(c, "capability") for c in capabilities],
            host=socket.gethostname(),
            pid=os.getpid(),
            ttl=self.ttl,
        )
        self._reported = watch.progress_at  # the progress the last heartbeat carried
        self._mailbox: AsyncMailbox | None = None
        self._worker: Any = None
        self._stopping = False
        self._views: list[tuple[str, str, Watch, bool]] = []  # name, session, watch, joined

    def add_view(self, name: str, session: str, watch: Watch) -> None:
        """Register ``coord.as_agent(name)`` as an agent of its own with the next
        heartbeat, which beats for it from then on (a kill of it reaches ``watch``)."""
        self._views.append((name, session, watch, False))
        here[self._ctx.store.namespace, name, session] = watch

    async def join(self) -> None:
        """Register (AgentExists if a live session has the name) and start beating."""
        self._mailbox = await self._store.open_mailbox()
        self._record.mailbox = self._mailbox.id
        try:
            replaced = await self._store.agent_join(self._record)
        except BaseException:
            await self._mailbox.aclose()
            raise
        here[self._ctx.store.namespace, self.name, self.id] = self.watch
        if replaced is not None:  # a lapsed session of this name: it is dead
            revoked = await revoke_everything(self._ctx, self.name, replaced)
            await notify(self._ctx, "agent_dead", {"name": self.name, "revoked": revoked})
        await notify(self._ctx, "agent_joined", {
            "name": self.name, "role": self._record.role, "host": self._record.host,
            "pid": self._record.pid,
        })  # fmt: skip
        self._worker = _rt.spawn(self._run, f"accord-heartbeat-{self.name}")

    async def _run(self) -> None:
        mailbox = self._mailbox
        assert mailbox is not None
        while not self._stopping:
            await mailbox.wait(self.ttl / 3)  # a kill, a stop, or the next heartbeat
            if self._stopping:
                return
            try:
                await self.beat()
            except Exception:  # an outage: the next heartbeat tries again
                log.warning("accord: heartbeat of %s failed", self.name, exc_info=True)
            if self.watch.killed is not None:
                return

    async def beat(self, working_on: str | None = None) -> None:
        """Renew the heartbeat lease, with the progress made since the last one; then
        reap the dead and report the hung."""
        progress_at = self.watch.progress_at
        ago = None if progress_at <= self._reported else max(0.0, time.monotonic() - progress_at)
        status, reason = await self._store.agent_beat(
            self.name, self.id, self.ttl, ago, working_on
        )
        if status == "killed":
            self.watch.killed = reason
            return
        if status == "gone":
            log.warning("accord: agent %s was deregistered under this session", self.name)
            return
        self._reported = progress_at
        await self._beat_views()
        await reap(self._ctx)
        _, fresh = await self._store.agent_hung(HUNG_AFTER, 100)
        for name in fresh:
            await notify(self._ctx, "agent_hung", {"name": name, "threshold_s": HUNG_AFTER})

    async def _beat_views(self) -> None:
        """Join the views made since the last heartbeat; renew the others' leases."""
        for i, (name, session, watch, joined) in enumerate(self._views):
            if watch.killed is not None:
                continue
            if not joined:
                rec = AgentRecord(
                    name=name, session=session, role=self._record.role, host=self._record.host,
                    pid=self._record.pid, ttl=self.ttl, mailbox=self._record.mailbox,
                )
                try:
                    await self._store.agent_join(rec)
                except AgentExists as exc:
                    log.warning("accord: view %s not registered: %s", name, exc)
                    continue
                self._views[i] = (name, session, watch, True)
                await notify(self._ctx, "agent_joined", {
                    "name": name, "role": rec.role, "host": rec.host, "pid": rec.pid,
                    "via": self.name,
                })  # fmt: skip
                continue
            ago = max(0.0, time.monotonic() - watch.progress_at)
            status, reason = await self._store.agent_beat(name, session, self.ttl, ago, None)
            if status == "killed":
                watch.killed = reason

    async def working_on(self, text: str) -> None:
        """Say what the agent works on now (shown by the registry); counts as progress."""
        text = _check(text, "working_on")
        self.watch.check()
        self.watch.progress_at = time.monotonic()
        await self.beat(text)

    async def progress(self, note: str = "") -> None:
        """Report progress without changing ``working_on``."""
        if note:
            _check(note, "note")
        self.watch.check()
        self.watch.progress_at = time.monotonic()
        await self.beat()

    async def leave(self) -> None:
        """Stop beating, release everything this session holds and deregister."""
        self._stopping = True
        here.pop((self._ctx.store.namespace, self.name, self.id), None)
        mailbox, self._mailbox = self._mailbox, None
        if mailbox is None:
            return
        try:
            if self._worker is not None:
                await self._store.post(mailbox.id, "stop")
                await _rt.stop(self._worker, 5.0)
            for name, session, watch, _ in [*self._views, (self.name, self.id, self.watch, True)]:
                here.pop((self._ctx.store.namespace, name, session), None)
                revoked = await revoke_everything(self._ctx, name, session, give_back=True)
                if watch is not None and watch.killed is not None:
                    continue  # a killed agent stays in the registry as killed
                if await self._store.agent_leave(name, session):
                    await notify(self._ctx, "agent_left", {"name": name, "released": revoked})
        finally:
            await mailbox.aclose()


def _check(text: str, what: str) -> str:
    """Free text shown by the registry: a str of at most 512 printable characters
    (empty allowed)."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, not {type(text).__name__}")
    return _validate.name(text, what) if text else text
