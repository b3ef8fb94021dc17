"""`accord demo`: the table accounts for every write, coordinated modes lose nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.surfaces import demo
from accord.surfaces.cli import main
from accord.testing.redis_server import RedisServer, free_port

SMALL = ["--agents", "4", "--ops", "8", "--think", "0.004"]


def rows(output: str) -> dict[str, list[str]]:
    """The demo table as {mode: [expected, final, lost, time]}."""
    found = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0] in demo.MODES:
            found[cells[0]] = cells[1:]
    return found


def lost_count(cell: str) -> int:
    return 0 if cell == "0" else int(cell.split(" of ")[0])


def check_table(output: str, writes: int) -> None:
    table = rows(output)
    assert list(table) == list(demo.MODES), output
    for mode in ("state.update", "lock"):
        expected, final, lost, _ = table[mode]
        assert (final, lost) == (expected, "0"), output
    expected, final, lost, _ = table["uncoordinated"]
    if lost_count(lost):
        assert lost.endswith(f" of {writes}")
        said = " ".join(output.split())
        off = re.search(r"stock (\d+) units (above|below) what it should be", said)
        if off is None:
            assert "stock right only by luck" in said and final == expected, output
        else:
            sign = 1 if off.group(2) == "above" else -1
            assert int(final) == int(expected) + sign * int(off.group(1)), output
    else:
        assert final == expected


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_URL"}
    return subprocess.run(
        [sys.executable, "-m", "accord", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=60,
    )


def test_results_account_for_every_write() -> None:
    cfg = demo.DemoConfig(f"memory://{uuid.uuid4().hex[:8]}", agents=4, ops=10, think=0.005)
    plain, update, locked = demo.run(cfg)
    for r in (plain, update, locked):
        assert r.writes == 40
        assert r.final == r.expected - r.lost_delta
    assert (update.lost, update.final) == (0, update.expected)
    assert (locked.lost, locked.final) == (0, locked.expected)
    assert plain.lost > 0  # four agents thinking 5 ms between read and write always collide


def test_lost_writes_follows_the_version_chain() -> None:
    writes = [demo.Write(1, 2, -3), demo.Write(1, 3, -1), demo.Write(3, 4, +2)]
    assert demo.lost_writes(writes, start=1, final=4) == [demo.Write(1, 2, -3)]
    with pytest.raises(demo.DemoFailed):
        demo.lost_writes(writes[:1], start=1, final=4)


def test_demo_on_memory_shows_the_table() -> None:
    url = f"memory://{uuid.uuid4().hex[:8]}"
    result = CliRunner().invoke(main, ["demo", "--url", url, *SMALL])
    assert result.exit_code == 0, result.output
    check_table(result.output, writes=32)


def test_demo_defaults_to_sqlite_under_the_cwd(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the top of a repository: no .accord/ above is looked for
    done = run_cli("demo", *SMALL, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"sqlite:///{tmp_path}/.accord/accord.db" in "".join(done.stdout.split())
    assert (tmp_path / ".accord" / "accord.db").exists()
    check_table(done.stdout, writes=32)


@pytest.mark.redis
def test_demo_on_redis(redis_server: RedisServer) -> None:
    done = run_cli("demo", "--url", redis_server.url, *SMALL)
    assert done.returncode == 0, done.stderr
    check_table(done.stdout, writes=32)


@pytest.mark.parametrize("url", ["foo://x", "sqlite://no-slash", "redis://host:notaport/0"])
def test_bad_url_exits_2_with_one_line(url: str) -> None:
    done = run_cli("demo", "--url", url)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("accord: error: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_store_down_exits_1_without_the_password() -> None:
    result = CliRunner().invoke(
        main, ["demo", "--url", f"redis://:hunter2@127.0.0.1:{free_port()}/0"]
    )
    assert result.exit_code == 1, result.output
    assert "unavailable" in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output
