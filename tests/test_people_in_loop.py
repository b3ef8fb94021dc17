"""Approval waits of the sync API inside a running event loop refuse with
WouldBlockLoop (as every sync wait does, see test_sync_in_loop.py), before any
request is made; a decided request's wait needs no waiting and answers."""

from __future__ import annotations

import asyncio

import pytest

import accord
from accord.errors import WouldBlockLoop


def test_sync_approval_waits_refuse_inside_a_loop(url: str, namespace: str) -> None:
    coord = accord.connect(url, namespace=namespace, agent="graph")
    ops = accord.connect(url, namespace=namespace, agent="ops")

    async def main() -> None:
        with pytest.raises(WouldBlockLoop, match="request_approval"):
            coord.request_approval("deploy", "v2", timeout=30)
        assert coord.approvals.pending() == []  # nothing was asked
        req = coord.approvals.request("deploy", timeout=30)
        with pytest.raises(WouldBlockLoop, match="approval request"):
            req.wait(timeout=5)
        ops.approvals.approve(req.id)
        assert req.wait(timeout=5).approved  # decided: no wait

    asyncio.run(main())
    coord.close()
    ops.close()
