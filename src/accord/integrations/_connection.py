"""Where an integration coordinates: a URL connected lazily in each process, or a
coordinator the caller made.

Frameworks build their graphs, agents and crews at import time, often in a parent
that later forks or spawns workers. A coordinator made then would be shared by every
forked child (one SQLite handle, one Redis socket, for several processes) or would
open a store in a process that never uses it. So an integration holds a
:class:`Connection` and asks it for a coordinator when it first needs one: each
process gets its own, sync or async as the caller needs, made on first use.
"""

from __future__ import annotations

import os
import threading
from typing import Any, TypeAlias

import accord


class Connection:
    """A store URL and options; each process connects on first use, in each flavour.

    ``url``, ``namespace`` and ``agent`` are those of :func:`accord.connect` (``url``
    None: ``ACCORD_URL``, else the project's SQLite store; ``agent`` None:
    ``<hostname>:<pid>`` of the process that connects). :meth:`sync` returns this
    process's :class:`accord.Coordinator`, :meth:`aio` its
    :class:`accord.AsyncCoordinator` (which serves any event loop). A child process,
    forked or spawned, makes its own and never uses its parent's.
    """

    def __init__(
        self, url: str | None = None, *, namespace: str = "default", agent: str | None = None
    ) -> None:
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url must be a str or None, not {type(url).__name__}")
        self.url, self.namespace, self.agent = url, namespace, agent
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._sync: accord.Coordinator | None = None
        self._async: accord.AsyncCoordinator | None = None
        self._views: dict[tuple[int, str], tuple[Any, Any]] = {}

    @classmethod
    def of(cls, target: CoordLike) -> Connection:
        """A connection for an integration's ``coord=``: a URL (or None for the default
        store) connected lazily, a :class:`Connection`, or a coordinator to use as it is
        (then only its own flavour is available). Only the first is the integration's
        own (see :func:`owned`), to close when the integration closes."""
        if isinstance(target, Connection):
            return target
        if isinstance(target, (accord.Coordinator, accord.AsyncCoordinator)):
            return _Given(target)
        if target is None or isinstance(target, str):
            return cls(target)
        raise TypeError(
            "coord must be a store URL, None (ACCORD_URL or the default store), an "
            f"accord.integrations.Connection or an accord coordinator, not {type(target).__name__}"
        )

    def _forget_parents(self) -> None:
        """In a forked child, drop the parent's coordinators without closing them."""
        if self._pid != os.getpid():
            self._pid, self._sync, self._async = os.getpid(), None, None
            self._views = {}

    def sync_as(self, agent: str | None) -> accord.Coordinator:
        """:meth:`sync`, acting as ``agent`` (None: as itself): lock holders and event
        sources show ``agent``. One view per agent, made on first use and kept."""
        return self._acting(self.sync(), agent)  # type: ignore[no-any-return]

    def aio_as(self, agent: str | None) -> accord.AsyncCoordinator:
        """The async twin of :meth:`sync_as`."""
        return self._acting(self.aio(), agent)  # type: ignore[no-any-return]

    def _acting(self, coord: Any, agent: str | None) -> Any:
        if agent is None or agent == coord.agent:
            return coord
        with self._lock:
            key = (id(coord), agent)
            made = self._views.get(key)
            if made is None or made[0] is not coord:  # a closed coordinator's id, reused
                made = self._views[key] = (coord, coord.as_agent(agent))
            return made[1]

    def sync(self) -> accord.Coordinator:
        """This process's sync coordinator, connected on first use."""
        with self._lock:
            self._forget_parents()
            if self._sync is None:
                self._sync = accord.connect(self.url, namespace=self.namespace, agent=self.agent)
            return self._sync

    def aio(self) -> accord.AsyncCoordinator:
        """This process's async coordinator, connected on first use."""
        with self._lock:
            self._forget_parents()
            if self._async is None:
                self._async = accord.connect_async(
                    self.url, namespace=self.namespace, agent=self.agent
                )
            return self._async

    def close(self) -> None:
        """Close the sync coordinator this process made (the next use connects again)."""
        with self._lock:
            self._forget_parents()
            coord, self._sync = self._sync, None
        if coord is not None:
            coord.close()

    async def aclose(self) -> None:
        """Close both coordinators this process made."""
        with self._lock:
            self._forget_parents()
            coord, self._async = self._async, None
        try:
            if coord is not None:
                await coord.aclose()
        finally:
            self.close()

    # A copy shares this process's coordinators; a pickled one (sent to another
    # process) carries only the URL and options, and connects there on first use.
    def __copy__(self) -> Connection:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Connection:
        return self

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self.url, "namespace": self.namespace, "agent": self.agent}

    def __setstate__(self, state: dict[str, Any]) -> None:
        Connection.__init__(self, state["url"], namespace=state["namespace"], agent=state["agent"])

    def __repr__(self) -> str:
        return f"<Connection {self.url or 'ACCORD_URL'} namespace={self.namespace!r}>"


class _Given(Connection):
    """A coordinator the caller made: used as it is, never closed here."""

    def __init__(self, coord: accord.Coordinator | accord.AsyncCoordinator) -> None:
        super().__init__(None, namespace=coord.namespace, agent=coord.agent)
        self._given = coord

    def sync(self) -> accord.Coordinator:
        if isinstance(self._given, accord.Coordinator):
            return self._given
        raise TypeError(
            "this code runs synchronously but was given an accord.AsyncCoordinator: pass "
            "an accord.Coordinator (accord.connect), or a URL to connect in each process"
        )

    def aio(self) -> accord.AsyncCoordinator:
        if isinstance(self._given, accord.AsyncCoordinator):
            return self._given
        raise TypeError(
            "this code runs on an event loop but was given a sync accord.Coordinator: pass "
            "an accord.AsyncCoordinator (accord.connect_async), or a URL to connect in "
            "each process"
        )

    def close(self) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError(
            "a coordinator cannot go to another process: give the integration a URL "
            "or an accord.integrations.Connection, which each process connects itself"
        )

    def __repr__(self) -> str:
        return f"<Connection to {self._given!r}>"


CoordLike: TypeAlias = "str | Connection | accord.Coordinator | accord.AsyncCoordinator | None"
"""What an integration's ``coord=`` takes: a store URL (None: ``ACCORD_URL`` or the
default store) connected lazily in each process, a :class:`Connection`, or a
coordinator used as it is."""


def owned(target: CoordLike) -> bool:
    """Whether :meth:`Connection.of` makes a connection of its own for ``target`` (a
    URL or None), which the integration then closes; a Connection or coordinator the
    caller passed is the caller's to close."""
    return target is None or isinstance(target, str)
