"""Task queues: order, tags, addressees, dependencies, idempotency, exactly-once claims,
leases, retries and dead letters, cancellation, waiting, events, fences, handoffs,
bad input. Written once, run on every store, sync and async."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from typing import Any

import pytest

from accord._task import ClaimRequest
from accord.backends.tasks import rule
from accord.errors import (
    ConfigError,
    DependencyCycle,
    InvalidName,
    LeaseLost,
    PayloadTooLarge,
    StaleFence,
    TaskCancelled,
    TaskFailed,
    TaskNotFound,
    TaskStateError,
    TaskTimeout,
)
from accord.testing.harness import unwrap

pytestmark = pytest.mark.accord_capability("tasks", "events")


async def _drain(q: Any, **claim: Any) -> list[str]:
    """The titles of every task claim() hands out now, completing each."""
    titles = []
    while (c := await q.claim(**claim)) is not None:
        titles.append(c.title)
        await c.complete()
    return titles


async def test_priority_first_then_first_put_first(coord: Any) -> None:
    q = coord.queue("build")
    for title, priority in [("a", 0), ("b", 5), ("c", 0), ("d", -3), ("e", 5), ("f", 0)]:
        await q.put(title, priority=priority)
    assert await _drain(q) == ["b", "e", "a", "c", "f", "d"]
    assert await q.claim() is None


async def test_tags_choose_who_takes_a_task(coord: Any) -> None:
    q = coord.queue("build")
    await q.put("api", tags=["backend"])
    await q.put("css", tags=["frontend"])
    await q.put("docs")
    await q.put("both", tags=["frontend", "backend"], priority=1)
    assert await _drain(q, tags=["backend"]) == ["both", "api"]
    assert await _drain(q, tags=["ops"]) == []
    assert await _drain(q, tags=["frontend", "ops"]) == ["css"]
    assert await _drain(q) == ["docs"]  # tags=None: any task


async def test_to_addresses_one_agent(coord: Any, connect: Any) -> None:
    other = connect("billing")
    q = coord.queue("build")
    await q.put("for billing", to="billing", tags=["x"])
    await q.put("for anyone")
    assert await _drain(q) == ["for anyone"]  # never a task addressed to another agent
    assert await _drain(other.queue("build"), tags=["y"]) == []
    assert await _drain(other.queue("build"), tags=["x"]) == ["for billing"]


async def test_dependencies_fan_in(coord: Any) -> None:
    q = coord.queue("build")
    a, b = await q.put("a"), await q.put("b")
    join = await q.put("join", depends_on=[a.id, b.id], priority=9)
    assert join.status == "waiting" and join.depends_on == (a.id, b.id)
    first = await q.claim()
    assert first.title == "a"  # join waits, whatever its priority
    await first.complete("A")
    assert (await q.get(join.id)).status == "waiting"
    second = await q.claim()
    await second.complete("B")
    assert (await q.get(join.id)).status == "ready"
    assert await _drain(q) == ["join"]
    late = await q.put("late", depends_on=[a.id])  # a dependency done already
    assert late.status == "ready"


async def test_cancellation_cascades_and_a_dead_dependency_cancels(coord: Any) -> None:
    q = coord.queue("build")
    root = await q.put("root")
    child = await q.put("child", depends_on=[root.id])
    grandchild = await q.put("grandchild", depends_on=[child.id])
    other = await q.put("other")
    cancelled = await q.cancel(root.id, "not needed")
    assert cancelled.status == "cancelled" and cancelled.error == "not needed"
    for t in (child, grandchild):
        got = await q.get(t.id)
        assert got.status == "cancelled"
        assert "is cancelled" in got.error
    assert (await q.get(other.id)).status == "ready"
    born_dead = await q.put("after root", depends_on=[root.id])
    assert born_dead.status == "cancelled"
    with pytest.raises(TaskCancelled):
        await grandchild.wait(1)

    doomed = await q.put("doomed", max_attempts=1, priority=9)
    waiting = await q.put("waits", depends_on=[doomed.id])
    claim = await q.claim()
    await claim.fail("broken")
    assert (await q.get(doomed.id)).status == "dead"
    assert (await q.get(waiting.id)).status == "cancelled"


async def test_idempotency_key_under_eight_workers(coord: Any, run_workers: Any) -> None:
    q = coord.queue("build")

    async def put(i: int) -> Any:
        return (await q.put("once", key="health-endpoint", data={"by": i})).id

    ids = await run_workers(8, put)
    assert len(set(ids)) == 1
    assert (await q.stats()).total == 1
    again = await q.put("once", key="health-endpoint")
    assert again.id == ids[0]


async def test_claims_are_exactly_once_under_eight_workers(coord: Any, run_workers: Any) -> None:
    q = coord.queue("build")
    n = 2000
    for i in range(n):
        await q.put(f"t{i}", priority=i % 3)
    history: list[tuple[str, int, float, float]] = []

    async def work(i: int) -> None:
        while (claim := await q.claim(lease=30)) is not None:
            start = time.monotonic()
            await claim.complete({"by": i})
            history.append((claim.id, claim.token, start, time.monotonic()))

    await run_workers(8, work)
    done = Counter(task_id for task_id, *_ in history)
    assert len(done) == n and set(done.values()) == {1}, "a task done twice or lost"
    assert len({token for _, token, *_ in history}) == n
    stats = await q.stats()
    assert (stats.done, stats.ready, stats.claimed) == (n, 0, 0)


async def test_a_lost_lease_comes_back_and_the_old_claim_is_refused(
    coord: Any, connect: Any
) -> None:
    q = coord.queue("build")
    task = await q.put("slow", max_attempts=3)
    old = await q.claim(lease=0.2)
    assert old.task.attempts == 1
    await asyncio.sleep(0.3)
    new = await connect("other").queue("build").claim(lease=10)
    assert new.id == task.id and new.token > old.token and new.task.attempts == 2
    with pytest.raises(LeaseLost):
        await old.complete()
    with pytest.raises(LeaseLost):
        await old.fail("late")
    with pytest.raises(LeaseLost):
        await old.extend(5)
    inv = coord.state("inv")
    await inv.set("k", "new", fence=new)
    with pytest.raises(StaleFence):
        await inv.set("k", "old", fence=old)
    await new.extend(5)
    await new.complete("ok")
    assert await task.wait(1) == "ok"


async def test_retries_to_dead_and_back(coord: Any) -> None:
    q = coord.queue("build")
    task = await q.put("flaky", max_attempts=2)
    claim = await q.claim()
    await claim.fail("first", delay=0.2)
    assert (await q.get(task.id)).status == "failed"
    assert await q.claim() is None  # not before its delay
    claim = await q.claim(timeout=2)  # woken when the delay ends
    assert claim is not None and claim.task.attempts == 2
    await claim.fail("second")
    dead = await q.get(task.id)
    assert (dead.status, dead.error, dead.attempts) == ("dead", "second", 2)
    assert [t.id for t in await q.list(status="dead")] == [task.id]
    with pytest.raises(TaskFailed, match="second"):
        await task.wait(1)
    with pytest.raises(TaskStateError):
        await q.cancel(task.id)
    again = await q.retry(task.id)
    assert (again.status, again.attempts) == ("ready", 0)
    with pytest.raises(TaskStateError):
        await q.retry(task.id)
    claim = await q.claim()
    await claim.complete(3)
    with pytest.raises(TaskStateError):
        await claim.complete(3)  # completing twice
    assert await task.wait(1) == 3


async def test_release_gives_back_without_an_attempt_and_context_manager(coord: Any) -> None:
    q = coord.queue("build")
    task = await q.put("job", data={"n": 1})
    claim = await q.claim()
    await claim.release()
    assert (await q.get(task.id)).attempts == 0
    claim = await q.claim(timeout=1)
    async with claim as got:
        assert got.data == {"n": 1}
    assert (await q.get(task.id)).status == "done"
    other = await q.put("raises", max_attempts=1)
    with pytest.raises(ValueError):
        async with await q.claim() as got:
            raise ValueError("boom")
    assert (await q.get(other.id)).error == "ValueError: boom"


async def test_claim_and_wait_are_pushed(coord: Any, connect: Any, spawn: Any) -> None:
    q = coord.queue("build")

    async def claimer() -> tuple[str, float]:
        claim = await connect("worker").queue("build").claim(timeout=10)
        got = time.monotonic()
        await claim.complete({"id": claim.id})
        return claim.title, got

    worker = spawn(claimer)
    await asyncio.sleep(0.2)  # the claimer waits by now
    put_at = time.monotonic()
    task = await q.put("now")
    assert await task.wait(10) == {"id": task.id}
    title, got = await worker.join(10)
    assert title == "now" and got - put_at < 0.5  # woken by the put, not a poll
    never = await q.put("never", tags=["nobody"])
    with pytest.raises(TaskTimeout):
        await never.wait(0.1)
    assert await q.claim(tags=["other"], timeout=0.1) is None
    assert await q.claim(tags=["other"], timeout=0) is None


async def _done(value: Any) -> Any:
    """The result of a store call of either twin."""
    return await value if inspect.isawaitable(value) else value


async def test_a_claim_handed_to_a_waiter_is_never_lost(coord: Any) -> None:
    """A task made ready is claimed, in the same step, for the first claimer waiting
    (and posted to it). A waiter that stops waiting takes a claim handed to it
    meanwhile with it; one that cannot be told has it given back (memory, SQLite), or
    back when its lease runs out (Redis cannot tell)."""
    store, q = unwrap(coord)._ctx.store, coord.queue("hand")

    async def waiter(holder: str) -> Any:
        mailbox = await _done(store.open_mailbox())
        req = ClaimRequest("hand", rule.claim_lanes(None, "w"), holder, "w", 1.0, mailbox.id)
        assert (await _done(store.task_claim(req, 100))).task is None  # registered
        return mailbox

    async def close(mailbox: Any) -> None:
        await _done(mailbox.aclose() if hasattr(mailbox, "aclose") else mailbox.close())

    mailbox = await waiter("w#1")
    task = await q.put("one")
    assert (task.status, task.claimed_by) == ("claimed", "w")
    message = await _done(mailbox.wait(5))
    handed = await _done(store.task_handed(message))
    assert (handed.id, handed.status, handed.attempts) == (int(task.id), "claimed", 1)
    kept = await _done(store.task_unwait("hand", mailbox.id, "w#1"))  # stops waiting
    assert kept is not None and (kept.token, kept.holder) == (handed.token, "w#1")
    await close(mailbox)
    assert await _done(store.task_complete(kept.id, kept.token, "null", "w", 0))

    mailbox = await waiter("w#2")
    await close(mailbox)  # the waiter is gone: nobody reads its mailbox
    lost = await q.put("two")
    start = time.monotonic()
    claim = await q.claim(timeout=5)
    assert claim is not None and claim.id == lost.id
    assert time.monotonic() - start < 1.0 + 0.5  # at most the lease it was handed with


async def test_lifecycle_events_are_logged(coord: Any) -> None:
    q = coord.queue("build")
    ok = await q.put("ok")
    claim = await q.claim()
    await claim.complete({"x": 1})
    bad = await q.put("bad", max_attempts=2)
    claim = await q.claim()
    await claim.fail("again")
    claim = await q.claim()
    await claim.fail("no", retry=False)
    names = [e.name for e in reversed(await coord.events.history(limit=20))]
    assert names == ["task_put", "task_claimed", "task_done", "task_put", "task_claimed",
                     "task_failed", "task_claimed", "task_dead"]
    done = (await coord.events.history(name="task_done", limit=1))[0]
    assert (done["id"], done["queue"], done["result"], done.source) == (
        ok.id, "build", {"x": 1}, "tester")
    dead = (await coord.events.history(name="task_dead", limit=1))[0]
    assert (dead["id"], dead["error"], dead["attempts"]) == (bad.id, "no", 2)


async def test_listing_stats_and_prune(coord: Any) -> None:
    q = coord.queue("build")
    other = coord.queue("other")
    await other.put("elsewhere")
    tasks = [await q.put(f"t{i}", tags=["odd" if i % 2 else "even"]) for i in range(5)]
    claim = await q.claim()
    await claim.complete()
    assert [t.title for t in await q.list()] == [f"t{i}" for i in range(5)]
    assert [t.title for t in await q.list(status="ready", tags=["odd"])] == ["t1", "t3"]
    assert [t.title for t in await q.list(after=tasks[2].id, limit=1)] == ["t3"]
    stats = await q.stats()
    assert (stats.ready, stats.done, stats.total) == (4, 1, 5)
    assert await q.prune(older_than=60) == 0
    assert await q.prune() == 1
    assert await q.get(tasks[0].id) is None and (await q.stats()).total == 4
    assert await other.get(tasks[1].id) is None  # a task of another queue


async def test_revoke_ends_the_claims_of_a_holder(coord: Any, mode: str) -> None:
    q = coord.queue("build")
    await q.put("a")
    await q.put("b")
    first, second = await q.claim(), await q.claim()
    store = unwrap(coord)._backend
    revoked = store.task_revoke("tester#", "registry", 100)
    assert (await revoked if mode == "async" else revoked) == 2
    with pytest.raises(LeaseLost):
        await first.complete()
    assert sorted(await _drain(q)) == ["a", "b"]
    assert second.task.status == "claimed"


async def test_work_runs_a_function_per_task(coord: Any) -> None:
    q = coord.queue("build")
    for i in range(6):
        await q.put(f"t{i}", data=i)
    await q.put("bad", data=-1, max_attempts=1)

    def square(task: Any) -> int:
        if task.data < 0:
            raise ValueError("negative")
        return int(task.data) ** 2

    ran = await q.work(square, concurrency=3, lease=5, idle_timeout=0.3)
    assert ran == 7
    assert sorted(t.result for t in await q.list(status="done")) == [0, 1, 4, 9, 16, 25]
    assert (await q.list(status="dead"))[0].error == "ValueError: negative"


async def test_handoffs_are_claimed_once_in_parallel(coord: Any, connect: Any,
                                                    run_workers: Any) -> None:
    specialists = ["billing", "shipping", "returns"]
    offers = [await coord.handoff(to=s, context={"order": 7, "ask": s}) for s in specialists]
    duplicate = await coord.handoff(to="billing", context={"order": 8})

    async def specialist(i: int) -> list[str]:
        role = specialists[i % 3]  # two claimants per role
        me = connect(f"{role}-{i}")
        taken = []
        while (claim := await me.handoffs.claim(role, timeout=0.2)) is not None:
            taken.append(claim.id)
            await claim.complete({"by": role, "order": claim.data["order"]})
        return taken

    taken = [task_id for ids in await run_workers(6, specialist) for task_id in ids]
    assert sorted(taken) == sorted([o.id for o in offers] + [duplicate.id])
    results = [await o.wait(5) for o in offers]  # gathered, one per specialist
    assert results == [{"by": s, "order": 7} for s in specialists]
    released = await coord.handoff(to="billing", context=None)
    claim = await coord.handoffs.claim("billing")
    await claim.release()
    assert (await coord.handoffs.claim("billing")).id == released.id
    assert await coord.handoffs.claim("nobody") is None


async def test_create_task_and_claim_task_on_the_default_queue(coord: Any) -> None:
    t = await coord.create_task("Add /health", description="in main.py", priority=2,
                                tags=["backend"])
    assert (t.id, t.title, t.priority, t.tags, t.description) == (
        t.id, "Add /health", 2, ("backend",), "in main.py")
    claim = await coord.claim_task(tags=["backend"])
    assert (claim.id, claim.title, claim.priority, claim.tags) == (t.id, t.title, 2, ("backend",))
    await claim.complete()
    assert (await coord.queue().get(t.id)).status == "done"


async def test_bad_input_is_refused_before_anything_changes(coord: Any) -> None:
    q = coord.queue("build")
    a = await q.put("a", key="a")
    b = await q.put("b", depends_on=[a.id])
    with pytest.raises(TypeError):
        await q.put("x", data={1, 2})
    with pytest.raises(PayloadTooLarge):
        await q.put("x", data="y" * (coord.max_payload + 1))
    with pytest.raises(InvalidName):
        await coord.queue("").put("x")
    with pytest.raises(InvalidName):
        await q.put("x", tags=["bad\ttag"])
    for priority in (2**31, -(2**31), 1.5, True):
        with pytest.raises(ConfigError):
            await q.put("x", priority=priority)
    with pytest.raises(ConfigError):
        await q.put("")
    with pytest.raises(TaskNotFound):
        await q.put("x", depends_on=["999999"])
    with pytest.raises(TaskNotFound):
        await q.put("x", depends_on=["not an id"])
    with pytest.raises(DependencyCycle):
        await q.put("a", key="a", depends_on=[b.id])  # a would wait for b, which waits for a
    with pytest.raises(TypeError):
        await q.put("x", colour="red")  # unknown keyword arguments are refused
    for lease in (0, -1):
        with pytest.raises(ConfigError):
            await q.claim(lease=lease)
    with pytest.raises(ConfigError):
        await q.put("x", max_attempts=0)
    with pytest.raises(TaskNotFound):
        await q.cancel("424242")
    assert (await q.stats()).total == 2
    assert [t.title for t in await q.list()] == ["a", "b"]
