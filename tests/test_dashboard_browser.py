"""The dashboard in a real browser: Playwright driving the system's Chromium
(/usr/bin/chromium, or $ACCORD_CHROMIUM). Without a browser these tests are skipped
locally and fail in CI (``CI`` set), like the Redis tests without redis-server.

A screenshot of the page is saved at the end of the first test (in the test's
directory; also at $ACCORD_DASHBOARD_SCREENSHOT when set)."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import accord
from tests._surfaces import started, store_url

CHROMIUM = os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium")
TOKEN = "browser-token-" + "y" * 16


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_url(request.param, tmp_path, request)


@pytest.fixture
def dashboard(url: str) -> Iterator[tuple[str, str]]:
    ns = f"b-{uuid.uuid4().hex[:8]}"
    with started("dashboard", "--url", url, "-n", ns, "--port", "0",
                 ACCORD_DASHBOARD_TOKEN=TOKEN) as server:
        base = server.wait_for(r"read-only:\s+(http://127\.0\.0\.1:\d+/)").group(1)
        server.wait_for("Ctrl-C stops it")
        yield base, ns
        assert server.interrupt() == 0


def test_locks_and_events_show_live_and_the_token_acts(
    browser: Any, dashboard: tuple[str, str], url: str, tmp_path: Path
) -> None:
    base, ns = dashboard
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{base}#token={TOKEN}")
    page.wait_for_selector("[data-live].on")  # the stream is open
    assert page.url == base  # the token left the address bar
    assert page.inner_text("[data-mode]") == "can act"
    coord = accord.connect(url, namespace=ns, agent="researcher-7")
    with coord, coord.lock("src/app.py", ttl=30) as lease:
        taken = time.monotonic()
        row = page.wait_for_selector("table.locks tr:has-text('src/app.py')", timeout=2000)
        shown = time.monotonic() - taken
        assert shown < 1.0, f"the lock showed after {shown:.2f} s"
        assert "researcher-7" in row.inner_text() and f"#{lease.token}" in row.inner_text()
        emitted = time.monotonic()
        coord.emit("review.comment", {"note": "<b>looks good</b>"})
        item = page.wait_for_selector("#events-list li:has-text('review.comment')",
                                      timeout=2000)
        assert time.monotonic() - emitted < 1.0
        assert "<b>looks good</b>" in item.inner_text()  # shown as text, not markup
        page.fill("form[data-action=emit] input[name=name]", "operator.note")
        page.click("form[data-action=emit] button")
        page.wait_for_selector("form[data-action=emit] output.ok")
        page.wait_for_selector("#events-list li:has-text('operator.note')")
        [note] = coord.events.history(name="operator.note")
        assert note.data == {"note": "hello from the dashboard"}
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("ACCORD_DASHBOARD_SCREENSHOT"):
        shutil.copy(shot, os.environ["ACCORD_DASHBOARD_SCREENSHOT"])
    page.wait_for_selector("table.locks tr:has-text('src/app.py')", state="detached")
    page.close()


@pytest.mark.parametrize("url", ["sqlite"], indirect=True)
def test_without_the_token_the_page_is_read_only(
    browser: Any, dashboard: tuple[str, str], url: str
) -> None:
    base, ns = dashboard
    page = browser.new_page()
    page.goto(base)
    page.wait_for_selector("[data-live].on")
    assert page.inner_text("[data-mode]") == "read-only"
    page.click("form[data-action=emit] button")
    refused = page.wait_for_selector("form[data-action=emit] output.refused")
    assert "read-only without its token" in refused.inner_text()
    reply = page.request.post(f"{base}api/actions/emit", data={"name": "x"})
    assert reply.status == 401
    with accord.connect(url, namespace=ns) as coord:
        assert coord.events.history() == []  # nothing was emitted
    page.close()
