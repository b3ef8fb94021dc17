"""A store of someone else's joins accord by ``register()`` and proves itself with the
shipped conformance suite (``accord.testing``), run the way its README says."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import accord
import accord.testing
from accord import backends
from accord.backends.memory import MemoryBackend, async_memory_backend, shared_store
from accord.errors import ConfigError
from accord.testing import RedisServer

# accord's memory store under a scheme of its own, as a third party would register it
TOY = '''
from accord import backends
from accord.backends.memory import MemoryBackend, async_memory_backend, shared_store

backends.register(
    "toy",
    lambda url, namespace: MemoryBackend(shared_store(url), namespace),
    lambda url, namespace: async_memory_backend(url, namespace),
)
'''

# a store of leases and state only: memory's operations of those two capabilities
PARTIAL = '''
from accord import backends
from accord.backends.memory import MemoryBackend, async_memory_backend, shared_store

OPERATIONS = (
    "acquire", "release", "extend", "abandon", "lease_statistics", "list_leases",
    "barrier_arrive", "barrier_break", "state_get", "state_set", "state_incr",
    "state_delete", "state_keys", "state_items", "state_history", "open_mailbox", "close", "aclose",
)


class LeasesAndState:
    capabilities = frozenset({backends.LEASES, backends.STATE})

    def __init__(self, inner):
        self.name, self.namespace = "toy", inner.namespace
        for op in OPERATIONS:
            if hasattr(inner, op):
                setattr(self, op, getattr(inner, op))


backends.register(
    "toy",
    lambda url, ns: LeasesAndState(MemoryBackend(shared_store(url), ns)),
    lambda url, ns: LeasesAndState(async_memory_backend(url, ns)),
)
'''


@pytest.fixture
def toy() -> Any:
    backends.register(
        "toy-test",
        lambda url, namespace: MemoryBackend(shared_store(url), namespace),
        lambda url, namespace: async_memory_backend(url, namespace),
    )
    yield
    backends._REGISTERED.pop("toy-test")


def test_a_registered_scheme_opens(toy: Any) -> None:
    with accord.connect("toy-test://a", namespace="n") as coord:
        assert coord.state("m").set("k", 1).version == 1
        assert coord.state("m").get("k").value == 1  # type: ignore[union-attr]


async def test_a_registered_scheme_opens_async(toy: Any) -> None:
    async with accord.connect_async("toy-test://b", namespace="n") as coord:
        assert (await coord.state("m").incr("k")).value == 1


def test_registering_again_replaces_the_openers(toy: Any) -> None:
    opened: list[str] = []

    def open_sync(url: str, namespace: str) -> MemoryBackend:
        opened.append(url)
        return MemoryBackend(shared_store(url), namespace)

    backends.register("toy-test", open_sync, async_memory_backend)
    accord.connect("toy-test://c").close()
    assert opened == ["toy-test://c"]


def test_an_unknown_scheme_names_the_registered_ones(toy: Any) -> None:
    with pytest.raises(ConfigError, match=r"toy-test://"):
        accord.connect("nope://x")


@pytest.mark.parametrize("scheme", ["", "Toy", "1toy", "to y", "toy://", None])
def test_a_malformed_scheme_is_refused(scheme: Any) -> None:
    with pytest.raises(ConfigError, match="bad scheme"):
        backends.register(scheme, MemoryBackend, async_memory_backend)  # type: ignore[arg-type]


@pytest.mark.parametrize("scheme", ["memory", "sqlite", "redis", "rediss"])
def test_a_built_in_scheme_cannot_be_replaced(scheme: str) -> None:
    with pytest.raises(ConfigError, match="built in"):
        backends.register(scheme, MemoryBackend, async_memory_backend)  # type: ignore[arg-type]


def test_openers_must_be_callable() -> None:
    with pytest.raises(ConfigError, match="two openers"):
        backends.register("toy-x", "memory://", async_memory_backend)  # type: ignore[arg-type]
    assert "toy-x" not in backends._REGISTERED


@pytest.mark.redis
def test_a_private_redis_server_restarts_and_cleans_up(redis_server: RedisServer) -> None:
    # redis_server: the session's, asked for so a missing binary skips (fails in CI)
    with RedisServer() as server:
        with accord.connect(server.url, namespace="n") as coord:
            assert coord.state("m").incr("k").value == 1
        server.stop()
        server.start()  # no persistence: a fresh, empty server on the same port
        with accord.connect(server.url, namespace="n") as coord:
            assert coord.state("m").incr("k").value == 1
        workdir = server.workdir
        assert (workdir / "redis.log").exists()
    assert not workdir.exists()


def test_a_store_refuses_the_primitives_of_capabilities_it_lacks(tmp_path: Path) -> None:
    code = PARTIAL + (
        "import accord\n"
        "with accord.connect('toy://u', namespace='n') as coord:\n"
        "    with coord.lock('l'):\n"
        "        assert coord.state('m').incr('k').value == 1\n"
        "    for make in (lambda: coord.rate_limit('r', rate=1), lambda: coord.emit('e'),\n"
        "                 lambda: coord.when('e'), lambda: coord.request('a')):\n"
        "        try:\n"
        "            make()\n"
        "        except accord.Unsupported as exc:\n"
        "            print(exc.capability, '|', exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert [line.split(" | ")[0] for line in lines] == [
        "rate_limits", "events", "events", "signals"
    ]
    assert "the toy store does not support 'rate_limits' (it declares: leases, state)" in lines[0]


def test_require_checks_the_declared_capabilities() -> None:
    store = MemoryBackend(shared_store("caps"), "n")
    assert backends.capabilities_of(store) == backends.CAPABILITIES
    backends.require(store, backends.EVENTS)
    partial = type("Partial", (), {"name": "p", "capabilities": frozenset({"state"})})()
    with pytest.raises(accord.Unsupported, match=r"'leases'.*declares: state"):
        backends.require(partial, backends.LEASES)
    with pytest.raises(ValueError, match="unknown capability"):
        backends.require(partial, "teleport")


def _installed_toy(tmp_path: Path, module: str = TOY) -> dict[str, str]:
    """An environment in which a package "toy-store" is installed: its module registers
    ``toy://`` and its metadata names that module as the ``accord.backends`` entry point."""
    (tmp_path / "toy_store.py").write_text(module)
    info = tmp_path / "toy_store-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-store\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[accord.backends]\ntoy = toy_store\n")
    # the source under test first when PYTHONPATH names it (a worktree), then the toy
    path = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    env.pop("PYTEST_ADDOPTS", None)  # CI's --junitxml belongs to the outer run
    return env


