"""Noise processes: statistics, determinism, and the scalar/vector twins."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab, scalar
from dotstack.mocks.physics.noise import OneOverF, Telegraph, white_normal

WHITE_ONLY = NoiseParams(charge_noise_ev=0.0, telegraph_ev=0.0)


def test_white_noise_std_shrinks_as_one_over_sqrt_integration_time() -> None:
    lab = VirtualLab(seed=3, noise=WHITE_ONLY, clock=ManualClock())
    times = np.arange(4000) * 0.5
    stds = {}
    for duration in (0.004, 0.064):
        readings = lab.sensor_currents(times, duration)
        stds[duration] = readings.std()
        expected = WHITE_ONLY.current_density / math.sqrt(2 * duration)
        assert stds[duration] == pytest.approx(expected, rel=0.06)
    assert stds[0.004] / stds[0.064] == pytest.approx(4.0, rel=0.08)


def test_white_normal_is_standard_normal_and_scalar_twin_agrees() -> None:
    t = np.linspace(-3.0, 1000.0, 20000)
    z = white_normal(5, 1, t, 0.02)
    assert abs(z.mean()) < 0.03 and z.std() == pytest.approx(1.0, rel=0.03)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.03
    for x in t[::997]:
        assert scalar.white_normal(5, 1, float(x), 0.02) == float(white_normal(5, 1, x, 0.02))


def test_same_seed_same_numbers_different_seed_different() -> None:
    times = np.linspace(0.0, 20.0, 300)

    def readings(seed: int) -> np.ndarray:
        lab = VirtualLab(seed=seed, clock=ManualClock())
        return np.array([lab.sensor_current(0.01, t=float(t)) for t in times])

    a, b, c = readings(1), readings(1), readings(2)
    assert np.array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-12
    # order of evaluation does not matter: readings are functions of lab time
    lab = VirtualLab(seed=1, clock=ManualClock())
    backwards = np.array([lab.sensor_current(0.01, t=float(t)) for t in times[::-1]])[::-1]
    assert np.array_equal(a, backwards)


def test_one_over_f_window_average_and_spectrum() -> None:
    noise = OneOverF(1e-6, (1e-2, 1e2), 4, seed=0)
    t0, duration = 3.3, 0.05
    fine = np.linspace(t0, t0 + duration, 20001)
    assert noise.mean(t0, duration) == pytest.approx(np.trapezoid(noise.value(fine), fine)
                                                     / duration, rel=1e-6)
    assert scalar.one_over_f_mean(noise, t0, duration) == pytest.approx(
        float(noise.mean(t0, duration)), rel=1e-12)
    # power per decade is the same in every decade (1/f): components have equal amplitudes,
    # and the total variance is amplitude^2 * ln(f_max / f_min) * K / (K - 1)
    k = len(noise.freqs)
    assert np.allclose(noise.amplitudes, noise.amplitudes[0])
    assert np.sum(noise.amplitudes**2 / 2) == pytest.approx(1e-12 * math.log(1e4) * k / (k - 1))
    # long windows average the fast components away
    t = np.linspace(0, 500, 5001)
    assert noise.mean(t, 10.0).std() < 0.6 * noise.mean(t, 1e-3).std()


def test_telegraph_statistics_and_determinism() -> None:
    rtn = Telegraph(2.0, 5.0, seed=4)
    knots, _ = rtn.extend(4000.0)
    dwell = np.diff(knots[knots < 4000.0])
    first = rtn.initial
    in_state1 = dwell[(first + np.arange(len(dwell))) % 2 == 1]
    in_state0 = dwell[(first + np.arange(len(dwell))) % 2 == 0]
    assert in_state0.mean() == pytest.approx(1 / 2.0, rel=0.05)
    assert in_state1.mean() == pytest.approx(1 / 5.0, rel=0.05)
    assert float(rtn.fraction(0.0, 4000.0)) == pytest.approx(2.0 / 7.0, rel=0.05)
    # the fraction is the integral of the state
    t = np.linspace(10.0, 11.0, 200001)
    assert float(rtn.fraction(10.0, 1.0)) == pytest.approx(rtn.state(t).mean(), abs=1e-4)
    assert scalar.telegraph_fraction(rtn, 10.0, 1.0) == pytest.approx(
        float(rtn.fraction(10.0, 1.0)), abs=1e-12)
    # lazily extended: the same process whatever order it is queried in
    other = Telegraph(2.0, 5.0, seed=4)
    probe = np.array([3000.0, 5.0, 17.25, 2999.0])
    assert np.array_equal(other.state(probe), rtn.state(probe))
    assert not np.array_equal(Telegraph(2.0, 5.0, seed=5).state(t[::1000]), rtn.state(t[::1000]))


def test_noise_params_none_and_validation() -> None:
    lab = VirtualLab(noise=NoiseParams.none(), clock=ManualClock())
    readings = lab.sensor_currents(np.linspace(0, 100, 50), 0.001)
    assert np.ptp(readings) == 0.0
    with pytest.raises(ValueError, match="telegraph_rates"):
        NoiseParams(telegraph_rates=(0.0, 1.0))
    with pytest.raises(ValueError, match="current_density"):
        NoiseParams(current_density=-1.0)
