"""The locks under test, accord and the baselines, behind one small interface.

A :class:`Subject` is a picklable description (so a spawned process can rebuild
it); :func:`open_subject` turns it into a :class:`Locks` for one process, whose
``handle(name)`` gives each worker (thread or process) its own acquire/release pair.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis

import accord

Acquire = Callable[[], None]
Release = Callable[[], None]


@dataclass(frozen=True)
class Subject:
    """``kind`` is accord, threading, redis-py, python-redis-lock or filelock."""

    label: str
    kind: str
    url: str = ""  # the accord store, or the Redis server of a Redis baseline
    path: str = ""  # the lock file of filelock
    namespace: str = "bench"

    @property
    def accord(self) -> bool:
        return self.kind == "accord"

    @property
    def redis_based(self) -> bool:
        return self.kind in ("redis-py", "python-redis-lock") or self.url.startswith("redis")

    @property
    def cross_process(self) -> bool:
        return self.kind != "threading" and not self.url.startswith("memory://")


class Locks:
    """One process's view of a subject: shared client, one handle per worker."""

    def __init__(self, subject: Subject, agent: str) -> None:
        self.subject = subject
        self._close: Callable[[], None] = lambda: None
        kind = subject.kind
        if kind == "accord":
            coord = accord.connect(subject.url, namespace=subject.namespace, agent=agent)
            self._coord = coord
            self._close = coord.close
        elif kind in ("redis-py", "python-redis-lock"):
            client = redis.Redis.from_url(subject.url)
            self._client = client
            self._close = client.close
        elif kind == "threading":
            self._lock = threading.Lock()
        elif kind != "filelock":
            raise ValueError(f"unknown subject kind {kind!r}")

    def handle(self, name: str) -> tuple[Acquire, Release]:
        """An acquire/release pair for one worker (call both from that worker)."""
        kind = self.subject.kind
        if kind == "accord":
            return _accord_handle(self._coord.lock(name, ttl=30, timeout=60))
        if kind == "threading":
            return self._lock.acquire, self._lock.release  # type: ignore[return-value]
        if kind == "redis-py":
            lock = self._client.lock(f"{self.subject.namespace}:{name}")  # its defaults
            return lock.acquire, lock.release  # type: ignore[return-value]
        if kind == "python-redis-lock":
            import redis_lock  # type: ignore[import-untyped]

            plock = redis_lock.Lock(self._client, f"{self.subject.namespace}:{name}")
            return plock.acquire, plock.release
        import filelock

        flock = filelock.FileLock(f"{self.subject.path}.{name}")
        return flock.acquire, flock.release  # type: ignore[return-value]

    def close(self) -> None:
        self._close()


def _accord_handle(lock: accord.Lock) -> tuple[Acquire, Release]:
    held: list[Any] = []

    def acquire() -> None:
        held.append(lock.acquire())

    def release() -> None:
        held.pop().release()

    return acquire, release


def open_subject(subject: Subject, agent: str = "bench") -> Locks:
    return Locks(subject, agent)
