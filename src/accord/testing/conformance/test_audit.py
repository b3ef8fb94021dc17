"""The audit log: an append-only hash chain in its own stream, accord's own entries,
retention, export, bad input. (Tampering with each store: tests/test_audit_tamper.py.)"""

from __future__ import annotations

import hashlib
import io
import json
import time
from typing import Any

import pytest

from accord.errors import DeadlockError, InvalidName, LeaseLost, PayloadTooLarge

pytestmark = pytest.mark.accord_capability("streams")


async def test_entries_chain_and_read_back_filtered(coord: Any, connect: Any) -> None:
    other = connect("Agent-2")
    first = await coord.audit.log("deployment", context="Backend v2.0", reason="tests", ticket=42)
    await other.audit.log("review", context="PR 7")
    third = await coord.log_decision("deployment", "Backend v2.1", "fixed")
    assert (first.id, first.kind, first.agent) == (1, "deployment", "tester")
    assert first.details == {"context": "Backend v2.0", "reason": "tests", "ticket": 42}
    assert first.prev == "0" * 40 and abs(first.time - time.time()) < 60
    assert third.details == {"context": "Backend v2.1", "reason": "fixed"}

    everything = await other.audit.read()
    assert [e.id for e in everything] == [1, 2, 3]
    assert [e.prev for e in everything[1:]] == [e.hash for e in everything[:-1]]
    assert [e.id for e in await coord.audit.read(kind="deployment")] == [1, 3]
    assert [e.id for e in await coord.audit.read(agent="Agent-2")] == [2]
    assert [e.id for e in await coord.audit.read(after=1, limit=1)] == [2]
    assert await coord.audit.read(agent="tester", kind="review") == []
    assert await coord.audit.verify() is None


async def test_export_is_json_lines_checkable_anywhere(coord: Any) -> None:
    for n in range(3):
        await coord.audit.log("step", n=n, note="ünïcode \"quoted\"\n")
    out = io.StringIO()
    assert await coord.audit.export(out) == 3
    lines = out.getvalue().splitlines()
    prev = "0" * 40
    for n, line in enumerate(lines, 1):
        entry = json.loads(line)
        digest = entry.pop("hash")
        canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert canonical == line.replace(f',"hash":"{digest}"', "")  # the line is canonical
        assert hashlib.sha1(canonical.encode()).hexdigest() == digest
        assert (entry["id"], entry["prev"], entry["source"]) == (n, prev, "tester")
        assert entry["data"] == {"kind": "step", "n": n - 1, "note": "ünïcode \"quoted\"\n"}
        prev = digest


@pytest.mark.accord_capability("approvals")
async def test_any_text_in_names_and_details_hashes_alike(connect: Any) -> None:
    """The Redis script builds the hashed line from pieces; it must be canonical JSON."""
    odd = connect('agent "q" \\ é ☃ /')
    await odd.audit.log("x", text='a"b\\c\u2028\x01', nested={"b": [1.5, None, True], "a": -0.0})
    request = await odd.approvals.request('deploy "é"', timeout=30)
    await connect("ops").approvals.deny(request.id, reason='no "way" ☃\n')
    assert await odd.audit.verify() is None
    assert [e.kind for e in await odd.audit.read()] == ["x", "accord.approval_decided"]


async def test_bad_input_raises_and_writes_nothing(coord: Any) -> None:
    await coord.audit.log("seed")
    for kind in ["", "accord.lease_lost", "has space", 7, None]:
        with pytest.raises(InvalidName):
            await coord.audit.log(kind)
    with pytest.raises(TypeError, match="not JSON data"):
        await coord.audit.log("x", when=object())
    with pytest.raises(PayloadTooLarge):
        await coord.audit.log("x", blob="x" * (1024 * 1024))
    assert [e.id for e in await coord.audit.read()] == [1]
    assert await coord.audit.verify() is None


async def test_the_event_cap_never_trims_it_and_retention_keeps_the_chain(connect: Any) -> None:
    capped = connect("capped", max_events=3)
    for n in range(8):
        await capped.emit("tick", {"n": n})
        await capped.audit.log("tick", n=n)
    assert len(await capped.events.read()) == 3
    assert [e.id for e in await capped.audit.read()] == list(range(1, 9))

    kept = connect("kept", audit_keep=3)
    for n in range(4):
        await kept.audit.log("more", n=n)
    assert [e.id for e in await kept.audit.read()] == [10, 11, 12]
    assert await kept.audit.verify() is None


@pytest.mark.accord_capability("leases")
async def test_lost_leases_and_deadlocks_are_audited(
    coord: Any, connect: Any, run_workers: Any, barrier: Any
) -> None:
    lease = await coord.lock("job", ttl=0.2).acquire()
    taken = await connect("other").lock("job", ttl=5).acquire(timeout=5)  # after it expired
    with pytest.raises(LeaseLost):
        await lease.release()
    await taken.release()
    lost = await coord.audit.read(kind="accord.lease_lost")
    assert [(e.agent, e.details) for e in lost] == [
        ("tester", {"lock": "job", "token": lease.token})
    ]

    line_up = barrier(2)

    async def body(i: int) -> str:  # agent i holds r<i> and waits for the other: a cycle
        mine = connect(f"agent-{i}")
        first = await mine.lock(f"r{i}", ttl=30).acquire()
        await line_up.wait()
        try:
            second = await mine.lock(f"r{1 - i}", ttl=30).acquire(timeout=20)
        except DeadlockError:
            await first.release()
            return "refused"
        await second.release()
        await first.release()
        return "acquired"

    assert sorted(await run_workers(2, body)) == ["acquired", "refused"]
    found = await coord.audit.read(kind="accord.deadlock")
    assert len(found) == 1 and found[0].details["lock"] in ("r0", "r1")
    assert len(found[0].details["cycle"]) == 2


@pytest.mark.accord_capability("leases")
async def test_audit_locks_records_every_acquisition_and_release(connect: Any) -> None:
    audited = connect("auditor", audit_locks=True)
    async with audited.lock("deploy") as lease:
        pass
    async with audited.semaphore("api", limit=2):
        pass  # semaphores are not locks: not audited
    entries = [(e.kind, e.details) for e in await audited.audit.read()]
    assert entries == [
        ("accord.lock_acquired", {"lock": "deploy", "token": lease.token}),
        ("accord.lock_released", {"lock": "deploy", "token": lease.token}),
    ]


async def test_appends_at_once_keep_one_unbroken_chain(connect: Any, run_workers: Any) -> None:
    agents = [connect(f"w{i}", audit_keep=100) for i in range(8)]

    async def body(i: int) -> list[Any]:
        if i == 0:  # verifies while the others append (and retention drops the oldest)
            return [await agents[0].audit.verify() for _ in range(5)]
        return [(await agents[i].audit.log("step", n=n)).id for n in range(20)]

    results = await run_workers(8, body)
    assert results[0] == [None] * 5
    ids = sorted(i for got in results[1:] for i in got)
    assert ids == list(range(1, 141))  # no id given twice, none skipped
    assert [e.id for e in await agents[0].audit.read(limit=1000)] == list(range(41, 141))
    assert await agents[0].audit.verify() is None
