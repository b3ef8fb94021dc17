"""What ``accord.integrations`` shares, without any framework: lazy per-process
connections and the limits held around a call. (Each framework's own suite runs in its
environment: ``scripts/integration_envs.py``, ``tests/integrations/``.)"""

from __future__ import annotations

import asyncio
import copy
import inspect
import os
import pickle
import subprocess
import sys
import threading
import uuid
from typing import Any

import pytest

import accord
from accord.integrations import Concurrency, Connection, Rate
from accord.integrations._connection import owned
from accord.integrations._limits import Limits


def test_accord_imports_no_framework_until_asked() -> None:
    """accord.integrations and accord.testing import without LangGraph, the Agents SDK or
    CrewAI; ScriptedLLM, which needs CrewAI, says so when it is first used."""
    code = (
        "import sys, accord.integrations, accord.testing\n"
        "assert not {'langgraph', 'agents', 'crewai'} & set(sys.modules), sys.modules\n"
        "try:\n"
        "    accord.testing.ScriptedLLM\n"
        "except ModuleNotFoundError as exc:\n"
        "    print(exc.name)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() in {"crewai", ""}  # "" where crewai happens to be installed


def test_a_connection_connects_on_first_use_once_per_process_and_flavour() -> None:
    url = f"memory://conn-{uuid.uuid4().hex[:6]}"
    conn = Connection(url, namespace="ns", agent="billing")
    assert conn._sync is None and conn._async is None  # nothing opened yet
    coord = conn.sync()
    assert conn.sync() is coord and (coord.namespace, coord.agent) == ("ns", "billing")
    assert isinstance(conn.aio(), accord.AsyncCoordinator) and conn.aio() is conn.aio()
    assert copy.deepcopy(conn) is conn  # copies of an integration share the process's
    sent = pickle.loads(pickle.dumps(conn))  # what another process gets: the URL, options
    assert (sent.url, sent.namespace, sent.agent, sent._sync) == (url, "ns", "billing", None)
    conn._pid = -1  # as if this were a child forked after the first use
    assert conn.sync() is not coord
    asyncio.run(conn.aclose())
    coord.close()


def test_of_takes_a_url_a_connection_or_a_coordinator_of_the_right_flavour() -> None:
    with accord.connect("memory://of") as coord:
        given = Connection.of(coord)
        assert given.sync() is coord
        with pytest.raises(TypeError, match="AsyncCoordinator"):
            given.aio()
        with pytest.raises(TypeError, match="cannot go to another process"):
            pickle.dumps(given)
    conn = Connection("memory://of")
    assert Connection.of(conn) is conn and not owned(conn) and not owned(coord)
    assert Connection.of(None).url is None and owned(None) and owned("memory://of")
    with pytest.raises(TypeError, match="coord must be"):
        Connection.of(42)  # type: ignore[arg-type]


def test_limits_refuse_bad_arguments_before_any_effect() -> None:
    conn = Connection("memory://bad")
    for bad in (dict(ttl=0), dict(ttl=None), dict(timeout=-1), dict(lock="")):
        with pytest.raises((ValueError, TypeError)):
            Limits(conn, **bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="burst"):
        Rate("llm", 1, burst=0)
    with pytest.raises(ValueError, match="name"):
        Concurrency("", 1)
    assert conn._sync is None  # nothing connected


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_a_wrapped_function_holds_lock_permit_and_token(kind: str) -> None:
    url = f"memory://wrap-{uuid.uuid4().hex[:6]}"
    seen: list[Any] = []
    observer = accord.connect(url)

    def look(record: str) -> None:
        seen.append((observer.lock(f"rec:{record}").locked(),
                     len(observer.semaphore("llm", limit=2).statistics().holders)))

    def work(record: str, *, note: str = "") -> str:
        """Works on a record."""
        look(record)
        return record + note

    async def awork(record: str, *, note: str = "") -> str:
        """Works on a record."""
        look(record)
        return record + note

    limits = Limits(Connection(url), lock=lambda record, note="": f"rec:{record}",
                    semaphore=Concurrency("llm", 2), rate_limit=Rate("llm", 1000, burst=5))
    fn = work if kind == "sync" else awork
    wrapped = limits.wrap(fn, lambda *a, **k: (a, k))
    assert inspect.signature(wrapped) == inspect.signature(fn)
    assert (wrapped.__name__, wrapped.__doc__) == (fn.__name__, fn.__doc__)
    if kind == "sync":
        results = []
        threads = [threading.Thread(target=lambda i=i: results.append(wrapped(f"r{i}", note="!")))
                   for i in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:

        async def main() -> list[str]:
            return list(await asyncio.gather(*[wrapped(f"r{i}", note="!") for i in range(3)]))

        results = asyncio.run(main())
    assert sorted(results) == ["r0!", "r1!", "r2!"]
    assert all(locked and 1 <= holders <= 2 for locked, holders in seen)
    assert observer.semaphore("llm", limit=2).statistics().holders == ()
    observer.close()


def test_limits_hold_as_the_agent_named_through_one_view_per_agent() -> None:
    url = "memory://limits-as-agent"
    conn = Connection(url, agent="worker")
    limits = Limits(conn, lock="ledger", agent="billing")
    seen: list[str | None] = []
    with limits.held("ledger"):
        seen.append(conn.sync().lock("ledger").statistics().holder)
    with limits.held("ledger", "shipping"):
        seen.append(conn.sync().lock("ledger").statistics().holder)
    assert conn.sync_as("billing") is conn.sync_as("billing")  # one view, kept
    assert conn.sync_as(None) is conn.sync() is conn.sync_as("worker")

    async def main() -> None:
        async with limits.aheld("ledger"):
            seen.append((await conn.aio().lock("ledger").statistics()).holder)
        await conn.aclose()

    asyncio.run(main())
    assert seen == ["billing", "shipping", "billing"]
