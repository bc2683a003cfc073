"""Fixtures: a VirtualLab, the 34465A mock served on loopback, the upstream QCoDeS driver on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from qcodes.instrument import Instrument
from qcodes.instrument_drivers.Keysight import Keysight34465A

from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab
from dotstack.mocks.scpi import ScpiServer, serve_tcp

GAIN = 1e8


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(0.0)


@pytest.fixture
def lab(clock: ManualClock) -> VirtualLab:
    """A noiseless lab on a manual clock: readings follow the model exactly."""
    return VirtualLab(seed=1, noise=NoiseParams.none(), clock=clock)


@pytest.fixture
def model(lab: VirtualLab) -> Keysight34465AModel:
    return Keysight34465AModel(lab, gain=GAIN)


@pytest.fixture
def server(model: Keysight34465AModel) -> Iterator[ScpiServer]:
    with serve_tcp(model, name="dmm") as srv:
        yield srv


@pytest.fixture
def dmm(server: ScpiServer) -> Iterator[Keysight34465A]:
    """The unmodified upstream driver over pyvisa-py; every qcodes instrument closed after."""
    try:
        yield Keysight34465A("dmm", server.address, visalib="@py", silent=True)
    finally:
        Instrument.close_all()
