"""Charge noise on the spins: per-shot sampling agrees with the exact phase variances, and the
spectrum is the lab's own construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dotstack.mocks.physics.noise import OneOverF
from dotstack.mocks.physics.params import NoiseParams
from dotstack.mocks.physics.spin import SpinNoise
from dotstack.mocks.physics.spin.dephasing import (
    QUASI_STATIC,
    components,
    cpmg_flips,
    phase_variance,
    sample_means,
    transition,
)


def test_spectrum_is_the_labs_one_over_f() -> None:
    lab = NoiseParams()
    spin = SpinNoise.from_lab(lab, high=1e6)
    assert spin.amplitude_ev == lab.dot_charge_noise_ev
    assert spin.band == (lab.charge_noise_band[0], 1e6)
    assert spin.per_decade == lab.components_per_decade
    rates, variances = components(spin)
    ref = OneOverF(spin.amplitude_ev, spin.band, spin.per_decade, seed=0)
    assert np.allclose(rates, ref.gammas) and np.allclose(variances, ref.variances)
    f = np.geomspace(1e-2, 1e5, 7)
    w = 2 * np.pi * f[:, None]
    psd = spin.amplitude_ev**2 * np.sum(variances * 4 * rates / (rates**2 + w**2), axis=1)
    assert psd * f == pytest.approx(np.full(7, spin.amplitude_ev**2), rel=0.1)


def test_transition_factor_reproduces_the_ou_covariance() -> None:
    tau = np.array([1e-9, 1e-4, 0.03, 0.07, 1.0, 20.0])
    _, _, l11, l21, l22 = transition(tau)
    q11 = -np.expm1(-2 * tau)
    q12 = np.expm1(-tau) ** 2
    assert l11**2 == pytest.approx(q11, rel=1e-12)
    assert l11 * l21 == pytest.approx(q12, rel=1e-12)
    big = tau > 0.05
    q22 = 2 * tau - 3 + 4 * np.exp(-tau) - np.exp(-2 * tau)
    assert (l21**2 + l22**2)[big] == pytest.approx(q22[big], rel=1e-12)
    assert (l21**2 + l22**2)[0] == pytest.approx(2 / 3 * tau[0] ** 3, rel=1e-6)


@pytest.mark.parametrize("pulses", [0, 1, 4])
def test_sampled_phases_have_the_exact_variance(pulses: int) -> None:
    """Segments of a CPMG (sign flips at ideal pulses) sampled over many shots: the variance of
    the signed phase integral matches `phase_variance` (chi-square bounds, 20,000 shots)."""
    noise = SpinNoise()
    total = 40e-6
    flips = cpmg_flips(total, pulses) if pulses else np.zeros(0)
    edges = np.concatenate([[0.0], flips, [total]])
    durations = np.diff(edges)
    shots = 20_000
    means = sample_means(noise, durations, shots, np.random.default_rng(5))
    signs = (-1.0) ** np.arange(durations.size)
    phase = np.einsum("s,s,scn->cn", signs, durations, means)
    expected = phase_variance(noise, flips, total)
    for channel in range(2):
        assert np.var(phase[channel]) == pytest.approx(expected, rel=4 * math.sqrt(2 / shots))
    assert np.corrcoef(phase)[0, 1] == pytest.approx(0.0, abs=0.03)  # independent dots


def test_quasi_static_part_is_constant_per_shot_and_independent_across_shots() -> None:
    noise = SpinNoise()
    durations = np.array([1e-6, 1e-6])
    means = sample_means(noise, durations, 4000, np.random.default_rng(2))
    rates, variances = components(noise)
    x = rates * durations[0]  # a window mean of an OU component: 2 (x - 1 + e^-x) / x^2
    window_var = noise.amplitude_ev**2 * np.sum(variances * 2 * (x + np.expm1(-x)) / x**2)
    assert np.var(means[0, 0]) == pytest.approx(window_var, rel=0.1)
    slow = rates * durations.sum() < QUASI_STATIC
    fast_var = noise.amplitude_ev**2 * variances[~slow].sum()
    assert np.var(means[1, 0] - means[0, 0]) < 2 * fast_var + 1e-30
    assert abs(np.corrcoef(means[0, 0, :-1], means[0, 0, 1:])[0, 1]) < 0.05


def test_echo_cancels_the_quasi_static_noise() -> None:
    noise = SpinNoise()
    ramsey = phase_variance(noise, [], 20e-6)
    echo = phase_variance(noise, cpmg_flips(20e-6, 1), 20e-6)
    assert echo < ramsey / 20
    assert phase_variance(SpinNoise(amplitude_ev=0.0), [], 1e-6) == 0.0
    with pytest.raises(ValueError, match="flip times"):
        phase_variance(noise, [2e-6], 1e-6)
