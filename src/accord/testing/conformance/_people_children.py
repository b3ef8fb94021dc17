"""Child processes for test_people_processes.py (importable under the spawn method)."""

from __future__ import annotations

import time
from typing import Any

import accord
from accord.errors import ApprovalClosed


def reply_many(url: str, namespace: str, thread: str, n: int, start: Any, out: Any) -> None:
    with accord.connect(url, namespace=namespace, agent=f"replier-{id(start)}") as coord:
        th = coord.board.thread(thread)
        start.wait(60)
        out.put([th.reply(f"{coord.agent} {i}").id for i in range(n)])


def request_and_wait(url: str, namespace: str, timeout: float, ready: Any, out: Any) -> None:
    """Request approval, say its id, wait for the decision (or be killed meanwhile)."""
    coord = accord.connect(url, namespace=namespace, agent="requester")
    req = coord.approvals.request("deploy", details={"from": "child"}, timeout=timeout)
    ready.put(req.id)
    decision = req.wait()
    out.put((time.monotonic(), decision.status, decision.by))
    coord.close()


def decide_at(url: str, namespace: str, approval: str, at: float, out: Any) -> None:
    """Approve ``approval`` at monotonic time ``at`` (a clock all processes share)."""
    with accord.connect(url, namespace=namespace, agent=f"approver-{at:.4f}") as coord:
        time.sleep(max(0.0, at - time.monotonic()))
        try:
            decision = coord.approvals.approve(approval)
            out.put(("won", decision.status, decision.by))
        except ApprovalClosed as closed:
            out.put(("closed", closed.decision.status, closed.decision.by))
