"""The Rabi chevron through the whole mock lab (AWG I/Q + SGS100A carrier -> spins -> PSB
readout on the ATS9360's channel B) recovers the ground truth within issue 9's tolerances."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from dotstack.experiments.spin import SPIN_EXPERIMENTS
from dotstack.station import LabStation


@pytest.fixture(scope="module")
def station():
    st = LabStation.from_file("dotstack/stations/mock.yaml")
    yield st
    st.close()


def test_rabi_chevron_recovers_rabi_and_resonance(station: LabStation, tmp_path) -> None:
    res = SPIN_EXPERIMENTS["rabi"](station, times=np.linspace(4e-9, 1e-6, 25), shots=30,
                                   data_dir=str(tmp_path))
    assert res.status == "completed"
    root = zarr.open_group(res.path, mode="r")
    truth = json.loads(str(np.asarray(root["meta/ground_truth"][...]).item())) \
        if "meta/ground_truth" in root else None
    fit = res.fit
    gt = truth if truth is not None else station.ground_truth()["spin"]
    assert fit["f_rabi_Hz"] == pytest.approx(gt["f_rabi_Hz"], rel=0.02)
    assert abs(fit["f_resonance_Hz"] - gt["f_resonance_Hz"]) < 0.02 * gt["f_rabi_Hz"]
    assert fit["f_rabi_Hz_stderr"] > 0


def test_bad_arguments_are_refused(station: LabStation) -> None:
    with pytest.raises(ValueError, match="shots"):
        SPIN_EXPERIMENTS["rabi"](station, shots=0)
    with pytest.raises(ValueError, match="times"):
        SPIN_EXPERIMENTS["rabi"](station, times=[1e-7, float("nan"), 2e-7], shots=5)
