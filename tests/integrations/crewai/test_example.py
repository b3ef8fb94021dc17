"""examples/crewai_crews.py runs offline and loses no line where accord is used."""

from __future__ import annotations

import re

import pytest

from .. import _shared


@pytest.mark.parametrize("backend_name", ["sqlite"], indirect=True)
def test_the_example_runs_and_accord_loses_nothing(url: str) -> None:
    out = _shared.run_example("crewai_crews.py", url)
    assert re.search(r"under an accord lock\s+3 written, 3 kept, 0 lost", out), out
    assert re.search(r"write_file, file leases\s+3 written, 3 kept, 0 lost", out), out
    assert "accord prevented" in out
