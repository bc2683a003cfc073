"""Lab use: upstream QDAC2 sets the sensor plunger, upstream 34465A (via DmmReadout) reads it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from qcodes.instrument import Instrument
from qcodes.instrument_drivers.Keysight import Keysight34465A
from qcodes_contrib_drivers.drivers.QDevil.QDAC2 import QDac2

from dotstack.drivers.keysight344xx import DmmReadout
from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.instruments.qdac2 import QDac2Model
from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab
from dotstack.mocks.scpi import serve_tcp

GAIN = 1e8


@pytest.fixture
def rig(clock: ManualClock) -> Iterator[tuple[VirtualLab, QDac2, DmmReadout]]:
    lab = VirtualLab(seed=5, noise=NoiseParams.none(), clock=clock)
    with (
        serve_tcp(QDac2Model(lab, name="qdac")) as qdac_server,
        serve_tcp(Keysight34465AModel(lab, gain=GAIN)) as dmm_server,
    ):
        try:
            qdac = QDac2("qdac", visalib="@py", address=qdac_server.address)
            dmm = Keysight34465A("dmm", dmm_server.address, visalib="@py", silent=True)
            yield lab, qdac, DmmReadout(dmm, gain=GAIN)
        finally:
            Instrument.close_all()


def test_sensor_plunger_sweep_reads_the_model_current(
    rig: tuple[VirtualLab, QDac2, DmmReadout], clock: ManualClock
) -> None:
    lab, qdac, readout = rig
    instrument, channel = lab.wiring["S"]
    assert instrument == "qdac"
    dac = qdac.channel(channel)
    readings, truth = [], []
    for volts in np.linspace(-0.002, 0.002, 5):
        dac.dc_constant_V(float(volts))
        assert qdac.ask("*OPC?") == "1"  # the write has been handled (sockets are async)
        clock.advance(1.0)  # let the DAC output settle in lab time
        assert lab.output("qdac", channel) == pytest.approx(volts, abs=1e-9)
        readings.append(readout.read())
        truth.append(lab.sensor_current(0.2))
    assert np.allclose(readings, truth, rtol=1e-5)
    assert np.ptp(truth) > 0.1 * np.max(np.abs(truth))
