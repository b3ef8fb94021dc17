"""Shared and exclusive, directory and file leases against a reference model: a
hypothesis state machine takes and gives back leases with several agents on each
store (sync API, ``timeout=0`` so nothing queues) and checks every grant and refusal
against the rule "two leases conflict when their paths overlap (one is the other or
under it) and not both are shared"."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

import accord
from accord import _paths

AGENTS = ("a0", "a1", "a2")
TARGETS = ("./", "src/", "src/x.py", "src/y.py", "src/api/", "src/api/z.py", "doc/", "lock:doc")
EXAMPLES = {"memory": 60, "sqlite": 25, "redis": 25}


def overlap(p: str, q: str) -> bool:
    if p.startswith("lock:") or q.startswith("lock:"):
        return p == q
    return p == q or p == "./" or q == "./" or (p.endswith("/") and q.startswith(p)) or (
        q.endswith("/") and p.startswith(q))


class Model:
    """The leases held: (agent, target, shared)."""

    def __init__(self) -> None:
        self.held: list[tuple[str, str, bool]] = []

    def grants(self, agent: str, target: str, shared: bool) -> bool:
        return not any(
            a != agent and overlap(t, target) and not (s and shared) for a, t, s in self.held
        )


def machine(url: str, namespace: str) -> type[RuleBasedStateMachine]:
    class Leases(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            ns = f"{namespace}-{uuid.uuid4().hex[:6]}"
            self.coords = {a: accord.connect(url, namespace=ns, agent=a) for a in AGENTS}
            self.model = Model()
            self.leases: list[tuple[str, str, bool, Any]] = []

        @rule(agent=st.sampled_from(AGENTS), what=st.sampled_from(TARGETS),
              shared=st.booleans())
        def take(self, agent: str, what: str, shared: bool) -> None:
            target = what
            mine = [t for a, t, _ in self.model.held if a == agent]
            if any(overlap(t, target) for t in mine):
                return  # an agent's own overlapping leases nest or upgrade: not modelled
            expected = self.model.grants(agent, target, shared)
            coord = self.coords[agent]
            try:
                if target.startswith("lock:"):
                    lease = coord.lock(target[5:], shared=shared, timeout=0).acquire()
                else:
                    lease = coord.lock_file(target, intent=f"{agent} works", shared=shared,
                                            timeout=0, auto_renew=False).acquire()
            except accord.LockTimeout:
                assert not expected, f"{agent} refused {target} shared={shared}: {self.model.held}"
                return
            assert expected, f"{agent} granted {target} shared={shared} over {self.model.held}"
            self.model.held.append((agent, target, shared))
            self.leases.append((agent, target, shared, lease))

        @rule(data=st.data())
        def give_back(self, data: Any) -> None:
            if not self.leases:
                return
            i = data.draw(st.integers(0, len(self.leases) - 1))
            agent, target, shared, lease = self.leases.pop(i)
            self.model.held.remove((agent, target, shared))
            lease.release()

        @invariant()
        def listings_show_the_holders(self) -> None:
            if not self.leases:
                return
            shown = {(s.name, h.agent) for s in self.coords["a0"].list_locks() for h in s.holders}
            for agent, target, _, _ in self.leases:
                name = target[5:] if target.startswith("lock:") else target
                assert (name, agent) in shown

        def teardown(self) -> None:
            for coord in self.coords.values():
                coord.close()

    return Leases


@pytest.fixture
def in_a_repository(tmp_path: Path) -> Iterator[Path]:
    (tmp_path / ".git").mkdir()
    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(here)


@pytest.mark.parametrize("store", ["memory", "sqlite", "redis"])
def test_leases_follow_the_model(store: str, in_a_repository: Path,
                                 request: pytest.FixtureRequest) -> None:
    if store == "memory":
        url = f"memory://{uuid.uuid4().hex[:8]}"
    elif store == "sqlite":
        url = f"sqlite:///{in_a_repository / 'accord.db'}"
    else:
        url = request.getfixturevalue("redis_server").url
    config = settings(max_examples=EXAMPLES[store], stateful_step_count=15, deadline=None,
                      suppress_health_check=list(HealthCheck))
    run_state_machine_as_test(machine(url, f"modes-{uuid.uuid4().hex[:6]}"), settings=config)


def test_paths_plan_takes_directories_first() -> None:
    assert _paths.ancestors("src/api/x.py") == ["./", "src/", "src/api/"]
    assert _paths.plan([("src/x.py", False), ("src/", True)]) == [
        ("./", "IX"), ("src/", ""), ("src/x.py", "")]
    assert _paths.plan([("a/b", True)]) == [("./", "IS"), ("a/", "IS"), ("a/b", "S")]
