"""The memory store's storage of the registry, the halt switch and lease metrics: a
side space per namespace (``memory.py`` stays as it was but for a base class).

The registry keeps three ordered indexes (``state/index.SortedKeys``): names, live
agents by heartbeat expiry and by progress, so a heartbeat, a reap and a hung call
cost a binary search and what they return, whatever the number of agents.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from accord.backends.agents.rule import AgentRecord
from accord.backends.leases.rule import WAIT_MAX, LeaseRecord
from accord.backends.state.index import SortedKeys


def _at(t: float, name: str) -> str:
    """A sortable index entry of (time, name): times are positive and below 1e11."""
    return f"{t:024.9f}\0{name}"


@dataclass
class _AgentSpace:
    agents: dict[str, AgentRecord] = field(default_factory=dict)
    names: SortedKeys = field(default_factory=SortedKeys)
    by_expiry: SortedKeys = field(default_factory=SortedKeys)  # live agents only
    by_progress: SortedKeys = field(default_factory=SortedKeys)  # live agents only
    indexed: dict[str, tuple[str, str]] = field(default_factory=dict)  # name: entries
    halt: list[str | None] = field(default_factory=lambda: [None])  # shared, see _halt_box
    floors: dict[str, int] = field(default_factory=dict)  # lease key: newest token revoked
    metrics: dict[str, list[float]] = field(default_factory=dict)  # lease key: counters


class _Leases(Protocol):
    leases: dict[str, LeaseRecord]


_spaces: dict[int, _AgentSpace] = {}  # by id() of the store's _Space, which lives for ever


class MemoryAgentStorage:
    """The storage hooks of ``AgentRecords`` and of the lease metrics, for memory."""

    def _base(self) -> _Leases:
        """memory.py's _Space of this namespace (its ``_space``)."""
        space: _Leases = self.__dict__["_space"]
        return space

    def _agents(self) -> _AgentSpace:
        found: _AgentSpace | None = self.__dict__.get("_agent_space")
        if found is None:  # kept on the backend: the halt check runs on every acquire
            found = _spaces.setdefault(id(self._base()), _AgentSpace())
            self.__dict__["_agent_space"] = found
        return found

    @functools.cached_property
    def _halt_box(self) -> list[str | None] | None:
        """The namespace's halt reason in a box every backend of it shares, read by
        the lease rule's acquire without a call (``LeaseRecords._halt_box``)."""
        return self._agents().halt

    def _load_agent(self, name: str) -> AgentRecord | None:
        rec = self._agents().agents.get(name)
        return None if rec is None else dataclasses.replace(rec)

    def _save_agent(self, rec: AgentRecord) -> None:
        space = self._agents()
        self._unindex(space, rec.name)
        space.agents[rec.name] = dataclasses.replace(rec)
        space.names.add(rec.name)
        if rec.state == "live":
            entries = _at(rec.expires_at, rec.name), _at(rec.progress, rec.name)
            space.by_expiry.add(entries[0])
            space.by_progress.add(entries[1])
            space.indexed[rec.name] = entries

    @staticmethod
    def _unindex(space: _AgentSpace, name: str) -> None:
        entries = space.indexed.pop(name, None)
        if entries is not None:
            space.by_expiry.discard(entries[0])
            space.by_progress.discard(entries[1])

    def _delete_agent(self, name: str) -> None:
        space = self._agents()
        self._unindex(space, name)
        space.agents.pop(name, None)
        space.names.discard(name)

    def _agents_after(self, after: str | None, limit: int) -> list[AgentRecord]:
        space = self._agents()
        found: list[AgentRecord] = []
        for name in space.names.from_key(after or "", after is None):
            if len(found) == limit:
                break
            found.append(space.agents[name])
        return found

    def _walk(self, index: SortedKeys, before: float, limit: int) -> list[AgentRecord]:
        space, bound = self._agents(), _at(before, "")
        found: list[AgentRecord] = []
        for entry in index.from_key("", True):
            if entry > bound or len(found) == limit:
                break
            found.append(dataclasses.replace(space.agents[entry.partition("\0")[2]]))
        return found

    def _agents_lapsed(self, now: float, limit: int) -> list[AgentRecord]:
        return self._walk(self._agents().by_expiry, now, limit)

    def _agents_stalled(self, before: float, limit: int) -> list[AgentRecord]:
        return self._walk(self._agents().by_progress, before, limit)

    def _load_halt(self) -> str | None:
        return self._agents().halt[0]

    def _save_halt(self, reason: str | None) -> None:
        self._agents().halt[0] = reason

    def _drop_all(self) -> None:
        space = self._base()
        for f in dataclasses.fields(space):  # type: ignore[arg-type]
            if f.name == "bells":  # the open bells of live coordinators stay
                continue
            if f.default is not dataclasses.MISSING:
                setattr(space, f.name, f.default)
            elif f.default_factory is not dataclasses.MISSING:
                fresh, old = f.default_factory(), getattr(space, f.name)
                if dataclasses.is_dataclass(old) and not isinstance(old, type):
                    vars(old).update(vars(fresh))  # backends hold a reference to it
                else:
                    setattr(space, f.name, fresh)
        agents = self._agents()  # emptied in place: other backends of it keep a reference
        box = agents.halt
        agents.__dict__.update(_AgentSpace().__dict__)
        box[0] = None
        agents.halt = box

    # fence floors, lease metrics ------------------------------------------------------
    def _raise_floor(self, key: str, token: int) -> None:
        floors = self._agents().floors
        floors[key] = max(floors.get(key, 0), token)

    def _fence_floor(self, lock_key: str) -> int:
        return self._agents().floors.get(lock_key, 0)

    def _add_metrics(self, key: str, counted: list[float]) -> None:
        add_metrics(self._agents().metrics, key, counted)

    def _load_metrics(self, prefix: str) -> dict[str, list[float]]:
        return {k: list(v) for k, v in self._agents().metrics.items() if k.startswith(prefix)}

    def _lease_records(self, prefix: str) -> Iterator[tuple[str, LeaseRecord]]:
        leases = self._base().leases
        return iter([(k, r) for k, r in leases.items() if k.startswith(prefix)])


def add_metrics(metrics: dict[str, list[float]], key: str, counted: list[float]) -> None:
    """Add ``counted`` to the counters of ``key`` (the maximum wait is a maximum)."""
    old = metrics.get(key)
    if old is None:
        metrics[key] = list(counted)
        return
    for i, value in enumerate(counted):
        old[i] = max(old[i], value) if i == WAIT_MAX else old[i] + value
