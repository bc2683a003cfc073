"""The unmodified upstream QCoDeS Keysight34465A driver against the mock over a loopback socket."""

from __future__ import annotations

import socket

import numpy as np
import pytest
from qcodes.instrument_drivers.Keysight import Keysight34465A

from dotstack.mocks.instruments.keysight34465a import Keysight34465AModel
from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.scpi import ScpiServer

GAIN = 1e8


def test_identification_and_licences(dmm: Keysight34465A) -> None:
    idn = dmm.IDN()
    assert idn["vendor"] == "Keysight Technologies"
    assert idn["model"] == "34465A"
    assert dmm.model == "34465A"
    assert dmm.is_34465A_34470A and dmm.has_DIG and dmm.has_MEM
    assert dmm.NPLC_list[0] == 0.001  # the DIG option's fast integration times
    assert dmm.line_frequency() == 50
    assert dmm.ask("SYST:VERS?") == "1999.0"
    assert list(dmm._licenses()) == ["DIG", "MEM"]


def test_snapshot_reads_every_parameter_without_errors(dmm: Keysight34465A) -> None:
    snap = dmm.snapshot(update=True)
    params = snap["parameters"]
    assert params["sense_function"]["value"] == "DC Voltage"
    assert params["NPLC"]["value"] == 10.0
    assert params["autozero"]["value"] == "ON"
    assert params["aperture_mode"]["value"] == "OFF"
    sub = snap["submodules"]
    assert sub["trigger"]["parameters"]["source"]["value"] == "IMM"
    assert sub["sample"]["parameters"]["pretrigger_count"]["value"] == 0
    assert sub["display"]["parameters"]["enabled"]["value"] is True
    assert dmm.error() == (0, "No error")


def test_nplc_resolution_and_aperture(dmm: Keysight34465A) -> None:
    dmm.range(1)
    for nplc, res in zip(dmm.NPLC_list, dmm._resolution_factors, strict=True):
        dmm.NPLC(nplc)
        assert dmm.NPLC() == nplc
        assert dmm.resolution() == pytest.approx(res * 1.0)
    dmm.resolution(3e-6)  # -> 0.02 PLC on the 1 V range
    assert dmm.NPLC() == 0.02
    dmm.aperture_time(0.01)
    assert dmm.aperture_mode() == "ON"
    assert dmm.aperture_time() == pytest.approx(0.01)
    dmm.NPLC(1)
    assert dmm.aperture_mode() == "OFF"
    assert dmm.error() == (0, "No error")


def test_range_autorange_and_autozero(dmm: Keysight34465A, lab: VirtualLab) -> None:
    dmm.range(100)
    assert dmm.range() == 100 and dmm.autorange() == "OFF"
    dmm.increase_range()
    assert dmm.range() == 1000
    dmm.decrease_range(decrease_by=-2)
    assert dmm.range() == 10
    dmm.autorange("ON")
    assert dmm.autorange() == "ON"
    expected = abs(GAIN * lab.sensor_current(0.2, lab.time()))
    dmm.autorange_once()
    assert dmm.autorange() == "OFF"
    assert expected <= 1.2 * dmm.range()
    assert dmm.range() == 0.1 or expected > 0.12 * dmm.range()
    for mode in ("OFF", "ON"):
        dmm.autozero(mode)
        assert dmm.autozero() == mode
    dmm.autozero("ONCE")
    assert dmm.autozero() == "OFF"  # ONCE zeroes once, then autozero is off


def test_trigger_and_sample_settings(dmm: Keysight34465A) -> None:
    for source in ("BUS", "EXT", "INT", "IMM"):
        dmm.trigger.source(source)
        assert dmm.trigger.source() == source
    dmm.trigger.count(7)
    assert dmm.trigger.count() == 7
    dmm.trigger.count("INF")
    assert dmm.trigger.count() == 9.9e37
    dmm.trigger.count(1)
    assert dmm.trigger.auto_delay_enabled() is True
    dmm.trigger.delay(0.025)
    assert dmm.trigger.delay() == 0.025 and dmm.trigger.auto_delay_enabled() is False
    dmm.trigger.slope("POS")
    assert dmm.trigger.slope() == "POS"
    dmm.trigger.level(0.5)
    assert dmm.trigger.level() == 0.5
    dmm.sample.count(12)
    assert dmm.sample.count() == 12
    dmm.sample.pretrigger_count(3)
    assert dmm.sample.pretrigger_count() == 3
    dmm.sample.source("TIM")
    assert dmm.sample.source() == "TIM"
    dmm.NPLC(0.2)
    assert dmm.sample.timer_minimum() == pytest.approx(2 * 0.2 / 50)
    dmm.sample.timer(0.05)
    assert dmm.sample.timer() == 0.05
    assert dmm.error() == (0, "No error")


