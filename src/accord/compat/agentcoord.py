"""AgentCoord's API on accord: ``from accord.compat.agentcoord import CoordinationClient``.

``CoordinationClient.session(redis_url=..., role=..., name=..., working_on=...)`` is
:func:`accord.session`: an agent's session (registered, heartbeat, deregistered on
exit) whose coordinator already has AgentCoord's calls under their names:
``lock_file(path, intent=...)``, ``claim_task(tags=...)`` (``.title``, ``.id``,
``.priority``, ``.tags``; ``complete()`` when done), ``create_task(...)``,
``post_thread(title=, message=, priority=)``, ``log_decision(decision_type=, context=,
reason=)``, ``request_approval(...)``, and the registry as ``agents`` (``list``,
``get``, ``hung``). ``redis_url`` takes any accord URL. Unlike AgentCoord there is no
file-mode fallback: a store that cannot be reached raises ``BackendUnavailable``.
"""

from __future__ import annotations

import accord

__all__ = ["CoordinationClient"]


class CoordinationClient:
    """AgentCoord's entry point; ``session`` opens an accord session."""

    @staticmethod
    def session(
        redis_url: str | None = None,
        *,
        name: str,
        role: str = "",
        working_on: str = "",
        namespace: str = "default",
        heartbeat: float = 10.0,
    ) -> accord.Coordinator:
        """:func:`accord.session` on ``redis_url`` (any accord URL; None: ``ACCORD_URL``
        or the default SQLite store); use it as ``with ... as coord``."""
        return accord.session(redis_url, name=name, role=role, working_on=working_on,
                              namespace=namespace, heartbeat=heartbeat)
