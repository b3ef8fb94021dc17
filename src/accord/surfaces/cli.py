"""The ``accord`` command line.

Commands are small functions on the ``main`` group; the options they share
(``--url``, ``--namespace``) are decorators, and :func:`connected` opens the store.
Any accord error (a bad URL, a store that is down) becomes one line on stderr and
exit status 2, never a traceback. To add a command::

    @main.command()
    @url_option
    @namespace_option
    def board(url: str | None, namespace: str) -> None:
        \"\"\"One line of help.\"\"\"
        with connected(url, namespace) as coord:
            ...
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

import accord
from accord.errors import AccordError
from accord.surfaces import demo as demo_mod

EXIT_ERROR = 2
F = TypeVar("F", bound=Callable[..., Any])


class _Group(click.Group):
    """Turns the errors a user can cause into a one-line message and exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (AccordError, demo_mod.DemoFailed, OSError) as exc:
            detail = str(exc).replace("\n", " ").strip() or type(exc).__name__
            click.echo(f"accord: error: {detail}", err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(accord.__version__, prog_name="accord")
def main() -> None:
    """Coordination for AI agents: leased locks, semaphores, rate limits, versioned
    state and events."""


def url_option(fn: F) -> F:
    """``--url``: the store; default ``$ACCORD_URL``, else the default SQLite store."""
    return click.option(
        "--url",
        metavar="URL",
        default=None,
        help="Store URL (memory://, sqlite:///path.db, redis://host:port/0). "
        "Default: $ACCORD_URL, else .accord/accord.db in the nearest directory upward "
        "that has .accord/, else at the top of the git repository, else here.",
    )(fn)


def namespace_option(fn: F) -> F:
    """``--namespace``: the namespace to look at (default ``default``)."""
    return click.option(
        "--namespace", "-n", default="default", show_default=True, help="Namespace to show."
    )(fn)


@contextmanager
def connected(url: str | None, namespace: str) -> Iterator[accord.Coordinator]:
    """A coordinator for one command, closed when the command is done."""
    coord = accord.connect(url, namespace=namespace, agent=f"accord-cli:{os.getpid()}")
    try:
        yield coord
    finally:
        coord.close()


def console() -> Console:
    return Console(highlight=False)


# --- commands ----------------------------------------------------------------------


@main.command()
@url_option
@click.option("--agents", type=click.IntRange(1, 64), default=demo_mod.DEFAULT_AGENTS,
              show_default=True, help="Agent processes selling and restocking at once.")
@click.option("--ops", type=click.IntRange(1, 10_000), default=demo_mod.DEFAULT_OPS,
              show_default=True, help="Sales or restocks per agent, in each mode.")
@click.option("--think", type=click.FloatRange(0, 1), default=demo_mod.DEFAULT_THINK,
              show_default=True, help="Seconds an agent thinks between reading and writing.")
def demo(url: str | None, agents: int, ops: int, think: float) -> None:
    """Replay the inventory incident: lost updates, then state.update, then a lock.

    Agents sell and restock one item concurrently, first uncoordinated (read,
    think, write), then with state.update, then holding a lock; the table shows
    expected and final stock and how many updates were lost in each mode.
    """
    results = demo_mod.show(demo_mod.config(url, agents, ops, think), console())
    if any(r.lost or r.final != r.expected for r in results[1:]):
        raise SystemExit(1)


@main.command()
@url_option
@namespace_option
def locks(url: str | None, namespace: str) -> None:
    """Held locks, semaphores and file leases: holder, mode and intent, fencing token,
    time left, waiters."""
    with connected(url, namespace) as coord:
        found = coord.list_locks()
        where = f"namespace {namespace!r} on {coord.url}"
    out = console()
    if not found:
        out.print(f"No locks or semaphores are held in {where}.")
        return
    out.print(locks_table(found, where))


def locks_table(found: list[accord.LeaseStatistics], where: str) -> Table:
    """One row per holder (a semaphore may have several), then its waiters."""
    table = Table(title=f"Locks in {where}")
    for header in ("name", "kind", "holder", "intent", "token", "expires in", "waiters"):
        table.add_column(header, justify="right" if header in ("token", "expires in") else "left")
    for stats in found:
        kind = stats.kind if stats.kind != "sem" else (
            f"semaphore {len(stats.holders)}/{stats.limit}")
        waiters = ", ".join(stats.waiters) if stats.waiters else "-"
        if not stats.holders:
            table.add_row(stats.name, kind, "-", "-", "-", "-", waiters)
        for holder in stats.holders:
            shown = f"{kind} (shared)" if holder.shared else kind
            table.add_row(stats.name, shown, holder.agent, holder.intent or "-",
                          str(holder.token), f"{holder.expires_in:.1f} s", waiters)
    return table


@main.command()
@url_option
@namespace_option
@click.option("--hung-after", type=click.FloatRange(min=0.001), default=300.0,
              show_default=True, help="Seconds without progress that make an agent hung.")
def agents(url: str | None, namespace: str, hung_after: float) -> None:
    """Registered agents: status, role, what they work on and hold, last progress."""
    with connected(url, namespace) as coord:
        found = list(coord.agents.list())
        hung = {a.name for a in coord.agents.hung(hung_after)}
        where = f"namespace {namespace!r} on {coord.url}"
    out = console()
    if not found:
        out.print(f"No agents are registered in {where}.")
        return
    table = Table(title=f"Agents in {where}")
    for header in ("name", "status", "role", "working on", "holds", "host:pid",
                   "progress"):
        table.add_column(header)
    now = time.time()
    for agent in found:
        status = "hung" if agent.name in hung else agent.status
        table.add_row(agent.name, status, agent.role or "-", agent.working_on or "-",
                      "; ".join(agent.holds) or "-", f"{agent.host}:{agent.pid}",
                      f"{max(0.0, now - agent.last_progress):.0f} s ago")
    out.print(table)


@main.command()
@url_option
@namespace_option
def status(url: str | None, namespace: str) -> None:
    """The store (password hidden), the namespace and how many locks are held."""
    with connected(url, namespace) as coord:
        found = coord.list_locks()
        store = coord.url
    held = [s for s in found if s.holders]
    semaphores = sum(1 for s in held if s.kind != "lock")
    grid = Table.grid(padding=(0, 2))
    grid.add_column()
    grid.add_column(overflow="fold")  # a long path wraps; it is never cut short
    grid.add_row("store", store)
    grid.add_row("namespace", namespace)
    grid.add_row("held locks", f"{len(held)} ({len(held) - semaphores} locks, "
                 f"{semaphores} semaphores)")
    grid.add_row("waiting", str(sum(len(s.waiters) for s in found)))
    console().print(grid)


@main.command()
@url_option
@namespace_option
@click.option("--name", default=None, help="Only events of this name.")
@click.option("--source", default=None, help="Only events emitted by this agent.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="How many of the newest events to show.")
def events(
    url: str | None, namespace: str, name: str | None, source: str | None, limit: int
) -> None:
    """The newest events of the durable log: when, name, source and payload."""
    with connected(url, namespace) as coord:
        found = coord.events.history(name=name, source=source, limit=limit)
        where = f"namespace {namespace!r} on {coord.url}"
    out = console()
    if not found:
        out.print(f"No events in {where}.")
        return
    table = Table(title=f"Events in {where}, newest first")
    for header in ("id", "time (UTC)", "name", "source", "payload"):
        table.add_column(header)
    for event in found:
        when = time.strftime("%H:%M:%S", time.gmtime(event.time))
        payload = json.dumps(event.data, ensure_ascii=False)
        shown = payload if len(payload) <= 80 else payload[:77] + "..."
        table.add_row(event.id, when, event.name, event.source, shown)
    out.print(table)
