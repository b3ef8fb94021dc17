"""The zero-config module-level API, run as a user would: a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import asyncio
    from accord import coordinate, when, emit, wait_idle
    import accord

    summaries = []

    @coordinate("researcher")
    def research(topic):
        return {"facts": [topic, "moon"]}

    @coordinate("analyzer", lock_name="openai_api")
    def analyze(facts):
        return {"analysis": len(facts)}

    @coordinate("summarizer")
    async def summarize(analysis):
        return f"{analysis} facts"

    @when("researcher_complete")
    def start_analysis(event):
        analyze(event["result"]["facts"])

    @when("analyzer_complete")
    def start_summary(event):
        summaries.append(asyncio.run(summarize(event["result"]["analysis"])))

    @when("custom.*")
    def custom(event):
        summaries.append(event["x"])

    research("tides")
    emit("custom.ping", {"x": 7})
    assert wait_idle(timeout=30)
    print(sorted(map(str, summaries)))
    print(accord._default.default().url)
    """
)


def run(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
    )


def test_module_level_chain_on_the_default_sqlite_store(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()  # the top of a repository: no .accord/ above is looked for
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_URL"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.split("\n")
    assert lines[0] == "['2 facts', '7']"
    assert lines[1] == f"sqlite:///{tmp_path / '.accord' / 'accord.db'}"
    assert (tmp_path / ".accord" / "accord.db").exists()


def test_accord_url_chooses_the_store(tmp_path: Path) -> None:
    result = run(tmp_path, {"ACCORD_URL": "memory://"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[1] == "memory://"
    assert not (tmp_path / ".accord").exists()


def test_configure_replaces_the_default(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import accord
        first = accord.configure("memory://one", namespace="a", agent="me")
        seen = []
        accord.when("tick")(lambda e: seen.append(e.source))
        accord.emit("tick")
        assert accord.wait_idle(10)
        second = accord.configure("memory://two", namespace="b")
        assert accord._default.default() is second and first is not second
        print(seen, second.namespace)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['me'] b"
