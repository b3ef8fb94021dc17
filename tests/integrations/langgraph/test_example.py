"""examples/langgraph_fanout.py runs offline and loses no update where accord is used."""

from __future__ import annotations

import re

import pytest

from .. import _shared


@pytest.mark.parametrize("backend_name", ["sqlite"], indirect=True)
def test_the_example_runs_and_accord_loses_nothing(url: str) -> None:
    out = _shared.run_example("langgraph_fanout.py", url)
    assert re.search(r"AccordStore\.update\s+20 added, 20 kept,  0 lost", out), out
    assert re.search(r"guard\(lock=product\) \+ get/put\s+20 added, 20 kept,  0 lost", out), out
    assert "accord prevented" in out
