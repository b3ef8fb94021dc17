"""Versioned state: versions, compare-and-set, update, incr, listing, history, fencing."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import accord
from accord.backends.state.rule import MAX_FENCES
from accord.errors import StaleFence, VersionConflict

JSON_VALUES = [
    0,
    -7,
    2**63 + 1,
    0.1,
    -2.5e-300,
    "",
    "ünïcödé ✓ 🚀",
    'quote " backslash \\ newline \n',
    True,
    False,
    None,
    [],
    {},
    [1, 2.5, "x", None, True, [[]]],
    {"nested": {"list": [1, {"deep": "yes"}]}, "": 0},
]


@pytest.mark.accord_capability("state")
async def test_set_get_and_versions(coord: Any, connect: Any) -> None:
    inv = coord.state("inventory")
    assert await inv.get("sku-1") is None
    before = time.time()
    first = await inv.set("sku-1", 5)
    assert (first.value, first.version, first.updated_by) == (5, 1, "tester")
    assert not first.deleted
    assert before - 5 <= first.updated_at <= time.time() + 5

    got = await inv.get("sku-1")
    assert (got.value, got.version, got.updated_by) == (5, 1, "tester")

    second = await connect("other").state("inventory").set("sku-1", 4)
    assert (second.version, second.updated_by) == (2, "other")
    assert (await inv.get("sku-1")).value == 4

    assert await inv.delete("sku-1") is True
    assert await inv.get("sku-1") is None
    assert await inv.delete("sku-1") is False  # absent: nothing to do, no version
    again = await inv.set("sku-1", 9)
    assert again.version == 4  # the delete was version 3; versions never repeat


@pytest.mark.accord_capability("state")
@pytest.mark.parametrize("value", JSON_VALUES, ids=repr)
async def test_json_values_round_trip(coord: Any, value: Any) -> None:
    m = coord.state("values")
    written = await m.set("k", value)
    assert written.value == value
    got = await m.get("k")
    assert got.value == value
    assert type(got.value) is type(value)


@pytest.mark.accord_capability("state")
async def test_tuples_come_back_as_lists(coord: Any) -> None:
    m = coord.state("values")
    await m.set("k", {"t": (1, (2, 3))})
    assert (await m.get("k")).value == {"t": [1, [2, 3]]}


@pytest.mark.accord_capability("state")
async def test_compare_and_set(coord: Any) -> None:
    m = coord.state("cas")
    created = await m.set("k", "a", expected_version=0)  # create only if absent
    assert created.version == 1

    with pytest.raises(VersionConflict) as conflict:
        await m.set("k", "b", expected_version=0)
    err = conflict.value
    assert err.expected_version == 0
    assert err.key == "k"
    assert err.current is not None
    assert (err.current.value, err.current.version) == ("a", 1)

    assert (await m.set("k", "b", expected_version=1)).version == 2
    with pytest.raises(VersionConflict) as conflict:
        await m.set("k", "c", expected_version=1)
    current = conflict.value.current
    assert current is not None
    assert (current.value, current.version) == ("b", 2)
    got = await m.get("k")
    assert (got.value, got.version) == ("b", 2)

    with pytest.raises(VersionConflict):
        await m.delete("k", expected_version=1)
    assert (await m.get("k")).value == "b"
    assert await m.delete("k", expected_version=2) is True
    assert (await m.set("k", "new", expected_version=0)).version == 4

    with pytest.raises(VersionConflict) as conflict:
        await m.set("absent", "x", expected_version=3)
    assert conflict.value.current is None
    assert await m.get("absent") is None


@pytest.mark.accord_capability("state")
async def test_only_one_concurrent_create_wins(coord: Any, run_workers: Any) -> None:
    m = coord.state("cas")

    async def body(i: int) -> bool:
        try:
            await m.set("leader", f"w{i}", expected_version=0)
        except VersionConflict:
            return False
        return True

    wins = await run_workers(8, body)
    assert wins.count(True) == 1
    entry = await m.get("leader")
    assert entry.version == 1
    assert entry.value == f"w{wins.index(True)}"


@pytest.mark.accord_capability("state")
async def test_update(coord: Any) -> None:
    m = coord.state("upd")
    made = await m.update("n", lambda v: v + 1, default=10)
    assert (made.value, made.version) == (11, 1)
    seen = []

    def double(v: Any) -> Any:
        seen.append(v)
        return v * 2

    assert (await m.update("n", double)).value == 22
    assert seen == [11]
    assert (await m.get("n")).version == 2

    with pytest.raises(KeyError):
        await m.update("absent", lambda v: v)
    with pytest.raises(KeyError):
        await m.update("absent", lambda v: v, default=accord.MISSING)
    assert await m.get("absent") is None

    def fail(v: Any) -> Any:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        await m.update("n", fail)
    got = await m.get("n")
    assert (got.value, got.version) == (22, 2)


def test_update_pauses_stay_short_after_any_number_of_conflicts() -> None:
    # 16 agents updating one key can make one of them retry over a thousand times;
    # 2 ** attempt once overflowed float there (OverflowError out of update()).
    from accord._sync.state import retry_pause

    assert all(0 <= retry_pause(n) <= 0.01 for n in (1, 7, 8, 1024, 10**6))


@pytest.mark.accord_capability("state")
async def test_update_with_default_none(coord: Any) -> None:
    m = coord.state("upd")
    made = await m.update("k", lambda v: [v], default=None)
    assert made.value == [None]


@pytest.mark.accord_capability("state")
async def test_incr(coord: Any) -> None:
    m = coord.state("counters")
    one = await m.incr("n")
    assert (one.value, one.version) == (1, 1)
    assert type(one.value) is int
    assert (await m.incr("n", 5)).value == 6
    last = await m.incr("n", -2)
    assert (last.value, last.version) == (4, 3)
    assert type(last.value) is int

    assert (await m.incr("f", 0.5)).value == 0.5
    half = await m.incr("f", 0.25)
    assert half.value == 0.75
    assert (await m.incr("n", 0.5)).value == 4.5  # int + float is a float

    await m.set("big", 2**53)
    assert (await m.incr("big")).value == 2**53 + 1  # exact, not a double


@pytest.mark.accord_capability("state")
async def test_incr_refuses_what_is_not_a_number(coord: Any) -> None:
    m = coord.state("counters")
    for key, value in [("s", "7"), ("l", [1]), ("d", {"n": 1}), ("b", True), ("z", None)]:
        stored = await m.set(key, value)
        with pytest.raises(TypeError):
            await m.incr(key)
        got = await m.get(key)
        assert (got.value, got.version) == (value, stored.version)
    for delta in ["1", None, True, [1]]:
        with pytest.raises(TypeError):
            await m.incr("n", delta)
    assert await m.get("n") is None


@pytest.mark.accord_capability("state")
async def test_concurrent_incr_is_exact(coord: Any, run_workers: Any) -> None:
    m = coord.state("counters")

    async def body(i: int) -> None:
        for _ in range(50):
            await m.incr("ints")
            await m.incr("floats", 0.5)

    await run_workers(16, body)
    ints, floats = await m.get("ints"), await m.get("floats")
    assert (ints.value, ints.version) == (800, 800)
    assert (floats.value, floats.version) == (400.0, 800)


NAMES = ["a", "a*", "a%", "a_b", "ab", "axb", "a?c", "a[x]", "[x]", "a\\d", "a{t}", "b", "é"]


async def _keys(m: Any, prefix: str = "", **kw: Any) -> list[str]:
    return [k async for k in m.keys(prefix, **kw)]


@pytest.mark.accord_capability("state")
async def test_keys_by_prefix_take_names_literally(coord: Any) -> None:
    m = coord.state("names")
    for name in NAMES:
        await m.set(name, name)
    await m.set("gone", 1)
    await m.delete("gone")

    assert await _keys(m) == sorted(NAMES)
    assert await _keys(m, "a*") == ["a*"]
    assert await _keys(m, "a%") == ["a%"]
    assert await _keys(m, "a_") == ["a_b"]
    assert await _keys(m, "a?") == ["a?c"]
    assert await _keys(m, "a[") == ["a[x]"]
    assert await _keys(m, "[") == ["[x]"]
    assert await _keys(m, "a\\") == ["a\\d"]
    assert await _keys(m, "a{") == ["a{t}"]
    assert await _keys(m, "a") == sorted(n for n in NAMES if n.startswith("a"))
    assert await _keys(m, "zzz") == []
    assert await _keys(m, "gone") == []
    assert list(await m.keys_page("a", limit=100)) == sorted(n for n in NAMES if n[0] == "a")
    # Another map of the same namespace is separate.
    assert await _keys(coord.state("names-2")) == []


@pytest.mark.accord_capability("state")
async def test_items(coord: Any, connect: Any) -> None:
    m = coord.state("items")
    await m.set("b", 2)
    await m.set("a", 1)
    await connect("other").state("items").set("c", [3])
    await m.set("d", 4)
    await m.delete("d")
    items = {k: e async for k, e in m.items()}
    assert list(items) == ["a", "b", "c"]
    assert {k: e.value for k, e in items.items()} == {"a": 1, "b": 2, "c": [3]}
    assert items["c"].updated_by == "other"
    assert items["a"].version == 1
    assert [k async for k, _ in m.items("b")] == ["b"]
    page = await m.items_page(limit=2)
    assert [(k, e.value) for k, e in page] == [("a", 1), ("b", 2)]
    assert page.next == "b"
    assert [(k, e.value) for k, e in await m.items_page(after=page.next)] == [("c", [3])]


# keys with deleted ones between them: SQLite walks those too, so its pages of the
# store can come back short or empty before the end
LIVE = [f"k{i:02}" for i in range(23)]
DELETED = ["k00a", "k05a", "k05b", "k05c", "k05d", "k05e", "k05f", "k22a", "k22b", "k22c"]


async def _fill(m: Any) -> None:
    for key in sorted(LIVE + DELETED):
        await m.set(key, key)
    for key in DELETED:
        await m.delete(key)


@pytest.mark.accord_capability("state")
async def test_keys_page_by_page_with_a_cursor(coord: Any) -> None:
    m = coord.state("pages")
    await _fill(m)
    await m.set("other", 1)
    for limit in (1, 3, 7, 23, 100):
        seen, after = [], None
        while True:
            page = await m.keys_page("k", after=after, limit=limit)
            seen += page.results
            if page.next is None:
                break
            assert len(page) == limit  # only the last page is short
            assert page.next == page.results[-1]
            after = page.next
        assert seen == LIVE, limit
        assert len(page) == (len(LIVE) - 1) % limit + 1  # the last page says it is the last
    items = await m.items_page("k", after="k05", limit=3)
    assert [(k, e.value) for k, e in items] == [("k06", "k06"), ("k07", "k07"), ("k08", "k08")]
    assert items.next == "k08"


@pytest.mark.accord_capability("state")
async def test_keys_iterate_lazily_in_pages_from_a_key(coord: Any) -> None:
    m = coord.state("lazy")
    await _fill(m)
    assert await _keys(m, page_size=2) == LIVE
    assert await _keys(m, page_size=1) == LIVE
    assert await _keys(m, "k0", after="k05") == LIVE[6:10]
    assert await _keys(m, "k1", after="a") == LIVE[10:20]  # ``after`` before the prefix
    assert await _keys(m, "k1", after="k2") == []  # and past it
    assert await _keys(m, after="k21") == ["k22"]
    assert await _keys(m, after="k22") == []
    assert await _keys(m, after="k05a") == LIVE[6:]  # a deleted key is a fine cursor
    pairs = [(k, e.value, e.version) async for k, e in m.items("k2", page_size=1)]
    assert pairs == [(k, k, 1) for k in LIVE[20:]]
    iterator = m.keys()
    await m.set("a", 0)  # nothing was read yet: the listing starts when iterated
    assert [k async for k in iterator][:2] == ["a", "k00"]


@pytest.mark.accord_capability("state")
async def test_listing_arguments_are_checked_when_called(coord: Any) -> None:
    m = coord.state("args")
    with pytest.raises(accord.ConfigError, match="page_size"):
        m.keys(page_size=0)
    with pytest.raises(accord.ConfigError, match="page_size must be at most 1000"):
        m.items(page_size=1001)
    with pytest.raises(TypeError, match="after must be a key"):
        m.keys(after=5)
    with pytest.raises(TypeError, match="prefix must be a str"):
        m.items(prefix=None)
    with pytest.raises(accord.ConfigError, match="limit"):
        await m.keys_page(limit=0)
    with pytest.raises(TypeError, match="after must be a key"):
        await m.items_page(after=b"k")
    with pytest.raises(accord.InvalidName, match="prefix holds a lone surrogate"):
        await m.keys_page("a\ud800")
    with pytest.raises(accord.InvalidName, match="after holds a lone surrogate"):
        m.items(after="\udfff")
    assert (await m.keys_page(limit=10**6)).results == ()


@pytest.mark.accord_capability("state")
async def test_history_newest_first_with_deletes(coord: Any, connect: Any) -> None:
    m = coord.state("hist")
    other = connect("other").state("hist")
    assert await m.history("k") == []
    await m.set("k", "one")
    await other.set("k", "two")
    await asyncio.sleep(0.01)
    await m.delete("k")
    await m.set("k", "four")

    history = await m.history("k")
    assert [e.version for e in history] == [4, 3, 2, 1]
    assert [e.updated_by for e in history] == ["tester", "tester", "other", "tester"]
    assert [e.deleted for e in history] == [False, True, False, False]
    assert [history[i].value for i in (0, 2, 3)] == ["four", "two", "one"]
    times = [e.updated_at for e in history]
    assert times == sorted(times, reverse=True)
    assert [e.version for e in await m.history("k", limit=2)] == [4, 3]


@pytest.mark.accord_capability("leases", "state")
async def test_fenced_write_from_an_expired_lease_is_refused(coord: Any, connect: Any) -> None:
    orders = coord.state("orders")
    old = await coord.lock("order-9", ttl=0.3).acquire()
    await orders.set("order-9", "draft", fence=old)

    other = connect("other")
    new = await other.lock("order-9", ttl=10).acquire(timeout=5)  # old expired
    await other.state("orders").set("order-9", "paid", fence=new)

    with pytest.raises(StaleFence) as stale:
        await orders.set("order-9", "cancelled", fence=old)  # the late write
    assert stale.value.token == old.token
    assert stale.value.newest == new.token
    got = await orders.get("order-9")
    assert (got.value, got.version, got.updated_by) == ("paid", 2, "other")

    # The current holder may write again with the same token.
    assert (await other.state("orders").set("order-9", "shipped", fence=new)).version == 3
    await new.release()


@pytest.mark.accord_capability("leases", "state")
async def test_a_key_remembers_the_highest_token_of_each_lock(coord: Any, connect: Any) -> None:
    m = coord.state("m")
    other = connect("other")
    old = await coord.lock("a", ttl=0.3).acquire()
    new = await other.lock("a", ttl=10).acquire(timeout=5)  # old expired
    await other.state("m").set("k", 1, fence=new)  # lock a's newer token writes k
    b = await coord.lock("b").acquire()
    await m.set("k", 2, fence=b)  # a holder of lock b writes k
    await m.set("k", 3)  # and an unfenced write
    await m.delete("k")  # and a delete: fences are kept through all of them
    with pytest.raises(StaleFence) as stale:
        await m.set("k", 4, fence=old)  # lock a's stale token
    assert (stale.value.token, stale.value.newest) == (old.token, new.token)
    assert await m.get("k") is None
    assert (await m.set("k", 5, fence=new)).version == 5
    assert (await m.set("k", 6, fence=b)).version == 6
    for lease in (new, b):
        await lease.release()


@pytest.mark.accord_capability("leases", "state")
async def test_a_key_remembers_a_bounded_number_of_locks(coord: Any, backend_name: str) -> None:
    m = coord.state("m")
    first = await coord.lock("l0").acquire()
    await m.set("k", 0, fence=first)
    await first.release()
    newer = await coord.lock("l0").acquire()  # token 2 of l0
    await m.set("k", 0, fence=newer)
    await newer.release()
    for i in range(1, MAX_FENCES):  # MAX_FENCES locks in all: l0 is still remembered
        async with coord.lock(f"l{i}") as lease:
            await m.set("k", i, fence=lease)
    with pytest.raises(StaleFence):
        await m.set("k", -1, fence=first)
    if backend_name == "custom":  # another store may remember more
        return
    async with coord.lock("one-more") as lease:  # l0 fenced least recently: forgotten
        await m.set("k", 99, fence=lease)
    assert (await m.set("k", -1, fence=first)).value == -1
