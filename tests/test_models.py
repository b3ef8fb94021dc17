"""Model-based tests: hypothesis drives agents through random sequences of lease and
state operations on a real store and checks each outcome against a small reference
model (who holds what with which token, which token of which lock wrote each key; the
versions of each key). Every store; bounded to a few seconds each.

The leases machine: three agents (coordinators, one owner each) on two locks: acquire,
nested acquire, try_acquire, extend, release, expiry (a lease shortened to 50 ms and
waited past), losing track of a lease (what a release that failed on the way leaves),
fenced writes with live and stale leases. The state machine: set with and without
expected_version, update, incr, delete, history, items.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import accord
from accord.errors import LeaseLost, StaleFence, VersionConflict

SETTINGS = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
AGENTS = ("a", "b", "c")
LOCKS = ("x", "y")
KEYS = ("k1", "k2")
SHORT = 0.05  # an expiring lease's ttl; waited past by EXPIRE_WAIT
EXPIRE_WAIT = 0.08

agents = st.sampled_from(range(len(AGENTS)))
locks = st.sampled_from(LOCKS)
keys = st.sampled_from(KEYS)
picks = st.integers(0, 1000)


class Stale:
    """A lease that no longer holds: released, expired, or its outer one expired."""

    def __init__(self, lease: Any, kind: str) -> None:
        self.lease = lease
        self.kind = kind  # "released", "expired" (an outer lease), "nested"


class LeaseMachine(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.coords: list[accord.Coordinator] = []
        self.stacks: dict[tuple[int, str], list[Any]] = {}  # live leases, outer first
        self.owner: dict[str, tuple[int, int] | None] = dict.fromkeys(LOCKS)  # agent, token
        self.last_token = dict.fromkeys(LOCKS, 0)
        self.ghosts: dict[tuple[int, str], Any] = {}  # expired, still known to its coordinator
        self.orphans: set[tuple[int, str]] = set()  # held in the store, forgotten here
        self.stale: list[Stale] = []
        self.fenced: dict[str, dict[str, int]] = {k: {} for k in KEYS}

    @initialize()
    def connect(self) -> None:
        namespace = f"m-{uuid.uuid4().hex[:10]}"
        self.coords = [accord.connect(self.url, namespace=namespace, agent=a) for a in AGENTS]

    def teardown(self) -> None:
        for coord in self.coords:
            coord.close()

    def _granted(self, agent: int, lock: str, lease: Any) -> None:
        assert lease.token > self.last_token[lock], "fencing tokens must only grow"
        self.last_token[lock] = lease.token
        self.owner[lock] = (agent, lease.token)
        self.stacks[agent, lock] = [lease]
        self.orphans.discard((agent, lock))

    def _take(self, agent: int, lock: str, try_only: bool) -> None:
        lk = self.coords[agent].lock(lock, ttl=30)
        stack = self.stacks.get((agent, lock))
        take = lk.try_acquire if try_only else (lambda: lk.acquire(timeout=1))
        if stack:
            nested = take()
            assert nested is not None and nested.token == stack[0].token
            stack.append(nested)
        elif (agent, lock) in self.ghosts:
            with pytest.raises(LeaseLost) as lost:
                take()
            holder = self.owner[lock]
            assert lost.value.holder == (AGENTS[holder[0]] if holder else None)
            del self.ghosts[agent, lock]  # forgotten: the next acquisition is fresh
        elif self.owner[lock] is None or (agent, lock) in self.orphans:
            lease = take()
            assert lease is not None
            self._granted(agent, lock, lease)
        else:
            assert lk.try_acquire() is None

    @rule(agent=agents, lock=locks)
    def acquire(self, agent: int, lock: str) -> None:
        self._take(agent, lock, try_only=False)

    @rule(agent=agents, lock=locks)
    def try_acquire(self, agent: int, lock: str) -> None:
        self._take(agent, lock, try_only=True)

    def _held(self) -> list[tuple[int, str]]:
        return sorted(k for k, v in self.stacks.items() if v)

    @precondition(lambda self: self._held())
    @rule(pick=picks)
    def release(self, pick: int) -> None:
        agent, lock = self._held()[pick % len(self._held())]
        stack = self.stacks[agent, lock]
        lease = stack.pop()
        lease.release()
        self.stale.append(Stale(lease, "released"))
        if not stack:
            self.owner[lock] = None

    @precondition(lambda self: self._held())
    @rule(pick=picks)
    def extend(self, pick: int) -> None:
        agent, lock = self._held()[pick % len(self._held())]
        self.stacks[agent, lock][-1].extend(30)

    @precondition(lambda self: self._held())
    @rule(pick=picks)
    def expire(self, pick: int) -> None:
        agent, lock = self._held()[pick % len(self._held())]
        outer, *nested = self.stacks.pop((agent, lock))
        outer.extend(SHORT)
        time.sleep(EXPIRE_WAIT)
        self.owner[lock] = None
        self.ghosts[agent, lock] = outer
        self.stale += [Stale(outer, "expired"), *(Stale(n, "nested") for n in nested)]

    @precondition(lambda self: any(len(v) == 1 for v in self.stacks.values()))
    @rule(pick=picks)
    def lose_track(self, pick: int) -> None:
        """A release that failed on the way to the store: gone here, held there."""
        alone = sorted(k for k, v in self.stacks.items() if len(v) == 1)
        agent, lock = alone[pick % len(alone)]
        lease = self.stacks.pop((agent, lock))[0]
        obj = lease
        obj.released = True
        obj._held.pop((obj._key, obj._holder), None)
        self.orphans.add((agent, lock))
        self.stale.append(Stale(lease, "released"))

    @precondition(lambda self: self.stale)
    @rule(pick=picks)
    def use_stale(self, pick: int) -> None:
        item = self.stale[pick % len(self.stale)]
        if item.kind == "expired":
            with pytest.raises(LeaseLost):
                item.lease.release()  # never touches the next holder's lease
            item.kind = "released"
            for key, ghost in list(self.ghosts.items()):
                if ghost is item.lease:
                    del self.ghosts[key]
        else:
            item.lease.release()  # already released, or nested: nothing to give back
        with pytest.raises(LeaseLost):
            item.lease.extend(30)

    def _write(self, lease: Any, key: str, value: int) -> None:
        state = self.coords[0].state("m")
        lock_key, token = lease.fence
        newest = self.fenced[key].get(lock_key, 0)
        if token < newest:
            with pytest.raises(StaleFence) as stale:
                state.set(key, value, fence=lease)
            assert stale.value.newest == newest
            return
        state.set(key, value, fence=lease)
        self.fenced[key][lock_key] = token
        entry = state.get(key)
        assert entry is not None and entry.value == value

    @precondition(lambda self: self._held())
    @rule(pick=picks, key=keys, value=st.integers(0, 9))
    def write_fenced(self, pick: int, key: str, value: int) -> None:
        agent, lock = self._held()[pick % len(self._held())]
        self._write(self.stacks[agent, lock][-1], key, value)

    @precondition(lambda self: self.stale)
    @rule(pick=picks, key=keys, value=st.integers(0, 9))
    def write_stale(self, pick: int, key: str, value: int) -> None:
        self._write(self.stale[pick % len(self.stale)].lease, key, value)

    @invariant()
    def store_agrees(self) -> None:
        if not self.coords:
            return
        for lock in LOCKS:
            stats = self.coords[0].lock(lock).statistics()
            held = self.owner[lock]
            if held is None:
                assert stats.holders == (), (lock, stats)
            else:
                assert (stats.holder, stats.token) == (AGENTS[held[0]], held[1]), (lock, stats)
            assert stats.last_token == self.last_token[lock]


GONE = object()  # a delete in the model's history


class StateMachine(RuleBasedStateMachine):
    url = ""

    def __init__(self) -> None:
        super().__init__()
        self.versions: dict[str, list[Any]] = {k: [] for k in KEYS}  # value or GONE
        self.state: Any = None
        self.coord: accord.Coordinator | None = None

    @initialize()
    def connect(self) -> None:
        self.coord = accord.connect(self.url, namespace=f"m-{uuid.uuid4().hex[:10]}")
        self.state = self.coord.state("m")

    def teardown(self) -> None:
        if self.coord is not None:
            self.coord.close()

    def _live(self, key: str) -> bool:
        return bool(self.versions[key]) and self.versions[key][-1] is not GONE

    def _version(self, key: str) -> int:
        """What expected_version must be for a write to pass (0: absent or deleted)."""
        return len(self.versions[key]) if self._live(key) else 0

    def _expected(self, key: str, how: str) -> int | None:
        return {"none": None, "right": self._version(key), "wrong": self._version(key) + 1,
                "zero": 0}[how]

    @rule(key=keys, value=st.one_of(st.integers(-5, 5), st.text("ab", max_size=2)),
          how=st.sampled_from(["none", "right", "wrong", "zero"]))
    def set(self, key: str, value: Any, how: str) -> None:
        expected = self._expected(key, how)
        if expected is not None and expected != self._version(key):
            with pytest.raises(VersionConflict) as conflict:
                self.state.set(key, value, expected_version=expected)
            current = conflict.value.current
            assert (current.version if current else 0) == self._version(key)
            return
        entry = self.state.set(key, value, expected_version=expected)
        self.versions[key].append(value)
        assert (entry.value, entry.version) == (value, len(self.versions[key]))

    @rule(key=keys, delta=st.integers(-3, 3))
    def incr(self, key: str, delta: int) -> None:
        base = self.versions[key][-1] if self._live(key) else 0
        if not isinstance(base, int):
            with pytest.raises(TypeError):
                self.state.incr(key, delta)
            return
        entry = self.state.incr(key, delta)
        self.versions[key].append(base + delta)
        assert (entry.value, entry.version) == (base + delta, len(self.versions[key]))

    @rule(key=keys)
    def update(self, key: str) -> None:
        base = self.versions[key][-1] if self._live(key) else "new"
        entry = self.state.update(key, lambda v: [v], default="new")
        self.versions[key].append([base])
        assert (entry.value, entry.version) == ([base], len(self.versions[key]))

    @rule(key=keys, how=st.sampled_from(["none", "right", "wrong", "zero"]))
    def delete(self, key: str, how: str) -> None:
        expected = self._expected(key, how)
        if not self._live(key):
            if expected not in (None, 0):
                with pytest.raises(VersionConflict):
                    self.state.delete(key, expected_version=expected)
            else:
                assert self.state.delete(key, expected_version=expected) is False
            return
        if expected is not None and expected != self._version(key):
            with pytest.raises(VersionConflict):
                self.state.delete(key, expected_version=expected)
            return
        assert self.state.delete(key, expected_version=expected) is True
        self.versions[key].append(GONE)

    @rule(key=keys, limit=st.integers(1, 25))
    def history(self, key: str, limit: int) -> None:
        got = self.state.history(key, limit=limit)
        model = list(enumerate(self.versions[key], start=1))[::-1][:limit]
        assert [e.version for e in got] == [v for v, _ in model]
        assert [e.deleted for e in got] == [x is GONE for _, x in model]
        assert [e.value for e in got if not e.deleted] == [x for _, x in model if x is not GONE]

    @invariant()
    def store_agrees(self) -> None:
        if self.state is None:
            return
        live = {k: self.versions[k][-1] for k in KEYS if self._live(k)}
        assert {k: e.value for k, e in self.state.items(page_size=2)} == live
        for key in KEYS:
            entry = self.state.get(key)
            if self._live(key):
                assert entry is not None and entry.version == len(self.versions[key])
            else:
                assert entry is None


def test_leases_follow_the_model(url: str) -> None:
    machine = type("Leases", (LeaseMachine,), {"url": url})
    run_state_machine_as_test(machine, settings=SETTINGS)


def test_state_versions_follow_the_model(url: str) -> None:
    machine = type("State", (StateMachine,), {"url": url})
    run_state_machine_as_test(
        machine, settings=settings(SETTINGS, max_examples=30, stateful_step_count=40)
    )
