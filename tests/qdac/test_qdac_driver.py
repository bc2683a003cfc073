"""Our QDac2 driver against the mock, in-process and over the socket: safety, generators, errors."""

import math
import re

import numpy as np
import pytest

from dotstack.drivers.protocols import DAC, ChannelLimits, LimitError
from dotstack.drivers.scpi_base import InstrumentError


def sent_since(model, n):
    return list(model.log)[n:]


def test_fills_dac_role(qdac):
    assert isinstance(qdac, DAC)
    assert list(qdac.channels) == list(range(1, 25))
    assert qdac.limits(1) == ChannelLimits(-10.0, 10.0)
    assert qdac.ch24.output_range() == "high"


def test_set_and_get_read_the_instrument(qdac, model, lab):
    qdac.set_voltage(1, 0.3)
    qdac.ch02.voltage(-0.25)
    assert model.output(1) == 0.3 and model.output(2) == -0.25
    assert lab.output("qdac", 1) == pytest.approx(0.3)
    assert lab.gate_voltages()["P2"] == pytest.approx(-0.25)
    model.handle(b"sour1:volt 0.7")  # someone else moves the output behind the driver's back
    assert qdac.get_voltage(1) == pytest.approx(0.7)
    assert qdac.ch01.voltage() == pytest.approx(0.7)


def test_outside_limits_raises_and_sends_nothing(qdac, model):
    qdac.set_limits(3, ChannelLimits(-0.5, 0.5, max_ramp_rate=1.0, max_step=0.05))
    n = len(model.log)
    for bad in (0.6, -0.51, math.nan, math.inf):
        with pytest.raises(LimitError, match="ch03"):
            qdac.set_voltage(3, bad)
    with pytest.raises(LimitError, match="ch03"):
        qdac.ramp(3, 0.6)
    with pytest.raises(LimitError, match="ch03"):
        qdac.ch03.voltage(0.6)  # the qcodes parameter goes through the same path
    with pytest.raises(LimitError, match="max_ramp_rate"):
        qdac.ramp(3, 0.1, rate=5.0)
    with pytest.raises(LimitError, match="list point 1"):
        qdac.dc_list(3, [0.0, 0.7], 1e-3)
    with pytest.raises(LimitError, match="max_step"):
        qdac.dc_list(3, [0.0, 0.04, 0.2], 1e-3)
    with pytest.raises(LimitError, match="max_step"):
        qdac.dc_sweep(3, -0.4, 0.4, 5, 1e-3)
    with pytest.raises(LimitError, match="points 20 and 0"):
        qdac.dc_sweep(3, -0.4, 0.4, 21, 1e-3, repetitions=2)  # the wrap-around jump
    assert sent_since(model, n) == []
    assert model.output(3) == 0.0


def test_big_move_ramps_by_hardware_slew_from_readback(qdac, model, clock, lab):
    qdac.set_limits(4, ChannelLimits(-1.0, 1.0, max_ramp_rate=1.0, max_step=0.05))
    model.handle(b"sour4:volt 0.2")  # behind the driver's back: the ramp must start here
    n = len(model.log)
    t0 = clock()
    qdac.set_voltage(4, 0.6)
    elapsed = clock() - t0
    assert model.output(4) == pytest.approx(0.6)
    assert 0.4 <= elapsed <= 0.4 + 0.05  # 0.4 V at 1 V/s: started from 0.2 V, not a stale 0
    sent = " ; ".join(sent_since(model, n))
    slew = re.search(r"sour4:volt:slew ([0-9.e+-]+)", sent)
    target = re.search(r"sour4:volt 0\.6", sent)
    assert slew and target and slew.start() < target.start()
    assert float(slew.group(1)) <= 1.0
    # the lab saw a ramp: half way through, the gate was half way
    assert lab.output("qdac", 4, t=t0 + 0.2) == pytest.approx(0.4, abs=0.01)


def test_small_move_steps(qdac, model, clock):
    qdac.set_limits(5, ChannelLimits(-1.0, 1.0, max_ramp_rate=0.5, max_step=0.1))
    t0 = clock()
    qdac.set_voltage(5, 0.1)
    assert clock() == t0 and model.output(5) == pytest.approx(0.1)


def test_explicit_ramp_and_software_ramp_for_rates_below_hardware_slew(qdac, model, clock):
    qdac.set_limits(6, ChannelLimits(-1.0, 1.0, max_ramp_rate=0.005, max_step=0.01))
    n = len(model.log)
    t0 = clock()
    qdac.set_voltage(6, 0.05)  # 0.005 V/s is below the 0.01 V/s hardware minimum
    assert model.output(6) == pytest.approx(0.05)
    assert clock() - t0 == pytest.approx(10.0, rel=1e-6)
    steps = [float(m.split()[-1]) for m in sent_since(model, n) if m.startswith("sour6:volt ")]
    # a fine staircase: steps of at most rate x 0.1 s (0.5 mV), not max_step (10 mV) every 2 s
    assert len(steps) == 100 and np.all(np.abs(np.diff([0.0, *steps])) <= 0.0005 + 1e-12)
    qdac.set_limits(7, ChannelLimits(-1.0, 1.0, max_ramp_rate=2.0))
    t0 = clock()
    qdac.ramp(7, 0.5, rate=1.0)
    assert clock() - t0 == pytest.approx(0.5, abs=0.03)


def test_ramp_timeout_names_the_channel(model, lab):
    from dotstack.drivers.qdac2 import QDac2
    from dotstack.drivers.transport import InProcessTransport

    q = QDac2("qdac_stuck", transport=InProcessTransport(model, name="s"), sleep=lambda dt: None)
    try:
        q.set_limits(8, ChannelLimits(-1.0, 1.0, max_ramp_rate=1.0, max_step=0.01))
        with pytest.raises(TimeoutError, match="ch08"):
            q.set_voltage(8, 0.5)  # the lab clock never moves: the output never arrives
    finally:
        q.close()


