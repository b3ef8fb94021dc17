"""The `accord` command line: locks, status, errors, help."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from click.testing import CliRunner

import accord
from accord.surfaces.cli import main
from accord.testing.redis_server import free_port

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_URL"}
    env["COLUMNS"] = "160"
    return subprocess.run(
        [sys.executable, "-m", "accord", *args], env=env, capture_output=True, text=True,
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    done = run_cli("--help")
    assert done.returncode == 0
    for command in ("demo", "locks", "status", "events", "agents"):
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


def test_bad_url_is_one_line_and_exit_2() -> None:
    done = run_cli("status", "--url", "ftp://example.org")
    assert done.returncode == 2
    assert done.stderr.startswith("accord: error: unsupported store URL")
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_status_never_prints_a_password() -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    for command in ("status", "locks"):
        result = CliRunner().invoke(main, [command, "--url", url])
        assert result.exit_code == 2, result.output
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
