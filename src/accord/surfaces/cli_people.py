"""The commands on people in the loop (issue 14): ``board``, ``board show|post``,
``approvals``, ``approve``, ``deny``, ``audit``, and ``metrics`` (lock contention).

Listings print a table, or with ``--json`` the document of :mod:`accord.surfaces.views`
(README, "Command line"). Text written by agents is printed as text, never as markup.
"""

from __future__ import annotations

import json
import time

import click
from rich.table import Table
from rich.text import Text

import accord
from accord.surfaces import views
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
    store_options_without_agent,
)


def _clock(unix: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix))


# --- board ---------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@store_options
@click.option("--status", type=click.Choice(("open", "resolved")), default=None,
              help="Only threads in this status.")
@json_option
@click.pass_context
def board(ctx: click.Context, store: StoreArgs, status: str | None, as_json: bool) -> None:
    """The board's threads, newest first (`board show ID`, `board post TITLE MESSAGE`)."""
    if ctx.invoked_subcommand is not None:
        return

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.listing(coord, "threads", await views.read_threads(coord, status))

    print_listing(run(read, store), "threads", as_json, threads_table,
                  title="Board of {where}, newest first", empty="No threads in {where}.")


def threads_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    for header in ("id", "when (UTC)", "priority", "status", "author", "to", "title"):
        table.add_column(header)
    for t in found:
        table.add_row(t["id"], _clock(t["created_at"]), t["priority"], t["status"],
                      Text(t["author"]), Text(t["to"] or "-"), Text(shorten(t["title"], 60)))
    return table


@board.command("show")
@store_options
@click.argument("thread_id", metavar="ID")
@json_option
def board_show(store: StoreArgs, thread_id: str, as_json: bool) -> None:
    """One thread: its post and every reply, oldest first."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        thread = await coord.board.thread(thread_id)
        doc = views.thread_doc(thread)
        doc["messages"] = [views.message_doc(m) for m in await thread.messages(limit=1000)]
        return doc

    doc = run(read, store)
    if as_json:
        print_json(doc)
        return
    out = console()
    out.print(Text(f"{doc['title']}  [{doc['priority']}, {doc['status']}]", style="bold"))
    for m in doc["messages"]:
        out.print(Text(f"{_clock(m['at'])}  {m['author']}: {m['text']}"))


@board.command("post")
@store_options
@click.argument("title")
@click.argument("message")
@click.option("--priority", type=click.Choice(("low", "normal", "high", "urgent")),
              default="normal", show_default=True)
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--to", default=None, metavar="AGENT", help="Address it to one agent.")
@json_option
def board_post(store: StoreArgs, title: str, message: str, priority: str,
               tags: tuple[str, ...], to: str | None, as_json: bool) -> None:
    """Open a thread on the board; prints its id."""

    async def post(coord: accord.AsyncCoordinator) -> views.Doc:
        thread = await coord.post_thread(title, message, priority, tags=list(tags), to=to)
        return views.thread_doc(thread)

    doc = run(post, store, "accord-board")
    if as_json:
        print_json(doc)
    else:
        click.echo(f"thread {doc['id']} posted")


# --- approvals -----------------------------------------------------------------------------


@click.command()
@store_options
@json_option
def approvals(store: StoreArgs, as_json: bool) -> None:
    """Pending approval requests, oldest first (decide with `approve` or `deny`)."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.listing(coord, "approvals", await views.read_approvals(coord))

    print_listing(run(read, store), "approvals", as_json, approvals_table,
                  title="Pending approvals in {where}",
                  empty="No approval is pending in {where}.")


def approvals_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    for header in ("id", "action", "requested by", "expires in", "details"):
        table.add_column(header)
    now = time.time()
    for a in found:
        table.add_row(a["id"], Text(a["action"]), Text(a["requested_by"]),
                      f"{max(0.0, a['expires_at'] - now):.0f} s",
                      Text(shorten(json.dumps(a["details"], ensure_ascii=False), 60)))
    return table


