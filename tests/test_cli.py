"""The `accord` command line: locks, status, events, watch; --json documents; exit codes.

The tests of more than one store drive the real console script in subprocesses, against
a SQLite file and the session's redis-server, and one against a store that is down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import accord
from accord.surfaces.cli import main
from accord.testing.redis_server import free_port
from tests._surfaces import run_cli, started, store_url

ROOT = Path(__file__).resolve().parents[1]


def test_help_lists_the_commands() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for command in ("demo", "locks", "status", "events", "agents", "watch", "dashboard", "mcp"):
        assert command in done.stdout


def test_locks_on_memory_shows_holders_and_semaphores() -> None:
    url, ns = f"memory://{uuid.uuid4().hex[:8]}", "shop"
    with accord.connect(url, namespace=ns, agent="order-agent") as coord:
        lease = coord.lock("customer_123", ttl=30).acquire()
        permit = coord.semaphore("openai", limit=3, ttl=60).acquire()
        result = CliRunner().invoke(main, ["locks", "--url", url, "--namespace", ns],
                                    env={"COLUMNS": "160"})
        lease.release()
        permit.release()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    lock_row = next(line for line in lines if "customer_123" in line)
    assert "order-agent" in lock_row and str(lease.token) in lock_row and " s " in lock_row
    sem_row = next(line for line in lines if "openai" in line)
    assert "semaphore 1/3" in sem_row


def test_locks_when_nothing_is_held() -> None:
    result = CliRunner().invoke(main, ["locks", "--url", "memory://empty", "-n", "none"])
    assert result.exit_code == 0
    assert "No locks or semaphores are held in namespace 'none'" in result.output


def test_locks_on_sqlite_from_another_process(tmp_path: Path) -> None:
    url, ns = f"sqlite:///{tmp_path / 'a.db'}", "shop"
    coord = accord.connect(url, namespace=ns, agent="inventory-agent")
    with coord, coord.lock("sku-1", ttl=30) as lease:
        done = run_cli("locks", "--url", url, "--namespace", ns)
        status = run_cli("status", "--url", url, "--namespace", ns)
    assert done.returncode == 0, done.stderr
    row = next(line for line in done.stdout.splitlines() if "sku-1" in line)
    assert "lock" in row and "inventory-agent" in row and str(lease.token) in row
    assert status.returncode == 0, status.stderr
    assert "1 (1 locks, 0 semaphores)" in status.stdout


def test_status_shows_store_and_namespace() -> None:
    result = CliRunner().invoke(main, ["status", "--url", "memory://st", "--namespace", "ops"])
    assert result.exit_code == 0, result.output
    assert "memory://st" in result.output
    assert "ops" in result.output
    assert "0 (0 locks, 0 semaphores)" in result.output


def test_url_defaults_to_accord_url() -> None:
    result = CliRunner().invoke(main, ["status"], env={"ACCORD_URL": "memory://from-env"})
    assert result.exit_code == 0, result.output
    assert "memory://from-env" in result.output


def test_bad_url_is_a_usage_error_exit_2() -> None:
    done = run_cli("status", "--url", "ftp://example.org")
    assert done.returncode == 2
    assert done.stderr.startswith("accord: error: unsupported store URL")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_status_never_prints_a_password() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    for command in ("status", "locks"):
        result = CliRunner().invoke(main, [command, "--url", url])
        assert result.exit_code == 1, result.output
        assert "hunter2" not in result.output
        assert "Traceback" not in result.output


def test_bench_help() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--help"], capture_output=True,
        text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "--redis-url" in done.stdout


def test_events_shows_the_newest_events_with_filters() -> None:
    url, ns = f"memory://ev-{uuid.uuid4().hex[:6]}", "shop"
    coord = accord.connect(url, namespace=ns, agent="seller")
    coord.emit("order.placed", {"sku": "a", "qty": 2})
    coord.emit("order.shipped", {"sku": "a", "note": "x" * 200})
    result = CliRunner().invoke(main, ["events", "--url", url, "-n", ns], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert result.output.index("order.shipped") < result.output.index("order.placed")
    assert '"qty": 2' in result.output and "seller" in result.output
    assert "x" * 200 not in result.output  # long payloads are shortened
    only = CliRunner().invoke(main, ["events", "--url", url, "-n", ns, "--name", "order.placed"])
    assert "order.placed" in only.output and "order.shipped" not in only.output
    empty = CliRunner().invoke(main, ["events", "--url", url, "-n", "elsewhere"])
    assert empty.exit_code == 0 and "No events" in empty.output
    coord.close()


def test_agents_and_file_lease_intents_from_another_process(tmp_path: Path) -> None:
    url, ns = f"sqlite:///{tmp_path / 'a.db'}", "swarm"
    (tmp_path / ".git").mkdir()
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        with accord.session(url, namespace=ns, name="Agent-1", role="Engineer",
                            working_on="Add /health") as coord:
            lease = coord.lock_file("src/api.py", intent="add the endpoint").acquire()
            agents = run_cli("agents", "--url", url, "-n", ns)
            locks = run_cli("locks", "--url", url, "-n", ns)
            lease.release()
    finally:
        os.chdir(here)
    assert agents.returncode == 0, agents.stderr
    row = next(line for line in agents.stdout.splitlines() if "Agent-1" in line)
    for shown in ("active", "Engineer", "Add /health", "file src/api.py"):
        assert shown in row, agents.stdout
    assert locks.returncode == 0, locks.stderr
    row = next(line for line in locks.stdout.splitlines() if "src/api.py" in line)
    assert "add the endpoint" in row and "Agent-1" in row and "file" in row
# --- the documents of --json, from another process, on SQLite and Redis ----------------

LOCK_KEYS = {"name", "kind", "limit", "holders", "waiters", "last_token"}


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path, request)


def test_listings_as_json_documents(url: str) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    coord = accord.connect(url, namespace=ns, agent="inventory-agent")
    lease = coord.lock("sku-1", ttl=30).acquire()
    permit = coord.semaphore("openai", limit=3, ttl=60).acquire()
    event_id = coord.emit("order.placed", {"sku": "a", "qty": 2})
    try:
        status = run_cli("status", "--json", ACCORD_URL=url, ACCORD_NAMESPACE=ns)
        locks = run_cli("locks", "--json", "--url", url, "-n", ns)
        events = run_cli("events", "--json", "--url", url, "-n", ns, "--limit", "5")
    finally:
        lease.release()
        permit.release()
        coord.close()
    for done in (status, locks, events):
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
    doc = json.loads(status.stdout)
    assert doc == {"store": coord.url, "namespace": ns,
                   "halted": {"halted": False, "reason": None}, "agents": {},
                   "locks": {"held": 2, "locks": 1, "semaphores": 1, "waiting": 0},
                   "tasks": {"queue": "default", "waiting": 0, "ready": 0, "claimed": 0,
                             "done": 0, "failed": 0, "dead": 0, "cancelled": 0},
                   "approvals": {"pending": 0}}
    doc = json.loads(locks.stdout)
    assert set(doc) == {"store", "namespace", "locks"}
    assert [(d["name"], d["kind"], d["limit"]) for d in doc["locks"]] == [
        ("sku-1", "lock", 1), ("openai", "semaphore", 3)]
    for found, held in zip(doc["locks"], (lease, permit), strict=True):
        assert set(found) == LOCK_KEYS and found["waiters"] == []
        [holder] = found["holders"]
        assert set(holder) == {"agent", "token", "expires_in", "mode", "intent"}
        assert holder["mode"] == "exclusive" and holder["intent"] == ""
        assert holder["agent"] == "inventory-agent" and holder["token"] == held.token
        assert 0 < holder["expires_in"] <= 60
    doc = json.loads(events.stdout)
    [event] = doc["events"]
    assert event["id"] == event_id and event["name"] == "order.placed"
    assert event["source"] == "inventory-agent" and event["data"] == {"sku": "a", "qty": 2}
    assert set(event) == {"id", "name", "source", "time", "data"}
    assert abs(event["time"] - time.time()) < 60


def test_a_store_that_is_down_fails_with_exit_1_and_one_line() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    for args in (("status",), ("locks", "--json"), ("events", "--follow"),
                 ("mcp", "--agent", "a")):
        done = run_cli(*args, "--url", url)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert done.stderr.startswith("accord: error: redis store is unavailable")
        assert len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr and "hunter2" not in done.stderr


def test_usage_errors_exit_2() -> None:
    for args in (("locks", "--nope"), ("events", "--limit", "0"), ("frobnicate",),
                 ("events", "--url", "memory://x", "--name", "no spaces")):
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr and done.stderr


def test_events_follow_prints_new_events_until_ctrl_c(url: str) -> None:
    ns = f"t-{uuid.uuid4().hex[:8]}"
    with accord.connect(url, namespace=ns, agent="seller") as coord:
        first = coord.emit("order.placed", {"n": 1})
        with started("events", "--follow", "--json", "--url", url, "-n", ns) as follow:
            assert json.loads(follow.wait_for(r"\{.*\}\n").group(0))["id"] == first
            second = coord.emit("order.shipped", {"n": 2})
            line = json.loads(follow.wait_for(r"\{.*\}\n").group(0))
            assert line["id"] == second and line["data"] == {"n": 2}
            assert line["source"] == "seller"
            assert follow.interrupt() == 0
            assert "Traceback" not in follow.seen


def test_watch_refreshes_until_ctrl_c(tmp_path: Path) -> None:
    url, ns = f"sqlite:///{tmp_path / 'a.db'}", "ops"
    with accord.connect(url, namespace=ns, agent="builder") as coord, started(
        "watch", "--interval", "0.2", "--url", url, "-n", ns, tty=True
    ) as watch:
        watch.wait_for(r"held locks\s+0 \(0 locks")
        with coord.lock("deploy", ttl=30):
            watch.wait_for(r"held locks\s+1 \(1 locks")  # a later frame
            watch.wait_for(r"deploy.*builder")
        assert watch.interrupt() == 0
        assert "Traceback" not in watch.seen
