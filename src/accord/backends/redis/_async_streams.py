"""Streams and approvals on Redis (async source): a mixin of the Redis backend.

``_sync_streams.py`` is generated from this file by ``scripts/unasync.py``.

Keys, under the namespace's hash tag:

========================  ====================================================
``stream:<name>``         stream: the entries of a stream, id ``<n>-0``, fields
                          t, s, d, p, h (see ``streams/lua/_streams.lua``)
``smeta:<name>``          string: its last id, head hash and base, space-separated
``approval:<id>``         hash: one approval request (``approvals/lua/_approvals.lua``)
``approvals``             sorted set: the pending requests by deadline
========================  ====================================================

An append, and each approval operation with the audit entry it writes, is one script
(``streams/lua/``, ``approvals/lua/``) with the server clock; a read of entries is
one ``XRANGE``. A waiter's mailbox is posted by the deciding script itself.
"""

from __future__ import annotations

from typing import Any

from accord import _json
from accord.backends.approvals.rule import SWEEP, ApprovalRecord
from accord.backends.redis._async_host import AsyncRedisHost, C
from accord.backends.redis._lua import Script
from accord.backends.streams.rule import AUDIT, StreamEntry, StreamMeta, canonical, json_str

_APPEND, _META = Script("stream_append", "_streams"), Script("stream_meta")
_CREATE, _GET, _DECIDE, _PENDING = (
    Script(name, "_streams", "_approvals")
    for name in ["approval_create", "approval_get", "approval_decide", "approval_pending"]
)


def _keep(keep: int | None) -> str | int:
    return "" if keep is None else keep


def _entry(row: list[Any]) -> StreamEntry:
    raw_id, flat = row
    fields = {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}
    return StreamEntry(
        int(raw_id.partition(b"-")[0]), int(fields[b"t"]), fields[b"s"].decode(),
        fields[b"d"].decode(), fields[b"p"].decode(), fields[b"h"].decode(),
    )  # fmt: skip


def _meta(raw: bytes) -> StreamMeta:
    if not raw:
        return StreamMeta()
    last, head, base = raw.decode().split(" ")
    return StreamMeta(int(last), head, int(base))


def _approval(flat: list[bytes]) -> ApprovalRecord | None:
    """A request as ``approvals/lua/_approvals.lua`` keeps it (HGETALL)."""
    if not flat:
        return None
    f = {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}
    return ApprovalRecord(
        f["id"], _json.loads(f["action"]), f["details"], f["by"],
        _json.loads(f["approvers"]) if f["approvers"] else None, int(f["created"]),
        int(f["deadline"]), f["status"], f["decided_by"] or None, _json.loads(f["reason"]),
        int(f["decided"]), f["watchers"].split(),
    )  # fmt: skip


class AsyncRedisStreams(AsyncRedisHost[C]):
    """The stream and approval operations of the seam, for ``AsyncRedisBackend``."""

    _audit_keys: list[str] | None = None

    def _stream_keys(self, stream: str) -> list[str]:
        prefix = self._keys.prefix
        if stream != AUDIT:
            return [f"{prefix}stream:{stream}", f"{prefix}smeta:{stream}"]
        if self._audit_keys is None:  # the stream appended most: its names made once
            self._audit_keys = [f"{prefix}stream:{stream}", f"{prefix}smeta:{stream}"]
        return self._audit_keys

    # streams -------------------------------------------------------------------------
    async def stream_append(
        self, stream: str, source: str, data: str, keep: int | None
    ) -> StreamEntry:
        keys = self._stream_keys(stream)
        reply = await self._eval(
            self._leases, _APPEND, keys, source, json_str(source), data, _keep(keep)
        )
        entry_id, time_us, digest, prev = reply.decode().split(" ")
        return StreamEntry(int(entry_id), int(time_us), source, data, prev, digest)

    async def stream_read(self, stream: str, after: int, limit: int) -> list[StreamEntry]:
        key = self._stream_keys(stream)[0]
        rows = await self._plain(self._data, "XRANGE", key, f"({after}-0", "+", "COUNT", limit)
        return [_entry(row) for row in rows]

    async def stream_meta(self, streams: list[str]) -> list[StreamMeta]:
        if not streams:
            return []
        metas = [self._stream_keys(s)[1] for s in streams]
        rows = await self._eval(self._data, _META, metas)
        return [_meta(raw) for raw in rows]

    # approvals -------------------------------------------------------------------------
    def _approval_keys(self, approval: str) -> list[str]:
        prefix = self._keys.prefix
        return [f"{prefix}approval:{approval}", f"{prefix}approvals", *self._stream_keys(AUDIT)]

    async def approval_create(
        self,
        approval: str,
        action: str,
        details: str,
        requested_by: str,
        approvers: list[str] | None,
        ttl: float,
    ) -> ApprovalRecord:
        keys = self._approval_keys(approval)[:2]
        listed = "" if approvers is None else canonical(approvers)
        flat = await self._eval(
            self._leases, _CREATE, keys, self._keys.prefix, approval, json_str(action), details,
            requested_by, listed, max(1, round(ttl * 1_000_000)),
        )  # fmt: skip
        rec = _approval(flat)
        assert rec is not None
        return rec

    async def approval_get(
        self, approval: str, observer: str, audit_keep: int | None, mailbox: str = ""
    ) -> ApprovalRecord | None:
        flat = await self._eval(
            self._leases, _GET, self._approval_keys(approval), self._keys.prefix, observer,
            json_str(observer), _keep(audit_keep), mailbox,
        )  # fmt: skip
        return _approval(flat)

    async def approval_decide(
        self,
        approval: str,
        status: str,
        by: str,
        reason: str | None,
        audit_keep: int | None,
    ) -> tuple[str, ApprovalRecord | None]:
        outcome, flat = await self._eval(
            self._leases, _DECIDE, self._approval_keys(approval), self._keys.prefix, status, by,
            json_str(by), "null" if reason is None else json_str(reason), _keep(audit_keep),
        )  # fmt: skip
        return outcome.decode(), _approval(flat)

    async def approval_pending(
        self, observer: str, audit_keep: int | None, limit: int
    ) -> tuple[list[ApprovalRecord], bool]:
        keys = self._approval_keys("")[1:]
        reply = await self._eval(
            self._data, _PENDING, keys, self._keys.prefix, observer, json_str(observer),
            _keep(audit_keep), limit, SWEEP,
        )  # fmt: skip
        found = [_approval(flat) for flat in reply[1:]]
        return [rec for rec in found if rec is not None], bool(reply[0])
