"""`accord dashboard` over HTTP, without a browser: the token guard, escaping, headers,
the live stream, /metrics, and how it fails. One server (the real console script, on
a SQLite file) serves the module's tests; the browser tests are in
test_dashboard_browser.py."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

import accord
from accord.testing.redis_server import free_port
from tests._surfaces import env, run_cli, started

TOKEN = "t0ken-" + "x" * 20


@dataclass
class Dashboard:
    base: str
    url: str
    namespace: str

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, None, headers)

    def post(self, path: str, body: Any, **headers: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", path, json.dumps(body).encode(), headers)

    def request(self, method: str, path: str, data: bytes | None,
                headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=10) as reply:
                return reply.status, dict(reply.headers), reply.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    url = f"sqlite:///{tmp_path_factory.mktemp('dash') / 'accord.db'}"
    ns = "shop"
    with started("dashboard", "--url", url, "-n", ns, "--port", "0",
                 ACCORD_DASHBOARD_TOKEN=TOKEN) as server:
        base = server.wait_for(r"read-only:\s+(http://127\.0\.0\.1:\d+)/").group(1)
        server.wait_for("Ctrl-C stops it")
        yield Dashboard(base, url, ns)
        assert server.interrupt() == 0
        assert "Traceback" not in server.seen


def until(check: Any, timeout: float = 5.0) -> Any:
    """``check()``'s first truthy value, asked every 50 ms for ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_the_token_is_never_printed_when_it_was_given(dashboard: Dashboard) -> None:
    status, _, body = dashboard.get("/")
    assert status == 200 and TOKEN not in body.decode()


def test_a_change_without_the_token_is_refused(dashboard: Dashboard) -> None:
    name = f"note.{uuid.uuid4().hex[:6]}"
    for headers, code in (({}, 401), ({"Authorization": "Bearer wrong-token"}, 403),
                          ({"Authorization": TOKEN}, 401)):
        status, _, body = dashboard.post("/api/actions/emit", {"name": name}, **headers)
        assert status == code, body
        assert json.loads(body)["ok"] is False
    with accord.connect(dashboard.url, namespace=dashboard.namespace) as coord:
        assert coord.events.history(name=name) == []  # nothing reached the store
        status, _, body = dashboard.post("/api/actions/emit", {"name": name, "data": {"a": 1}},
                                         Authorization=f"Bearer {TOKEN}")
        assert status == 200, body
        [event] = coord.events.history(name=name)
    assert json.loads(body) == {"ok": True, "id": event.id, "name": name}
    assert event.data == {"a": 1} and event.source.startswith("accord-dashboard@")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert dashboard.post("/api/actions/nope", {}, **auth)[0] == 404
    assert dashboard.post("/api/actions/emit", {"name": "bad name"}, **auth)[0] == 400
    assert dashboard.get("/api/actions/emit")[0] == 405


def test_text_from_agents_is_escaped(dashboard: Dashboard) -> None:
    evil = '<img src=x onerror="alert(1)">'
    with accord.connect(dashboard.url, namespace=dashboard.namespace, agent=evil) as coord:
        coord.emit("page.test", {"html": "<script>alert(2)</script>"})
        with coord.lock("escape-me", ttl=30):
            page = until(lambda: (p := dashboard.get("/")[2].decode()) and "escape-me" in p
                         and "page.test" in p and p)
    assert page, "the lock and the event did not show"
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page


def test_headers_and_hosts(dashboard: Dashboard) -> None:
    status, headers, _ = dashboard.get("/")
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers["x-frame-options"] == "DENY"
    assert dashboard.get("/", Host="attacker.example")[0] == 400  # DNS rebinding
    status, headers, body = dashboard.get("/static/dashboard.js")
    assert status == 200 and b"EventSource" in body


