"""PSB readout calibration through the whole mock lab (fixed seed): the readout point lies in
the blockade window, and the single-shot fidelity is within 0.02 of the readout model's."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.experiments.spin import SPIN_EXPERIMENTS
from dotstack.station import LabStation


def test_psb_readout_finds_point_threshold_and_fidelity(spin_station: LabStation, stored,
                                                        tmp_path) -> None:
    res = SPIN_EXPERIMENTS["psb_readout"](spin_station, levels=np.linspace(0.15, 0.29, 15),
                                          scan_shots=40, shots=1500, data_dir=str(tmp_path))
    fit, truth = stored(res)
    assert abs(fit["readout_fidelity"] - truth["readout_fidelity"]) < 0.02
    assert fit["readout_threshold_V"] == pytest.approx(truth["readout_threshold_V"], abs=0.004)
    # the chosen point puts the pair's detuning inside the blockade window [0, E_ST]
    per_volt = truth["detuning_eV_per_awg_V"]
    eps = truth["idle_detuning_eV_at_dc"] + fit["readout_level_V"] * (per_volt["P2"]
                                                                      - per_volt["P1"])
    lo, hi = truth["psb_window_eV"]
    assert lo < eps < hi
    # the two levels are the sensor's singlet and blocked levels
    assert fit["level_up_V"] == pytest.approx(truth["readout_up_level_V"], abs=0.002)
    assert fit["level_down_V"] == pytest.approx(truth["readout_down_level_V"], abs=0.002)


def test_psb_readout_refuses_bad_levels(spin_station: LabStation) -> None:
    with pytest.raises(ValueError, match="levels"):
        SPIN_EXPERIMENTS["psb_readout"](spin_station, levels=[0.2, float("nan"), 0.3])
    with pytest.raises(ValueError, match="shots"):
        SPIN_EXPERIMENTS["psb_readout"](spin_station, shots=np.float64(10.0))
