"""The commands on agents (issue 13): ``agents``.

Each reads its document from :mod:`accord.surfaces.views` and prints it as a table for
people or, with ``--json``, as the document itself (README, "Command line").
"""

from __future__ import annotations

import time

import click
from rich.table import Table

import accord
from accord.surfaces import views
from accord.surfaces.clikit import StoreArgs, json_option, print_listing, run, store_options


@click.command()
@store_options
@click.option("--hung-after", type=click.FloatRange(min=0.001), default=300.0,
              show_default=True, help="Seconds without progress that make an agent hung.")
@json_option
def agents(store: StoreArgs, hung_after: float, as_json: bool) -> None:
    """Registered agents: status, role, what they work on and hold, last progress."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.listing(coord, "agents", await views.read_agents(coord, hung_after))

    print_listing(run(read, store), "agents", as_json, agents_table, title="Agents in {where}",
                  empty="No agents are registered in {where}.")


def agents_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    for header in ("name", "status", "role", "working on", "holds", "host:pid", "progress"):
        table.add_column(header)
    now = time.time()
    for agent in found:
        table.add_row(agent["name"], agent["status"], agent["role"] or "-",
                      agent["working_on"] or "-", "; ".join(agent["holds"]) or "-",
                      f"{agent['host']}:{agent['pid']}",
                      f"{max(0.0, now - agent['last_progress']):.0f} s ago")
    return table


COMMANDS = (agents,)