def _decide(approved: bool):  # type: ignore[no-untyped-def]
    verb = "approve" if approved else "deny"

    @click.command(verb)
    @store_options
    @click.argument("approval_id", metavar="ID")
    @click.option("--reason", default=None, help="Why (kept with the decision).")
    @json_option
    def decide(store: StoreArgs, approval_id: str, reason: str | None, as_json: bool) -> None:
        async def act(coord: accord.AsyncCoordinator) -> views.Doc:
            method = coord.approvals.approve if approved else coord.approvals.deny
            await method(approval_id, reason=reason)
            return views.approval_doc(await coord.approvals.get(approval_id))

        doc = run(act, store, "accord-operator")
        if as_json:
            print_json(doc)
        else:
            click.echo(f"approval {approval_id} ({doc['action']}) {doc['status']}")

    decide.help = (f"{verb.capitalize()} pending approval ID; the agent waiting for it "
                   "goes on at once. Exit status 1 if it is decided already.")
    return decide


approve = _decide(True)
deny = _decide(False)


# --- audit ---------------------------------------------------------------------------------


@click.command()
@store_options_without_agent
@click.option("--agent", "by", default=None, metavar="AGENT", help="Only entries of this agent.")
@click.option("--kind", default=None, help="Only entries of this kind.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, show_default=True)
@click.option("--verify", is_flag=True,
              help="Check the whole hash chain; exit status 1 if an entry was altered.")
@click.option("--export", "export", type=click.Path(dir_okay=False, writable=True), default=None,
              metavar="FILE", help="Write the whole log to FILE as JSON lines.")
@json_option
def audit(store: StoreArgs, by: str | None, kind: str | None, limit: int, verify: bool,
          export: str | None, as_json: bool) -> None:
    """The audit log (hash-chained), oldest first; --verify checks it, --export saves it."""
    if verify or export:
        _audit_check(store, verify, export, as_json)
        return

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.listing(coord, "entries",
                             await views.read_audit(coord, agent=by, kind=kind, limit=limit))

    print_listing(run(read, store), "entries", as_json, audit_table,
                  title="Audit log of {where}", empty="No audit entries in {where}.")


def _audit_check(store: StoreArgs, verify: bool, export: str | None, as_json: bool) -> None:
    async def act(coord: accord.AsyncCoordinator) -> views.Doc:
        doc: views.Doc = {"store": coord.url, "namespace": coord.namespace}
        if verify:
            broken = await coord.audit.verify()
            doc["verified"] = broken is None
            doc["break"] = None if broken is None else {"id": broken.id,
                                                        "reason": broken.reason}
        if export:
            doc["exported"] = await coord.audit.export(export)
            doc["file"] = export
        return doc

    doc = run(act, store)
    if as_json:
        print_json(doc)
    else:
        if export:
            click.echo(f"{doc['exported']} entries written to {export}")
        if verify and doc["verified"]:
            click.echo("audit log verified: every entry is as written")
    if verify and not doc["verified"]:
        raise Failed(f"audit log broken at entry {doc['break']['id']}: "
                     f"{doc['break']['reason']}")


def audit_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    for header in ("id", "time (UTC)", "agent", "kind", "details"):
        table.add_column(header)
    for e in found:
        table.add_row(str(e["id"]), _clock(e["time"]), Text(e["agent"]), Text(e["kind"]),
                      Text(shorten(json.dumps(e["details"], ensure_ascii=False), 80)))
    return table


# --- metrics -------------------------------------------------------------------------------


@click.command()
@store_options
@json_option
def metrics(store: StoreArgs, as_json: bool) -> None:
    """Lock contention: acquisitions, waits, time waited, timeouts, lost and revoked leases."""

    async def read(coord: accord.AsyncCoordinator) -> views.Doc:
        return views.listing(coord, "metrics", await views.read_metrics(coord))

    print_listing(run(read, store), "metrics", as_json, metrics_table,
                  title="Lock contention in {where}, most waited on first",
                  empty="No lock was taken in {where} yet.")


def metrics_table(found: list[views.Doc], title: str | None = None) -> Table:
    table = Table(title=title)
    headers = ("name", "kind", "acquisitions", "waits", "mean wait", "max wait", "timeouts",
               "deadlocks", "lost", "revoked")
    for header in headers:
        table.add_column(header, justify="left" if header in ("name", "kind") else "right")
    for m in found:
        table.add_row(m["name"], m["kind"], str(m["acquisitions"]), str(m["waits"]),
                      f"{m['mean_wait'] * 1000:.1f} ms", f"{m['max_wait'] * 1000:.1f} ms",
                      str(m["timeouts"]), str(m["deadlocks"]), str(m["lost_leases"]),
                      str(m["revoked"]))
    return table


COMMANDS = (board, approvals, approve, deny, audit, metrics)
