"""The board: threads, replies appended (none lost however many reply at once),
per-agent read cursors, ``to`` first in unread(), events for posts and replies."""

from __future__ import annotations

from typing import Any

import pytest

from accord.errors import ConfigError, InvalidName, NotFound, PayloadTooLarge

pytestmark = pytest.mark.accord_capability("state", "streams", "events")


async def test_post_reply_read_and_resolve(coord: Any, connect: Any) -> None:
    other = connect("Agent-2")
    th = await coord.board.post(
        "Deployment complete", "Backend v2.0 deployed", priority="high", tags=["deploy"]
    )
    assert (th.title, th.author, th.priority, th.tags, th.to, th.status) == (
        "Deployment complete", "tester", "high", ("deploy",), None, "open",
    )
    same = await other.board.thread(th.id)
    first = await same.reply("Smoke tests green")
    assert (first.id, first.author, first.text) == (1, "Agent-2", "Smoke tests green")
    assert first.thread == th.id
    await th.reply("Thanks")
    messages = await th.messages()
    assert [(m.id, m.author, m.text) for m in messages] == [
        (0, "tester", "Backend v2.0 deployed"), (1, "Agent-2", "Smoke tests green"),
        (2, "tester", "Thanks"),
    ]
    assert [m.id for m in await th.messages(after=0)] == [1, 2]
    assert [m.id for m in await th.messages(after=1, limit=5)] == [2]
    assert [m.id for m in await th.messages(limit=2)] == [0, 1]

    quiet = await other.post_thread(title="Unrelated", message="…", priority="low")
    assert [t.id for t in await coord.board.threads()] == [quiet.id, th.id]  # newest first
    assert [t.id for t in await coord.board.threads(status="open", tag="deploy")] == [th.id]
    await th.resolve()
    assert th.status == "resolved"
    assert [t.id for t in await other.board.threads(status="resolved")] == [th.id]
    assert [t.id for t in await other.board.threads(status="open")] == [quiet.id]

    names = [e.name for e in await coord.events.history(limit=10)]
    assert names == ["board_post", "board_reply", "board_reply", "board_post"][::-1]
    post = (await coord.events.history(name="board_post", limit=2))[-1]
    assert post.source == "tester" and post["thread"] == th.id and post["tags"] == ["deploy"]


async def test_unread_is_per_agent_and_puts_threads_to_me_first(coord: Any, connect: Any) -> None:
    bob, carol = connect("bob"), connect("carol")
    general = await coord.board.post("General", "hello all")
    urgent = await coord.board.post("Pager", "disk full", priority="urgent")
    for_bob = await coord.board.post("For bob", "please review", to="bob", priority="low")
    assert await coord.board.unread() == []  # its own posts are read
    assert [t.id for t in await bob.board.unread()] == [for_bob.id, urgent.id, general.id]
    assert [t.id for t in await carol.board.unread()] == [urgent.id, general.id, for_bob.id]

    await bob.board.mark_read(general.id)
    await bob.board.mark_read(urgent)
    assert [t.id for t in await bob.board.unread()] == [for_bob.id]
    assert len(await carol.board.unread()) == 3  # reading is not consuming

    await (await bob.board.thread(general.id)).reply("hi")  # its own reply is not news to bob
    assert [t.id for t in await bob.board.unread()] == [for_bob.id]
    assert [t.id for t in await coord.board.unread()] == [general.id]
    await carol.board.mark_read(general.id)
    await general.reply("and again")
    assert general.id in [t.id for t in await carol.board.unread()]

    await (await coord.board.thread(for_bob.id)).resolve()
    assert for_bob.id not in [t.id for t in await bob.board.unread()]


async def test_replies_at_once_are_all_kept(coord: Any, connect: Any, run_workers: Any) -> None:
    th = await coord.board.post("Busy", "reply here")
    agents = [connect(f"a{i}") for i in range(8)]

    async def replies(i: int) -> list[int]:
        mine = await agents[i].board.thread(th.id)
        return [(await mine.reply(f"{i}-{n}")).id for n in range(5)]

    ids = [i for got in await run_workers(8, replies) for i in got]
    assert sorted(ids) == list(range(1, 41))
    texts = {m.text for m in await th.messages(limit=100)}
    assert texts == {"reply here"} | {f"{i}-{n}" for i in range(8) for n in range(5)}


async def test_bad_input_and_unknown_threads_change_nothing(coord: Any) -> None:
    bad: list[tuple[tuple[Any, ...], dict[str, Any], type[Exception]]] = [
        (("", "m"), {}, ConfigError),
        (("t", "  "), {}, ConfigError),
        (("t", 42), {}, TypeError),
        (("t" * 600, "m"), {}, PayloadTooLarge),
        (("t", "x" * (1024 * 1024)), {}, PayloadTooLarge),
        (("t", "m"), {"priority": "asap"}, ConfigError),
        (("t", "m"), {"tags": "deploy"}, TypeError),
        (("t", "m"), {"tags": [""]}, InvalidName),
        (("t", "m"), {"to": ""}, InvalidName),
    ]
    for args, options, error in bad:
        with pytest.raises(error):
            await coord.board.post(*args, **options)
    assert await coord.board.threads() == []
    assert await coord.events.history() == []
    with pytest.raises(NotFound, match="no board thread 'nope'"):
        await coord.board.thread("nope")
    with pytest.raises(NotFound):
        await coord.board.mark_read("nope")
    with pytest.raises(ConfigError):
        await coord.board.threads(status="closed")
    th = await coord.board.post("t", "m")
    for message, error in (("", ConfigError), (None, TypeError), ("x" * 2**20, PayloadTooLarge)):
        with pytest.raises(error):
            await th.reply(message)
    assert [m.id for m in await th.messages()] == [0]
