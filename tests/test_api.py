"""The public surface: exactly what ``accord`` exports, documented, twins in step."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

import accord
from accord import errors

ROOT = Path(__file__).resolve().parent.parent

_NAMES = {
    # entry points
    "connect",
    "connect_async",
    "__version__",
    # the sync API and its asyncio twin
    "Coordinator",
    "AsyncCoordinator",
    "Lock",
    "AsyncLock",
    "MultiLock",
    "AsyncMultiLock",
    "Lease",
    "AsyncLease",
    "Semaphore",
    "AsyncSemaphore",
    "RateLimit",
    "AsyncRateLimit",
    "StateMap",
    "AsyncStateMap",
    "MISSING",
    # value objects
    "Entry",
    "HolderInfo",
    "LeaseStatistics",
    "RateLimitStatistics",
    # events, barriers and the module-level helpers for agents
    "events",
    "Event",
    "Events",
    "AsyncEvents",
    "Barrier",
    "AsyncBarrier",
    "configure",
    "coordinate",
    "emit",
    "wait_idle",
    "when",
    "errors",
}

ERRORS = {
    "AccordError",
    "BackendUnavailable",
    "ConfigError",
    "DeadlockError",
    "InvalidName",
    "LeaseLost",
    "LockTimeout",
    "PayloadTooLarge",
    "StaleFence",
    "VersionConflict",
    "SchemaError",
    "RequestTimeout",
    "RemoteError",
    "BarrierTimeout",
    "BarrierBroken",
    "WouldBlockLoop",
    "Unsupported",
}

PUBLIC = _NAMES | ERRORS

TWINS = [
    ("Coordinator", "AsyncCoordinator"),
    ("Lock", "AsyncLock"),
    ("MultiLock", "AsyncMultiLock"),
    ("Lease", "AsyncLease"),
    ("Semaphore", "AsyncSemaphore"),
    ("RateLimit", "AsyncRateLimit"),
    ("StateMap", "AsyncStateMap"),
    ("Barrier", "AsyncBarrier"),
    ("Events", "AsyncEvents"),
]

# Data, not code: documented where they are used (``StateMap.update``).
CONSTANTS = {"__version__", "MISSING"}


def test_all_is_exactly_the_public_api() -> None:
    assert set(accord.__all__) == PUBLIC
    assert len(accord.__all__) == len(PUBLIC)  # no duplicates
    for name in accord.__all__:
        assert hasattr(accord, name), name


def test_errors_module_exports_the_error_tree() -> None:
    assert set(errors.__all__) == ERRORS
    for name in errors.__all__:
        assert getattr(accord, name) is getattr(errors, name)
        cls = getattr(errors, name)
        assert issubclass(cls, errors.AccordError)
        assert (cls.__doc__ or "").strip(), name
        assert name in (errors.__doc__ or ""), f"{name} is not drawn in the error tree"


def _public_members(cls: type) -> list[tuple[str, object]]:
    return [
        (name, member)
        for name, member in vars(cls).items()
        if not name.startswith("_") and (callable(member) or isinstance(member, property))
    ]


@pytest.mark.parametrize("name", sorted(PUBLIC - CONSTANTS))
def test_every_public_name_has_a_docstring(name: str) -> None:
    obj = getattr(accord, name)
    assert (obj.__doc__ or "").strip(), f"accord.{name} has no docstring"
    if inspect.isclass(obj):
        for member_name, member in _public_members(obj):
            doc = member.__doc__ if not isinstance(member, property) else member.fget.__doc__
            assert (doc or "").strip(), f"accord.{name}.{member_name} has no docstring"


@pytest.mark.parametrize(("sync_name", "async_name"), TWINS)
def test_sync_and_async_twins_have_the_same_methods(sync_name: str, async_name: str) -> None:
    sync_cls, async_cls = getattr(accord, sync_name), getattr(accord, async_name)

    def names(cls: type) -> set[str]:
        return {n.replace("aclose", "close") for n in dir(cls) if not n.startswith("_")}

    assert names(sync_cls) == names(async_cls)
    for name in names(sync_cls):
        sync_member = getattr(sync_cls, name)
        async_member = getattr(async_cls, name.replace("close", "aclose"), None) or getattr(
            async_cls, name
        )
        if inspect.iscoroutinefunction(async_member):
            assert not inspect.iscoroutinefunction(sync_member), f"{sync_name}.{name}"
            sync_params = list(inspect.signature(sync_member).parameters)
            async_params = list(inspect.signature(async_member).parameters)
            assert sync_params == async_params, f"{sync_name}.{name} arguments differ"


def test_generated_sync_code_is_not_stale() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
