"""The SGS100A model in process: the carrier's history in lab time, settling, options,
ranges and hostile input."""

from __future__ import annotations

import math

import pytest

from dotstack.mocks.instruments.sgs100a import IQ_FULL_SCALE, Carrier, SGS100AModel
from dotstack.mocks.physics import ManualClock, VirtualLab


def _ask(model: SGS100AModel, text: str) -> str:
    reply = model.handle(text.encode())
    return "" if reply is None else reply.decode()


def _error(model: SGS100AModel) -> str:
    return _ask(model, "SYST:ERR?")


def test_carrier_at_answers_for_any_lab_time(model: SGS100AModel, clock: ManualClock) -> None:
    model.handle(b"SOUR:FREQ 8.6e9;:OUTP:STAT ON")
    clock.advance(1.0)
    model.handle(b"SOUR:FREQ 8.7e9;POW -5 dBm")
    clock.advance(1.0)
    model.handle(b"SOUR:IQ:STAT 1")
    clock.advance(1.0)
    model.handle(b"OUTP OFF")
    early, mid, late, end = (model.carrier_at(t) for t in (0.5, 1.5, 2.5, 3.5))
    assert (early.frequency, early.power_dbm, early.output_on, early.iq_on) == (
        8.6e9, -30.0, True, False)
    assert (mid.frequency, mid.power_dbm, mid.iq_on) == (8.7e9, -5.0, False)
    assert late.iq_on and late.output_on and not end.output_on
    assert model.carrier_at(-1.0).frequency == 1e9  # before anything: the reset state
    assert model.carrier_at() == end  # now
    assert mid.since == 1.0 and late.since == 2.0


def test_frequency_and_level_changes_settle(model: SGS100AModel, clock: ManualClock) -> None:
    clock.advance(1.0)
    model.handle(b"FREQ 9 GHz")
    assert model.carrier_at(1.0).frequency == 9e9
    assert not model.carrier_at(1.0005).settled
    assert model.carrier_at(1.0 + model.settling_time).settled
    model.handle(b"OUTP 1")  # a state change does not restart the settling
    assert model.carrier_at(1.0).settled_at == pytest.approx(1.0 + model.settling_time)


def test_amplitude_from_power() -> None:
    assert Carrier(power_dbm=10.0).amplitude == pytest.approx(1.0, rel=1e-3)  # 10 mW in 50 ohm
    assert Carrier(power_dbm=10.0, output_on=False).rf_amplitude == 0.0
    assert Carrier().to_dict()["iq_full_scale_V"] == IQ_FULL_SCALE


@pytest.mark.parametrize(("command", "code"), [
    ("SOUR:FREQ 13e9", "-222"),
    ("SOUR:FREQ 0.5e6", "-222"),
    ("SOUR:FREQ NAN", "-104"),
    ("SOUR:FREQ 1e999", "-222"),
    ("SOUR:POW 26", "-222"),
    ("SOUR:POW 1 V", "-131"),
    ("SOUR:PHAS 400", "-222"),
    ("SOUR:IQ:IMP:LEAK:I 11", "-222"),
    ("SOUR:IQ:IMP:QUAD 9", "-222"),
    ("SOUR:PULM:WIDT 1e-9", "-222"),
    ("SOUR:PULM:MODE TRIPLE", "-224"),
    ("OUTP:STAT MAYBE", "-224"),
    ("SOUR:FREQ", "-109"),
    ("SOUR:FREQ 1e9,2e9", "-108"),
    ("SOUR:NOPE 1", "-113"),
])
def test_bad_values_are_refused_and_nothing_changes(model: SGS100AModel, command: str,
                                                     code: str) -> None:
    before = model.carrier
    settings = dict(model.settings)
    model.handle(command.encode())
    assert _error(model).startswith(code + ",")
    assert _error(model) == '0,"No error"'
    after = model.carrier
    assert (after.frequency, after.power_dbm, after.phase, after.output_on) == (
        before.frequency, before.power_dbm, before.phase, before.output_on)
    assert model.settings == settings


def test_missing_options_say_hardware_missing(lab: VirtualLab) -> None:
    bare = SGS100AModel(lab, options=("SGS-B106",))
    assert _ask(bare, "*OPT?") == "SGS-B106"
    for command in ("SOUR:PULM:STAT 1", "SOUR:PULM:PER?", "SOUR:LOSC:SOUR EXT",
                    "CONN:REFL:OUTP LO", "CONN:TRIG:OMOD PET"):
        bare.handle(command.encode())
        assert _error(bare).startswith("-241,"), command
    bare.handle(b"CONN:REFL:OUTP REF;:CONN:TRIG:OMOD SNVAL")  # no option needed
    assert _error(bare) == '0,"No error"'
    bare.handle(b"FREQ 7e9")  # beyond the 6 GHz option
    assert _error(bare).startswith("-222,")


def test_constructor_refuses_bad_options_and_settling(lab: VirtualLab) -> None:
    with pytest.raises(ValueError, match="exactly one frequency option"):
        SGS100AModel(lab, options=("SGS-K22",))
    with pytest.raises(ValueError, match="exactly one frequency option"):
        SGS100AModel(lab, options=("SGS-B106", "SGS-B112"))
    with pytest.raises(ValueError, match="settling_time"):
        SGS100AModel(lab, settling_time=math.nan)


def test_reset_restores_defaults_and_logs_it(model: SGS100AModel, clock: ManualClock) -> None:
    model.handle(b"FREQ 5e9;:OUTP 1;:SOUR:PULM:MODE DOUB;:SOUR:ROSC:SOUR EXT")
    clock.advance(2.0)
    model.handle(b"*RST")
    assert _ask(model, "FREQ?;:OUTP?;:PULM:MODE?;:ROSC:SOUR?") == "1000000000;0;SING;INT"
    assert model.carrier_at(1.0).frequency == 5e9 and model.carrier_at(2.0).frequency == 1e9


def test_without_a_lab_it_keeps_its_own_clock() -> None:
    alone = SGS100AModel()
    alone.handle(b"FREQ 2e9")
    assert alone.carrier_at().frequency == 2e9
