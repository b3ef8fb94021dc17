"""The pytest plugin of the conformance suite: each test on every store, sync and async.

Load it with ``-p accord.testing.plugin``; it is not loaded on its own, as it runs
every ``async def`` test on a fresh event loop (except those marked ``asyncio``,
``anyio`` or ``trio``, left to their plugins). Fixtures:

  ``url``          a store URL for the backend under test (a fresh SQLite file per test)
  ``backend_name`` the store's name: ``memory``, ``sqlite``, ``redis`` or ``custom``
  ``mode``         "sync" or "async"
  ``coord``        a coordinator in that mode, unique namespace, agent "tester"
  ``connect``      ``connect(agent=...)`` for more coordinators on the same store/namespace
  ``run_workers``  ``await run_workers(n, body)``: threads (sync) or tasks (async)
  ``spawn``        ``spawn(body)`` starts one body as a thread/task; ``await w.join()``
  ``barrier``      ``barrier(n)`` a Barrier for n workers of the test's mode
  ``pause``        ``await pause()`` lets other workers run (task or GIL switch)
  ``redis_server`` the session's own redis-server (fault tests may kill/pause it)

Options:

  ``--accord-backends=memory,sqlite``  run on these built-in stores only (default all three)
  ``--accord-url=URL``                 run on your store instead (a scheme you registered
                                       with :func:`accord.backends.register`)
  ``--accord-processes``               your store is shared by processes: run those tests too

Tests marked ``accord_processes`` run only on stores that processes share; tests marked
``accord_sync_only`` run with the sync API only (their work happens in child
processes, so the parent's flavour does not matter). Each test
names the capabilities it needs with ``accord_capability("leases", "state", ...)`` (see
``accord.backends.CAPABILITIES``); on a store that does not declare one of them (its
``capabilities`` attribute) it is skipped, and the reason names the capability, so a
store of leases and state only runs the leases and state part of the suite.
Coordinators made by the fixtures are closed on the test's loop when it ends. A
missing redis-server fails the session when ``CI`` is set and skips otherwise.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import accord
from accord._sync._rt import blocking_allowed
from accord.backends import CAPABILITIES, capabilities_of, open_backend
from accord.testing.harness import Barrier, Twin, Worker, workers, yield_now
from accord.testing.redis_server import RedisServer

BUILT_IN = ("memory", "sqlite", "redis")


@dataclass(frozen=True)
class Target:
    """A store the suite runs on: its name, and whether processes share it."""

    name: str
    processes: bool

    def capabilities(self, config: pytest.Config) -> frozenset[str]:
        """What the store declares: opened once per session (built-in ones: all)."""
        if self.name != "custom":
            return CAPABILITIES
        if _DECLARED not in config.stash:
            store = open_backend(str(config.getoption("accord_url")), "accord-capabilities")
            try:
                config.stash[_DECLARED] = capabilities_of(store)
            finally:
                store.close()
        return config.stash[_DECLARED]


_TARGETS = pytest.StashKey[list[Target]]()
_DECLARED = pytest.StashKey[frozenset[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("accord", "accord conformance suite")
    group.addoption("--accord-backends", default=",".join(BUILT_IN),
                    help="comma-separated built-in stores to run on (default: all)")
    group.addoption("--accord-url", default=None,
                    help="run on this store of your own instead of the built-in ones")
    group.addoption("--accord-processes", action="store_true",
                    help="the --accord-url store is shared by processes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "accord_processes: runs only on stores that processes share"
    )
    config.addinivalue_line(
        "markers", "accord_capability(*names): runs only on stores that declare these capabilities"
    )
    config.addinivalue_line(
        "markers", "accord_sync_only: runs with the sync API only (the work is in children)"
    )
    config.addinivalue_line("markers", "redis: needs the session's redis-server")
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.stash[_TARGETS] = _targets(config)  # a bad option stops the run here, once


def _targets(config: pytest.Config) -> list[Target]:
    if config.getoption("accord_url"):
        return [Target("custom", bool(config.getoption("accord_processes")))]
    names = [n.strip() for n in str(config.getoption("accord_backends")).split(",") if n.strip()]
    unknown = sorted(set(names) - set(BUILT_IN))
    if unknown:
        raise pytest.UsageError(
            f"--accord-backends: unknown store {', '.join(unknown)}; choose from "
            f"{', '.join(BUILT_IN)}, or pass --accord-url for a store of your own"
        )
    return [Target(n, n != "memory") for n in names]


def _named(metafunc: pytest.Metafunc) -> set[str]:
    """The arguments the test's own ``parametrize`` markers name."""
    named: set[str] = set()
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", "")
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",")]
        named.update(names)
    return named


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    named = _named(metafunc)
    if "mode" in metafunc.fixturenames and "mode" not in named:
        sync_only = metafunc.definition.get_closest_marker("accord_sync_only")
        modes = ["sync"] if sync_only else ["sync", "async"]
        metafunc.parametrize("mode", modes, indirect=True, ids=modes)
    if "backend_name" not in metafunc.fixturenames or "backend_name" in named:
        return  # a test of one backend names it itself
    targets = metafunc.config.stash[_TARGETS]
    if metafunc.definition.get_closest_marker("accord_processes"):
        targets = [t for t in targets if t.processes]
    metafunc.parametrize(
        "backend_name", [t.name for t in targets], indirect=True, ids=[t.name for t in targets]
    )


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    try:
        server = RedisServer(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"{exc}: CI must run the Redis tests")
        pytest.skip(str(exc))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend_name == "custom":
        return str(request.config.getoption("accord_url"))
    if backend_name == "memory":
        return f"memory://{uuid.uuid4().hex[:8]}"
    if backend_name == "sqlite":
        return f"sqlite:///{tmp_path / 'accord.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
