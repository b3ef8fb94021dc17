"""Board replies, approval waits and decisions racing a timeout across real processes,
and a requester killed while it waits (once per store that processes share)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from typing import Any

import pytest

import accord
from accord.testing.conformance import _people_children as children

pytestmark = [pytest.mark.accord_processes]

ctx = multiprocessing.get_context("spawn")


def start(target: Any, *args: Any) -> Any:
    proc = ctx.Process(target=target, args=args, daemon=True)
    proc.start()
    return proc


def stop_all(procs: list[Any]) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.kill()
        proc.join(10)


@pytest.mark.accord_capability("state", "streams", "events")
def test_eight_processes_replying_at_once_lose_none(url: str, namespace: str) -> None:
    coord = accord.connect(url, namespace=namespace, agent="poster")
    th = coord.board.post("Incident", "reply here")
    go, out = ctx.Event(), ctx.Queue()
    procs = [start(children.reply_many, url, namespace, th.id, 10, go, out) for _ in range(8)]
    try:
        go.set()
        ids = [i for _ in procs for i in out.get(timeout=60)]
    finally:
        stop_all(procs)
    assert sorted(ids) == list(range(1, 81))
    messages = th.messages(limit=1000)
    assert [m.id for m in messages] == list(range(81))
    assert len({m.text for m in messages}) == 81
    coord.close()


@pytest.mark.accord_capability("approvals", "streams")
def test_approval_waits_and_decisions_across_processes(url: str, namespace: str) -> None:
    coord = accord.connect(url, namespace=namespace, agent="operator")
    ready, out = ctx.Queue(), ctx.Queue()
    # a waiter in another process wakes when this one decides
    waiter = start(children.request_and_wait, url, namespace, 30.0, ready, out)
    procs = [waiter]
    try:
        long = ready.get(timeout=60)
        # a requester killed while waiting: its request still expires, and is audited (it
        # starts once the first is up, so a slow start of that one cannot expire it early)
        killed = start(children.request_and_wait, url, namespace, 2.0, ready, out)
        procs.append(killed)
        short = ready.get(timeout=60)
        requests = {a.id: a for a in coord.approvals.pending()}
        assert set(requests) == {long, short}
        assert requests[short].expires_at < requests[long].expires_at
        time.sleep(0.3)  # both wait on their mailboxes by now
        os.kill(killed.pid, signal.SIGKILL)
        decided_at = time.monotonic()
        decision = coord.approvals.approve(long, reason="ship it")
        woke, status, by = out.get(timeout=30)
        assert (status, by) == ("approved", "operator") and decision.approved
        assert woke - decided_at < 1.0  # pushed: not a poll, not the deadline
        killed.join(10)
        time.sleep(max(0.0, requests[short].expires_at - time.time()) + 0.05)
        gone = coord.approvals.get(short)
        assert gone.status == "expired" and not gone.decision
        entries = coord.audit.read(kind="accord.approval_decided")
        assert sorted((e.details["approval"], e.details["status"]) for e in entries) == sorted(
            [(long, "approved"), (short, "expired")]
        )
    finally:
        stop_all(procs)
    coord.close()


@pytest.mark.accord_capability("approvals", "streams")
def test_decisions_racing_the_timeout_settle_once(url: str, namespace: str) -> None:
    coord = accord.connect(url, namespace=namespace, agent="requester")
    req = coord.approvals.request("deploy", timeout=1.5)
    deadline = time.monotonic() + (req.expires_at - time.time())
    out = ctx.Queue()
    # four approvers aimed around the deadline: some before it, some after
    procs = [
        start(children.decide_at, url, namespace, req.id, deadline + delta, out)
        for delta in (-0.02, -0.005, 0.005, 0.02)
    ]
    try:
        results = [out.get(timeout=60) for _ in procs]
    finally:
        stop_all(procs)
    final = coord.approvals.get(req.id).decision
    assert final is not None
    assert sum(won == "won" for won, _, _ in results) == (final.status == "approved")
    assert {(status, by) for _, status, by in results} == {(final.status, final.by)}
    entries = [e for e in coord.audit.read(kind="accord.approval_decided")
               if e.details["approval"] == req.id]
    assert len(entries) == 1 and entries[0].details["status"] == final.status
    coord.close()
