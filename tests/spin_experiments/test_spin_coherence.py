"""Ramsey, Hahn echo and T1 through the whole mock lab (AWG I/Q x SGS100A carrier -> spins ->
PSB readout on the ATS9360's channel B, fixed seed): each run's ``meta/fit`` matches its
``meta/ground_truth`` within issue 9's tolerances (T2* +-10 %, echo T2 +-15 %, T1 +-10 %)."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.experiments.spin import SPIN_EXPERIMENTS
from dotstack.station import LabStation


def test_ramsey_recovers_t2star(spin_station: LabStation, stored, tmp_path) -> None:
    gt = spin_station.ground_truth()["spin"]
    waits = np.linspace(0.05, 2.5, 24) * gt["t2star_s"]
    res = SPIN_EXPERIMENTS["ramsey"](spin_station, waits=waits, shots=300,
                                     data_dir=str(tmp_path))
    fit, truth = stored(res)
    assert res.status == "completed"
    assert fit["t2star_s"] == pytest.approx(truth["t2star_s"], rel=0.10)
    assert 0 < fit["t2star_s_stderr"] < 0.1 * fit["t2star_s"]
    # the fringes are at the source's detuning from resonance (the default 0.3 MHz)
    assert fit["oscillation_Hz"] == pytest.approx(0.3e6, rel=0.02)


def test_hahn_echo_recovers_t2_echo(spin_station: LabStation, stored, tmp_path) -> None:
    gt = spin_station.ground_truth()["spin"]
    waits = np.linspace(0.1, 2.2, 16) * gt["t2_echo_s"]
    res = SPIN_EXPERIMENTS["hahn_echo"](spin_station, waits=waits, shots=300,
                                        data_dir=str(tmp_path))
    fit, truth = stored(res)
    assert fit["t2_echo_s"] == pytest.approx(truth["t2_echo_s"], rel=0.15)
    # the echo refocuses the quasi-static noise: much longer than T2*
    assert fit["t2_echo_s"] > 2 * truth["t2star_s"]


def test_t1_recovers_t1(spin_station: LabStation, stored, tmp_path) -> None:
    res = SPIN_EXPERIMENTS["t1"](spin_station, shots=300, data_dir=str(tmp_path))
    fit, truth = stored(res)
    assert fit["t1_s"] == pytest.approx(truth["t1_s"], rel=0.10)


def test_coherence_arguments_are_checked(spin_station: LabStation) -> None:
    with pytest.raises(ValueError, match="shots"):
        SPIN_EXPERIMENTS["ramsey"](spin_station, shots=2.5)
    with pytest.raises(ValueError, match="wait"):
        SPIN_EXPERIMENTS["ramsey"](spin_station, waits=[1e-6, float("inf"), 2e-6, 3e-6, 4e-6],
                                   shots=5)
    with pytest.raises(ValueError, match="pi pulse"):
        SPIN_EXPERIMENTS["hahn_echo"](spin_station, waits=np.linspace(1e-9, 1e-6, 5), shots=5)
