"""What every ``accord`` command shares: its options, opening the store, printing, exit codes.

A command module (``cli_store.py``, ``dashboard/command.py`` ...) builds its commands
from these pieces and lists them in a ``COMMANDS`` tuple that ``cli.py`` adds to the
command tree::

    @click.command()
    @store_options
    @json_option
    def board(store: StoreArgs, as_json: bool) -> None:
        \"\"\"The board's threads, newest first.\"\"\"

        async def read(coord: accord.AsyncCoordinator) -> views.Doc:
            return views.listing(coord, "threads", await read_threads(coord))

        print_listing(run(read, store), "threads", as_json, threads_table,
                      title="Threads in {where}", empty="No threads in {where}.")

Exit codes: 0 done; 1 the operation failed (:class:`Failed`, any accord error but a bad
argument, an ``OSError``: one line on stderr, no traceback); 2 a usage error (click's,
and ``ConfigError``/``InvalidName``: the URL or a name as typed is wrong).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
from rich.console import Console

import accord

EXIT_FAILED = 1
EXIT_USAGE = 2
T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class Failed(click.ClickException):
    """The operation failed for a reason the message explains: exit status 1."""

    exit_code = EXIT_FAILED

    def show(self, file: Any = None) -> None:
        click.echo(f"accord: error: {one_line(self.format_message())}", err=True)


def one_line(text: str) -> str:
    return " ".join(text.split()) or "failed"


@dataclass(frozen=True)
class StoreArgs:
    """``--url``, ``--namespace`` and ``--agent`` as given (None: the default)."""

    url: str | None
    namespace: str
    agent: str | None

    def agent_or(self, default: str) -> str:
        """The agent given, else ``default`` with this host and process appended."""
        return self.agent or f"{default}@{socket.gethostname()}:{os.getpid()}"


def store_options(fn: F) -> F:
    """``--url`` (``$ACCORD_URL``), ``--namespace`` (``$ACCORD_NAMESPACE``) and
    ``--agent`` (``$ACCORD_AGENT``), passed to the command as ``store: StoreArgs``."""

    fn = click.option(
        "--agent", envvar="ACCORD_AGENT", default=None, metavar="NAME",
        help="Who acts (shown as holder, source, author). Default: $ACCORD_AGENT, else "
        "a name made of the command, this host and the process id.",
    )(fn)
    fn = click.option(
        "--namespace", "-n", envvar="ACCORD_NAMESPACE", default="default",
        help="Namespace to use (default: $ACCORD_NAMESPACE, else 'default').",
    )(fn)
    fn = click.option(
        "--url", envvar="ACCORD_URL", default=None, metavar="URL",
        help="Store URL (memory://, sqlite:///path.db, redis://host:port/0). Default: "
        "$ACCORD_URL, else .accord/accord.db in the nearest directory upward that has "
        ".accord/, else at the top of the git repository, else here.",
    )(fn)
    return _pack(fn)


def store_options_without_agent(fn: F) -> F:
    """``--url`` and ``--namespace`` as :func:`store_options` gives them, for a command
    whose own ``--agent`` means something else (``audit --agent``: a filter)."""
    fn = click.option("--namespace", "-n", envvar="ACCORD_NAMESPACE", default="default",
                      help="Namespace to use (default: $ACCORD_NAMESPACE, else 'default').")(fn)
    fn = click.option("--url", envvar="ACCORD_URL", default=None, metavar="URL",
                      help="Store URL (default: $ACCORD_URL, else the default SQLite store).")(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, url: str | None, namespace: str, **kwargs: Any) -> Any:
        return fn(*args, store=StoreArgs(url, namespace, None), **kwargs)

    return wrapper  # type: ignore[return-value]


def _pack(fn: F) -> F:
    """Hand ``url``, ``namespace`` and ``agent`` to ``fn`` as one ``store`` argument."""

    @functools.wraps(fn)  # with fn's __dict__: the click options declared so far
    def wrapper(*args: Any, url: str | None, namespace: str, agent: str | None,
                **kwargs: Any) -> Any:
        return fn(*args, store=StoreArgs(url, namespace, agent), **kwargs)

    return wrapper  # type: ignore[return-value]


def json_option(fn: F) -> F:
    """``--json``: print the command's document (README, "Command line") instead of a table."""
    return click.option("--json", "as_json", is_flag=True,
                        help="Print one JSON document (see the README) instead of a table.")(fn)


def connect(store: StoreArgs, role: str = "accord-cli") -> accord.AsyncCoordinator:
    """An async coordinator for the store, acting as ``store.agent`` (else ``role``)."""
    return accord.connect_async(
        store.url, namespace=store.namespace, agent=store.agent_or(role)
    )


def run(read: Callable[[accord.AsyncCoordinator], Awaitable[T]], store: StoreArgs,
        role: str = "accord-cli") -> T:
    """Open the store, ``await read(coord)``, close the store, return the result."""

    async def once() -> T:
        async with connect(store, role) as coord:
            return await read(coord)

    return asyncio.run(once())


def run_until_interrupted(main: Callable[[], Awaitable[None]]) -> None:
    """Run ``main()`` until it returns or Ctrl-C, which ends it cleanly (exit status 0)."""

    async def runner() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.ensure_future(main())
        interrupted = asyncio.Event()
        # not on Windows, nor off the main thread: there Ctrl-C raises KeyboardInterrupt
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGINT, interrupted.set)
        waiter = asyncio.ensure_future(interrupted.wait())
        try:
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGINT)
            await cancel(task)  # raises what main() raised, if it failed

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(runner())


async def cancel(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it ended. The cancellation is repeated until it
    lands: on Python 3.10 timed awaits run on ``asyncio.wait_for`` (``accord._aio.within``),
    which loses one that comes just as the awaited read completes (as a Redis store's
    blocking reads can), and the task goes on. On 3.11+ the first one lands."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, asyncio.CancelledError):
        raise exc


def console() -> Console:
    return Console(highlight=False)


def print_json(doc: Any) -> None:
    """One JSON document on stdout (UTF-8, indented, keys in their documented order)."""
    click.echo(json.dumps(doc, indent=2, ensure_ascii=False))


def print_listing(doc: dict[str, Any], key: str, as_json: bool,
                  table: Callable[[Any, str], Any], *, title: str, empty: str) -> None:
    """A listing document (``views.listing``): as it is with ``--json``, else its
    ``key`` items as ``table(items, title)``, or the ``empty`` line. ``{where}`` in
    ``title`` and ``empty`` names the namespace and the store."""
    if as_json:
        print_json(doc)
        return
    where = f"namespace {doc['namespace']!r} on {doc['store']}"
    if not doc[key]:
        console().print(empty.format(where=where))
        return
    console().print(table(doc[key], title.format(where=where)))


def print_json_line(doc: Any) -> None:
    """One JSON document on one line (for streams: ``events --follow --json``)."""
    click.echo(json.dumps(doc, ensure_ascii=False, separators=(",", ":")))


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket for a server command (IPv6 if ``host`` is an IPv6 address;
    port 0: any free port). OSError (exit status 1) if the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(128)
    return sock


def shorten(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
