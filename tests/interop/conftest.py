"""Fixtures for the QCoDeS interop tests: a mock station whose QDAC-II outputs are recorded, and a
temporary QCoDeS database that leaves QCoDeS's configuration as it found it."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import qcodes
from qcodes.dataset import (
    connect,
    initialised_database_at,
    load_or_create_experiment,
    reset_default_experiment_id,
)

from dotstack.station import LabStation
from dotstack.stations import MOCK


@dataclass(frozen=True)
class Drive:
    """One output move the mock QDAC-II was asked for (where it reached the instrument model)."""

    channel: int
    start: float
    target: float
    slew: float  # V/s; inf = a step
    t: float  # lab time


class DriveLog:
    """Every move the station's mock QDAC-II makes, recorded in its model's one move path."""

    def __init__(self, station: LabStation) -> None:
        self.model = station.mock_lab.models["qdac"]
        self.drives: list[Drive] = []
        self._original = self.model._drive

        def recorded(c: Any, volts: float, t: float, slew: float) -> None:
            self.drives.append(Drive(c.n, c.output(t), volts, slew, t))
            self._original(c, volts, t, slew)

        self.model._drive = recorded

    def on(self, channel: int) -> list[Drive]:
        return [d for d in self.drives if d.channel == channel]

    def close(self) -> None:
        self.model._drive = self._original


@pytest.fixture(scope="module")
def station() -> Iterator[LabStation]:
    with LabStation.from_file(MOCK) as st:
        yield st


@pytest.fixture
def drives(station: LabStation) -> Iterator[DriveLog]:
    log = DriveLog(station)
    try:
        yield log
    finally:
        log.close()


@pytest.fixture
def qcodes_db(tmp_path: Path) -> Iterator[Path]:
    """A fresh QCoDeS database (with one experiment) as the configured one for the test; the
    configuration (and the default experiment) restored afterwards, and checked to be."""
    before = copy.deepcopy(dict(qcodes.config["core"]))
    db = tmp_path / "x.db"
    with initialised_database_at(db):
        load_or_create_experiment("interop", "mock")
        yield db
    conn = connect(db)
    reset_default_experiment_id(conn)  # this database's default experiment only
    conn.close()
    assert dict(qcodes.config["core"]) == before
