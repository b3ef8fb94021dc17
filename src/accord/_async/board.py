"""The board: threads of messages between agents, with per-agent read cursors.

A thread is an entry of the state map ``accord.board`` (title, the post, author,
priority, tags, ``to``, status) and a stream of its replies (``accord.board/<id>``).
A reply is one append to that stream, never a read-modify-write of the thread, so
agents replying at once lose none. Each agent's read cursor per thread (the id of the
last message it read) is in the map ``accord.board.read``: reading is not consuming,
every agent has its own. New posts and replies are events (``board_post``,
``board_reply``), so ``@when("board_*")`` wakes an agent in any process.

Message ids per thread: 0 is the post, replies count from 1.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from accord import _validate
from accord._async.events import AsyncEvents
from accord._async.state import AsyncStateMap
from accord._context import Context
from accord._people import Message
from accord.backends import AsyncBackend
from accord.backends.streams.rule import StreamEntry, canonical
from accord.errors import ConfigError, NotFound

THREADS = "accord.board"
READ = "accord.board.read"
PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "resolved")
PAGE = 1000  # replies per store read
_LIST_HINT = "list the threads with coord.board.threads()"


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} is a str, not {type(value).__name__}")
    if not value.strip():
        raise ConfigError(f"{what} is empty")
    _validate.encode(value, limit)  # PayloadTooLarge, or a lone surrogate as TypeError
    return value


def _tags(tags: Any) -> list[str]:
    if isinstance(tags, str) or not isinstance(tags, (list, tuple, set, frozenset)):
        raise TypeError(f"tags takes a list of names, not {type(tags).__name__}")
    return sorted({_validate.name(t, "tag") for t in tags})


def _choice(value: object, what: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{what} must be one of {', '.join(allowed)}, not {value!r}")
    return str(value)


def _reader(agent: str) -> str:
    """The prefix of an agent's read cursors (a long name hashed, so keys stay short)."""
    return (agent if len(agent) <= 400 else hashlib.sha1(agent.encode()).hexdigest()) + "/"


class AsyncBoardThread:
    """A board thread as read (``id``, ``title``, ``message``: the post, ``author``,
    ``priority``, ``tags``, ``to``, ``status``, ``created_at``); ``reply``,
    ``resolve``, ``messages``."""

    def __init__(self, board: AsyncBoard, thread: str, meta: dict[str, Any]) -> None:
        self._board = board
        self.id = thread
        self.title: str = meta["title"]
        self.message: str = meta["message"]
        self.author: str = meta["author"]
        self.priority: str = meta["priority"]
        self.tags: tuple[str, ...] = tuple(meta["tags"])
        self.to: str | None = meta["to"]
        self.status: str = meta["status"]
        self.created_at: float = meta["created"]

    @property
    def _stream(self) -> str:
        return f"{THREADS}/{self.id}"

    async def reply(self, message: str) -> Message:
        """Append a reply (one atomic append, whatever others reply at once) and emit
        ``board_reply``; return it."""
        ctx = self._board._ctx
        text = _text(message, "message", ctx.max_payload)
        entry = await ctx.store.stream_append(
            self._stream, ctx.agent, canonical({"text": text}), None
        )
        await self._board._events.emit("board_reply", {
            "thread": self.id, "message": entry.id, "title": self.title, "to": self.to,
        })  # fmt: skip
        return _message(self.id, entry)

    async def resolve(self) -> None:
        """Mark the thread resolved (it leaves ``unread()``; replies stay possible)."""
        await self._board._threads.update(self.id, _resolved)
        self.status = "resolved"

    async def messages(self, after: int | None = None, limit: int = 100) -> list[Message]:
        """Up to ``limit`` messages after message id ``after`` (None: from the post,
        id 0), oldest first."""
        limit = _validate.count(limit, "limit")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int)):
            raise ConfigError(f"after must be a message id (a whole number), got {after!r}")
        found: list[Message] = []
        if after is None or after < 0:
            found.append(Message(self.id, 0, self.author, self.message, self.created_at))
        start = max(after or 0, 0)
        store = self._board._ctx.store
        while len(found) < limit:
            page = await store.stream_read(self._stream, start, min(PAGE, limit - len(found)))
            found += [_message(self.id, e) for e in page]
            if not page or len(found) >= limit:
                break
            start = page[-1].id
        return found

    def __repr__(self) -> str:
        return f"<BoardThread {self.id} {self.title!r} {self.status}>"


def _resolved(meta: dict[str, Any]) -> dict[str, Any]:
    return {**meta, "status": "resolved"}