def test_an_installed_store_opens_from_its_entry_point(tmp_path: Path) -> None:
    env = _installed_toy(tmp_path)
    # the CLI of the source under test (an installed console script may be older)
    run = subprocess.run([sys.executable, "-m", "accord", "status", "--url", "toy://cli"],
                         env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "toy://cli" in run.stdout


def test_a_store_that_fails_to_import_is_a_config_error(tmp_path: Path) -> None:
    env = _installed_toy(tmp_path, "raise RuntimeError('no driver')\n")
    code = "import accord; accord.connect('toy://x')"
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert run.returncode == 1
    assert "accord.errors.ConfigError: the store for toy:// (toy_store" in run.stderr
    assert "RuntimeError: no driver" in run.stderr


def _pytest(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = env or _installed_toy(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "accord.testing.plugin", "-p", "toy_store",
         "-p", "no:cacheprovider", "--strict-markers", "-q", *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_the_suite_runs_on_a_registered_store(tmp_path: Path) -> None:
    modules = [f"accord.testing.conformance.{m}" for m in ("test_smoke", "test_state")]
    run = _pytest(tmp_path, "--pyargs", *modules, "--accord-url", "toy://suite")
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary
    collected = _pytest(tmp_path, "--pyargs", *modules, "--accord-url", "toy://s", "--co")
    assert "[sync-custom]" in collected.stdout and "[async-custom]" in collected.stdout
    assert "-memory]" not in collected.stdout and "-redis]" not in collected.stdout


@pytest.mark.slow
def test_a_store_of_leases_and_state_passes_that_part_of_the_suite(tmp_path: Path) -> None:
    modules = [f"accord.testing.conformance.{m}" for m in (
        "test_smoke", "test_state", "test_locks", "test_semaphore", "test_lost_updates",
        "test_rate_limit", "test_events",
    )]  # fmt: skip
    run = _pytest(tmp_path, "--pyargs", *modules, "--accord-url", "toy://part", "-rs",
                  env=_installed_toy(tmp_path, PARTIAL))  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary
    skips = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    reasons = {line.rpartition(": ")[2] for line in skips}
    assert reasons == {
        "the store does not declare the capability rate_limits",
        "the store does not declare the capability events",
        "the store does not declare the capability events, signals",
    }, reasons
    assert not any("test_state.py" in line for line in skips)  # all of it ran
    assert int(summary.split(" passed")[0].split()[-1]) > 100


def test_process_tests_run_only_on_a_store_processes_share(tmp_path: Path) -> None:
    module = "accord.testing.conformance.test_processes"
    alone = _pytest(tmp_path, "--pyargs", module, "--accord-url", "toy://p", "--co")
    assert "custom]" not in alone.stdout
    shared = _pytest(tmp_path, "--pyargs", module, "--accord-url", "toy://p", "--co",
                     "--accord-processes")  # fmt: skip
    assert "[sync-custom]" in shared.stdout and "[async-custom]" in shared.stdout


def test_an_unknown_built_in_store_is_a_usage_error(tmp_path: Path) -> None:
    run = _pytest(tmp_path, "--pyargs", "accord.testing.conformance.test_smoke",
                  "--accord-backends", "memory,mongo")  # fmt: skip
    assert run.returncode != 0
    assert "unknown store mongo" in run.stderr + run.stdout


def test_every_conformance_test_names_the_capabilities_it_needs() -> None:
    """So that a store of some capabilities runs exactly the tests it can pass."""
    folder = Path(accord.testing.__file__).parent / "conformance"
    unmarked = []
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text())
        module_marked = "accord_capability" in "".join(
            ast.unparse(node) for node in tree.body
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "pytestmark"
        )  # fmt: skip
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test_"
            ):
                marks = " ".join(ast.unparse(d) for d in node.decorator_list)
                if not module_marked and "accord_capability" not in marks:
                    unmarked.append(f"{path.name}::{node.name}")
    assert unmarked == [] or all(
        name.split("::")[1] in _NEEDS_NOTHING for name in unmarked
    ), unmarked


# tests of URLs, names and options checked before a store is used: every store runs them
_NEEDS_NOTHING = {
    "test_bad_namespace_or_agent_raise_invalid_name",
    "test_bad_urls_raise_config_error_without_the_password",
    "test_accord_url_from_the_environment_is_checked_too",
    "test_bad_max_payload_raises_config_error",
    "test_update_pauses_stay_short_after_any_number_of_conflicts",
}
