"""The fits on synthetic data with known parameters, and on the noiseless device model."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.experiments.fits import (
    PinchOffFit,
    SensorFit,
    StabilityFit,
    fit_charge_stability,
    fit_pinchoff,
    fit_sensor_peaks,
)
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


def _pinch_data(seed: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    v = np.linspace(-0.3, 0.3, 151)
    rng = np.random.default_rng(seed)
    return v, 5e-9 / (1 + np.exp(-(v - 0.04) / 0.03)) + 1e-11 + rng.normal(0, noise, v.size)


def test_pinchoff_uncertainties_are_calibrated() -> None:
    fits = [fit_pinchoff(*_pinch_data(seed, 5e-11)) for seed in range(40)]
    v0 = np.array([f.pinch_off for f in fits])
    err = np.array([f.pinch_off_stderr for f in fits])
    # the stated standard error is the scatter of the estimate over noise realisations
    assert np.std(v0, ddof=1) == pytest.approx(np.mean(err), rel=0.35)
    assert np.mean(np.abs(v0 - 0.04) < 3 * err) >= 0.95
    quiet = fit_pinchoff(*_pinch_data(0, 5e-12))
    assert quiet.pinch_off_stderr < fits[0].pinch_off_stderr / 5  # less noise, smaller error
    d = fits[0].as_dict()
    for key in ("pinch_off_V", "width_V", "open_current_A", "offset_A"):
        assert 0 < d[f"{key}_stderr"] < np.inf
    assert d["pinch_off_stderr_V"] == d["pinch_off_V_stderr"]  # the first version's name
    q = d["fit_quality"]
    assert np.sqrt(q["reduced_chi_square"]) == pytest.approx(5e-11, rel=0.15)  # the noise
    assert 0.99 < q["r_squared"] <= 1 and q["aic"] < 0 and q["bic"] > q["aic"]
    assert fits[0].model_result.params["v0"].stderr == d["pinch_off_V_stderr"]
    back = PinchOffFit.from_dict(d)
    assert back == fits[0] and back.model_result is None


def test_sensor_fit_uncertainties_propagate_to_the_operating_point() -> None:
    v = np.linspace(-0.02, 0.02, 401)
    w = 2e-4
    clean = 3e-10 / np.cosh((v - 0.005) / (2 * w)) ** 2 + 1e-10
    steepest = 0.005 - 2 * w * np.arctanh(1 / np.sqrt(3))
    fits = [fit_sensor_peaks(v, clean + np.random.default_rng(s).normal(0, 5e-12, v.size))
            for s in range(30)]
    op = np.array([f.operating_point for f in fits])
    slope = np.array([f.slope for f in fits])
    assert np.std(op, ddof=1) == pytest.approx(np.mean([f.stderr["operating_point_V"] for f in fits]),
                                               rel=0.4)
    assert np.std(slope, ddof=1) == pytest.approx(np.mean([f.stderr["slope_A_per_V"] for f in fits]),
                                                  rel=0.4)
    assert np.mean(np.abs(op - steepest) < 3 * np.array([f.stderr["operating_point_V"] for f in fits])) > 0.9
    true_slope = 2 * 3e-10 / (3 * np.sqrt(3) * w)
    assert np.mean(slope) == pytest.approx(true_slope, rel=0.02)
    d = fits[0].as_dict()
    assert d["operating_point_V_stderr"] == fits[0].stderr["operating_point_V"]
    assert d["fit_quality"]["n_points"] == fits[0].model_result.ndata
    assert SensorFit.from_dict(d) == fits[0]


def _noisy_map(noise: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    lab = VirtualLab(DeviceParams())
    p = np.linspace(-0.2, 0.2, 81)
    z = charge_stability_map(p, p, S=lab.ground_truth()["sensor"]["operating_point"]["S"])
    return p, z + np.random.default_rng(seed).normal(0, noise * np.ptp(z), z.shape)


def test_charge_stability_bootstrap_errors() -> None:
    p, quiet = _noisy_map(0.01)
    _, loud = _noisy_map(0.15)
    a, b = fit_charge_stability(p, p, quiet), fit_charge_stability(p, p, loud)
    for fit in (a, b):
        assert 0 < fit.slope_dot1_stderr < abs(fit.slope_dot1) / 5
        assert 0 < fit.slope_dot2_stderr < abs(fit.slope_dot2) / 5
        np.testing.assert_array_equal(fit.virtual_gate_matrix_stderr,
                                      [[0, fit.cross_ratio_12_stderr], [fit.cross_ratio_21_stderr, 0]])
    assert b.slope_dot1_stderr > a.slope_dot1_stderr  # more noise, larger error
    # cross_ratio_12 = -1/slope_dot1: its error follows by the delta method
    assert a.cross_ratio_12_stderr == pytest.approx(a.slope_dot1_stderr / a.slope_dot1**2, rel=0.2)
    assert fit_charge_stability(p, p, quiet) == a  # seeded: reproducible
    assert fit_charge_stability(p, p, quiet, seed=1).slope_dot1_stderr != a.slope_dot1_stderr
    assert fit_charge_stability(p, p, quiet, bootstrap=0).slope_dot1_stderr == np.inf
    assert a.fit_quality["n_bootstrap"] == 200 and a.fit_quality["block_rows"] == 12
    d = a.as_dict()
    assert StabilityFit.from_dict(d) == a
    for x0, y0, x1, y1 in d["lines_dot1_V"]:  # segments along the fitted slope, inside the map
        assert (y1 - y0) / (x1 - x0) == pytest.approx(a.slope_dot1, rel=1e-9)
        assert min(x0, x1) >= -0.21 and max(x0, x1) <= 0.21


@pytest.mark.parametrize("bad", [True, 2.5, -1, "200"])
def test_charge_stability_rejects_bad_bootstrap_counts(bad: object) -> None:
    p, z = _noisy_map(0.01)
    with pytest.raises(ValueError, match="bootstrap must be an integer"):
        fit_charge_stability(p, p, z, bootstrap=bad)  # type: ignore[arg-type]
