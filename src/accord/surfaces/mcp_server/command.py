"""The ``accord mcp`` command; the SDK loads only when it runs."""

from __future__ import annotations

import asyncio
import re
import secrets

import click

from accord.surfaces.clikit import Failed, StoreArgs, listen, store_options

MIN_TOKEN = 16


def _tokens(ctx: click.Context, param: click.Parameter, given: tuple[str, ...]) -> dict[str, str]:
    """``AGENT=TOKEN`` pairs (repeated, or comma/space separated in the environment)."""
    tokens: dict[str, str] = {}
    for item in (part for value in given for part in re.split(r"[,\s]+", value) if part):
        agent, sep, token = item.partition("=")
        if not sep or not agent or len(token) < MIN_TOKEN:
            raise click.BadParameter(f"{agent or item!r}: give AGENT=TOKEN, the token at least "
                                     f"{MIN_TOKEN} characters")
        if token in tokens:
            raise click.BadParameter(f"one token for two agents ({tokens[token]}, {agent})")
        tokens[token] = agent
    return tokens


@click.command()
@store_options
@click.option("--http", is_flag=True,
              help="Serve streamable HTTP (at /mcp) instead of stdio; agents are told apart "
              "by their bearer tokens.")
@click.option("--host", default="127.0.0.1", show_default=True, help="HTTP: address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8766, show_default=True,
              help="HTTP: port to listen on (0: any free port).")
@click.option("--token", "tokens", multiple=True, envvar="ACCORD_MCP_TOKENS",
              callback=_tokens, metavar="AGENT=TOKEN",
              help="HTTP: a bearer token and the agent it identifies (repeat for more; "
              "default: $ACCORD_MCP_TOKENS, else one new token for --agent, printed at start).")
def mcp(store: StoreArgs, http: bool, host: str, port: int, tokens: dict[str, str]) -> None:
    """Serve accord's tools to coding agents over MCP (stdio, or streamable HTTP).

    On stdio the server acts for one agent, named by --agent or $ACCORD_AGENT. On
    HTTP each request acts for the agent of its bearer token. No tool takes an agent
    name: an agent cannot act as another.
    """
    if not http and store.agent is None:
        raise click.UsageError("name the agent this server acts for: --agent NAME or "
                               "$ACCORD_AGENT")
    if http and not tokens:
        if store.agent is None:
            raise click.UsageError("--http needs --token AGENT=TOKEN (or $ACCORD_MCP_TOKENS), "
                                   "or --agent NAME for one new token")
        tokens = {secrets.token_urlsafe(24): store.agent}
        click.echo(f"accord mcp: bearer token for agent {store.agent!r}: "
                   f"{next(iter(tokens))}", err=True)
    try:
        from accord.surfaces.mcp_server import server
        from accord.surfaces.mcp_server.agents import Agents
    except ImportError as exc:
        raise Failed(f"the MCP server needs its extra: pip install 'accord[mcp]' ({exc})") from None
    try:
        if http:
            sock = listen(host, port)
            agents = Agents(store, tokens=tokens)
            click.echo(f"accord mcp: streamable HTTP on http://{host}:{sock.getsockname()[1]}"
                       f"/mcp for {', '.join(sorted(set(tokens.values())))}", err=True)
            asyncio.run(server.run_http(agents, sock, host))
        else:
            asyncio.run(server.run_stdio(Agents(store, agent=store.agent)))
    except KeyboardInterrupt:  # Ctrl-C is how a server ends
        return


COMMANDS = (mcp,)
