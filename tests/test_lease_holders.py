"""The holders of a lease (``backends/leases/holders.py``, ``sqlite_holders.py``)
against a plain reference model: random grants, releases, extensions and expiries,
with every answer the lease rule asks for compared after each step.

Memory's :class:`HeapHolders` keeps one object (its heap built past INLINE_MAX holders
and dropped again); SQLite's holders go through their record's JSON between steps, as
they do between operations, and move between the record and rows as their number
says (``placed``)."""

from __future__ import annotations

import sqlite3
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from accord.backends._sqlite_file import _schema
from accord.backends.leases.holders import INLINE_MAX, HeapHolders, Holder, Holders, InlineHolders
from accord.backends.leases.sqlite_holders import RowHolders, placed

HOLDERS = [f"h{i}" for i in range(24)]  # enough to pass INLINE_MAX and come back
MODES = ("", "S", "IS")
GRANT = st.tuples(st.just("grant"), st.sampled_from(HOLDERS), st.integers(5, 60),
                  st.sampled_from(MODES))
STEPS = st.lists(
    st.one_of(
        GRANT, GRANT, GRANT,  # grants outnumber the rest, so holders pass INLINE_MAX
        st.tuples(st.just("release"), st.sampled_from(HOLDERS)),
        st.tuples(st.just("extend"), st.sampled_from(HOLDERS), st.integers(1, 60)),
        st.tuples(st.just("tick"), st.integers(1, 8)),
    ),
    min_size=60,
    max_size=120,
)


class Model:
    """The reference: a dict in grant order, scanned for every answer."""

    def __init__(self) -> None:
        self.by: dict[str, Holder] = {}

    def grant(self, holder: str, h: Holder) -> None:
        self.by.pop(holder, None)
        self.by[holder] = h

    def expire(self, now: float) -> int:
        gone = [k for k, h in self.by.items() if h.expires_at <= now]
        for k in gone:
            del self.by[k]
        return len(gone)


def _copy(h: Holder) -> Holder:
    return Holder(h.agent, h.token, h.ttl, h.expires_at, h.mode, h.intent)


def run(steps: list[tuple[Any, ...]], reload: Any) -> None:
    """Apply ``steps`` to the holders ``reload(None)`` makes (``reload(h)`` gives the
    holders to go on with after a step) and to the model, comparing them."""
    model, holders, now, token = Model(), reload(None), 0.0, 0
    most = 0
    for step in steps:
        if step[0] == "grant":
            _, holder, ttl, mode = step
            token += 1
            h = Holder(f"agent-{holder}", token, float(ttl), now + ttl, mode)
            if holder in holders:
                assert holders.remove(holder) is not None
            holders.add(holder, _copy(h))
            model.grant(holder, h)
        elif step[0] == "release":
            gone = holders.remove(step[1])
            assert (gone is None) == (model.by.pop(step[1], None) is None)
        elif step[0] == "extend":
            _, holder, ttl = step
            mine = holders.get(holder)
            assert (mine is None) == (holder not in model.by)
            if mine is not None:
                holders.extend(holder, mine, float(ttl), now + ttl)
                model.by[holder].ttl, model.by[holder].expires_at = float(ttl), now + ttl
        else:
            now += step[1]
            assert holders.pop_expired(now) == model.expire(now)
        holders = reload(holders)
        most = max(most, len(model.by))
        check(holders, model)


def check(holders: Holders, model: Model) -> None:
    assert len(holders) == len(model.by)
    assert bool(holders) == bool(model.by)
    assert dict(holders.items()) == model.by
    assert [k for k, _ in holders.items()] == list(model.by)  # token order
    assert holders.first() == next(iter(model.by.items()), None)
    assert holders.earliest() == min((h.expires_at for h in model.by.values()), default=None)
    assert set(holders.modes()) == {h.mode for h in model.by.values()}
    for k in model.by:
        assert k in holders and holders.get(k) == model.by[k]


@settings(max_examples=60, deadline=None)
@given(STEPS)
def test_memory_holders_follow_the_model(steps: list[tuple[Any, ...]]) -> None:
    kept = HeapHolders()
    run(steps, lambda h: kept)


@settings(max_examples=40, deadline=None)
@given(STEPS)
def test_sqlite_holders_follow_the_model_through_their_record(
    steps: list[tuple[Any, ...]],
) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    for statement in _schema():
        conn.execute(statement)
    cur = conn.cursor()
    moved = {"out": 0, "back": 0}

    def reload(h: Holders | None) -> Holders:
        """Save (``placed``) and load again from the record's JSON, as an operation does."""
        if h is None:
            return InlineHolders()
        before = type(h)
        data = placed(cur, "ns", "sem/x", h).to_json()
        if type(data) is dict:
            if before is InlineHolders:
                moved["out"] += 1
            return RowHolders(cur, "ns", "sem/x", data)
        assert len(data) <= INLINE_MAX
        if before is RowHolders:
            moved["back"] += 1
        return InlineHolders.from_json(data)

    run(steps, reload)
    event(f"moved out: {moved['out'] > 0}, {len(steps) // 40 * 40}+ steps")
    left = conn.execute("SELECT count(*) FROM lease_holders").fetchone()[0]
    assert moved["back"] <= moved["out"] and (left > 0) == (moved["out"] > moved["back"])
    conn.close()


def test_the_memory_heap_drops_stale_entries() -> None:
    holders = HeapHolders()
    for i in range(20):
        holders.add(f"h{i}", Holder("a", i + 1, 10.0, 10.0 + i))
    for n in range(1000):  # extensions leave stale entries behind
        h = holders.get("h0")
        assert h is not None
        holders.extend("h0", h, 10.0, 100.0 + n)
    assert len(holders._heap or ()) <= 2 * len(holders) + 16  # rebuilt as they pile up
    assert holders.earliest() == 11.0
    assert holders.pop_expired(50.0) == 19 and list(dict(holders.items())) == ["h0"]
