"""AgentCoord's API on accord: ``from accord.compat.agentcoord import CoordinationClient``.

``CoordinationClient.session(redis_url=..., role=..., name=..., working_on=...)`` is
:func:`accord.session`: an agent's session (registered, heartbeat, deregistered on
exit) whose coordinator already has AgentCoord's calls under their names:
``lock_file(path, intent=...)``, ``claim_task(tags=...)`` (``.title``, ``.id``,
``.priority``, ``.tags``; ``complete()`` when done), ``create_task(...)``,
``post_thread(title=, message=, priority=)``, ``log_decision(decision_type=, context=,
reason=)``, ``request_approval(action_type, description, timeout)``, and the registry
as ``agents`` (``list``, ``get``, ``hung``).

The manual form maps too: ``client = CoordinationClient(redis_url=...)``,
``client.register_agent(role=, name=, working_on=)`` (opens the session; returns the
agent's name, which is its identity in accord), the same calls on ``client``, then
``client.shutdown()``. ``redis_url`` takes any accord URL. Unlike AgentCoord there is
no file-mode fallback: ``fallback_dir`` is accepted and never used, and a store that
cannot be reached raises ``BackendUnavailable``.
"""

from __future__ import annotations

import os
from typing import Any

import accord
from accord.errors import ConfigError

__all__ = ["CoordinationClient"]


class CoordinationClient:
    """AgentCoord's client: ``session(...)``, or ``register_agent`` then its calls."""

    def __init__(self, redis_url: str | None = None, fallback_dir: str | None = None) -> None:
        self.redis_url = redis_url
        self.agent_id: str | None = None
        self._coord: accord.Coordinator | None = None

    @staticmethod
    def session(
        redis_url: str | None = None,
        *,
        name: str,
        role: str = "",
        working_on: str = "",
        fallback_dir: str | None = None,
        namespace: str = "default",
        heartbeat: float = 10.0,
    ) -> accord.Coordinator:
        """:func:`accord.session` on ``redis_url`` (any accord URL; None: ``ACCORD_URL``
        or the default SQLite store); use it as ``with ... as coord``."""
        return accord.session(redis_url, name=name, role=role, working_on=working_on,
                              namespace=namespace, heartbeat=heartbeat)

    @property
    def mode(self) -> str:
        """The store's kind: ``redis``, ``sqlite`` or ``memory`` (never ``file``)."""
        return (self.redis_url or os.environ.get("ACCORD_URL") or "sqlite").split(":")[0]

    def register_agent(self, role: str, name: str, working_on: str = "") -> str:
        """Open the agent's session (:meth:`session`); return its name."""
        self._coord = self.session(self.redis_url, name=name, role=role, working_on=working_on)
        self.agent_id = name
        return name

    def _session(self) -> accord.Coordinator:
        if self._coord is None:
            raise ConfigError("no agent registered: call register_agent(role=, name=) first")
        return self._coord

    def lock_file(self, path: str, intent: str = "") -> accord.FileLock:
        return self._session().lock_file(path, intent=intent)

    def claim_task(self, tags: list[str] | None = None) -> accord.Claim | None:
        return self._session().claim_task(tags=tags)

    def post_thread(self, title: str, message: str, priority: str = "normal") -> Any:
        return self._session().post_thread(title, message, priority)

    def request_approval(
        self, action_type: str, description: str, timeout: float = 300
    ) -> accord.Decision:
        return self._session().request_approval(action_type, description, timeout=timeout)

    def log_decision(self, decision_type: str, context: Any, reason: Any) -> Any:
        return self._session().log_decision(decision_type, context=context, reason=reason)

    def shutdown(self) -> None:
        """End the session: its leases released, its claims given back, deregistered."""
        if self._coord is not None:
            self._coord.close()
            self._coord = None
