"""The fits on synthetic data with known parameters, and on the noiseless device model."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.experiments.fits import fit_charge_stability, fit_pinchoff, fit_sensor_peaks
from dotstack.mocks.physics import DeviceParams, VirtualLab, charge_stability_map


@pytest.mark.parametrize("falling", [False, True])
def test_pinchoff_fit(falling: bool) -> None:
    rng = np.random.default_rng(0)
    v = np.linspace(-0.3, 0.3, 151)
    x = (v - 0.04) / 0.03
    i = 5e-9 / (1 + np.exp(x if falling else -x)) + 1e-11 + rng.normal(0, 5e-11, v.size)
    fit = fit_pinchoff(v, i)
    assert fit.pinch_off == pytest.approx(0.04, abs=2e-3)
    assert fit.width == pytest.approx(0.03, rel=0.1)
    assert abs(fit.open_current) == pytest.approx(5e-9, rel=0.05)


def test_pinchoff_fit_ignores_missing_points_and_rejects_flat_data() -> None:
    v = np.linspace(-0.3, 0.3, 61)
    i = 1e-9 / (1 + np.exp(-(v / 0.05)))
    i[40:] = np.nan  # a run that stopped early
    assert fit_pinchoff(v, i).pinch_off == pytest.approx(0.0, abs=5e-3)
    with pytest.raises(ValueError, match="does not change"):
        fit_pinchoff(v, np.ones_like(v))
    with pytest.raises(ValueError, match="one length"):
        fit_pinchoff(v, v[:-1])


def test_sensor_fit_finds_peak_and_flank() -> None:
    v = np.linspace(-0.02, 0.02, 401)
    w = 2e-4
    i = 3e-10 / np.cosh((v - 0.005) / (2 * w)) ** 2 + 1e-10
    fit = fit_sensor_peaks(v, i)
    assert fit.peak == pytest.approx(0.005, abs=1e-5)
    assert fit.width == pytest.approx(w, rel=0.02)
    steepest = 0.005 - 2 * w * np.arctanh(1 / np.sqrt(3))
    assert fit.operating_point == pytest.approx(steepest, abs=1e-5)
    assert fit.slope > 0
    falling = fit_sensor_peaks(v, i, prefer="falling")
    assert falling.operating_point > fit.peak and falling.slope < 0
    with pytest.raises(ValueError, match=r"no Coulomb peak|flat"):
        fit_sensor_peaks(v, np.full_like(v, 1e-10))


def test_charge_stability_fit_on_the_noiseless_model() -> None:
    lab = VirtualLab(DeviceParams())
    truth = lab.ground_truth()
    p = np.linspace(-0.2, 0.2, 101)
    z = charge_stability_map(p, p, S=truth["sensor"]["operating_point"]["S"])
    fit = fit_charge_stability(p, p, z)
    assert fit.slope_dot1 == pytest.approx(truth["transition_lines"]["dot1"]["dP2_dP1"], rel=0.1)
    assert fit.slope_dot2 == pytest.approx(truth["transition_lines"]["dot2"]["dP2_dP1"], rel=0.1)
    m = fit.virtual_gate_matrix
    assert m[0, 0] == m[1, 1] == 1.0


def test_charge_stability_fit_rejects_bad_shapes_and_empty_maps() -> None:
    p = np.linspace(-0.1, 0.1, 20)
    with pytest.raises(ValueError, match="shape"):
        fit_charge_stability(p, p, np.zeros((20, 19)))
    with pytest.raises(ValueError, match="at least 10 complete rows"):
        fit_charge_stability(p, p, np.full((20, 20), np.nan))
    with pytest.raises(ValueError, match="no transition lines"):
        fit_charge_stability(p, p, np.random.default_rng(1).normal(size=(20, 20)))
