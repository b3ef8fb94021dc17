"""The ``approvals`` capability in one place: its protocol (``_async_protocol.py``, the
sync twin generated), and the rule, SQL and Lua of its stores."""

from accord.backends.approvals._async_protocol import AsyncApprovalStore
from accord.backends.approvals._sync_protocol import ApprovalStore

__all__ = ["ApprovalStore", "AsyncApprovalStore"]