def _message(thread: str, e: StreamEntry) -> Message:
    text = _validate.decode(e.data)["text"]
    return Message(thread, e.id, e.source, text, e.time_us / 1_000_000)


class AsyncBoard:
    """The namespace's message board (``coord.board``)."""

    def __init__(self, ctx: Context[AsyncBackend], events: AsyncEvents) -> None:
        self._ctx = ctx
        self._events = events
        self._threads = AsyncStateMap(ctx, THREADS)
        self._read = AsyncStateMap(ctx, READ)

    async def post(
        self,
        title: str,
        message: str,
        *,
        priority: str = "normal",
        tags: list[str] | tuple[str, ...] = (),
        to: str | None = None,
    ) -> AsyncBoardThread:
        """Open a thread (``priority``: low, normal, high or urgent; ``to``: the agent it
        is addressed to, first in that agent's ``unread()``) and emit ``board_post``.
        Bad input raises before anything is stored."""
        ctx = self._ctx
        created = round(time.time(), 6)
        meta: dict[str, Any] = {
            "title": _text(title, "title", 512), "message": _text(message, "message",
                                                                    ctx.max_payload),
            "author": ctx.agent, "priority": _choice(priority, "priority", PRIORITIES),
            "tags": _tags(tags), "to": None if to is None else _validate.name(to, "to"),
            "status": "open", "created": created,
        }  # fmt: skip
        thread = f"{int(created * 1e6):014x}{secrets.token_hex(2)}"  # sorts by time
        await self._threads.set(thread, meta, expected_version=0)
        await self._events.emit("board_post", {
            "thread": thread, "title": meta["title"], "priority": meta["priority"],
            "tags": meta["tags"], "to": meta["to"],
        })  # fmt: skip
        return AsyncBoardThread(self, thread, meta)

    async def thread(self, thread: str) -> AsyncBoardThread:
        """The thread ``thread`` as stored now; NotFound for an unknown id."""
        thread = _validate.name(thread, "thread id")
        entry = await self._threads.get(thread)
        if entry is None:
            raise NotFound("board thread", thread, _LIST_HINT)
        return AsyncBoardThread(self, thread, entry.value)

    async def threads(
        self, *, status: str | None = None, tag: str | None = None
    ) -> list[AsyncBoardThread]:
        """Every thread (of that ``status``, open or resolved, and ``tag``), newest
        first. Reads every thread of the board."""
        if status is not None:
            _choice(status, "status", STATUSES)
        if tag is not None:
            _validate.name(tag, "tag")
        found = [
            AsyncBoardThread(self, thread, entry.value)
            async for thread, entry in self._threads.items()
            if status in (None, entry.value["status"]) and tag in (None, *entry.value["tags"])
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)

    async def unread(self) -> list[AsyncBoardThread]:
        """Open threads with a message this agent did not write and has not marked read:
        those addressed ``to`` it first, then by priority (urgent first), oldest first."""
        me = self._ctx.agent
        threads = await self.threads(status="open")
        cursors = {
            key.rpartition("/")[2]: entry.value
            async for key, entry in self._read.items(_reader(me))
        }
        metas = await self._ctx.store.stream_meta([t._stream for t in threads])
        found = []
        for thread, meta in zip(threads, metas, strict=True):
            seen = cursors.get(thread.id, 0 if thread.author == me else -1)
            if seen < 0 or (meta.last > seen and await self._news(thread, seen, me)):
                found.append(thread)
        rank = {p: i for i, p in enumerate(reversed(PRIORITIES))}
        return sorted(found, key=lambda t: (t.to != me, rank[t.priority], t.created_at, t.id))

    async def _news(self, thread: AsyncBoardThread, seen: int, me: str) -> bool:
        """Whether a reply after ``seen`` was written by someone else."""
        page = await self._ctx.store.stream_read(thread._stream, seen, PAGE)
        return any(e.source != me for e in page) or len(page) == PAGE

    async def mark_read(self, thread: str | AsyncBoardThread) -> None:
        """Mark every message of ``thread`` (an id or a thread) so far as read by this
        agent; for this agent only (every agent has its own cursors)."""
        found = thread if isinstance(thread, AsyncBoardThread) else await self.thread(thread)
        last = (await self._ctx.store.stream_meta([found._stream]))[0].last
        key = _reader(self._ctx.agent) + found.id  # a cursor only moves forward
        await self._read.update(key, lambda seen: max(seen, last), default=last)

    def __repr__(self) -> str:
        return f"<Board namespace={self._ctx.store.namespace!r}>"
