"""Who a tool call acts for, and what that agent holds.

The identity comes from how the server was started, never from a tool's arguments:
``--agent`` (or ``$ACCORD_AGENT``) for a server on stdio, which serves one agent; the
bearer token of the HTTP request for a server on streamable HTTP, which serves every
agent it has a token for. Each agent gets its own coordinator (the agent name is
what other agents see as holder and source) and the leases it took through this
server, kept between calls until released, expired or the server stops (then they
are released: the agent that could renew them is gone).
"""

from __future__ import annotations

import contextlib
import hmac
from dataclasses import dataclass, field

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

import accord
from accord.errors import AccordError
from accord.surfaces import clikit


@dataclass
class AgentSession:
    """One agent: its coordinator and the leases it holds, by lock name."""

    agent: str
    coord: accord.AsyncCoordinator
    leases: dict[str, accord.AsyncLease] = field(default_factory=dict)
    files: dict[str, accord.AsyncFileLease] = field(default_factory=dict)
    claims: dict[str, accord.AsyncClaim] = field(default_factory=dict)

    def held(self) -> list[dict[str, object]]:
        """The leases this agent took here and has not released (as this server knows)."""
        return [
            {"name": name, "token": lease.token, "expires_in": round(lease.expires_in, 3)}
            for name, lease in sorted(self.leases.items()) if not lease.released
        ]


class Agents:
    """The agents this server acts for; ``tokens`` maps bearer tokens to agents (HTTP)."""

    def __init__(self, store: clikit.StoreArgs, *, agent: str | None = None,
                 tokens: dict[str, str] | None = None) -> None:
        if (agent is None) == (not tokens):
            raise ValueError("give the agent (stdio) or the tokens (HTTP), not both")
        self.store = store
        self.agent = agent
        self.tokens = dict(tokens or {})
        self._sessions: dict[str, AgentSession] = {}
        self._reader: accord.AsyncCoordinator | None = None

    def reader(self) -> accord.AsyncCoordinator:
        """The server's own coordinator, for what reads the same for every agent."""
        if self._reader is None:
            self._reader = self._connect("accord-mcp")
        return self._reader

    def _connect(self, agent: str) -> accord.AsyncCoordinator:
        return accord.connect_async(self.store.url, namespace=self.store.namespace,
                                    agent=agent)

    def agent_of_token(self, token: str) -> str | None:
        """The agent of a bearer token (every token compared in constant time), or None."""
        found = None
        for known, agent in self.tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = agent
        return found

    def who(self, ctx: Context) -> str:
        """The agent of this call: the server's, or the request's bearer token's."""
        if self.agent is not None:
            return self.agent
        header = (ctx.headers or {}).get("authorization", "")
        scheme, _, token = header.partition(" ")
        agent = self.agent_of_token(token.strip()) if scheme.lower() == "bearer" else None
        if agent is None:  # the HTTP gate refuses such requests before they get here
            raise ToolError("no agent: this server needs 'Authorization: Bearer <token>'")
        return agent

    def session(self, ctx: Context) -> AgentSession:
        agent = self.who(ctx)
        found = self._sessions.get(agent)
        if found is None:
            found = self._sessions[agent] = AgentSession(agent, self._connect(agent))
        return found

    async def aclose(self) -> None:
        """Release what the agents still hold here, then close their coordinators."""
        sessions, self._sessions = list(self._sessions.values()), {}
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.aclose()
        for session in sessions:
            held: list[accord.AsyncLease | accord.AsyncFileLease | accord.AsyncClaim] = [
                *session.leases.values(), *dict.fromkeys(session.files.values()),
                *session.claims.values()]
            for lease in held:
                # expired already, or the store is gone: then it expires on its own
                with contextlib.suppress(AccordError):
                    await lease.release()
            await session.coord.aclose()


def agents_of(ctx: Context) -> Agents:
    """The :class:`Agents` of the server this call came to (its lifespan state)."""
    agents = ctx.request_context.lifespan_context
    assert isinstance(agents, Agents)
    return agents


def session(ctx: Context) -> AgentSession:
    """The calling agent's session."""
    return agents_of(ctx).session(ctx)
