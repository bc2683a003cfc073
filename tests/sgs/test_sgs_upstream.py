"""The unmodified upstream QCoDeS RohdeSchwarzSGS100A driver against the mock over a loopback
socket (pyvisa-py): every parameter it has, set and read back, reaches the model's state."""

from __future__ import annotations

import math

import pytest
from qcodes.instrument_drivers.rohde_schwarz import RohdeSchwarzSGS100A

from dotstack.mocks.instruments.sgs100a import SGS100AModel
from dotstack.mocks.physics import ManualClock


def _no_errors(mw: RohdeSchwarzSGS100A) -> None:
    assert mw.ask("SYST:ERR?") == '0,"No error"'


def test_identification(mw: RohdeSchwarzSGS100A) -> None:
    idn = mw.IDN()
    assert idn["vendor"] == "Rohde&Schwarz"
    assert idn["model"] == "SGS100A"
    assert idn["serial"] and idn["firmware"]
    # upstream's run_self_tests() writes *TST? without reading the reply; ask it instead
    assert mw.ask("*TST?") == "0"
    assert mw.ask("*OPT?") == "SGS-B112,SGS-K22,SGS-K90"
    _no_errors(mw)


def test_rf_settings_reach_the_carrier(mw: RohdeSchwarzSGS100A, model: SGS100AModel,
                                       clock: ManualClock) -> None:
    mw.frequency(8.668963e9)
    mw.power(-10.5)
    mw.phase(45)
    mw.IQ_state("on")
    mw.on()
    assert mw.frequency() == pytest.approx(8.668963e9)
    assert mw.power() == pytest.approx(-10.5)
    assert mw.phase() == pytest.approx(45)
    assert mw.status() is True and mw.IQ_state() is True
    clock.advance(0.01)
    c = model.carrier_at()
    assert (c.frequency, c.power_dbm, c.output_on, c.iq_on) == (8.668963e9, -10.5, True, True)
    assert c.phase == pytest.approx(math.pi / 4) and c.settled
    mw.off()
    mw.IQ_state("off")
    assert mw.status() is False and mw.IQ_state() is False
    assert not model.carrier.output_on and not model.carrier.iq_on
    _no_errors(mw)


def test_iq_impairments(mw: RohdeSchwarzSGS100A, model: SGS100AModel) -> None:
    mw.IQ_impairments("on")
    mw.I_offset(1.25)
    mw.Q_offset(-0.5)
    mw.IQ_gain_imbalance(0.2)
    mw.IQ_angle(-3)
    assert mw.IQ_impairments() is True
    assert (mw.I_offset(), mw.Q_offset()) == (1.25, -0.5)
    assert mw.IQ_gain_imbalance() == 0.2 and mw.IQ_angle() == -3
    c = model.carrier
    assert c.iq_impairments_on and c.i_offset_pct == 1.25 and c.q_offset_pct == -0.5
    assert c.iq_gain_imbalance_db == 0.2 and c.iq_quadrature_offset == pytest.approx(
        math.radians(-3))
    _no_errors(mw)


def test_pulse_modulation(mw: RohdeSchwarzSGS100A, model: SGS100AModel) -> None:
    mw.pulsemod_state("on")
    mw.pulsemod_source("ext")
    assert mw.pulsemod_state() is True and mw.pulsemod_source() == "EXT"
    assert model.carrier.pulse_modulation and model.carrier.pulse_source == "EXT"
    values = {"pulsemod_delay": 1e-6, "pulsemod_double_delay": 2e-6,
              "pulsemod_double_width": 3e-7, "pulsemod_period": 1e-5, "pulsemod_width": 4e-7}
    for name, value in values.items():
        mw.parameters[name](value)
        assert mw.parameters[name]() == pytest.approx(value)
    choices = {"pulsemod_mode": ("double", "DOUB"), "pulsemod_polarity": ("inverted", "INV"),
               "pulsemod_trig_ext_gate_polarity": ("INV", "INV"),
               "pulsemod_trig_ext_impedance": ("G10K", "G10K"),
               "pulsemod_trig_ext_slope": ("negative", "NEG"),
               "pulsemod_trig_mode": ("egate", "EGAT"), "trigger_connector_mode": ("pvo", "PVO")}
    for name, (value, reply) in choices.items():
        mw.parameters[name](value)
        assert mw.parameters[name]() == reply
    _no_errors(mw)


def test_reference_and_lo(mw: RohdeSchwarzSGS100A, model: SGS100AModel) -> None:
    mw.ref_osc_source("EXT")
    mw.ref_osc_external_freq("100MHz")
    mw.ref_osc_output_freq("1000MHz")
    mw.LO_source("ext")
    mw.ref_LO_out("LO")
    mw.operation_mode("BBBYpass")
    assert mw.ref_osc_source() == "EXT" and mw.LO_source() == "EXT"
    assert mw.ref_osc_external_freq() == "100MHZ" and mw.ref_osc_output_freq() == "1000MHZ"
    assert mw.ref_LO_out() == "LO" and mw.operation_mode() == "BBBY"
    mw.ref_LO_out("Off")
    assert mw.ref_LO_out() == "OFF"
    _no_errors(mw)


def test_snapshot_and_reset(mw: RohdeSchwarzSGS100A, model: SGS100AModel) -> None:
    mw.frequency(5e9)
    mw.on()
    snap = mw.snapshot(update=True)["parameters"]
    assert snap["frequency"]["value"] == 5e9 and snap["status"]["value"] is True
    assert snap["power"]["value"] == -30.0 and snap["pulsemod_mode"]["value"] == "SING"
    mw.reset()
    assert mw.frequency() == 1e9 and mw.status() is False
    assert model.carrier.frequency == 1e9
    _no_errors(mw)


def test_out_of_range_is_refused_by_the_instrument(mw: RohdeSchwarzSGS100A,
                                                   model: SGS100AModel) -> None:
    """The driver allows 20 GHz; the SGS-B112 instrument stops at 12.75 GHz and says so."""
    mw.frequency(6e9)
    mw.frequency(15e9)
    assert mw.frequency() == 6e9
    code, _, text = mw.ask("SYST:ERR?").partition(",")
    assert code == "-222" and "FREQ" in text
    assert model.carrier.frequency == 6e9
