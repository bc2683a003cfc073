"""Shared fixtures of the spin-experiment tests: a fresh mock station (fixed seed 1234, virtual
clock) per test, so that each test's data depend on the seed only, not on which tests ran
before it; and the run's own ``meta/fit`` / ``meta/ground_truth``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dotstack.station import LabStation
from dotstack.store import load_meta


@pytest.fixture
def spin_station() -> Iterator[LabStation]:
    st = LabStation.from_file("dotstack/stations/mock.yaml")
    yield st
    st.close()


Stored = Callable[[Any], tuple[dict[str, Any], dict[str, Any]]]


@pytest.fixture
def stored() -> Stored:
    """``stored(result)``: (meta/fit, meta/ground_truth) of a finished run, read back from its
    store (what a run checks itself against)."""

    def read(result: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        meta = load_meta(result.path)
        return meta["fit"], meta["ground_truth"]

    return read
