"""The Rabi chevron through the whole mock lab (AWG I/Q + SGS100A carrier -> spins -> PSB
readout on the ATS9360's channel B) recovers the ground truth within issue 9's tolerances."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.experiments.spin import SPIN_EXPERIMENTS
from dotstack.station import LabStation


def test_rabi_chevron_recovers_rabi_and_resonance(spin_station: LabStation, stored,
                                                  tmp_path) -> None:
    res = SPIN_EXPERIMENTS["rabi"](spin_station, times=np.linspace(4e-9, 1e-6, 25), shots=30,
                                   data_dir=str(tmp_path))
    assert res.status == "completed"
    fit, gt = stored(res)
    assert fit["f_rabi_Hz"] == pytest.approx(gt["f_rabi_Hz"], rel=0.02)
    assert abs(fit["f_resonance_Hz"] - gt["f_resonance_Hz"]) < 0.02 * gt["f_rabi_Hz"]
    assert fit["f_rabi_Hz_stderr"] > 0


def test_bad_arguments_are_refused(spin_station: LabStation) -> None:
    with pytest.raises(ValueError, match="shots"):
        SPIN_EXPERIMENTS["rabi"](spin_station, shots=0)
    with pytest.raises(ValueError, match="times"):
        SPIN_EXPERIMENTS["rabi"](spin_station, times=[1e-7, float("nan"), 2e-7], shots=5)