def test_limits_only_narrow(qdac, model):
    narrow = ChannelLimits(-1.0, 1.0, max_ramp_rate=1.0, max_step=0.1)
    qdac.set_limits(9, narrow)
    assert qdac.limits(9) == narrow
    with pytest.raises(LimitError, match="only narrow"):
        qdac.set_limits(9, ChannelLimits(-2.0, 1.0))
    with pytest.raises(LimitError, match="only narrow"):
        qdac.set_limits(9, ChannelLimits(-1.0, 1.0, max_ramp_rate=5.0, max_step=0.1))
    qdac.reset_limits(9)
    assert qdac.limits(9) == ChannelLimits(-10.0, 10.0)
    # the low range (+-2 V) clips the limits; it refuses while the output does not fit
    qdac.set_voltage(10, 3.0)
    n = len(model.log)
    with pytest.raises(LimitError, match="low range"):
        qdac.ch10.output_range("low")
    assert not any("rang" in m for m in sent_since(model, n))
    qdac.set_voltage(10, 1.0)
    qdac.ch10.output_range("low")
    assert qdac.ch10.output_range() == "low" and qdac.limits(10) == ChannelLimits(-2.0, 2.0)
    with pytest.raises(LimitError):
        qdac.set_voltage(10, 2.5)
    qdac.ch10.output_filter("dc")
    assert qdac.ch10.output_filter() == "dc"


def test_dc_list_runs_in_lab_time(qdac, model, clock, lab):
    qdac.set_limits(1, ChannelLimits(-1.0, 1.0, max_ramp_rate=10.0, max_step=0.05))
    volts = np.linspace(-0.2, 0.2, 9)
    gen = qdac.dc_list(1, volts, dwell_s=0.01)
    assert model.output(1) == pytest.approx(-0.2)  # moved (ramped) to point 0 first
    assert any("#" in m and "list:volt" in m for m in model.log)  # binary block upload
    assert np.allclose([float(v) for v in qdac.ask("sour1:list:volt?").split(",")], volts)
    gen.start()
    clock.advance(0.035)
    assert qdac.get_voltage(1) == pytest.approx(volts[3], abs=1e-6)
    assert lab.output("qdac", 1) == pytest.approx(volts[3], abs=1e-6)
    clock.advance(0.1)
    assert qdac.get_voltage(1) == pytest.approx(0.2, abs=1e-6)
    assert gen.remaining_cycles() == 0


def test_dc_sweep_waits_for_bus_trigger(qdac, model, clock):
    gen = qdac.dc_sweep(2, -0.5, 0.5, 11, dwell_s=0.001, trigger="bus")
    gen.start()
    clock.advance(0.05)
    assert qdac.get_voltage(2) == pytest.approx(-0.5)  # armed, not running
    gen.fire()
    clock.advance(0.0055)
    assert qdac.get_voltage(2) == pytest.approx(0.0)
    clock.advance(0.1)
    assert qdac.get_voltage(2) == pytest.approx(0.5)
    assert gen.duration_s == pytest.approx(0.011)


def test_stepped_list_advances_per_internal_trigger(qdac, model):
    gen = qdac.dc_list(11, [0.1, 0.2, 0.3], 1e-3, trigger=3, stepped=True, backwards=True)
    gen.start()
    seen = []
    for _ in range(3):
        gen.fire()
        seen.append(qdac.get_voltage(11))
    assert np.allclose(seen, [0.3, 0.2, 0.1])


def test_bad_input_gives_scpi_errors_and_the_instrument_survives(qdac):
    for command, code in [
        ("sour1:volt 20", -222),
        ("bogus:command 1", -113),
        ("sour1:volt abc", -104),
        ("sour25:volt 0.1", -114),
        ("sour1:volt:slew 1e9", -222),
        ("sour1:list:volt 0.1,11", -222),
    ]:
        qdac.write(command)
        with pytest.raises(InstrumentError, match=str(code)):
            qdac.check_errors()
    assert qdac.get_voltage(1) == 0.0
    assert qdac.ask("*IDN?").startswith("QDevil, QDAC-II, ")


def test_generator_arguments_are_checked(qdac, model):
    n = len(model.log)
    with pytest.raises(ValueError, match="dwell"):
        qdac.dc_list(1, [0.0, 0.1], 1e-9)
    with pytest.raises(ValueError, match="trigger"):
        qdac.dc_list(1, [0.0, 0.1], 1e-3, trigger="sometimes")
    with pytest.raises(LimitError, match="no channel"):
        qdac.set_voltage(25, 0.0)
    assert sent_since(model, n) == []


def test_list_step_marker_drives_a_trigger_output(qdac, model, clock):
    for bad in (0, 6, True, 1.5, "1"):
        with pytest.raises(ValueError, match="trigger output"):
            qdac.dc_list(1, [0.0, 0.01, 0.02], 0.01, step_trigger_output=bad)
    gen = qdac.dc_list(1, [0.0, 0.01, 0.02], 0.01, step_trigger_output=np.int64(2))
    t0 = clock()
    gen.start()
    clock.advance(0.1)
    pulses = list(model.pulses[2])
    assert len(pulses) == 3 and pulses == pytest.approx([t0, t0 + 0.01, t0 + 0.02], abs=2e-3)
    assert np.diff(pulses) == pytest.approx([0.01, 0.01])  # one pulse per point, at its start