def test_volt_reads_the_amplified_sensor_current(dmm: Keysight34465A, lab: VirtualLab) -> None:
    dmm.sample.count(3)
    volts = dmm.volt()  # READ? with the sample count set to 1 meanwhile
    assert volts == pytest.approx(GAIN * lab.sensor_current(0.2, lab.time()), rel=1e-5, abs=1e-6)
    assert dmm.sample.count() == 3
    assert abs(dmm.curr()) < 1e-6  # current input open
    assert dmm.res() == np.inf  # resistance input open: overload -> inf
    assert dmm.sense_function() == "DC Voltage"


def test_init_and_fetch_several_samples(dmm: Keysight34465A, lab: VirtualLab) -> None:
    dmm.NPLC(0.2)
    dmm.trigger.count(2)
    dmm.sample.count(5)
    dmm.init_measurement()
    data = dmm.fetch()
    assert data.shape == (10,)
    assert np.allclose(data, GAIN * lab.sensor_current(0.004, lab.time()), rtol=1e-4)
    assert int(dmm.ask("DATA:POINts?")) == 10
    assert np.array_equal(dmm.read(), dmm.fetch())  # READ? = INIT + FETCh?
    dmm.trigger.count(1)
    dmm.trigger.source("BUS")
    dmm.init_measurement()
    dmm.trigger.force()
    assert dmm.fetch().shape == (5,)
    dmm.abort_measurement()


def test_time_trace(dmm: Keysight34465A) -> None:
    dmm.NPLC(0.02)
    dmm.timetrace_npts(50)
    dmm.timetrace_dt(1e-3)
    trace = dmm.timetrace()
    assert trace.shape == (50,)
    assert np.all(np.isfinite(trace))
    assert dmm.time_axis()[-1] == pytest.approx(49e-3)
    assert dmm.trigger.source() == "IMM" and dmm.sample.count() == 1  # restored afterwards
    assert dmm.display.text() == ""


def test_display(dmm: Keysight34465A) -> None:
    dmm.display.text("dotstack mock")
    assert dmm.display.text() == "dotstack mock"
    dmm.display.clear()
    assert dmm.display.text() == ""
    dmm.display.enabled(False)
    assert dmm.display.enabled() is False
    dmm.display.enabled(True)


def test_reset_restores_defaults(dmm: Keysight34465A) -> None:
    dmm.NPLC(1)
    dmm.range(1)
    dmm.trigger.source("BUS")
    dmm.reset()
    assert dmm.NPLC() == 10 and dmm.range() == 10 and dmm.autorange() == "ON"
    assert dmm.trigger.source() == "IMM"


def test_bad_input_gives_errors_and_the_server_survives(
    dmm: Keysight34465A, server: ScpiServer, model: Keysight34465AModel
) -> None:
    dmm.write("SENS:VOLT:FOO 1")
    assert dmm.error()[0] == -113
    dmm.write("SENS:VOLT:NPLC 1000")
    assert dmm.error()[0] == -222
    dmm.write("SENS:VOLT:NPLC 1..2")
    assert -199 <= dmm.error()[0] <= -100
    dmm.write("TRIG:SOUR BUS")
    dmm.write("READ?")
    assert dmm.error() == (-214, "Trigger deadlock")
    with socket.create_connection((server.host, server.port), timeout=5) as raw:
        raw.sendall(b"\xff\xfe garbage \x00\n" + b"A" * 100_000 + b"\n#9999\n*OPC?\n")
        reply = b""
        while not reply.endswith(b"\n"):
            reply += raw.recv(100)
    assert reply == b"1\n"
    assert model.error_count >= 3
    dmm.write("*CLS")
    assert dmm.IDN()["model"] == "34465A"
    assert dmm.error() == (0, "No error")
