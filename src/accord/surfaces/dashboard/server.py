"""Run the dashboard: open the store, bind, print where to go, serve until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from types import FrameType

import click
import uvicorn

from accord.surfaces import clikit
from accord.surfaces.dashboard.app import create_app
from accord.surfaces.dashboard.hub import Hub


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
        await _Server(config, app.state.hub).serve(sockets=[sock])


class _Server(uvicorn.Server):
    """Ends the browsers' streams as soon as it is told to stop, so that stopping
    waits for no open page."""

    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self.hub = hub
        self.loop = asyncio.get_running_loop()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.loop.call_soon_threadsafe(self.hub.close)
        super().handle_exit(sig, frame)


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
