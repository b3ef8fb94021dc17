"""``with queue.claim(...) as task:`` when no task came: claim returns None (its
contract), and the with statement gets NoTaskClaimed (a TypeError, as Python's own
would be) naming the problem and the fix, instead of a TypeError about None."""

from __future__ import annotations

import asyncio
import uuid

import pytest

import accord
from accord.errors import NoTaskClaimed


def test_the_sync_with_form_says_what_to_do() -> None:
    with accord.connect(f"memory://{uuid.uuid4().hex}", agent="a") as coord:
        q = coord.queue("jobs")
        with (
            pytest.raises(NoTaskClaimed, match=r"within 0.01 s.*if claim is not None"),
            q.claim(timeout=0.01) as task,
        ):
            raise AssertionError(f"entered with {task}")
        assert q.claim() is None  # the contract: None when nothing came
        claims = [q.claim()]  # any other use gets None too
        assert claims == [None]
        q.put("one")
        with q.claim() as task:
            assert task.title == "one"
        assert q.stats().done == 1


def test_the_async_with_form_says_what_to_do() -> None:
    async def main() -> None:
        async with accord.connect_async(f"memory://{uuid.uuid4().hex}", agent="a") as coord:
            q = coord.queue("jobs")
            with pytest.raises(NoTaskClaimed) as caught:
                async with await q.claim() as task:
                    raise AssertionError(f"entered with {task}")
            assert isinstance(caught.value, TypeError) and caught.value.queue == "jobs"
            assert await q.claim() is None
            await q.put("one")
            async with await q.claim(timeout=1) as task:
                assert task.title == "one"

    asyncio.run(main())
