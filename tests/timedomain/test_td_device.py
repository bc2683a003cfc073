"""Gate voltages through the lines, charge state with tunnel rates, frames against the static map."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tdtest_helpers import SampleAWG, StepAWG, p1_at_half_filling, quiet_lab

from dotstack.mocks.physics import charge_stability_map, model
from dotstack.mocks.physics.timedomain import (
    LineModel,
    Reflectometry,
    TimeDomainLab,
    TunnelRates,
)
from dotstack.mocks.physics.timedomain.charge import relax, telegraph
from dotstack.mocks.physics.timedomain.patterns import RasterPattern


def test_gate_is_dc_plus_attenuated_awg_through_the_bias_tee() -> None:
    lab = quiet_lab()
    lab.set_output("qdac", 1, 0.05, t=0.0)  # P1 DAC level
    t_on, tau, delay = 1e-3, 2e-3, 3e-6
    td = TimeDomainLab(lab, {"P1": LineModel(20.0, tau, delay)})
    td.attach_awg(StepAWG(t_on, 0.3), {"P1": 1})
    tr = td.trace(0.5e-3, 6e-3, np.linspace(0.5e-3, 6e-3, 56))
    a, b = tr.edges[:-1], tr.edges[1:]
    t_gate = t_on + delay  # the step reaches the gate after the delay
    assert np.any(np.isclose(tr.edges, t_gate, rtol=0, atol=1e-12))
    ua, ub = np.maximum(a - t_gate, 0.0), np.maximum(b - t_gate, 0.0)
    step_mean = np.where(b > t_gate, tau * (np.exp(-ua / tau) - np.exp(-ub / tau)) / (b - a), 0.0)
    np.testing.assert_allclose(tr.gates["P1"], 0.05 + 0.1 * 0.3 * step_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(tr.gates["P2"], 0.0)


def test_dc_coupled_line_passes_the_awg_attenuated() -> None:
    lab = quiet_lab()
    lab.set_output("qdac", 2, -0.02, t=0.0)
    td = TimeDomainLab(lab, {"P2": LineModel(attenuation_db=26.0, bias_tee_time_constant=math.inf)})
    samples = np.array([0.1, -0.2, 0.4, 0.4, 0.0])
    td.attach_awg(SampleAWG(samples, 1e6, 1e-3, channel=5), {"P2": 5})
    tr = td.trace(1e-3, 1e-3 + 5e-6)
    gain = 10 ** (-26 / 20)
    expected = -0.02 + gain * samples[np.searchsorted(1e-3 + np.arange(5) / 1e6, tr.midpoints,
                                                      side="right") - 1]
    np.testing.assert_allclose(tr.gates["P2"], expected, rtol=0, atol=1e-15)


def _fast_td(lab, **lines) -> TimeDomainLab:
    return TimeDomainLab(lab, {g: LineModel(20.0, math.inf) for g in ("P1", "P2")},
                         tunnel=TunnelRates(gamma0=1e13), readout=Reflectometry(bandwidth=1e11))


def test_fast_rates_reproduce_the_static_charge_stability_map() -> None:
    lab = quiet_lab()
    td = _fast_td(lab)
    pat = RasterPattern(points=(40, 30), amplitudes=(2.0, 2.0), dwell=1e-6, t_start=1e-3)
    td.attach_awg(pat, {"P1": 1, "P2": 2})
    frame = td.expected_record(pat.t_start, 40 * 30, 1 / pat.dwell, integrate=True).reshape(30, 40)
    gain = 0.1
    current = charge_stability_map(gain * pat.levels(1), gain * pat.levels(2))
    static = td.readout.volts(current / lab.device.bias)
    assert np.ptp(static) > 5e-3  # the map has structure (transition lines)
    # equal up to the readout filter's lag (tau / dwell ~ 2e-6 of a step)
    np.testing.assert_allclose(frame, static, rtol=0, atol=1e-5 * np.ptp(static))


def test_transition_lines_lie_where_the_ground_truth_puts_them_in_awg_volts() -> None:
    lab = quiet_lab()
    td = TimeDomainLab(lab)  # default lines (20 dB, 10 ms bias-T), rates and readout
    nx, dwell = 300, 1e-6
    pat = RasterPattern(points=(nx, 1), amplitudes=(1.5, 0.0), dwell=dwell, t_start=2e-3)
    td.attach_awg(pat, {"P1": 1, "P2": 2})
    row = td.expected_record(pat.t_start, nx, 1 / dwell, integrate=True)
    truth = td.ground_truth(0.0)["transition_lines_awg"]
    a1 = pat.levels(1)
    expected = [c["awg_V"] for c in truth["crossings_along_axis"]["P1"]
                if a1[2] < c["awg_V"] < a1[-3]]
    assert len(expected) >= 4  # dot-1 and dot-2 lines cross the sweep
    steps = np.abs(np.diff(row))
    found = sorted(0.5 * (a1[i] + a1[i + 1]) for i in np.argsort(steps)[-len(expected):])
    pixel = a1[1] - a1[0]
    np.testing.assert_allclose(found, expected, atol=1.5 * pixel)
    assert td.ground_truth(0.0)["lines"]["P1"]["voltage_gain"] == pytest.approx(0.1)


def test_occupation_relaxes_at_the_tunnel_rate_after_a_step() -> None:
    lab = quiet_lab()
    gamma0 = 2e5
    td = TimeDomainLab(lab, {"P1": LineModel(20.0, math.inf)}, tunnel=TunnelRates(gamma0=gamma0))
    p1 = p1_at_half_filling(lab.device, 4)
    t_s = 1e-3
    td.attach_awg(StepAWG(t_s, after=(p1 + 0.01) / 0.1, before=(p1 - 0.01) / 0.1), {"P1": 1})
    tr = td.trace(t_s - 1e-5, t_s + 5e-5)
    gamma = td.ground_truth(0.0)["tunnel_rates_Hz"]["dot1"]
    assert gamma == pytest.approx(gamma0 * lab.device.barriers["B1"].transmission(0.0))
    after = tr.edges >= t_s
    expected = 4.0 - np.exp(-gamma * (tr.edges[after] - t_s))  # from 3 electrons toward 4
    np.testing.assert_allclose(tr.occupation[0][after], expected, atol=1e-6)


def test_a_fast_scan_with_a_slow_rate_latches() -> None:
    """Across a dot-1 line the occupation lags equilibrium by ~ln 2 / Gamma in time: a sweep up
    and a sweep down see the line displaced in opposite directions (hysteresis)."""
    lab = quiet_lab()
    gamma0 = 1e5
    td = TimeDomainLab(lab, {"P1": LineModel(20.0, math.inf)}, tunnel=TunnelRates(gamma0=gamma0))
    p1 = p1_at_half_filling(lab.device, 4)
    n, dwell = 200, 1e-6  # Gamma * dwell ~ 0.09: the scan outruns the tunnelling
    up = np.linspace(p1 - 0.01, p1 + 0.01, n) / 0.1
    samples = np.concatenate([up, up[::-1]])
    t_start = 1e-3
    td.attach_awg(SampleAWG(samples, 1 / dwell, t_start), {"P1": 1})
    tr = td.trace(t_start, t_start + 2 * n * dwell)
    gamma = float(td.tunnel.rates(lab.device, {"B1": 0.0})[0])
    t = tr.midpoints
    n_eq, n_avg = tr.n_eq[0], tr.occupation_mean[0]
    half = t < t_start + n * dwell
    for sweep, sign in ((half, 1.0), (~half, -1.0)):
        t_eq = t[sweep][np.argmin(np.abs(n_eq[sweep] - 3.5))]
        t_occ = t[sweep][np.argmin(np.abs(n_avg[sweep] - 3.5))]
        lag = t_occ - t_eq
        assert lag == pytest.approx(math.log(2) / gamma, rel=0.15), sign
    # the latched occupation is far from equilibrium just after the line
    i = np.argmin(np.abs(t - (t_start + n * dwell / 2 + 2e-6)))
    assert n_eq[i] - n_avg[i] > 0.5


def test_telegraph_draws_average_to_the_relaxation() -> None:
    rng = np.random.default_rng(7)
    edges = np.linspace(0.0, 40e-6, 41)
    n_eq = np.where(edges[:-1] < 10e-6, 3.0, 3.7)
    rate = np.full(40, 2e5)
    mean, _ = relax(edges, n_eq, rate, 3.0)
    draws = []
    for _ in range(3000):
        d = telegraph(edges, n_eq, rate, rng, 10**6)
        assert d is not None
        initial, times, values = d
        i = np.searchsorted(times, edges, side="right")
        draws.append(np.concatenate([[initial], values])[i])
    np.testing.assert_allclose(np.mean(draws, axis=0), mean, atol=0.04)
    assert telegraph(edges, n_eq, rate * 1e9, rng, 1000) is None  # over budget


def test_expected_record_follows_the_relaxation_within_a_long_plateau() -> None:
    """A step across a line, then one long AWG plateau: the point samples of the expected record
    follow the exponential approach, not one plateau-long average."""
    lab = quiet_lab()
    gamma0 = 1e6
    td = TimeDomainLab(lab, {"P1": LineModel(20.0, math.inf)}, tunnel=TunnelRates(gamma0=gamma0),
                       readout=Reflectometry(bandwidth=1e10))
    p1 = p1_at_half_filling(lab.device, 4)
    t_s, after = 1e-3, p1 + 0.01
    td.attach_awg(StepAWG(t_s, after=after / 0.1, before=(p1 - 0.01) / 0.1), {"P1": 1})
    rate = 100e6
    rec = td.expected_record(t_s, 1000, rate)  # 10 us: ~9 tunnel times on one plateau
    t = t_s + np.arange(1000) / rate
    gamma = float(td.tunnel.rates(lab.device, {"B1": 0.0})[0])
    gates = {"P1": after}
    st = model.dot_state(lab.device, gates)
    n1 = float(st.n1) - (float(st.n1) - 3.0) * np.exp(-gamma * (t - t_s))
    occ = model.DotState(n1=n1, n2=np.full_like(n1, float(st.n2)), induced1=st.induced1,
                         induced2=st.induced2)
    exact = td.readout.volts(model.sensor_current(lab.device, gates, occ) / lab.device.bias)
    step = abs(exact[-1] - exact[0])
    assert step > 1e-3
    np.testing.assert_allclose(rec[1:], exact[1:], rtol=0, atol=0.04 * step)  # [0]: filter
