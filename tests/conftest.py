"""The conformance harness: every test runs on each backend, in sync and async mode.

Fixtures:
  ``url``        a store URL for the backend under test (fresh SQLite file per test)
  ``mode``       "sync" or "async"
  ``coord``      a coordinator in that mode, unique namespace, agent "tester"
  ``connect``    ``connect(agent=...)`` for more coordinators on the same store/namespace
  ``run_workers`` ``await run_workers(n, body)``: threads (sync) or tasks (async)
  ``spawn``      ``spawn(body)`` starts one body as a thread/task; ``await w.join()``
  ``barrier``    ``barrier(n)`` a Barrier for n workers of the test's mode
  ``pause``      ``await pause()`` lets other workers run (task or GIL switch)
  ``redis_server`` the session's own redis-server (fault tests may kill/pause it)

Async test functions are run on a fresh event loop; coordinators made by the
fixtures are closed on that loop when the test ends.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import accord
from tests._redis_server import RedisServer
from tests._twins import Barrier, Twin, Worker, workers, yield_now

BACKENDS = ["memory", "sqlite", "redis"]


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


@pytest.fixture(params=BACKENDS)
def backend_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(backend_name: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend_name == "memory":
        return f"memory://{uuid.uuid4().hex[:8]}"
    if backend_name == "sqlite":
        return f"sqlite:///{tmp_path / 'accord.db'}"
    server: RedisServer = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
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


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    fn = pyfuncitem.obj
    if not inspect.iscoroutinefunction(fn):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    connector = pyfuncitem.funcargs.get("connect")

    async def main() -> None:
        try:
            await fn(**kwargs)
        finally:
            if isinstance(connector, Connector):
                await connector.aclose()

    asyncio.run(main())
    return True


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("backend_name") == "redis":
            item.add_marker(pytest.mark.redis)
