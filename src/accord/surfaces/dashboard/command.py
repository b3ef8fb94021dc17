"""The ``accord dashboard`` command; the server's dependencies load only when it runs."""

from __future__ import annotations

import click

from accord.surfaces.clikit import Failed, StoreArgs, store_options


@click.command()
@store_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback lets other machines read "
              "the page (changes still need the token).")
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="Port to listen on (0: any free port).")
@click.option("--token", envvar="ACCORD_DASHBOARD_TOKEN", default=None,
              help="The token every change needs (default: $ACCORD_DASHBOARD_TOKEN, else a "
              "new random one, printed at start). At least 16 characters.")
@click.option("--refresh", type=click.FloatRange(0.1, 10), default=0.5, show_default=True,
              help="Seconds between lock listings (the store pushes events, not locks).")
def dashboard(store: StoreArgs, host: str, port: int, token: str | None,
              refresh: float) -> None:
    """Serve a live dashboard of the namespace: locks, events, contention.

    Read-only without the token; every change (a POST) needs it.
    """
    if token is not None and len(token) < 16:
        raise click.BadParameter("use at least 16 characters", param_hint="--token")
    try:
        from accord.surfaces.dashboard import server
    except ImportError as exc:
        raise Failed(f"the dashboard needs its extra: pip install 'accord[dashboard]' "
                     f"({exc})") from None
    server.serve(store, host=host, port=port, token=token, refresh=refresh)


COMMANDS = (dashboard,)
