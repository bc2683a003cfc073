"""Fixtures: a lab on a manual clock, the SGS100A mock served on loopback, the upstream QCoDeS
driver on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from qcodes.instrument import Instrument
from qcodes.instrument_drivers.rohde_schwarz import RohdeSchwarzSGS100A

from dotstack.mocks.instruments.sgs100a import SGS100AModel
from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab
from dotstack.mocks.scpi import ScpiServer, serve_tcp


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(0.0)


@pytest.fixture
def lab(clock: ManualClock) -> VirtualLab:
    return VirtualLab(seed=1, noise=NoiseParams.none(), clock=clock)


@pytest.fixture
def model(lab: VirtualLab) -> SGS100AModel:
    return SGS100AModel(lab)


@pytest.fixture
def server(model: SGS100AModel) -> Iterator[ScpiServer]:
    with serve_tcp(model, name="mw") as srv:
        yield srv


@pytest.fixture
def mw(server: ScpiServer) -> Iterator[RohdeSchwarzSGS100A]:
    """The unmodified upstream driver over pyvisa-py; every qcodes instrument closed after."""
    try:
        yield RohdeSchwarzSGS100A("mw", server.address, visalib="@py")
    finally:
        Instrument.close_all()
