"""The vectorised device model against its own ground truth."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from scipy.optimize import curve_fit

from dotstack.mocks.physics import (
    DeviceParams,
    Simulation,
    charge_stability_map,
    dot_state,
    ground_truth,
    lever_arms,
    simulate,
    transport_current,
)
from dotstack.mocks.physics.model import charging_energies, induced_charges
from dotstack.mocks.physics.scalar import ScalarModel

DEV = DeviceParams()


def _brute_force(device: DeviceParams, gates: dict[str, Any]) -> tuple[np.ndarray, ...]:
    a, b, m = (float(x) for x in charging_energies(device, gates.get("B2", 0.0)))
    n1, n2 = induced_charges(device, {g: np.asarray(gates.get(g, 0.0)) for g in
                                      ("P1", "P2", "B1", "B2", "B3", "S", "SB1", "SB2")})
    grid = np.arange(0, 14)
    d1 = grid[:, None, None, None] - n1
    d2 = grid[None, :, None, None] - n2
    energy = 0.5 * (a * d1**2 + b * d2**2 + 2 * m * d1 * d2)
    flat = energy.reshape(len(grid) ** 2, *n1.shape).argmin(axis=0)
    return flat // len(grid), flat % len(grid)


@pytest.mark.parametrize("b2", [-0.2, 0.0, 0.2])
def test_ground_state_matches_brute_force_minimisation(b2: float) -> None:
    cold = replace(DEV, electron_temperature=0.005, mutual_capacitance_open=8e-18)
    rng = np.random.default_rng(1)
    gates: dict[str, Any] = {"P1": rng.uniform(-0.6, 0.6, 4000),
                             "P2": rng.uniform(-0.6, 0.6, 4000), "B2": b2}
    state = dot_state(cold, gates)
    e1, e2 = _brute_force(cold, gates)
    assert np.array_equal(np.round(state.n1), e1)
    assert np.array_equal(np.round(state.n2), e2)
    assert state.n1.min() >= 0 and state.n2.min() >= 0


def _crossings(p1: np.ndarray, occupation: np.ndarray, level: float) -> float:
    """P1 where a monotonic thermal occupation crosses ``level`` (linear interpolation)."""
    i = int(np.argmax(occupation >= level))
    return float(np.interp(level, occupation[i - 1:i + 1], p1[i - 1:i + 1]))


def test_transition_line_slopes_give_lever_arm_ratios() -> None:
    truth = ground_truth(DEV, {})
    _, alpha = lever_arms(DEV, 0.0)
    p1 = np.linspace(-0.2, 0.2, 4001)
    p2 = np.linspace(-0.02, 0.02, 9)  # stays inside one segment of the N1: 2 -> 3 line
    state = simulate(DEV, {"P1": p1[None, :], "P2": p2[:, None]})
    line = [_crossings(p1, state.n1[i], 2.5) for i in range(len(p2))]
    n2_at_line = {round(float(np.interp(x, p1, state.n2[i]))) for i, x in enumerate(line)}
    assert len(n2_at_line) == 1
    slope_dot1 = 1.0 / np.polyfit(p2, line, 1)[0]  # dP2/dP1
    assert slope_dot1 == pytest.approx(truth["transition_lines"]["dot1"]["dP2_dP1"], rel=0.01)
    assert slope_dot1 == pytest.approx(-alpha[0, 0] / alpha[0, 1], rel=0.01)

    # dot-2 lines: sweep P2 at several P1
    p1b = np.linspace(-0.02, 0.02, 9)
    p2b = np.linspace(-0.2, 0.2, 4001)
    state = simulate(DEV, {"P1": p1b[:, None], "P2": p2b[None, :]})
    line2 = [_crossings(p2b, state.n2[i], 2.5) for i in range(len(p1b))]
    slope_dot2 = np.polyfit(p1b, line2, 1)[0]
    assert slope_dot2 == pytest.approx(truth["transition_lines"]["dot2"]["dP2_dP1"], rel=0.01)
    ratios = truth["cross_capacitance_ratios"]
    assert -1.0 / slope_dot1 == pytest.approx(ratios["P2_on_dot1"], rel=0.01)
    assert -slope_dot2 == pytest.approx(ratios["P1_on_dot2"], rel=0.01)

    # the virtual-gate matrix makes dot-1 lines vertical: vP1 constant along the line
    m = np.array(truth["virtual_gates"]["matrix"])
    virtual = m @ np.vstack([line, p2])
    assert np.ptp(virtual[0]) < 1e-3 * np.ptp(virtual[1])


def test_default_window_shows_honeycomb_from_empty_corner() -> None:
    windows = ground_truth(DEV, {})["suggested_windows_V"]
    p1 = np.linspace(windows["P1"][0], windows["P1"][1], 100)
    p2 = np.linspace(windows["P2"][0], windows["P2"][1], 100)
    state = simulate(DEV, {"P1": p1[None, :], "P2": p2[:, None]})
    n1, n2 = np.round(state.n1), np.round(state.n2)
    assert (n1[0, 0], n2[0, 0]) == (0, 0)
    assert n1.max() >= 4 and n2.max() >= 4
    assert len({(int(a), int(b)) for a, b in zip(n1.ravel(), n2.ravel(), strict=True)}) >= 20


def test_sensor_steps_at_every_transition() -> None:
    truth = ground_truth(DEV, {})
    sweep = np.linspace(-0.2, 0.2, 8001)  # 0.05 mV steps; thermal width ~0.1 mV
    k = 20  # compare 1 mV either side of the transition
    seen = {1: 0, 2: 0}
    for swept, fixed in (("P1", "P2"), ("P2", "P1")):
        for value in (-0.15, -0.05, 0.05, 0.15):
            sim = simulate(DEV, {swept: sweep, fixed: value})
            seen = _count_steps(sim, k, seen)
    assert seen[1] >= 8 and seen[2] >= 8
    assert truth["sensor"]["operating_point"]["flank"] == "rising"


def _count_steps(sim: Simulation, k: int, seen: dict[int, int]) -> dict[int, int]:
    """Check the sensor step at every single-dot transition of a 1-D sweep; count them."""
    total = np.round(sim.n1) + np.round(sim.n2)
    drift = np.median(np.abs(np.diff(sim.sensor_current))) * 2 * k
    for j in np.flatnonzero(np.diff(total) != 0):
        if not k <= j < len(sim.n1) - k:
            continue
        dn1 = sim.n1[j + k] - sim.n1[j - k]
        dn2 = sim.n2[j + k] - sim.n2[j - k]
        if not (abs(dn1 + dn2 - 1) < 0.05 and min(abs(dn1), abs(dn2)) < 0.05):
            continue  # near a triple point
        dot = 1 if dn1 > 0.5 else 2
        step = sim.sensor_current[j + k] - sim.sensor_current[j - k]
        # an added electron raises the sensor potential: on the rising flank I drops
        assert step < -8e-12, (j, step)
        assert abs(step) > 5 * drift
        seen[dot] += 1
    return seen


def test_sensor_peaks_and_operating_point() -> None:
    truth = ground_truth(DEV, {})["sensor"]
    s = np.linspace(-0.025, 0.025, 200001)
    current = simulate(DEV, {"S": s}).sensor_current
    peaks = s[1:-1][(current[1:-1] > current[:-2]) & (current[1:-1] >= current[2:])
                    & (current[1:-1] > 0.5 * current.max())]
    assert len(peaks) == len(truth["peak_positions_S_V"]) >= 2
    assert np.allclose(peaks, truth["peak_positions_S_V"], atol=1e-6)
    assert np.diff(peaks) == pytest.approx(truth["peak_spacing_S_V"], rel=1e-3)
    slope = np.gradient(current, s)
    op = truth["operating_point"]["S"]
    assert np.interp(op, s, slope) == pytest.approx(truth["steepest_slope_A_per_V"], rel=1e-3)
    assert slope.max() == pytest.approx(truth["steepest_slope_A_per_V"], rel=1e-3)
    assert abs(op) < 0.25 * truth["peak_fwhm_S_V"]  # default S = 0 V is on the flank
    assert current.max() == pytest.approx(truth["peak_current_A"], rel=1e-4)
    assert 1e-10 < current.max() < 1e-9


def _logistic(v: np.ndarray, top: float, v0: float, w: float) -> np.ndarray:
    return top / (1.0 + np.exp(-(v - v0) / w))


@pytest.mark.parametrize("barrier", ["SB1", "SB2", "B1", "B2", "B3"])
def test_pinch_off_curve_midpoint_is_pinch_off_voltage(barrier: str) -> None:
    truth = ground_truth(DEV, {})["barriers"][barrier]
    v = np.linspace(-0.3, 0.4, 1401)
    others = {b: 0.4 for b in ("B1", "B2", "B3", "SB1", "SB2") if b != barrier}
    gates = {**others, barrier: v}
    if barrier.startswith("S"):
        current = simulate(DEV, gates).sensor_current
    else:
        current = transport_current(DEV, gates)
    half = 0.5 * current[-1]
    assert np.interp(half, current, v) == pytest.approx(truth["pinch_off_V"], abs=5e-4)
    (_, v0, w), _ = curve_fit(_logistic, v, current, p0=(current[-1], 0.0, 0.05))
    assert v0 == pytest.approx(truth["pinch_off_V"], abs=5e-4)
    assert w == pytest.approx(truth["width_V"], rel=0.02)


def test_inter_dot_barrier_raises_mutual_charging_energy() -> None:
    closed = ground_truth(DEV, {"B2": -0.2})["charging_energies_eV"]["mutual"]
    opened = ground_truth(DEV, {"B2": 0.2})["charging_energies_eV"]["mutual"]
    assert opened > 1.5 * closed
    assert 0.2e-3 < closed < opened < 1e-3


def test_lever_arms_are_inverse_capacitance_times_gate_capacitance() -> None:
    truth = ground_truth(DEV, {"B2": 0.01})
    c = np.array(truth["capacitances_F"]["dot_matrix"])
    cg = np.array([list(truth["capacitances_F"]["gate"]["dot1"].values()),
                   list(truth["capacitances_F"]["gate"]["dot2"].values())])
    alpha = np.linalg.solve(c, cg)
    gates = truth["lever_arms_eV_per_V"]["gates"]
    assert np.allclose(alpha[0], [truth["lever_arms_eV_per_V"]["dot1"][g] for g in gates])
    assert np.allclose(alpha[1], [truth["lever_arms_eV_per_V"]["dot2"][g] for g in gates])
    assert 0.05 <= alpha[0, 0] <= 0.1 and 0.05 <= alpha[1, 1] <= 0.1
    ec = truth["charging_energies_eV"]
    assert ec["dot1"] == pytest.approx(1.602176634e-19 * np.linalg.inv(c)[0, 0])
    json.dumps(truth)


def test_scalar_path_equals_vectorised_path() -> None:
    rng = np.random.default_rng(7)
    names = ("P1", "P2", "B1", "B2", "B3", "S", "SB1", "SB2")
    sm = ScalarModel(DEV)
    for _ in range(200):
        v = {g: float(rng.uniform(-0.3, 0.3)) for g in names}
        shift = float(rng.normal(0, 5e-6))
        vec = simulate(DEV, v, shift)
        state = sm.dot_state(v)
        assert state[0] == pytest.approx(float(vec.n1), abs=1e-12)
        assert state[1] == pytest.approx(float(vec.n2), abs=1e-12)
        assert sm.sensor_current(v, state, shift) == pytest.approx(float(vec.sensor_current),
                                                                   rel=1e-12, abs=1e-24)


def test_charge_stability_map_shape_and_errors() -> None:
    p1, p2 = np.linspace(-0.2, 0.2, 30), np.linspace(-0.2, 0.2, 20)
    image = charge_stability_map(p1, p2, S=0.001)
    assert image.shape == (20, 30)
    assert np.array_equal(image[5], simulate(DEV, {"P1": p1, "P2": p2[5], "S": 0.001})
                          .sensor_current)
    with pytest.raises(ValueError, match="P1"):
        charge_stability_map(p1, p2, P1=0.1)
    with pytest.raises(ValueError, match="1-D"):
        charge_stability_map(p1[None, :], p2)
    with pytest.raises(ValueError, match="Q7"):
        charge_stability_map(p1, p2, Q7=0.1)


def test_device_params_validation_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"dot1_gate_capacitance.*X1"):
        DeviceParams(dot1_gate_capacitance={"X1": 1e-18})
    with pytest.raises(ValueError, match="electron_temperature"):
        DeviceParams(electron_temperature=0.0)
    with pytest.raises(ValueError, match="sensor gates"):
        DeviceParams(dot1_gate_capacitance={"P1": 2e-18, "S": 1e-18})
    json.dumps(DEV.to_dict())


def test_dot_potential_shift_moves_that_dots_lines_by_shift_over_lever_arm() -> None:
    _, alpha = lever_arms(DEV, 0.0)
    p1 = np.linspace(-0.1, 0.05, 150001)
    p2 = 0.0
    base = dot_state(DEV, {"P1": p1, "P2": p2})
    line = _crossings(p1, base.n1, 2.5)
    shift = 50e-6  # eV on dot 1's electrochemical potential
    moved = dot_state(DEV, {"P1": p1, "P2": p2}, (shift, 0.0))
    assert _crossings(p1, moved.n1, 2.5) - line == pytest.approx(shift / alpha[0, 0], rel=1e-3)
    assert np.array_equal(moved.induced1, base.induced1)  # the gate-induced charge is reported
    # a dot-2 shift moves dot-2 lines only
    p2b = np.linspace(-0.1, 0.1, 100001)
    base2 = dot_state(DEV, {"P1": 0.0, "P2": p2b})
    moved2 = dot_state(DEV, {"P1": 0.0, "P2": p2b}, (0.0, shift))
    k = int(np.argmax(base2.n2 >= 2.5))
    assert _crossings(p2b, moved2.n2, 2.5) - _crossings(p2b, base2.n2, 2.5) == pytest.approx(
        shift / alpha[1, 1], rel=1e-3)
    assert abs(moved2.n1[k] - base2.n1[k]) < 1e-3


def test_scalar_dot_state_with_shifts_and_margin_equals_vectorised() -> None:
    rng = np.random.default_rng(3)
    sm = ScalarModel(DEV)
    for _ in range(200):
        v = {g: float(rng.uniform(-0.3, 0.3)) for g in ("P1", "P2", "B1", "B2", "B3", "S",
                                                         "SB1", "SB2")}
        mu1, mu2 = (float(x) for x in rng.normal(0.0, 2e-4, 2))
        vec = dot_state(DEV, v, (mu1, mu2), margin=True)
        n1, n2, i1, i2, gap = sm.dot_state_margin(v, mu1, mu2)
        assert (n1, n2) == pytest.approx((float(vec.n1), float(vec.n2)), abs=1e-12)
        assert (i1, i2) == pytest.approx((float(vec.induced1), float(vec.induced2)), rel=1e-12)
        assert vec.margin is not None and gap == pytest.approx(float(vec.margin), rel=1e-9)
        assert sm.dot_state(v, mu1, mu2) == (n1, n2, i1, i2)
    # the margin is the gap to the next configuration: small on a transition, large inside
    assert sm.dot_state_margin({**dict.fromkeys(("P1", "P2", "B1", "B2", "B3", "S", "SB1",
                                                 "SB2"), 0.0)})[4] > 100.0
