"""Make the README's picture of the dashboard: seven agents contending on a SQLite store.

    python scripts/dashboard_screenshot.py [--out docs/dashboard.png] [--seconds 40]

Starts ``accord dashboard`` on a fresh store, runs the agents (threads taking locks and
a semaphore, emitting events) for ``--seconds``, and takes the screenshot with
Playwright and the system's Chromium (/usr/bin/chromium, or $ACCORD_CHROMIUM).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import accord

AGENTS = ("planner", "researcher-1", "researcher-2", "coder-a", "coder-b", "reviewer", "deployer")
FILES = ("src/app.py", "src/db/schema.sql", "deploy", "docs/README.md")
ROOT = Path(__file__).resolve().parent.parent


def agent(url: str, name: str, until: float) -> None:
    rnd = random.Random(name)
    with accord.connect(url, namespace="shop", agent=name) as coord:
        while time.time() < until:
            path = rnd.choice(FILES)
            try:
                with coord.lock(path, ttl=rnd.choice([10, 30, 60]), timeout=3):
                    coord.emit(rnd.choice(["file.edit", "task.progress", "review.comment"]),
                               {"path": path, "pct": rnd.randint(0, 100)})
                    time.sleep(rnd.uniform(0.5, 2.5))
            except accord.LockTimeout:
                coord.emit("lock.gave_up", {"lock": path})
            with coord.semaphore("openai", limit=3, ttl=20, timeout=5):
                time.sleep(rnd.uniform(0.2, 1.0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard.png"))
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/accord.db"
        server = subprocess.Popen(
            [sys.executable, "-m", "accord", "dashboard", "--url", url, "-n", "shop", "--port",
             "0"], stdout=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
        try:
            assert server.stdout is not None
            link = ""
            while not link:
                found = re.search(r"to act:\s+(\S+)", server.stdout.readline())
                link = found.group(1) if found else ""
            until = time.time() + args.seconds
            threads = [threading.Thread(target=agent, args=(url, a, until)) for a in AGENTS]
            for thread in threads:
                thread.start()
            time.sleep(args.seconds * 0.7)  # in the thick of it
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=os.environ.get("ACCORD_CHROMIUM", "/usr/bin/chromium"))
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(link)
                page.wait_for_selector("[data-live].on")
                time.sleep(1.5)
                page.screenshot(path=args.out, full_page=True)
                browser.close()
            for thread in threads:
                thread.join()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(10)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
