"""The ``accord`` command line: one command tree.

The commands live in modules by what they show, each exporting a ``COMMANDS`` tuple;
this module adds them to the tree (:data:`COMMAND_MODULES`) and turns errors into exit
codes: 0 done, 1 the operation failed, 2 a usage error, never a traceback for an
expected error (:mod:`accord.surfaces.clikit` says which is which). To add commands,
write a module on :mod:`~accord.surfaces.clikit` (options, ``run``, ``print_json``) and
:mod:`~accord.surfaces.views` (the documents), and list its ``COMMANDS`` below.
"""

from __future__ import annotations

from typing import Any

import click

import accord
from accord.errors import AccordError, ConfigError, InvalidName
from accord.surfaces import cli_agents, cli_guard, cli_people, cli_store, cli_work, clikit
from accord.surfaces import demo as demo_mod
from accord.surfaces.dashboard import command as dashboard_command
from accord.surfaces.mcp_server import command as mcp_command


class _Group(click.Group):
    """Turns the errors a user can meet into one line on stderr and an exit status."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ConfigError, InvalidName) as exc:
            _fail(ctx, exc, clikit.EXIT_USAGE)
        except (AccordError, demo_mod.DemoFailed, OSError) as exc:
            _fail(ctx, exc, clikit.EXIT_FAILED)


def _fail(ctx: click.Context, exc: BaseException, code: int) -> None:
    detail = clikit.one_line(str(exc)) if str(exc).strip() else type(exc).__name__
    click.echo(f"accord: error: {detail}", err=True)
    ctx.exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(accord.__version__, prog_name="accord")
def main() -> None:
    """Coordination for AI agents: leased locks, semaphores, rate limits, versioned
    state and events.

    Every command takes --url, --namespace and --agent (or $ACCORD_URL,
    $ACCORD_NAMESPACE, $ACCORD_AGENT); every listing takes --json. Exit status: 0
    done, 1 the operation failed, 2 a usage error.
    """


@main.command()
@click.option("--url", envvar="ACCORD_URL", metavar="URL", default=None,
              help="Store URL (default: $ACCORD_URL, else the default SQLite store).")
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
    results = demo_mod.show(demo_mod.config(url, agents, ops, think), clikit.console())
    if any(r.lost or r.final != r.expected for r in results[1:]):
        raise SystemExit(clikit.EXIT_FAILED)


# The modules whose COMMANDS join the tree.
COMMAND_MODULES = (cli_store, cli_agents, cli_work, cli_people, cli_guard,
                   dashboard_command, mcp_command)

for _module in COMMAND_MODULES:
    for _command in _module.COMMANDS:
        main.add_command(_command)
