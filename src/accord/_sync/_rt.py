"""What differs between the async and the sync primitives: sleeping, background
renewal and who "the current owner" is. Hand-written; its twin is ``_async/_rt.py``.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("accord")

_ids = itertools.count(1)
_local = threading.local()


def sleep(seconds: float) -> None:
    time.sleep(seconds)


def current_owner_key() -> str:
    """A key unique to the running thread (never reused, unlike thread idents)."""
    key: int | None = getattr(_local, "key", None)
    if key is None:
        key = _local.key = next(_ids)
    return f"thread-{key}"


class Renewer:
    """Calls ``step`` every ``interval`` seconds until it returns False or is stopped."""

    def __init__(self, interval: float, step: Callable[[], bool]) -> None:
        self._interval = interval
        self._step = step
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="accord-renewer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                if not self._step():
                    return
            except Exception:  # a store outage: keep trying until the lease is lost
                log.warning("accord: lease renewal failed, retrying", exc_info=True)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
