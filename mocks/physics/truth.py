"""Ground truth of the device model: the quantities experiments are meant to recover.

Conventions:
- Lever arms ``alpha = C^-1 Cg`` (eV/V): ``alpha[i, g]`` is how much 1 V on gate g lowers the
  electrochemical potential of dot i.
- Transition lines in the (P1, P2) plane: a dot-i line (N_i changes) obeys
  ``alpha_i1 P1 + alpha_i2 P2 = const``, so ``dP2/dP1 = -alpha_i1 / alpha_i2``.
- Virtual gates: ``[vP1, vP2] = M @ [P1, P2]`` with
  ``M = [[1, alpha_12/alpha_11], [alpha_21/alpha_22, 1]]`` (rows: lever arms normalised to the
  dot's own plunger).  vP_i moves only dot i's lines: dot-1 lines are vertical in (vP1, vP2)
  and dot-2 lines horizontal; ``[P1, P2] = M^-1 @ [vP1, vP2]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from dotstack.mocks.physics import model
from dotstack.mocks.physics.noise import CELLS_PER_TIME_CONSTANT, ou_corner_weights
from dotstack.mocks.physics.params import BARRIERS, E_CHARGE, GATES, DeviceParams, NoiseParams

#: |d cosh^-2(x)/dx| is largest at x = atanh(1/sqrt(3)).
STEEPEST_X = math.atanh(1.0 / math.sqrt(3.0))
_STEEPEST_SLOPE = 2.0 * (2.0 / 3.0) / math.sqrt(3.0)


def lever_arms(device: DeviceParams, b2: float) -> tuple[np.ndarray, np.ndarray]:
    """(2x2 charging-energy matrix Ec in eV, 2x8 lever-arm matrix alpha in eV/V) at B2."""
    a, b, m = (float(x) for x in model.charging_energies(device, b2))
    ec = np.array([[a, m], [m, b]])
    cg = np.array([[device.dot1_gate_capacitance[g] for g in GATES],
                   [device.dot2_gate_capacitance[g] for g in GATES]]) / E_CHARGE
    return ec, ec @ cg


def _line_constants(device: DeviceParams, v: Mapping[str, float], ec: np.ndarray,
                    alpha: np.ndarray) -> np.ndarray:
    """r_i in mu_i(N) = (Ec (N - e_i / 2))_i - alpha_i1 P1 - alpha_i2 P2 - r_i."""
    others = np.array([v[g] if g not in ("P1", "P2") else 0.0 for g in GATES])
    return np.asarray(alpha @ others + ec @ np.asarray(device.offset_charge))


def transition_point(device: DeviceParams, gates: Mapping[str, float],
                     line1: tuple[int, int], line2: tuple[int, int]) -> tuple[float, float]:
    """(P1, P2) where the dot-1 line adding electron N1 at N2 (``line1 = (N1, N2)``) meets the
    dot-2 line adding electron N2' at N1' (``line2 = (N1', N2')``); other gates from ``gates``."""
    ec, alpha = lever_arms(device, gates.get("B2", 0.0))
    r = _line_constants(device, {g: gates.get(g, 0.0) for g in GATES}, ec, alpha)
    n1a, n2a = line1
    n1b, n2b = line2
    rhs = np.array([ec[0, 0] * (n1a - 0.5) + ec[0, 1] * n2a - r[0],
                    ec[1, 0] * n1b + ec[1, 1] * (n2b - 0.5) - r[1]])
    p = np.linalg.solve(alpha[:, :2], rhs)
    return float(p[0]), float(p[1])


def _sensor(device: DeviceParams, gates: Mapping[str, float],
            window: tuple[float, float]) -> dict[str, Any]:
    ec_s = E_CHARGE / device.sensor_capacitance
    c_s = device.sensor_gate_capacitance["S"] / E_CHARGE
    alpha_s = {g: device.sensor_gate_capacitance[g] / device.sensor_capacitance for g in GATES}
    state = model.dot_state(device, gates)
    u0 = float(model.sensor_potential_phase(device, {**gates, "S": 0.0}, state))
    scale, vis = (float(x) for x in model.sensor_prefactors(device, gates.get("SB1", 0.0),
                                                            gates.get("SB2", 0.0)))
    du = STEEPEST_X * 2.0 * device.kt_ev / ec_s
    lo, hi = window
    peaks = [(k - u0) / c_s for k in range(math.ceil(u0 + c_s * lo), math.floor(u0 + c_s * hi) + 1)]
    slope = scale * vis * _STEEPEST_SLOPE * alpha_s["S"] / (2.0 * device.kt_ev)
    s_now = gates.get("S", 0.0)
    k_near = round(u0 + c_s * s_now + du)  # rising flank nearest to the present S
    return {
        "charging_energy_eV": ec_s,
        "lever_arm_S_eV_per_V": alpha_s["S"],
        "lever_arms_eV_per_V": alpha_s,
        "dot_coupling_eV": list(device.sensor_dot_coupling_ev),
        "peak_spacing_S_V": 1.0 / c_s,
        "peak_fwhm_S_V": 2.0 * math.acosh(math.sqrt(2.0)) * 2.0 * device.kt_ev / alpha_s["S"],
        "peak_positions_S_V": peaks,
        "peak_current_A": scale,
        "valley_current_A": scale * (1.0 - vis),
        "operating_point": {
            "S": (k_near - du - u0) / c_s,
            "flank": "rising",
            "slope_A_per_V": slope,
            "step_on_dot1_electron_eV": device.sensor_dot_coupling_ev[0],
            "step_on_dot2_electron_eV": device.sensor_dot_coupling_ev[1],
        },
        "steepest_slope_A_per_V": slope,
        "note": "peaks and flanks at the present other gates and double-dot occupation, "
                "noiseless; adding an electron raises the sensor potential (peaks move to "
                "higher S)",
    }


def sensor_compensation(device: DeviceParams) -> dict[str, Any]:
    """Virtual sensor gate: ``dS/dP_g`` that keeps the sensor's potential constant while gate g
    moves within one charge state of the double dot.

    The sensor's phase ``u`` (peaks where u is an integer, `model.sensor_potential_phase`) moves
    with gate g by ``du/dV_g = Cs_g / e + (kappa_1 C1_g + kappa_2 C2_g) / (e Ec_s)``: the direct
    capacitance plus the dots' gate-induced (polarisation) charges seen through the sensor-dot
    couplings kappa_i.  Holding u fixed takes ``dS = -(du/dV_g) / (du/dS) dV_g``.  Adding an
    electron to dot i moves the peaks by ``kappa_i / (Ec_s du/dS)`` in S (the signal), which a
    linear compensation does not undo; ``direct_only`` is the part without the dots' induced
    charges (the slope averaged over many charge states)."""
    ec_s = E_CHARGE / device.sensor_capacitance
    k1, k2 = device.sensor_dot_coupling_ev

    def du(gate: str, with_dots: bool = True) -> float:
        direct = device.sensor_gate_capacitance[gate] / E_CHARGE
        dots = (k1 * device.dot1_gate_capacitance[gate]
                + k2 * device.dot2_gate_capacitance[gate]) / (E_CHARGE * ec_s)
        return direct + (dots if with_dots else 0.0)

    du_s = du("S")
    others = [g for g in GATES if g != "S"]
    return {
        "sensor": "S",
        "coefficients": {g: -du(g) / du_s for g in ("P1", "P2")},
        "all_gates": {g: -du(g) / du_s for g in others},
        "direct_only": {g: 0.0 - du(g, False) / du_s for g in others},
        "electron_step_S_V": {"dot1": k1 / (ec_s * du_s), "dot2": k2 / (ec_s * du_s)},
        "convention": "S = S0 + sum_g coefficients[g] * (V_g - V_g0) keeps the sensor's "
                      "potential fixed within one charge state (dimensionless, V/V)",
    }


def charge_noise(noise: NoiseParams, streams: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The charge noise's construction: amplitudes, band, components and (if given) the
    counter-based streams of the sensor's and each dot's process."""
    corners, variances = ou_corner_weights(noise.charge_noise_band, noise.components_per_decade)
    result: dict[str, Any] = {
        "sensor_eV_per_sqrtHz_at_1Hz": noise.charge_noise_ev,
        "dot_eV_per_sqrtHz_at_1Hz": noise.dot_charge_noise_ev,
        "band_Hz": list(noise.charge_noise_band),
        "psd": "one-sided S(f) = A^2 / f (eV^2/Hz) inside the band, flat below, 1/f^2 above",
        "method": "sum of OU processes",
        "corner_frequencies_Hz": corners.tolist(),
        "component_variance_per_A2": variances.tolist(),
        "grid_cells_per_correlation_time": CELLS_PER_TIME_CONSTANT,
        "dots": "each dot's electrochemical potential mu_i is shifted by its own process "
                "(offset charges move by -Ec^-1 dmu); readings use the window average",
    }
    if streams is not None:
        result["streams"] = dict(streams)
    return result


