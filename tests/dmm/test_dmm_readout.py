"""`DmmReadout`: the upstream 34465A driver, over the socket, filling the Readout role."""

from __future__ import annotations

import numpy as np
import pytest
from qcodes.instrument import Instrument
from qcodes.instrument_drivers.Keysight import Keysight34465A

from dotstack.drivers.keysight344xx import DmmReadout
from dotstack.drivers.protocols import Readout
from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab
from dotstack.mocks.scpi import serve_tcp

GAIN = 1e8


@pytest.fixture
def readout(dmm: Keysight34465A) -> DmmReadout:
    return DmmReadout(dmm, gain=GAIN)


def test_fills_the_readout_role(readout: DmmReadout) -> None:
    assert isinstance(readout, Readout)
    assert readout.unit == "A"


def test_read_returns_the_sensor_current(readout: DmmReadout, lab: VirtualLab) -> None:
    current = readout.read()
    assert current == pytest.approx(lab.sensor_current(0.2, lab.time()), rel=1e-5)
    assert 1e-12 < abs(current) < 1e-8  # a sensor current, not volts


def test_read_many_and_timed_sampling(readout: DmmReadout, lab: VirtualLab,
                                      model: Keysight34465AModel) -> None:
    values = readout.read_many(20)
    assert values.shape == (20,)
    assert np.allclose(values, lab.sensor_current(0.2, lab.time()), rtol=1e-5)
    start = model.busy_until
    timed = readout.read_many(4, interval=0.5)
    assert timed.shape == (4,)
    assert readout.dmm.sample.source() == "TIM"
    assert model.busy_until == pytest.approx(start + 1.5e-3 + 4 * 0.5)
    assert isinstance(readout.read(), float)  # back to one sample, immediate sampling
    assert readout.dmm.sample.count() == 1 and readout.dmm.sample.source() == "IMM"
    with pytest.raises(ValueError, match="n >= 1"):
        readout.read_many(0)


def test_read_after_the_driver_changed_counts(readout: DmmReadout) -> None:
    readout.dmm.trigger.count(3)
    readout.dmm.trigger.source("BUS")
    assert isinstance(readout.read(), float)
    assert readout.dmm.trigger.count() == 1


def test_configure(readout: DmmReadout) -> None:
    readout.configure(nplc=1, range=2e-9, autozero=False)  # 2 nA x 1e8 = 0.2 V -> 1 V range
    dmm = readout.dmm
    assert dmm.NPLC() == 1 and dmm.range() == 1 and dmm.autozero() == "OFF"
    assert readout.integration_time == pytest.approx(0.02)
    readout.configure(range="auto")
    assert dmm.autorange() == "ON"
    with pytest.raises(ValueError, match="NPLC 3"):
        readout.configure(nplc=3)
    with pytest.raises(ValueError, match="exceeds the largest range"):
        readout.configure(range=1e-3)
    with pytest.raises(ValueError, match="gain"):
        DmmReadout(dmm, gain=-1)


def test_plunger_voltage_changes_the_reading_as_the_model_says(
    readout: DmmReadout, lab: VirtualLab, clock: ManualClock
) -> None:
    instrument, channel = lab.wiring["S"]
    readings, truth = [], []
    for volts in np.linspace(-0.002, 0.002, 9):  # across a sensor Coulomb peak
        lab.set_output(instrument, channel, float(volts))
        clock.advance(1.0)
        readings.append(readout.read())
        truth.append(lab.sensor_current(0.2))  # noiseless lab: time does not matter
    assert np.allclose(readings, truth, rtol=1e-5, atol=1e-14)
    assert np.ptp(truth) > 0.1 * np.max(np.abs(truth))  # S really moves the sensor current
    lab.set_output(instrument, channel, 0.0)  # back on the peak's flank
    before = readout.read()
    assert lab.occupations()[0] == pytest.approx(3.0, abs=0.01)
    p1_instrument, p1_channel = lab.wiring["P1"]
    lab.set_output(p1_instrument, p1_channel, 0.06)  # one more electron on dot 1
    assert lab.occupations()[0] == pytest.approx(4.0, abs=0.01)
    after = readout.read()
    assert after == pytest.approx(lab.sensor_current(0.2), rel=1e-5)
    assert abs(after - before) > 0.02 * abs(before)  # the sensor sees the charge


def test_noise_shrinks_with_nplc() -> None:
    """White sensor noise only: std(NPLC 0.02) / std(NPLC 10) ~ sqrt(500)."""
    noise = NoiseParams(charge_noise_ev=0.0, telegraph_ev=0.0)
    lab = VirtualLab(seed=4, noise=noise, clock=ManualClock(0.0))
    with serve_tcp(Keysight34465AModel(lab, gain=GAIN)) as server:
        try:
            dmm = Keysight34465A("dmm_noise", server.address, visalib="@py", silent=True)
            readout = DmmReadout(dmm, gain=GAIN)
            readout.configure(nplc=0.02)
            fast = np.std(readout.read_many(400))
            readout.configure(nplc=10)
            slow = np.std(readout.read_many(200))
        finally:
            Instrument.close_all()
    assert fast / slow == pytest.approx(np.sqrt(10 / 0.02), rel=0.25)
    assert fast == pytest.approx(noise.current_density / np.sqrt(2 * 0.02 / 50), rel=0.2)


@pytest.mark.parametrize("n", [0, -3, 2.5, float("nan"), True, "4"])
def test_bad_counts_are_the_callers_error_not_a_garbled_reply(readout: DmmReadout, n) -> None:
    with pytest.raises(ValueError, match="integer n >= 1") as info:
        readout.read_many(n)
    assert "garbled" not in str(info.value)
    with pytest.raises(ValueError, match="integer n >= 1"):
        readout.arm_external(n)