def mode(request: pytest.FixtureRequest) -> str:
    """``sync`` or ``async``: which API the test body drives (pytest_generate_tests)."""
    return str(request.param)


@pytest.fixture
def namespace() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


class Connector:
    """Makes coordinators of the test's mode; they are closed after the test."""

    def __init__(self, url: str, mode: str, namespace: str) -> None:
        self.url, self.mode, self.namespace = url, mode, namespace
        self.made: list[Any] = []

    def __call__(self, agent: str = "tester", **options: Any) -> Any:
        options.setdefault("namespace", self.namespace)
        if self.mode == "async":
            coord: Any = accord.connect_async(self.url, agent=agent, **options)
        else:
            coord = Twin(accord.connect(self.url, agent=agent, **options))
        self.made.append(coord)
        return coord

    async def aclose(self) -> None:
        for coord in self.made:
            await coord.aclose()


@pytest.fixture
def connect(url: str, mode: str, namespace: str) -> Connector:
    return Connector(url, mode, namespace)


@pytest.fixture
def coord(connect: Connector) -> Any:
    return connect("tester")


@pytest.fixture
def run_workers(mode: str) -> Callable[..., Any]:
    return lambda n, body: workers(mode, n, body)


@pytest.fixture
def spawn(mode: str) -> Callable[..., Worker]:
    return lambda body: Worker(mode, body)


@pytest.fixture
def barrier(mode: str) -> Callable[[int], Barrier]:
    return lambda n: Barrier(mode, n)


@pytest.fixture
def pause(mode: str) -> Callable[[], Any]:
    return lambda: yield_now(mode)


_OTHER_LOOPS = ("asyncio", "anyio", "trio")  # markers of other plugins' async tests


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn) or any(
        pyfuncitem.get_closest_marker(other) for other in _OTHER_LOOPS
    ):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    connector = pyfuncitem.funcargs.get("connect")

    async def main() -> None:
        try:
            await fn(**kwargs)
        finally:
            if isinstance(connector, Connector):
                await connector.aclose()

    if pyfuncitem.funcargs.get("mode") == "sync":
        with blocking_allowed():  # a sync body on a loop of its own (see harness.py)
            asyncio.run(main())
    else:
        asyncio.run(main())
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    targets = {t.name: t for t in config.stash[_TARGETS]}
    for item in items:
        callspec = getattr(item, "callspec", None)
        store = callspec.params.get("backend_name") if callspec is not None else None
        if store == "redis":
            item.add_marker(pytest.mark.redis)
        if store in targets:
            _skip_unless_capable(item, targets[store].capabilities(config))


def _skip_unless_capable(item: pytest.Item, declared: frozenset[str]) -> None:
    needed = [c for m in item.iter_markers("accord_capability") for c in m.args]
    unknown = sorted(set(needed) - CAPABILITIES)
    if unknown:
        raise pytest.UsageError(f"{item.nodeid}: unknown capability {', '.join(unknown)}; "
                                f"known: {', '.join(sorted(CAPABILITIES))}")
    missing = sorted(set(needed) - declared)
    if missing:
        item.add_marker(pytest.mark.skip(
            reason=f"the store does not declare the capability {', '.join(missing)}"))
