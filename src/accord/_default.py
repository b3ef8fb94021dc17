"""The default coordinator behind the module-level ``coordinate``, ``when``, ``emit``
and ``wait_idle``: built on first use from :func:`configure`'s arguments, else from
``ACCORD_URL``, else the SQLite default under the current directory.

Declaring is not using: ``@when`` and ``accord.events.schema`` only record what they
declare (importing user code opens no store and creates no file). Every default
coordinator gets all of it when it is built, the one :func:`configure` builds
included, so handlers declared before ``configure()`` run on the store it names.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from accord import _lifecycle
from accord._connect import connect
from accord._sync.coordinator import Coordinator
from accord._sync.events import check_schema, handler_options

F = TypeVar("F", bound=Callable[..., Any])

_lock = threading.RLock()
_options: dict[str, Any] = {}
_coord: Coordinator | None = None
_handlers: list[tuple[Callable[..., Any], str, str | None, float]] = []  # declared, in order
_schemas: dict[str, Any] = {}


def _bind(coord: Coordinator) -> Coordinator:
    """Give a new default coordinator every schema and handler declared so far."""
    for name, model in _schemas.items():
        coord.events.schema(name, model)
    for fn, pattern, group, visibility in _handlers:
        coord.when(pattern, group=group, visibility=visibility)(fn)
    return coord


def configure(url: str | None = None, **options: Any) -> Coordinator:
    """Set up the default coordinator (same arguments as :func:`accord.connect`).

    Handlers declared with the module-level ``when`` (before or after) run on it. A
    default coordinator built before is closed (its handlers drained) after the new
    one has taken them over.
    """
    global _coord
    coord = connect(url, **options)
    with _lock:
        old, _coord = _coord, _bind(coord)
        _options.clear()
        _options.update(options, url=url)
    if old is not None:
        old.close()
    return coord


def default() -> Coordinator:
    """The default coordinator, built on first use."""
    global _coord
    with _lock:
        if _coord is None:
            options = dict(_options)
            _coord = _bind(connect(options.pop("url", None), **options))
        return _coord


def schema(name: str, model: Any) -> None:
    """Validate payloads of event ``name`` on every default coordinator (now or later)."""
    with _lock:
        _schemas[check_schema(name, model)] = model
        if _coord is not None:
            _coord.events.schema(name, model)


def coordinate(
    agent: str,
    lock_name: str | None = None,
    *,
    ttl: float = 30.0,
    timeout: float | None = None,
    semaphore: Any = None,
    rate_limit: Any = None,
    auto_renew: bool = False,
) -> Callable[[F], F]:
    """:meth:`Coordinator.coordinate` on the default coordinator, resolved at call time."""
    _lifecycle.make_spec(agent, lock_name, ttl, timeout, semaphore, rate_limit, auto_renew)
    options = dict(
        ttl=ttl, timeout=timeout, semaphore=semaphore, rate_limit=rate_limit,
        auto_renew=auto_renew,
    )

    def decorate(fn: F) -> F:
        def bound() -> Callable[..., Any]:
            return default().coordinate(agent, lock_name, **options)(fn)

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                return await bound()(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            return bound()(*args, **kwargs)

        return run  # type: ignore[return-value]

    return decorate


def when(pattern: str, *, group: str | None = None, visibility: float = 30.0) -> Callable[[F], F]:
    """:meth:`Coordinator.when` on the default coordinator, now and after any
    ``configure()``. Declaring opens no store: the handler starts with the default
    coordinator (at ``configure()``, or the first ``emit``, ``wait_idle`` or
    coordinated call)."""
    options = handler_options(pattern, group, visibility)  # bad arguments raise here

    def decorate(fn: F) -> F:
        with _lock:
            _handlers.append((fn, *options))
            if _coord is not None:
                _coord.when(options[0], group=options[1], visibility=options[2])(fn)
        return fn

    return decorate


def emit(name: str, data: Any = None) -> str:
    """:meth:`Coordinator.emit` on the default coordinator."""
    return default().emit(name, data)


def wait_idle(timeout: float | None = None) -> bool:
    """:meth:`Coordinator.wait_idle` on the default coordinator."""
    return default().wait_idle(timeout)
