"""The memory store's ordered index of live keys against a sorted-set model."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.backends.state import index
from accord.backends.state.index import SortedKeys

KEYS = st.text(alphabet="abc\U0010ffff", max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.booleans(), KEYS), max_size=200), KEYS, st.booleans())
def test_sorted_keys_match_a_sorted_set(
    ops: list[tuple[bool, str]], start: str, incl: bool
) -> None:
    old, index.CHUNK = index.CHUNK, 2  # small chunks, so splits and empty chunks happen
    try:
        keys, model = SortedKeys(), set()
        for add, key in ops:
            (keys.add if add else keys.discard)(key)
            (model.add if add else model.discard)(key)
        assert len(keys) == len(model)
        assert list(keys.from_key("", True)) == sorted(model)
        want = sorted(k for k in model if (k >= start if incl else k > start))
        assert list(keys.from_key(start, incl)) == want
    finally:
        index.CHUNK = old