def test_the_stream_pushes_a_lock_taken_elsewhere(dashboard: Dashboard) -> None:
    name = f"pushed-{uuid.uuid4().hex[:6]}"
    req = urllib.request.Request(dashboard.base + "/api/stream")
    with urllib.request.urlopen(req, timeout=10) as stream:
        first = _next_event(stream)
        assert first[0] == "panels" and set(first[1]["panels"]) >= {"locks", "events", "chart"}
        coord = accord.connect(dashboard.url, namespace=dashboard.namespace, agent="w")
        with coord, coord.lock(name, ttl=30):
            taken = time.monotonic()
            while True:
                kind, data = _next_event(stream)
                if kind == "panels" and name in data["panels"].get("locks", ""):
                    break
            assert time.monotonic() - taken < 1.0


def _next_event(stream: Any) -> tuple[str, dict[str, Any]]:
    kind = ""
    while True:
        line = stream.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: ") and kind:
            return kind, json.loads(line[6:])


def test_metrics_in_prometheus_text(dashboard: Dashboard) -> None:
    with accord.connect(dashboard.url, namespace=dashboard.namespace, agent="m") as coord:
        coord.emit("metrics.test")
        with coord.lock("metered", ttl=30), coord.semaphore("pool", limit=2, ttl=30):

            def sample() -> dict[str, float]:
                status, headers, body = dashboard.get("/metrics")
                assert status == 200 and headers["content-type"].startswith("text/plain")
                return {f"{s.name}{sorted(s.labels.items())}": s.value
                        for family in text_string_to_metric_families(body.decode())
                        for s in family.samples}

            # the panels and the event count catch up on their own schedules: wait for both
            found = until(lambda: (m := sample()) and m[
                "accord_locks_held[('kind', 'semaphore'), ('namespace', 'shop')]"] == 1
                and m["accord_events_seen_total[('namespace', 'shop')]"] >= 1 and m)
    assert found["accord_store_up[('namespace', 'shop')]"] == 1
    assert found["accord_locks_held[('kind', 'lock'), ('namespace', 'shop')]"] >= 1
    assert found["accord_events_seen_total[('namespace', 'shop')]"] >= 1


def test_ctrl_c_ends_it_at_once_with_a_browser_connected(tmp_path: Path) -> None:
    with started("dashboard", "--url", f"sqlite:///{tmp_path / 'a.db'}", "--port", "0",
                 both=True) as server:
        base = server.wait_for(r"read-only:\s+(http://127\.0\.0\.1:\d+/)").group(1)
        with urllib.request.urlopen(base + "api/stream", timeout=10) as stream:
            assert _next_event(stream)[0] == "panels"
            start = time.monotonic()
            assert server.interrupt() == 0
            assert time.monotonic() - start < 3.0  # not the 1 s of a graceful timeout and more
    assert "Traceback" not in server.seen and "ERROR" not in server.seen


def test_a_store_that_is_down_fails_at_start() -> None:
    done = run_cli("dashboard", "--url", f"redis://:hunter2@127.0.0.1:{free_port()}/0",
                   "--port", "0")
    assert done.returncode == 1
    assert done.stderr.startswith("accord: error: redis store is unavailable")
    assert "hunter2" not in done.stderr + done.stdout and "Traceback" not in done.stderr
    short = run_cli("dashboard", "--url", "memory://", "--token", "short")
    assert short.returncode == 2 and "at least 16" in short.stderr


WITHOUT_EXTRAS = """
import sys
for name in ("starlette", "uvicorn", "mcp", "prometheus_client"):
    sys.modules[name] = None  # as if installed without accord[dashboard] and accord[mcp]
from accord.surfaces.cli import main
main(sys.argv[1:])
"""


def test_the_servers_say_which_extra_they_need(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    for args, extra in ((["dashboard", "--url", url], "dashboard"),
                        (["mcp", "--url", url, "--agent", "a"], "mcp")):
        done = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, *args], env=env(),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert f"pip install 'accord[{extra}]'" in done.stderr
        assert "Traceback" not in done.stderr
    status = subprocess.run([sys.executable, "-c", WITHOUT_EXTRAS, "status", "--url", url],
                            env=env(), capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr  # the rest of the CLI needs no extra