def ground_truth(device: DeviceParams, gates: Mapping[str, float],
                 noise: NoiseParams | None = None) -> dict[str, Any]:
    """Everything an experiment could fit, at the given gate voltages (missing gates: 0 V);
    with ``noise``, also the charge noise's description (`charge_noise`)."""
    v = {g: float(gates.get(g, 0.0)) for g in GATES}
    ec, alpha = lever_arms(device, v["B2"])
    cm = device.mutual_capacitance + device.mutual_capacitance_open * float(
        device.barriers["B2"].transmission(v["B2"]))
    totals = [sum(device.dot1_gate_capacitance.values()) + device.lead_capacitance[0]
              + device.other_capacitance[0] + cm,
              sum(device.dot2_gate_capacitance.values()) + device.lead_capacitance[1]
              + device.other_capacitance[1] + cm]
    a11, a12, a21, a22 = alpha[0, 0], alpha[0, 1], alpha[1, 0], alpha[1, 1]
    r12, r21 = a12 / a11, a21 / a22
    period1, period2 = ec[0, 0] / a11, ec[1, 1] / a22
    corner = transition_point(device, v, (1, 0), (0, 1))
    windows: dict[str, list[float]] = {}
    for i, gate in enumerate(("P1", "P2")):
        period = (period1, period2)[i]
        lo = corner[i] - 0.6 * period
        windows[gate] = [round(float(lo), 3), round(float(lo + 5.5 * period), 3)]
    s_period = E_CHARGE / device.sensor_gate_capacitance["S"]
    windows["S"] = [round(v["S"] - 1.25 * s_period, 4), round(v["S"] + 1.25 * s_period, 4)]
    for name in BARRIERS:
        bar = device.barriers[name]
        windows[name] = [round(bar.pinch_off - 6 * bar.width, 4),
                         round(bar.pinch_off + 6 * bar.width, 4)]
    state = model.dot_state(device, v)
    result = {
        "model": "constant-interaction double quantum dot with a charge-sensor dot",
        "gates_V": v,
        "occupation": [float(state.n1), float(state.n2)],
        "capacitances_F": {
            "dot_matrix": [[totals[0], -cm], [-cm, totals[1]]],
            "total": totals,
            "mutual": cm,
            "gate": {"dot1": dict(device.dot1_gate_capacitance),
                     "dot2": dict(device.dot2_gate_capacitance),
                     "sensor": dict(device.sensor_gate_capacitance)},
            "lead": list(device.lead_capacitance),
        },
        "charging_energies_eV": {"dot1": ec[0, 0], "dot2": ec[1, 1], "mutual": ec[0, 1],
                                 "sensor": E_CHARGE / device.sensor_capacitance},
        "lever_arms_eV_per_V": {
            "gates": list(GATES),
            "dot1": dict(zip(GATES, alpha[0].tolist(), strict=True)),
            "dot2": dict(zip(GATES, alpha[1].tolist(), strict=True)),
        },
        "addition_voltages_V": {"P1": float(period1), "P2": float(period2)},
        "transition_lines": {
            "dot1": {"dP2_dP1": -a11 / a12},
            "dot2": {"dP2_dP1": -a21 / a22},
            "interdot": {"dP2_dP1": -(a11 - a21) / (a12 - a22)},
            "first_electrons_corner_V": {"P1": corner[0], "P2": corner[1]},
            "equation": "dot i line adding electron (N1, N2): alpha_i1 P1 + alpha_i2 P2 = "
                        "(Ec (N - e_i/2))_i - r_i, see transition_point()",
        },
        "cross_capacitance_ratios": {"P2_on_dot1": r12, "P1_on_dot2": r21},
        "virtual_gates": {
            "matrix": [[1.0, r12], [r21, 1.0]],
            "inverse": np.linalg.inv(np.array([[1.0, r12], [r21, 1.0]])).tolist(),
            "convention": "[vP1, vP2] = matrix @ [P1, P2]; [P1, P2] = inverse @ [vP1, vP2]",
        },
        "barriers": {
            name: {"pinch_off_V": device.barriers[name].pinch_off,
                   "width_V": device.barriers[name].width,
                   "transmission": float(device.barriers[name].transmission(v[name])),
                   "model": "T = 1 / (1 + exp(-(V - pinch_off) / width))",
                   "observed_in": "sensor_current" if name.startswith("S") else
                                  "transport_current"}
            for name in BARRIERS
        },
        "sensor": _sensor(device, v, (windows["S"][0], windows["S"][1])),
        "sensor_compensation": sensor_compensation(device),
        "suggested_windows_V": windows,
        "electron_temperature_K": device.electron_temperature,
        "kT_eV": device.kt_ev,
        "bias_V": device.bias,
    }
    if noise is not None:
        result["charge_noise"] = charge_noise(noise)
    return result
