"""The commands on work and agents' control (issues 12 and 13): ``tasks``, ``task add|show|
retry|cancel``, ``hung``, ``kill``, ``halt``, ``resume``, ``unlock --force``.

Listings print a table, or with ``--json`` the document of :mod:`accord.surfaces.views`
(README, "Command line"); a change prints one line, or with ``--json`` what it changed.
"""

from __future__ import annotations

import json
import time

import click
from rich.table import Table
from rich.text import Text

import accord
from accord.surfaces import views
from accord.surfaces.cli_agents import agents_table
from accord.surfaces.clikit import (
    Failed,
    StoreArgs,
    console,
    json_option,
    print_json,
    print_listing,
    run,
    shorten,
    store_options,
)

queue_option = click.option("--queue", "-q", default="default", show_default=True,
                            help="The task queue.")


# --- tasks ---------------------------------------------------------------------------------


@click.command()
@store_options
@queue_option
@click.option("--status", type=click.Choice(views.TASK_STATUSES), default=None,
              help="Only tasks in this status.")
@click.option("--tag", "tags", multiple=True, help="Only tasks with this tag (repeatable: any).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
def tasks(store: StoreArgs, queue: str, status: str | None, tags: tuple[str, ...],
          limit: int, as_json: bool) -> None:
    """The tasks of a queue, in the order they were put, with their counts by status."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        found = await views.read_tasks(coord, queue, status=status,
                                       tags=list(tags) or None, limit=limit)
        doc = views.listing(coord, "tasks", found)
        doc["counts"] = await views.read_task_counts(coord, queue)
        return doc

    doc = run(read, store)
    print_listing(doc, "tasks", as_json, tasks_table, title=f"Tasks of {queue!r} in {{where}}",
                  empty=f"No tasks in queue {queue!r} of {{where}}.")
    if not as_json:
        counts = doc["counts"]
        console().print("  ".join(f"{s}: {counts[s]}" for s in views.TASK_STATUSES), style="dim")


def tasks_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    for header in ("id", "status", "title", "priority", "tags", "claimed by", "attempts",
                   "error"):
        table.add_column(header)
    for t in found:
        table.add_row(t["id"], t["status"], Text(shorten(t["title"], 50)), str(t["priority"]),
                      ", ".join(t["tags"]) or "-", Text(t["claimed_by"] or "-"),
                      f"{t['attempts']}/{t['max_attempts']}",
                      Text(shorten(t["error"] or "-", 40)))
    return table


@click.group()
def task() -> None:
    """One task: add, show, retry (a dead or failed one), cancel."""


@task.command("add")
@store_options
@queue_option
@click.argument("title")
@click.option("--description", default="", help="What to do, in words.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher goes first.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--data", default=None, metavar="JSON", help="The task's data, as JSON.")
@json_option
def task_add(store: StoreArgs, queue: str, title: str, description: str, priority: int,
             tags: tuple[str, ...], data: str | None, as_json: bool) -> None:
    """Put a task on the queue; prints its id."""
    try:
        value = None if data is None else json.loads(data)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from None

    async def put(coord: accord.AsyncCoordinator) -> views.Doc:
        found = await coord.queue(queue).put(title, description=description,
                                             priority=priority, tags=list(tags), data=value)
        return views.task_doc(found)

    doc = run(put, store)
    if as_json:
        print_json(doc)
    else:
        click.echo(f"task {doc['id']} put on queue {queue!r} ({doc['status']})")


@task.command("show")
@store_options
@queue_option
@click.argument("task_id", metavar="ID")
@json_option
def task_show(store: StoreArgs, queue: str, task_id: str, as_json: bool) -> None:
    """One task with everything stored about it."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc | None:
        found = await coord.queue(queue).get(task_id)
        return None if found is None else views.task_doc(found)

    doc = run(read, store)
    if doc is None:
        raise Failed(f"no task {task_id!r} in queue {queue!r}; `accord tasks --queue "
                     f"{queue}` lists them")
    if as_json:
        print_json(doc)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in doc.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        grid.add_row(key, Text(shown))
    console().print(grid)


@task.command("retry")
@store_options
@queue_option
@click.argument("task_id", metavar="ID")
@json_option
def task_retry(store: StoreArgs, queue: str, task_id: str, as_json: bool) -> None:
    """Make a dead or failed task ready again (attempts from zero)."""
    doc = run(lambda c: _retry(c, queue, task_id), store)
    _changed(doc, as_json, f"task {task_id} is {doc['status']} again")


async def _retry(coord: accord.AsyncCoordinator, queue: str, task_id: str) -> views.Doc:
    return views.task_doc(await coord.queue(queue).retry(task_id))


@task.command("cancel")
@store_options
@queue_option
@click.argument("task_id", metavar="ID")
@click.option("--reason", default="cancelled", show_default=True, help="Why (kept as its error).")
@json_option
def task_cancel(store: StoreArgs, queue: str, task_id: str, reason: str,
                as_json: bool) -> None:
    """Cancel a task that has not finished, and every task waiting for it."""

    async def cancel(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.task_doc(await coord.queue(queue).cancel(task_id, reason))

    doc = run(cancel, store)
    _changed(doc, as_json, f"task {task_id} is {doc['status']}")


def _changed(doc: views.Doc, as_json: bool, line: str) -> None:
    if as_json:
        print_json(doc)
    else:
        click.echo(line)


# --- agents' control -----------------------------------------------------------------------


@click.command()
@store_options
@click.option("--threshold", type=click.FloatRange(min=0.001), default=300.0,
              show_default=True, help="Seconds without progress that make an agent hung.")
@json_option
def hung(store: StoreArgs, threshold: float, as_json: bool) -> None:
    """Live agents without progress for --threshold seconds."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        found = [views.agent_doc(a, True) for a in await coord.agents.hung(threshold)]
        return views.listing(coord, "agents", found)

    print_listing(run(read, store), "agents", as_json, agents_table,
                  title=f"Agents without progress for {threshold:g} s in {{where}}",
                  empty=f"No agent is without progress for {threshold:g} s in {{where}}.")


@click.command()
@store_options
@click.argument("agent_name", metavar="AGENT")
@click.option("--reason", required=True, help="Why (kept with the agent and audited).")
@json_option
def kill(store: StoreArgs, agent_name: str, reason: str, as_json: bool) -> None:
    """The kill switch: revoke every lease AGENT holds; its later calls raise."""

    async def act(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.agent_doc(await coord.agents.kill(agent_name, reason=reason), False)

    doc = run(act, store)
    _changed(doc, as_json, f"agent {agent_name} is {doc['status']}: {reason}")


@click.command()
@store_options
@click.option("--reason", required=True, help="Why (every agent's refused call says it).")
@json_option
def halt(store: StoreArgs, reason: str, as_json: bool) -> None:
    """Halt the namespace: every agent's coordination call raises until `accord resume`."""

    async def act(coord: accord.AsyncCoordinator) -> views.Doc:
        await coord.halt(reason)
        return {"namespace": coord.namespace, "halted": True, "reason": reason}

    doc = run(act, store)
    _changed(doc, as_json, f"namespace {doc['namespace']!r} halted: {reason}")


@click.command()
@store_options
@json_option
def resume(store: StoreArgs, as_json: bool) -> None:
    """Lift a halt: agents' calls work again."""

    async def act(coord: accord.AsyncCoordinator) -> views.Doc:
        await coord.resume()
        return {"namespace": coord.namespace, "halted": False, "reason": None}

    doc = run(act, store)
    _changed(doc, as_json, f"namespace {doc['namespace']!r} resumed")


@click.command()
@store_options
@click.argument("name")
@click.option("--force", is_flag=True, help="Required: free the lock whoever holds it.")
@click.option("--reason", required=True, help="Why (emitted with the release).")
@json_option
def unlock(store: StoreArgs, name: str, force: bool, reason: str, as_json: bool) -> None:
    """Free lock NAME whoever holds it (a dead or stuck holder); the next waiter gets it
    with a newer token. Needs --force."""
    if not force:
        raise click.UsageError("unlock frees a lock another agent holds: add --force to do it")

    async def act(coord: accord.AsyncCoordinator) -> views.Doc:
        dropped = await coord.lock(name).force_release(reason=reason)
        return {"name": name, "released": dropped, "reason": reason, "at": time.time()}

    doc = run(act, store)
    holders = ", ".join(doc["released"]) or "nobody (it was free)"
    _changed(doc, as_json, f"lock {name!r} released from {holders}")


COMMANDS = (tasks, task, hung, kill, halt, resume, unlock)
