"""Enforcement hooks: ``accord guard install``, ``accord guard check [PATHS]`` (and the
git pre-commit hook it installs) and ``accord hook pre-edit`` (a coding agent's
pre-tool-use hook, Claude Code's ``PreToolUse`` shape).

They refuse what touches a file another agent leased exclusively, naming the holder
and its intent (:mod:`accord.surfaces.guard`). ``$ACCORD_GUARD_BYPASS`` (its value is
the reason) lets a commit through anyway; the bypass is written to the audit log.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

import accord
from accord.surfaces import guard as rule
from accord.surfaces.clikit import EXIT_FAILED, Failed, StoreArgs, print_json, run, store_options

HOOK_MARK = "# installed by accord guard install"
EDIT_TOOLS = {"Edit": "file_path", "Write": "file_path", "MultiEdit": "file_path",
              "NotebookEdit": "notebook_path"}


@click.group()
def guard() -> None:
    """Refuse commits that touch files another agent leased (a git pre-commit hook)."""


@guard.command("check")
@store_options
@click.argument("paths", nargs=-1)
@click.option("--staged", is_flag=True, help="Check the files staged for commit (git).")
@click.option("--json", "as_json", is_flag=True, help="Print the conflicts as one JSON document.")
def check(store: StoreArgs, paths: tuple[str, ...], staged: bool, as_json: bool) -> None:
    """Exit status 1 if another agent holds an exclusive lease on one of PATHS (or on a
    directory above it), naming holder and intent; 0 if none does.

    $ACCORD_AGENT (or --agent) is who you are: your own leases never conflict. With
    $ACCORD_GUARD_BYPASS=REASON set, conflicts are reported, audited, and let through.
    """
    wanted = list(paths) + (_staged() if staged else [])
    bypass = rule.bypass_reason()

    async def act(coord: accord.AsyncCoordinator) -> list[dict[str, Any]]:
        found = await rule.conflicts(coord, wanted, store.agent)
        if found and bypass is not None:
            await coord.audit.log(rule.AUDIT_KIND, reason=bypass,
                                  conflicts=[dict(c) for c in found])
        return found

    found = run(act, store, "accord-guard") if wanted else []
    if as_json:
        print_json({"conflicts": found, "bypassed": bool(found) and bypass is not None})
    if not found:
        return
    for conflict in found:
        click.echo(f"accord guard: {rule.describe(conflict)}", err=True)
    if bypass is not None:
        click.echo(f"accord guard: let through by ${rule.BYPASS} ({bypass}); audited",
                   err=True)
        return
    click.echo(f"accord guard: refused. Wait for the lease to end or ask its holder (accord "
               f"board post); to override, set {rule.BYPASS}=REASON (audited).", err=True)
    sys.exit(EXIT_FAILED)


def _staged() -> list[str]:
    out = subprocess.run(["git", "diff", "--cached", "--name-only", "-z"], check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.split("\0") if p]


@guard.command("install")
@click.option("--url", default=None, metavar="URL",
              help="Store URL written into the hook (default: $ACCORD_URL when it runs).")
@click.option("--force", is_flag=True, help="Replace a pre-commit hook accord did not write.")
def install(url: str | None, force: bool) -> None:
    """Write the git pre-commit hook of this repository: a commit touching a file another
    agent leased exclusively is refused. The committer is $ACCORD_AGENT."""
    try:
        hooks = subprocess.run(["git", "rev-parse", "--git-path", "hooks"], check=True,
                               capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        raise Failed("not in a git repository: run `accord guard install` inside one") from None
    hook = Path(hooks) / "pre-commit"
    if hook.exists() and HOOK_MARK not in hook.read_text(errors="replace") and not force:
        raise Failed(f"{hook} exists and was not written by accord: add --force to replace "
                     "it, or call `accord guard check --staged` from it")
    args = [sys.executable, "-m", "accord", "guard", "check", "--staged"]
    if url:
        args += ["--url", url]
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(f"#!/bin/sh\n{HOOK_MARK}\nexec {shlex.join(args)}\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    click.echo(f"installed {hook}")


@click.group()
def hook() -> None:
    """Hooks for coding agents (Claude Code's PreToolUse)."""


@hook.command("pre-edit")
@store_options
def pre_edit(store: StoreArgs) -> None:
    """Read a PreToolUse hook's JSON on stdin (tool_name, tool_input.file_path); deny the
    edit, naming holder and intent, when another agent leased the file exclusively;
    else print nothing (the edit goes on)."""
    try:
        event = json.loads(sys.stdin.read() or "{}")
    except ValueError as exc:
        raise Failed(f"the hook's input is not JSON ({exc}): configure accord hook "
                     "pre-edit as a PreToolUse command hook") from None
    key = EDIT_TOOLS.get(str(event.get("tool_name", "")))
    tool_input = event.get("tool_input") or {}
    path = tool_input.get(key) if key and isinstance(tool_input, dict) else None
    if not isinstance(path, str) or not path:
        return
    cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else None
    if cwd is not None and not os.path.isdir(cwd):
        cwd = None

    async def act(coord: accord.AsyncCoordinator) -> list[dict[str, Any]]:
        return await rule.conflicts(coord, [path], store.agent, cwd)

    found = run(act, store, "accord-hook")
    if not found:
        return
    reason = "; ".join(rule.describe(c) for c in found)
    print_json({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": f"accord: {reason}. Work on another file, or wait for "
        "the lease to end (accord locks shows it).",
    }})


COMMANDS = (guard, hook)
