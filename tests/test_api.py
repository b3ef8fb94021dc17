"""The public surface: exactly what ``accord`` exports, documented, twins in step."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import pytest

import accord
from accord import errors

ROOT = Path(__file__).resolve().parent.parent

_NAMES = {
    # entry points
    "connect",
    "connect_async",
    "session",
    "session_async",
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
    "Page",
    "HolderInfo",
    "LeaseStatistics",
    "RateLimitStatistics",
    "LockMetrics",
    "AgentInfo",
    "ConnectSpec",
    # agents: the registry, file leases
    "AgentRegistry",
    "AsyncAgentRegistry",
    "FileLock",
    "AsyncFileLock",
    "FileLease",
    "AsyncFileLease",
    # events, barriers and the module-level helpers for agents
    "events",
    "Event",
    "Events",
    "AsyncEvents",
    "Barrier",
    "AsyncBarrier",
    # task queues and handoffs
    "Queue",
    "AsyncQueue",
    "Claim",
    "AsyncClaim",
    "Task",
    "AsyncTask",
    "Handoffs",
    "AsyncHandoffs",
    "QueueStats",
    "configure",
    "coordinate",
    "emit",
    "wait_idle",
    "when",
    "errors",
    # people in the loop: the audit log, approvals, the board
    "Audit",
    "AsyncAudit",
    "AuditEntry",
    "AuditBreak",
    "Approvals",
    "AsyncApprovals",
    "ApprovalRequest",
    "AsyncApprovalRequest",
    "Approval",
    "Decision",
    "Board",
    "AsyncBoard",
    "BoardThread",
    "AsyncBoardThread",
    "Message",
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
    "TaskNotFound",
    "DependencyCycle",
    "TaskStateError",
    "TaskTimeout",
    "NoTaskClaimed",
    "TaskFailed",
    "TaskCancelled",
    "NotFound",
    "ApprovalClosed",
    "NotAnApprover",
    "ApprovalTimeout",
    "AgentExists",
    "AgentKilled",
    "Halted",
    "UnknownAgent",
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
    ("Queue", "AsyncQueue"),
    ("Claim", "AsyncClaim"),
    ("Task", "AsyncTask"),
    ("Handoffs", "AsyncHandoffs"),
    ("Audit", "AsyncAudit"),
    ("Approvals", "AsyncApprovals"),
    ("ApprovalRequest", "AsyncApprovalRequest"),
    ("Board", "AsyncBoard"),
    ("BoardThread", "AsyncBoardThread"),
    ("AgentRegistry", "AsyncAgentRegistry"),
    ("FileLock", "AsyncFileLock"),
    ("FileLease", "AsyncFileLease"),
]

# Data, not code: documented where they are used (``StateMap.update``).
CONSTANTS = {"__version__", "MISSING"}


def test_all_is_exactly_the_public_api() -> None:
    assert set(accord.__all__) == PUBLIC
    assert len(accord.__all__) == len(PUBLIC)  # no duplicates
    for name in accord.__all__:
        assert hasattr(accord, name), name


def test_the_package_only_re_exports() -> None:
    """``accord/__init__.py`` holds imports, ``__all__`` and its docstring: no logic."""
    tree = ast.parse((ROOT / "src" / "accord" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the docstring
        if isinstance(node, ast.Assign):
            assert [getattr(t, "id", None) for t in node.targets] == ["__all__"]
            continue
        assert isinstance(node, (ast.Import, ast.ImportFrom)), ast.dump(node)


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


_WITHOUT_REDIS = """
import sys
sys.modules["{missing}"] = None  # as if accord were installed without the [redis] extra
import accord
from accord.surfaces import cli

with accord.connect("sqlite:///{db}") as coord:  # the default store needs no redis
    with coord.lock("job"):
        pass
for open_store in (accord.connect, accord.connect_async):
    for url in ("redis://localhost:1", "rediss://localhost:1"):
        try:
            open_store(url)
        except accord.ConfigError as exc:
            print(exc)
        else:
            raise SystemExit(f"{{url}} opened without {missing}")
"""


@pytest.mark.parametrize("missing", ["redis", "hiredis"])
def test_redis_is_an_extra(tmp_path: Path, missing: str) -> None:
    """Without redis-py (or hiredis, which packs its commands), accord imports and runs
    on SQLite, and opening ``redis://`` raises ConfigError saying what to install."""
    code = _WITHOUT_REDIS.format(db=tmp_path / "a.db", missing=missing)
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 4
    assert all("pip install 'accord[redis]'" in line for line in lines), lines
    assert all(f"{missing} is not installed" in line for line in lines), lines


def test_redis_and_hiredis_are_the_redis_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith(("redis", "hiredis"))]
    extras = project["optional-dependencies"]
    assert {d.split(">")[0] for d in extras["redis"]} == {"redis", "hiredis"}
    assert "accord[redis]" in extras["test"]  # the README's test command gets every store
    assert "import-linter" in {d.split(">")[0] for d in extras["test"]}
    assert project["scripts"]["accord"] == "accord.surfaces.cli:main"


def test_the_dashboard_and_mcp_server_are_extras_the_tests_install() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0] for d in project["dependencies"]}
    assert names == {"click", "rich"}  # the CLI; its servers come with their extras
    extras = project["optional-dependencies"]
    assert {d.split(">")[0] for d in extras["dashboard"]} == {
        "starlette", "uvicorn", "prometheus-client"}
    assert {d.split(">")[0] for d in extras["mcp"]} == {"mcp", "uvicorn"}
    assert {"accord[dashboard]", "accord[mcp]"} <= set(extras["test"])
    assert "playwright" in {d.split(">")[0] for d in extras["test"]}
