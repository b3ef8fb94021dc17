"""The SQLite store writes the records of an uncontended lock cycle directly
(``sqlite_holders.record_text``): the text must be what encoding the record gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord import _json
from accord.backends.leases.holders import Holder, InlineHolders
from accord.backends.leases.rule import LeaseRecord, QueuedWaiter
from accord.backends.leases.sqlite_holders import record_text

names = st.text(min_size=1, max_size=30)  # quotes, backslashes, control and non-ASCII too
times = st.floats(min_value=1e-6, max_value=1e12, allow_nan=False, allow_infinity=False)


@st.composite
def records(draw: st.DrawFn) -> LeaseRecord:
    holders = InlineHolders()
    for holder in draw(st.lists(names, max_size=2, unique=True)):
        mode = draw(st.sampled_from(["", "", "S", "IX"]))
        holders.add(holder, Holder(draw(names), draw(st.integers(1, 2**53)),
                                   draw(st.one_of(times, st.integers(1, 10**6))), draw(times),
                                   mode, draw(st.sampled_from(["", "writes a/b"]))))
    queue = [QueuedWaiter(draw(names), draw(names), draw(names), draw(times), draw(times))
             for _ in range(draw(st.integers(0, 1)))]
    return LeaseRecord(draw(st.integers(1, 5)), draw(st.integers(0, 2**53)), holders, queue)


@settings(max_examples=300, deadline=None)
@given(records())
def test_the_direct_text_is_the_encoded_record(rec: LeaseRecord) -> None:
    text = record_text(rec)
    assert text == _json.dumps_record(rec.to_json())
    assert LeaseRecord.from_json(_json.loads(text)).to_json() == rec.to_json()
