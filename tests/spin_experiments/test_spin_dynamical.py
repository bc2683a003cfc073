"""CPMG and AC magnetometry through the whole mock lab (fixed seed): ``meta/fit`` matches
``meta/ground_truth`` within issue 9's tolerances (CPMG exponent +-0.1, AC field +-10 %, its
frequency +-1 %); the pulse-train model behind the magnetometry fit is checked on its own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dotstack.experiments.spin import SPIN_EXPERIMENTS
from dotstack.experiments.spin.sensing import TrainTiming, ac_phase, pulse_phases, train
from dotstack.station import LabStation


def test_cpmg_recovers_the_noise_exponent(spin_station: LabStation, stored, tmp_path) -> None:
    res = SPIN_EXPERIMENTS["cpmg"](spin_station, pulses=(1, 2, 4, 8, 16), points=12, shots=150,
                                   data_dir=str(tmp_path))
    fit, truth = stored(res)
    assert abs(fit["cpmg_exponent"] - truth["cpmg_exponent"]) < 0.1
    # T2 grows with the number of pulses (1/f noise: decoupling filters it)
    assert np.all(np.diff(fit["cpmg_t2_s"]) > 0)
    assert fit["cpmg_t2_s"][0] == pytest.approx(truth["cpmg_t2_s"][0], rel=0.15)


def test_ac_magnetometry_recovers_the_field(spin_station: LabStation, stored, tmp_path) -> None:
    res = SPIN_EXPERIMENTS["ac_magnetometry"](spin_station, pulses=64, shots=300,
                                              data_dir=str(tmp_path))
    fit, truth = stored(res)
    assert truth["ac_field_T"] > 0
    assert fit["ac_field_T"] == pytest.approx(truth["ac_field_T"], rel=0.10)
    assert fit["ac_frequency_Hz"] == pytest.approx(truth["ac_frequency_Hz"], rel=0.01)
    assert 0 < fit["ac_field_T_stderr"] < 0.1 * fit["ac_field_T"]
    # the sensitivity: sqrt(shot time) / (4 gamma C T), a few nT/sqrt(Hz) here
    assert 1e-10 < fit["sensitivity_T_per_sqrtHz"] < 1e-8


def test_pulse_trains_and_their_phase() -> None:
    assert pulse_phases("cpmg", 3) == [math.pi / 2] * 3
    assert pulse_phases("xy8", 16)[:8] == pulse_phases("xy8", 16)[8:]
    with pytest.raises(ValueError, match="multiple of 8"):
        pulse_phases("xy8", 12)
    with pytest.raises(ValueError, match="sequence"):
        pulse_phases("udd", 8)
    pulses = train("cpmg", 4, 100e-9, 0.1, final_phase=math.pi / 2)
    assert len(pulses) == 2 + 2 * 4 + 1 and pulses[-1].phase == math.pi / 2
    # the phase a resonant train picks up: 4 gamma B T (ideal pulses, field in phase)
    gamma, b, f, n = 28e9, 1e-7, 500e3, 64
    tau = np.array([1 / (2 * f)])
    ideal = 4 * gamma * b * n * tau[0]
    # short pulses, no delay: close to ideal; in quadrature (theta = pi/2): almost nothing
    timing = TrainTiming(0.0, 1e-9, n)
    assert float(ac_phase(timing, tau, b, f, 0.0, gamma)[0]) == pytest.approx(ideal, rel=0.01)
    assert abs(float(ac_phase(timing, tau, b, f, math.pi / 2, gamma)[0])) < 0.02 * ideal
    # off resonance (spacing 20 % off) the response nearly cancels
    assert abs(float(ac_phase(timing, 1.2 * tau, b, f, 0.0, gamma)[0])) < 0.1 * ideal


def test_dynamical_arguments_are_checked(spin_station: LabStation) -> None:
    with pytest.raises(ValueError, match="pulses"):
        SPIN_EXPERIMENTS["cpmg"](spin_station, pulses=(4, 4))
    with pytest.raises(ValueError, match="span"):
        SPIN_EXPERIMENTS["cpmg"](spin_station, span=(1.0, float("nan")))
    with pytest.raises(ValueError, match="pi pulse"):
        SPIN_EXPERIMENTS["ac_magnetometry"](spin_station, taus=np.linspace(1e-8, 5e-8, 5))
    with pytest.raises(ValueError, match="pulses"):
        SPIN_EXPERIMENTS["ac_magnetometry"](spin_station, pulses=0)
