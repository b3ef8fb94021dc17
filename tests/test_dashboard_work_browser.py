"""The dashboard's work panels in a real browser (Playwright, the system's Chromium):
pressing approve with the token unblocks a ``request_approval`` waiting in another
process; without the token the button is refused and the request stays pending; a
killed agent shows as killed."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

import accord
from tests.test_dashboard_browser import TOKEN, browser, dashboard, url  # noqa: F401

WAITER = """
import json, sys, accord
with accord.connect(sys.argv[1], namespace=sys.argv[2], agent="deployer") as coord:
    d = coord.request_approval("deploy to production", "v2.4.0", timeout=float(sys.argv[3]))
    print(json.dumps({"approved": d.approved, "by": d.by, "status": d.status}), flush=True)
"""


def waiter(store: str, ns: str, timeout: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WAITER, store, ns, str(timeout)],
                            stdout=subprocess.PIPE, text=True)


def test_approve_with_the_token_unblocks_another_process_and_kill_shows(
    browser: Any, dashboard: tuple[str, str], url: str  # noqa: F811
) -> None:
    base, ns = dashboard
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{base}#token={TOKEN}")
    page.wait_for_selector("[data-live].on")
    with waiter(url, ns, 30) as proc:  # leaving it closes the pipe and waits
        try:
            card = page.wait_for_selector(".approval:has-text('deploy to production')",
                                          timeout=15_000)
            assert "deployer" in card.inner_text()
            card.query_selector("form[data-action=approve] button").click()  # type: ignore[union-attr]
            out, _ = proc.communicate(timeout=15)
        finally:
            proc.kill()
    decision = json.loads(out)
    assert decision["approved"] and decision["status"] == "approved"
    assert decision["by"].startswith("accord-dashboard")
    page.wait_for_selector(".approval", state="detached")

    with accord.session(url, namespace=ns, name="looping-agent", role="Engineer") as agent:
        row = page.wait_for_selector("tr[data-agent='looping-agent']", timeout=5000)
        assert "killed" not in row.inner_text()
        row.query_selector("input[name=reason]").fill("stuck in a loop")  # type: ignore[union-attr]
        row.query_selector("form[data-action=kill] button").click()  # type: ignore[union-attr]
        page.wait_for_selector("tr[data-agent='looping-agent'] .pill.killed", timeout=5000)
        with pytest.raises(accord.AccordError):
            agent.lock("anything", ttl=5).acquire(timeout=0)
    page.close()


@pytest.mark.parametrize("url", ["sqlite"], indirect=True)
def test_without_the_token_approve_is_refused(
    browser: Any, dashboard: tuple[str, str], url: str  # noqa: F811
) -> None:
    base, ns = dashboard
    page = browser.new_page()
    page.goto(base)
    page.wait_for_selector("[data-live].on")
    with waiter(url, ns, 30) as proc:
        try:
            card = page.wait_for_selector(".approval", timeout=15_000)
            card.query_selector("form[data-action=approve] button").click()  # type: ignore[union-attr]
            refused = page.wait_for_selector(".approval output.refused")
            assert "read-only without its token" in refused.inner_text()
            with accord.connect(url, namespace=ns) as coord:
                [pending] = coord.approvals.pending()
                assert pending.status == "pending"
                assert proc.poll() is None  # still waiting
        finally:
            proc.kill()
    page.close()


