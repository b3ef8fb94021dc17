"""What a coordinator offers for agents and operators, mixed into the coordinator so
that it stays a thin front: its session (``working_on``, ``progress``), the registry
(``agents``), halting the namespace, its spec for another process, lock metrics and
dropping the namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from accord import _validate
from accord._async import audit
from accord._async._lease import notify
from accord._async.registry import AsyncAgentRegistry
from accord._async.session import AsyncSession
from accord._context import Context, Watch, Watched
from accord._models import ConnectSpec, LockMetrics
from accord.backends import AGENTS, LEASES, AsyncBackend, require
from accord.backends.leases.rule import METRICS
from accord.errors import ConfigError


class AsyncAgency:
    """The agent and operator side of :class:`AsyncCoordinator`."""

    agent: str
    url: str
    namespace: str
    max_payload: int
    max_events: int

    if TYPE_CHECKING:
        _ctx: Context[AsyncBackend]
        _url: str
        _session: AsyncSession | None

    @property
    def agents(self) -> AsyncAgentRegistry:
        """The registry of agents: ``list()``, ``get(name)``, ``hung(threshold)``,
        ``kill(name, reason=...)``."""
        require(self._ctx.store, AGENTS)
        return AsyncAgentRegistry(self._ctx)

    async def _start_session(
        self,
        *,
        role: str,
        working_on: str,
        capabilities: tuple[str, ...],
        heartbeat: float,
    ) -> None:
        """Make this coordinator a session of its agent (see ``accord.session``)."""
        require(self._ctx.store, AGENTS)
        watch = Watch(self.agent)
        session = AsyncSession(
            self._ctx, watch, role=role, working_on=working_on, capabilities=capabilities,
            heartbeat=heartbeat,
        )
        await session.join()
        self._session = session
        self._ctx.store = cast(AsyncBackend, Watched(self._ctx.store, watch))

    def _the_session(self) -> AsyncSession:
        if self._session is None:
            raise ConfigError(
                "this coordinator is not an agent's session: open it with "
                "accord.session(name=...) to report working_on and progress"
            )
        return self._session

    async def working_on(self, text: str) -> None:
        """Say what this agent works on now (the registry shows it); counts as progress."""
        await self._the_session().working_on(text)

    async def progress(self, note: str = "") -> None:
        """Report progress without changing ``working_on`` (any coordination call
        counts too); an agent without progress for a while shows as ``hung``."""
        await self._the_session().progress(note)

    def spec(self) -> ConnectSpec:
        """A small picklable description of this coordinator (URL, namespace, agent,
        limits) for another process: ``accord.connect(**coord.spec())``. Its repr
        hides the URL's password."""
        return ConnectSpec(
            self.url, url=self._url, namespace=self.namespace, agent=self.agent,
            max_payload=self.max_payload, max_events=self.max_events,
        )

    async def halt(self, reason: str) -> None:
        """Stop the whole namespace: every acquisition, claim and emit raises
        ``Halted(reason)`` until :meth:`resume` (reads, releases and the CLI still
        work), so an operator can freeze a runaway swarm without losing state. Audited
        (``accord.namespace_halted``; :meth:`resume` writes ``accord.namespace_resumed``)."""
        require(self._ctx.store, AGENTS)
        reason = _validate.name(reason, "reason")
        await notify(self._ctx, "namespace_halted", {"by": self.agent, "reason": reason})
        await self._ctx.store.halt(reason)
        await audit.record(self._ctx, "namespace_halted", reason=reason)

    async def resume(self) -> None:
        """End a halt; ConfigError if the namespace is not halted."""
        require(self._ctx.store, AGENTS)
        if not await self._ctx.store.resume():
            raise ConfigError(f"namespace {self.namespace!r} is not halted: nothing to resume")
        await notify(self._ctx, "namespace_resumed", {"by": self.agent})
        await audit.record(self._ctx, "namespace_resumed")

    async def halted(self) -> str | None:
        """Why the namespace is halted, or None when it is not."""
        require(self._ctx.store, AGENTS)
        return await self._ctx.store.halt_reason()

    async def drop_namespace(self, *, confirm: str) -> None:
        """Delete everything of this namespace on the store (locks, state, events,
        agents...); ``confirm`` must repeat the namespace's name."""
        require(self._ctx.store, AGENTS)
        if confirm != self.namespace:
            raise ConfigError(
                f"drop_namespace(confirm=...) must repeat the namespace's name "
                f"{self.namespace!r} (got {confirm!r}); nothing was deleted"
            )
        await self._ctx.store.drop_namespace()

    async def metrics(self) -> list[LockMetrics]:
        """Counters of every lock, semaphore and file lease ever used in the namespace,
        kept in the store since it started (so every process and the CLI see the same):
        acquisitions, waits, total and maximum wait, timeouts, deadlocks, lost and
        revoked leases. Reads every lease record of the namespace once."""
        require(self._ctx.store, LEASES)
        found = []
        for prefix in ("lock/", "sem/", "file/"):
            for key, token, counted in await self._ctx.store.lease_metrics(prefix):
                kind, _, name = key.partition("/")
                numbers = dict(zip(METRICS, counted, strict=True))
                found.append(LockMetrics(
                    name, {"sem": "semaphore"}.get(kind, kind), token,
                    waits=int(numbers["waits"]), total_wait=numbers["total_wait"],
                    max_wait=numbers["max_wait"], timeouts=int(numbers["timeouts"]),
                    deadlocks=int(numbers["deadlocks"]),
                    lost_leases=int(numbers["lost_leases"]), revoked=int(numbers["revoked"]),
                ))  # fmt: skip
        return found
