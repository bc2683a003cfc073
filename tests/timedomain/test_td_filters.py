"""Closed-form filters on segments and the run-length form of AWG pieces."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.mocks.physics.timedomain import highpass_pwl, linear_scan, lowpass_pwl
from dotstack.mocks.physics.timedomain.segments import runs_from_pieces


def test_linear_scan_matches_the_loop() -> None:
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 7, 1000):
        a, b = rng.uniform(0, 1, n), rng.normal(size=n)
        y = [0.3]
        for k in range(n):
            y.append(a[k] * y[-1] + b[k])
        np.testing.assert_allclose(linear_scan(a, b, 0.3), y, rtol=1e-12, atol=1e-12)


def test_highpass_step_matches_the_analytic_response() -> None:
    tau, v = 10e-3, 0.7
    edges = np.concatenate([[-1e-3], np.linspace(0.0, 0.05, 501)])
    x = np.where(edges[:-1] >= 0, v, 0.0)  # a step at t = 0 after a long 0 V hold
    hp = highpass_pwl(edges, x, tau, y0=0.0)
    t = edges[1:]
    np.testing.assert_allclose(hp.y[1:], v * np.exp(-t / tau), rtol=1e-12, atol=1e-15)
    a, b = edges[1:-1], edges[2:]  # interval averages of v exp(-t / tau)
    np.testing.assert_allclose(hp.mean[1:], v * tau * (np.exp(-a / tau) - np.exp(-b / tau)) / (b - a),
                               rtol=1e-10)


def test_highpass_ramp_matches_the_analytic_response() -> None:
    tau, s = 2e-3, 30.0  # V/s from t = 0
    edges = np.linspace(0.0, 0.01, 41)
    x = s * edges[:-1]
    hp = highpass_pwl(edges, x, tau, y0=0.0, slope=np.full(40, s))
    expected = s * tau * (1.0 - np.exp(-edges / tau))
    np.testing.assert_allclose(hp.y, expected, rtol=1e-12, atol=1e-15)
    a, b = edges[:-1], edges[1:]
    mean = s * tau * (1.0 - tau * (np.exp(-a / tau) - np.exp(-b / tau)) / (b - a))
    np.testing.assert_allclose(hp.mean, mean, rtol=1e-10)


def test_lowpass_is_exact_for_uneven_intervals_and_dc_coupling() -> None:
    rng = np.random.default_rng(3)
    edges = np.cumsum(rng.uniform(1e-6, 5e-3, 200))
    x = rng.normal(size=199)
    tau = 1e-3
    y = [0.5]
    for k in range(199):
        a = np.exp(-(edges[k + 1] - edges[k]) / tau)
        y.append(a * y[-1] + (1 - a) * x[k])
    np.testing.assert_allclose(lowpass_pwl(edges, x, tau, 0.5).y, y, rtol=1e-10, atol=1e-12)
    dc = highpass_pwl(edges, x, np.inf, 0.0)
    np.testing.assert_array_equal(dc.mean, x)
    with pytest.raises(ValueError, match="time constant"):
        lowpass_pwl(edges, x, 0.0, 0.0)


def test_runs_merge_equal_samples_and_fill_gaps() -> None:
    pieces = [(0.0, np.array([1.0, 1.0, 2.0, 2.0]), 1.0),   # runs at 0 (1 V) and 2 s (2 V)
              (4.0, np.array([2.0, 3.0]), 1.0),             # continues 2 V, 3 V from 5 s
              (8.0, np.array([3.0]), 0.5)]                  # gap 6..8 s at idle, then 3 V
    runs = runs_from_pieces(pieces, 0.0, 10.0, idle=0.0)
    np.testing.assert_array_equal(runs.starts, [0.0, 2.0, 5.0, 6.0, 8.0])
    np.testing.assert_array_equal(runs.values, [1.0, 2.0, 3.0, 0.0, 3.0])
    np.testing.assert_array_equal(runs.at(np.array([-1.0, 0.5, 4.5, 7.0, 9.9])),
                                  [1.0, 1.0, 2.0, 0.0, 3.0])
