"""Run the dashboard: open the store, bind, print where to go, serve until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import click
import uvicorn

from accord.surfaces import clikit
from accord.surfaces.dashboard.app import create_app


def serve(store: clikit.StoreArgs, *, host: str, port: int, token: str | None,
          refresh: float) -> None:
    """Serve until Ctrl-C; a store that does not answer fails here, before binding."""
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn stops, then raises it again
        asyncio.run(_serve(store, host, port, token, refresh))


async def _serve(store: clikit.StoreArgs, host: str, port: int, token: str | None,
                 refresh: float) -> None:
    given = token is not None
    token = token or secrets.token_urlsafe(24)
    async with clikit.connect(store, "accord-dashboard") as coord:
        await coord.list_locks()  # a store that is down stops us here, with its message
        sock = clikit.listen(host, port)
        base = f"http://{_shown(host)}:{sock.getsockname()[1]}/"
        hosts = {"127.0.0.1", "localhost", "[::1]", "::1", host}
        app = create_app(coord, token=token, refresh=refresh, hosts=sorted(hosts))
        click.echo(f"accord dashboard of namespace {coord.namespace!r} on {coord.url}")
        click.echo(f"  read-only:    {base}")
        if given:
            click.echo(f"  to act:       {base}#token=<the token you set>")
        else:
            click.echo(f"  to act:       {base}#token={token}")
        click.echo("Ctrl-C stops it.")
        config = uvicorn.Config(app, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=1, lifespan="on")
        await uvicorn.Server(config).serve(sockets=[sock])


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
