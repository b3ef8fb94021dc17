"""The commands on what every store has today: ``status``, ``locks``, ``events``, ``watch``.

Each reads its document from :mod:`accord.surfaces.views` and prints it as a table for
people or, with ``--json``, as the document itself (README, "Command line").
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import click
from rich.console import Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

import accord
from accord.surfaces import views
from accord.surfaces.clikit import (
    StoreArgs,
    connect,
    console,
    json_option,
    print_json,
    print_json_line,
    print_listing,
    run,
    run_until_interrupted,
    shorten,
    store_options,
)

# --- status --------------------------------------------------------------------------------


@click.command()
@store_options
@json_option
def status(store: StoreArgs, as_json: bool) -> None:
    """The store (password hidden), the namespace, locks held and waiting."""
    doc = run(views.read_status, store)
    if as_json:
        print_json(doc)
        return
    console().print(status_grid(doc))


def status_grid(doc: views.Doc) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")  # a long path wraps; it is never cut short
    for label, text in views.status_lines(doc):
        grid.add_row(label, text)
    return grid


# --- locks ---------------------------------------------------------------------------------


@click.command()
@store_options
@json_option
def locks(store: StoreArgs, as_json: bool) -> None:
    """Held locks, semaphores and file leases: holder, mode and intent, fencing token,
    time left, waiters."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.listing(coord, "locks", await views.read_locks(coord))

    print_listing(run(read, store), "locks", as_json, locks_table, title="Locks in {where}",
                  empty="No locks or semaphores are held in {where}.")


def locks_table(found: list[views.Doc], title: str | None = None) -> Table:
    """One row per holder (a semaphore may have several), then its waiters."""
    table = Table(title=title)
    for header in ("name", "kind", "holder", "intent", "token", "expires in", "waiters"):
        table.add_column(header, justify="right" if header in ("token", "expires in") else "left")
    for lock in found:
        kind = lock["kind"]
        if kind == "semaphore":
            kind = f"semaphore {len(lock['holders'])}/{lock['limit']}"
        waiters = ", ".join(lock["waiters"]) or "-"
        if not lock["holders"]:
            table.add_row(lock["name"], kind, "-", "-", "-", "-", waiters)
        for holder in lock["holders"]:
            shown = kind if holder["mode"] == "exclusive" else f"{kind} ({holder['mode']})"
            table.add_row(lock["name"], shown, holder["agent"], holder["intent"] or "-",
                          str(holder["token"]), f"{holder['expires_in']:.1f} s", waiters)
    return table


# --- events --------------------------------------------------------------------------------


@click.command()
@store_options
@click.option("--name", default=None, help="Only events of this name.")
@click.option("--source", default=None, help="Only events emitted by this agent.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True,
              help="How many of the newest events to show.")
@click.option("--follow", "-f", is_flag=True,
              help="Then print new events as they come, until Ctrl-C.")
@json_option
def events(store: StoreArgs, name: str | None, source: str | None, limit: int,
           follow: bool, as_json: bool) -> None:
    """The newest events of the durable log: when, name, source and payload.

    With --follow, the newest events oldest first, then each new one as it is
    emitted, until Ctrl-C (with --json: one JSON document per line).
    """
    if follow:  # until Ctrl-C
        run_until_interrupted(lambda: _follow(store, name, source, limit, as_json))
        return

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        found = await views.read_events(coord, name=name, source=source, limit=limit)
        return views.listing(coord, "events", found)

    print_listing(run(read, store), "events", as_json, events_table,
                  title="Events in {where}, newest first", empty="No events in {where}.")


def events_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    for header in ("id", "time (UTC)", "name", "source", "payload"):
        table.add_column(header)
    for event in found:
        table.add_row(event["id"], _clock(event["time"]), event["name"], event["source"],
                      shorten(json.dumps(event["data"], ensure_ascii=False)))
    return table


def _clock(unix: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(unix))


async def _follow(store: StoreArgs, name: str | None, source: str | None, limit: int,
                  as_json: bool) -> None:
    """The newest ``limit`` events, then every new one. The subscription starts after
    the newest event of the log, read first, so none falls in between or shows twice."""
    async with connect(store) as coord:
        tail = await views.read_events(coord, limit=1)
        after = tail[0]["id"] if tail else "0"
        recent = await views.read_events(coord, name=name, source=source, limit=limit)
        if not as_json:
            console().print(f"Following events in namespace {coord.namespace!r} on "
                            f"{coord.url} (Ctrl-C to stop)", style="dim")
        for doc in reversed(recent):
            if views.id_key(doc["id"]) <= views.id_key(after):
                _print_event(doc, as_json)
        async for event in coord.subscribe(name or "*", after=after):
            if source is None or event.source == source:
                _print_event(views.event_doc(event), as_json)


def _print_event(doc: views.Doc, as_json: bool) -> None:
    if as_json:
        print_json_line(doc)
        return
    line = Text.assemble(
        (_clock(doc["time"]), "dim"), "  ", (doc["name"], "bold cyan"), "  ",
        (doc["source"], "magenta"), "  ", shorten(json.dumps(doc["data"], ensure_ascii=False)),
    )
    console().print(line, soft_wrap=True)


# --- watch ---------------------------------------------------------------------------------


@click.command()
@store_options
@click.option("--interval", type=click.FloatRange(0.2, 60), default=1.0, show_default=True,
              help="Seconds between refreshes.")
def watch(store: StoreArgs, interval: float) -> None:
    """A live status: locks held and waiting, the newest events; until Ctrl-C."""
    run_until_interrupted(lambda: _watch(store, interval))


async def _watch(store: StoreArgs, interval: float) -> None:
    async with connect(store) as coord:
        with Live(await _screen(coord), console=console(), auto_refresh=False) as live:
            while True:
                await asyncio.sleep(interval)
                live.update(await _screen(coord), refresh=True)


async def _screen(coord: accord.AsyncCoordinator) -> RenderableType:
    doc = await views.read_status(coord)
    found = await views.read_locks(coord)
    recent = await views.read_events(coord, limit=8)
    parts: list[Any] = [
        Text(f"accord watch · {time.strftime('%H:%M:%S')} · Ctrl-C to stop", style="dim"),
        status_grid(doc),
    ]
    if found:
        parts.append(locks_table(found, "Locks"))
    if recent:
        parts.append(events_table(recent, "Newest events"))
    return Group(*parts)


COMMANDS = (status, locks, events, watch)
