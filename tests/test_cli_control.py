"""The `accord` commands on tasks, agents' control, people in the loop and enforcement:
the real console script in subprocesses against a SQLite file and the session's
redis-server; `accord guard` and `accord hook pre-edit` on a real git repository with
two agents."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

import accord
from tests._surfaces import ACCORD, run_cli, store_url


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path, request)


def cli_json(*args: str, **env: str) -> Any:
    done = run_cli(*args, "--json", **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_tasks_board_halt_metrics_audit(url: str, tmp_path: Path) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    where = ("--url", url, "-n", ns)
    with accord.connect(url, namespace=ns, agent="worker") as coord:
        queue = coord.queue("builds")
        dead = queue.put("compile", tags=["ci"], max_attempts=1)
        queue.put("lint", tags=["style"])
        claim = queue.claim(tags=["ci"])
        assert claim is not None and claim.id == dead.id
        claim.fail("compiler crashed", retry=False)
        with coord.lock("db", ttl=5):
            pass
        coord.log_decision("chose-sqlite", reason="one file")

        listed = cli_json("tasks", *where, "--queue", "builds", "--status", "dead")
        assert [t["id"] for t in listed["tasks"]] == [dead.id]
        assert listed["tasks"][0]["error"] == "compiler crashed"
        assert listed["counts"]["dead"] == 1 and listed["counts"]["ready"] == 1
        tagged = cli_json("tasks", *where, "-q", "builds", "--tag", "style")
        assert [t["title"] for t in tagged["tasks"]] == ["lint"]

        retried = cli_json("task", "retry", *where, "-q", "builds", dead.id)
        assert retried["status"] == "ready" and retried["attempts"] == 0
        again = run_cli("task", "retry", *where, "-q", "builds", dead.id)
        assert again.returncode == 1 and "only a dead or failed task" in again.stderr
        assert "Traceback" not in again.stderr
        missing = run_cli("task", "show", *where, "-q", "builds", "999")
        assert missing.returncode == 1 and "no task '999'" in missing.stderr
        added = cli_json("task", "add", *where, "-q", "builds", "docs", "--tag", "x",
                         "--data", '{"n": 1}')
        assert queue.get(added["id"]).data == {"n": 1}  # type: ignore[union-attr]
        assert cli_json("task", "cancel", *where, "-q", "builds", added["id"])["status"] \
            == "cancelled"

        posted = cli_json("board", "post", *where, "--agent", "alice", "who owns db?",
                          "[bold]not markup[/bold]", "--priority", "high")
        threads = cli_json("board", *where)["threads"]
        assert [(t["id"], t["author"], t["priority"]) for t in threads] == \
            [(posted["id"], "alice", "high")]
        shown = run_cli("board", "show", *where, posted["id"])
        assert shown.returncode == 0 and "[bold]not markup[/bold]" in shown.stdout

        assert run_cli("halt", *where, "--reason", "deploy freeze").returncode == 0
        status = cli_json("status", *where)
        assert status["halted"] == {"halted": True, "reason": "deploy freeze"}
        assert status["tasks"]["queue"] == "default" and status["approvals"] == {"pending": 0}
        assert run_cli("resume", *where).returncode == 0
        assert cli_json("status", *where)["halted"]["halted"] is False

        metrics = cli_json("metrics", *where)["metrics"]
        assert [m["acquisitions"] for m in metrics if m["name"] == "db"] == [1]
        entries = cli_json("audit", *where, "--kind", "chose-sqlite")["entries"]
        assert [(e["agent"], e["details"]["reason"]) for e in entries] == \
            [("worker", "one file")]
        out = tmp_path / "audit.jsonl"
        checked = cli_json("audit", *where, "--verify", "--export", str(out))
        assert checked["verified"] is True and checked["exported"] >= 1
        assert len(out.read_text().splitlines()) == checked["exported"]
        usage = run_cli("unlock", *where, "db", "--reason", "stuck")
        assert usage.returncode == 2 and "--force" in usage.stderr


def test_approve_unblocks_a_waiting_agent_and_deny_after_is_refused(url: str) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    where = ("--url", url, "-n", ns)
    decided: list[accord.Decision] = []
    with accord.connect(url, namespace=ns, agent="deployer") as coord:
        asked = threading.Event()

        def wait() -> None:
            asked.set()
            decided.append(coord.request_approval("deploy prod", "v2", timeout=30))

        waiter = threading.Thread(target=wait)
        waiter.start()
        asked.wait()
        pending: list[Any] = []
        while not pending:  # the request is written by the waiter's first call
            pending = cli_json("approvals", *where)["approvals"]
        assert pending[0]["action"] == "deploy prod"
        assert pending[0]["details"] == {"description": "v2"}
        done = cli_json("approve", *where, "--agent", "ops-lead", pending[0]["id"],
                        "--reason", "looks good")
        waiter.join(10)
        assert decided and decided[0].approved and decided[0].by == "ops-lead"
        assert done["status"] == "approved" and done["decision"]["reason"] == "looks good"
        late = run_cli("deny", *where, pending[0]["id"])
        assert late.returncode == 1 and "already approved" in late.stderr


def test_kill_hung_and_force_unlock(url: str) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    where = ("--url", url, "-n", ns)
    with accord.session(url, namespace=ns, name="stuck-agent") as agent:
        lease = agent.lock("deploy", ttl=30).acquire()
        hung = cli_json("hung", *where, "--threshold", "0.001")["agents"]
        assert [a["name"] for a in hung] == ["stuck-agent"]
        killed = cli_json("kill", *where, "stuck-agent", "--reason", "looping")
        assert killed["status"] == "killed"
        assert cli_json("locks", *where)["locks"] == []
        with pytest.raises(accord.AccordError):
            lease.release()
    with accord.connect(url, namespace=ns, agent="other") as coord:
        coord.lock("cache", ttl=30).acquire()
        freed = cli_json("unlock", *where, "cache", "--force", "--reason", "stale")
        assert freed["released"] == ["other"]
    unknown = run_cli("kill", *where, "nobody", "--reason", "x")
    assert unknown.returncode == 1 and "no agent 'nobody'" in unknown.stderr


# --- enforcement on a real git repository ------------------------------------------------


def git(repo: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("ACCORD_", "GIT_"))}
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          env={**full, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x",
                               "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@x",
                               **env}, timeout=60)


def test_guard_refuses_a_commit_touching_a_file_another_agent_leased(
    url: str, tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "api").mkdir(parents=True)
    (repo / "src" / "api" / "users.py").write_text("x = 1\n")
    (repo / "README.md").write_text("hi\n")
    assert git(repo, "init", "-q").returncode == 0
    git(repo, "add", ".")
    assert git(repo, "commit", "-qm", "init").returncode == 0
    ns = f"t-{uuid.uuid4().hex[:8]}"
    env = {"ACCORD_URL": url, "ACCORD_NAMESPACE": ns}
    done = subprocess.run([*ACCORD, "guard", "install"], cwd=repo, capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=60)
    assert done.returncode == 0, done.stderr
    here = os.getcwd()
    os.chdir(repo)
    try:
        with accord.connect(url, namespace=ns, agent="alice") as alice, \
                alice.lock_file("src/api/", intent="rename the user model", ttl=30):
            (repo / "src" / "api" / "users.py").write_text("x = 2\n")
            git(repo, "add", ".")
            refused = git(repo, "commit", "-qm", "bob's change", ACCORD_AGENT="bob", **env)
            assert refused.returncode != 0
            assert "src/api/users.py (under src/api/) is leased by alice: rename the user " \
                   "model" in refused.stderr
            own = run_cli("guard", "check", "src/api/users.py", ACCORD_AGENT="alice", **env)
            assert own.returncode == 0, own.stderr
            free = run_cli("guard", "check", "README.md", ACCORD_AGENT="bob", **env)
            assert free.returncode == 0

            hook_input = json.dumps({"tool_name": "Edit", "cwd": str(repo), "tool_input": {
                "file_path": str(repo / "src" / "api" / "users.py")}})
            denied = subprocess.run([*ACCORD, "hook", "pre-edit"], input=hook_input,
                                    capture_output=True, text=True, cwd=repo, timeout=60,
                                    env={**os.environ, **env, "ACCORD_AGENT": "bob"})
            answer = json.loads(denied.stdout)["hookSpecificOutput"]
            assert answer["permissionDecision"] == "deny"
            assert "alice" in answer["permissionDecisionReason"]
            assert "rename the user model" in answer["permissionDecisionReason"]
            allowed = subprocess.run([*ACCORD, "hook", "pre-edit"], input=hook_input,
                                     capture_output=True, text=True, cwd=repo, timeout=60,
                                     env={**os.environ, **env, "ACCORD_AGENT": "alice"})
            assert allowed.returncode == 0 and allowed.stdout == ""

            bypassed = git(repo, "commit", "-qm", "hotfix", ACCORD_AGENT="bob",
                           ACCORD_GUARD_BYPASS="prod is down", **env)
            assert bypassed.returncode == 0, bypassed.stderr
            entries = alice.audit.read(kind="guard.bypass")
            assert [(e.agent, e.details["reason"]) for e in entries] == \
                [("bob", "prod is down")]
    finally:
        os.chdir(here)
