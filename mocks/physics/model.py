"""Vectorised constant-interaction model: occupations and sensor current for arrays of gates.

Every function here is pure and broadcasts over any shape of gate-voltage arrays.

Double dot: with induced charges ``n0 = Cg V / e + offset`` and charging-energy matrix
``Ec = e C^-1`` (eV), the energy of occupation N is ``E(N) = 1/2 (N - n0)^T Ec (N - n0)``
(leads at 0 eV).  The ground state over N >= 0 lies among the four corners of the unit cell
that holds the box-constrained continuous minimum (the charge lattice is acute because
Ec12 < Ec11, Ec22), so only those four candidates are weighted by Boltzmann factors at kT.

Charge noise on the dots enters as a shift ``dmu_i`` (eV) of each dot's electrochemical potential,
i.e. an offset-charge shift ``dn0 = -Ec^-1 dmu`` (so that ``mu_i(N)`` moves by exactly ``dmu_i``)
in the occupation; the sensor's coupling term keeps the gate-induced charges.

Sensor: its electrochemical potential for N_s electrons is
``mu_s = Ec_s (N_s - 1/2 - n0_s) + sum_i kappa_i (<N_i> - n0_i) + shift`` (eV); the current is
``G0 bias T_SB1 T_SB2 [(1 - v) + v sum_Ns cosh^-2(mu_s / 2kT)]`` with blockade visibility
``v = (1 - T_SB1)(1 - T_SB2)`` (an open barrier lifts the blockade, so a pinch-off curve with the
other sensor barrier open is the logistic transmission itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics.params import E_CHARGE, G0, GATES, DeviceParams

Array = NDArray[np.float64]


@dataclass(frozen=True)
class DotState:
    """Thermal mean occupations and gate-induced charges of the two dots (electrons); with
    ``margin``, the gap (in kT) from the ground state to the next charge configuration."""

    n1: Array
    n2: Array
    induced1: Array
    induced2: Array
    margin: Array | None = None


@dataclass(frozen=True)
class Simulation:
    """Noiseless result at every point: mean occupations and sensor current (A)."""

    n1: Array
    n2: Array
    sensor_current: Array


def _gate_arrays(gates: Mapping[str, ArrayLike]) -> dict[str, Array]:
    unknown = sorted(set(gates) - set(GATES))
    if unknown:
        raise ValueError(f"unknown gate(s) {unknown}; gates are {list(GATES)}")
    return {g: np.asarray(gates.get(g, 0.0), dtype=float) for g in GATES}


def _linear(coeffs: Mapping[str, float], v: Mapping[str, Array], offset: float) -> Array:
    """``offset + sum coeffs[g] * v[g]``, adding scalars first so arrays are touched least."""
    total: Array | float = offset
    for g in sorted(GATES, key=lambda g: v[g].size):
        c = coeffs.get(g, 0.0)
        if c:
            total = total + c * v[g]
    return np.asarray(total, dtype=float)


def charging_energies(device: DeviceParams, b2: ArrayLike) -> tuple[Array, Array, Array]:
    """(Ec11, Ec22, Ec12) in eV at inter-dot barrier voltage ``b2``."""
    cm = device.mutual_capacitance + device.mutual_capacitance_open * device.barriers[
        "B2"].transmission(b2)
    c1 = (sum(device.dot1_gate_capacitance.values()) + device.lead_capacitance[0]
          + device.other_capacitance[0] + cm)
    c2 = (sum(device.dot2_gate_capacitance.values()) + device.lead_capacitance[1]
          + device.other_capacitance[1] + cm)
    det = c1 * c2 - cm * cm
    return (np.asarray(E_CHARGE * c2 / det), np.asarray(E_CHARGE * c1 / det),
            np.asarray(E_CHARGE * cm / det))


def induced_charges(device: DeviceParams, v: Mapping[str, Array]) -> tuple[Array, Array]:
    """Gate-induced charges n0 of dots 1 and 2 (electrons)."""
    c1 = {g: c / E_CHARGE for g, c in device.dot1_gate_capacitance.items()}
    c2 = {g: c / E_CHARGE for g, c in device.dot2_gate_capacitance.items()}
    return (_linear(c1, v, device.offset_charge[0]), _linear(c2, v, device.offset_charge[1]))


def dot_state(device: DeviceParams, gates: Mapping[str, ArrayLike],
              dot_shift_ev: tuple[ArrayLike, ArrayLike] | None = None, *,
              margin: bool = False) -> DotState:
    """Thermal mean occupations <N1>, <N2> at the given gate voltages (broadcast shape), with
    the dots' electrochemical potentials shifted by ``dot_shift_ev`` (eV, e.g. charge noise);
    ``margin`` also reports the gap to the next configuration (kT)."""
    v = _gate_arrays(gates)
    a, b, m = charging_energies(device, v["B2"])
    n1, n2 = induced_charges(device, v)
    gate1, gate2 = n1, n2
    if dot_shift_ev is not None:
        mu1 = np.asarray(dot_shift_ev[0], dtype=float)
        mu2 = np.asarray(dot_shift_ev[1], dtype=float)
        det = a * b - m * m
        n1 = n1 - (b * mu1 - m * mu2) / det
        n2 = n2 - (a * mu2 - m * mu1) / det
    # box-constrained continuous minimum, then the unit cell holding it
    y1 = n1 + (m / a) * np.minimum(n2, 0.0)
    y2 = n2 + (m / b) * np.minimum(n1, 0.0)
    base1 = np.floor(np.maximum(y1, 0.0))
    base2 = np.floor(np.maximum(y2, 0.0))
    f1 = n1 - base1
    f2 = n2 - base2
    beta = 1.0 / device.kt_ev
    # energies of the corners (1,0), (0,1), (1,1) relative to (0,0), in units of kT
    x10 = beta * (0.5 * a * (1.0 - 2.0 * f1) - m * f2)
    x01 = beta * (0.5 * b * (1.0 - 2.0 * f2) - m * f1)
    x11 = x10 + x01 + beta * m
    low = np.minimum(np.minimum(x10, x01), np.minimum(x11, 0.0))
    w00 = np.exp(low)
    w10 = np.exp(low - x10)
    w01 = np.exp(low - x01)
    w11 = np.exp(low - x11)
    z = w00 + w10 + w01 + w11
    gap = None
    if margin:
        corners = np.stack(np.broadcast_arrays(np.zeros_like(x11), x10, x01, x11))
        gap = np.asarray(np.partition(corners, 1, axis=0)[1] - low)
    return DotState(n1=base1 + (w10 + w11) / z, n2=base2 + (w01 + w11) / z,
                    induced1=gate1, induced2=gate2, margin=gap)


def _sech2(x: Array) -> Array:
    e = np.exp(-2.0 * np.abs(x))
    return np.asarray(4.0 * e / (1.0 + e) ** 2)


def sensor_potential_phase(device: DeviceParams, gates: Mapping[str, ArrayLike], state: DotState,
                           shift_ev: ArrayLike = 0.0) -> Array:
    """``u`` with ``mu_s(N_s) = Ec_s (N_s - u)``: Coulomb peaks where u is an integer."""
    v = _gate_arrays(gates)
    cs = {g: c / E_CHARGE for g, c in device.sensor_gate_capacitance.items()}
    ec_s = E_CHARGE / device.sensor_capacitance
    k1, k2 = device.sensor_dot_coupling_ev
    ns = _linear(cs, v, device.sensor_offset_charge)
    coupling = k1 * (state.n1 - state.induced1) + k2 * (state.n2 - state.induced2)
    return np.asarray(ns + 0.5 - (coupling + np.asarray(shift_ev, dtype=float)) / ec_s)


def sensor_lineshape(device: DeviceParams, u: ArrayLike) -> Array:
    """Sum of thermally broadened Coulomb peaks, cosh^-2(mu_s / 2kT) (1 on a peak)."""
    u = np.asarray(u, dtype=float)
    r = u - np.round(u)
    scale = (E_CHARGE / device.sensor_capacitance) / (2.0 * device.kt_ev)
    shape = _sech2(scale * r)
    if scale * 0.5 < 15.0:  # neighbouring peaks still matter at this temperature
        shape = shape + _sech2(scale * (1.0 - r)) + _sech2(scale * (1.0 + r))
    return shape


def sensor_prefactors(device: DeviceParams, sb1: ArrayLike, sb2: ArrayLike) -> tuple[Array, Array]:
    """(peak current scale G0 bias T1 T2 in A, blockade visibility (1 - T1)(1 - T2))."""
    t1 = device.barriers["SB1"].transmission(sb1)
    t2 = device.barriers["SB2"].transmission(sb2)
    return np.asarray(G0 * device.bias * t1 * t2), np.asarray((1.0 - t1) * (1.0 - t2))


def sensor_current(device: DeviceParams, gates: Mapping[str, ArrayLike], state: DotState,
                   shift_ev: ArrayLike = 0.0) -> Array:
    """Noiseless sensor current (A) given the double dot's state and a potential shift (eV)."""
    v = _gate_arrays(gates)
    scale, vis = sensor_prefactors(device, v["SB1"], v["SB2"])
    shape = sensor_lineshape(device, sensor_potential_phase(device, v, state, shift_ev))
    return np.asarray(scale * ((1.0 - vis) + vis * shape))


def simulate(device: DeviceParams, gates: Mapping[str, ArrayLike], shift_ev: ArrayLike = 0.0,
             dot_shift_ev: tuple[ArrayLike, ArrayLike] | None = None) -> Simulation:
    """Occupations and sensor current for gate-voltage arrays (missing gates at 0 V), with the
    sensor's potential shifted by ``shift_ev`` and the dots' by ``dot_shift_ev`` (eV)."""
    v = _gate_arrays(gates)
    state = dot_state(device, v, dot_shift_ev)
    current = sensor_current(device, v, state, shift_ev)
    return Simulation(n1=state.n1, n2=state.n2, sensor_current=current)


def transport_current(device: DeviceParams, gates: Mapping[str, ArrayLike]) -> Array:
    """Open-channel current through the double dot's barriers, G0 bias T_B1 T_B2 T_B3 (A).

    This is the pinch-off characteristic of the double-dot channel; it does not model the
    double dot's Coulomb blockade (which only matters once the barriers are nearly closed).
    """
    v = _gate_arrays(gates)
    t = [device.barriers[b].transmission(v[b]) for b in ("B1", "B2", "B3")]
    return np.asarray(G0 * device.bias * t[0] * t[1] * t[2])


def charge_stability_map(p1: ArrayLike, p2: ArrayLike, *, device: DeviceParams | None = None,
                         **gates: float) -> Array:
    """Noiseless sensor current (A) on the grid of 1-D axes ``p1`` x ``p2`` (V).

    Returns shape ``(len(p2), len(p1))`` (rows follow P2).  Other gates are keyword arguments
    in V (``B2=0.01, S=0.0``); missing ones are at 0 V.
    """
    if "P1" in gates or "P2" in gates:
        raise ValueError("charge_stability_map: give P1 and P2 as the axes p1, p2, not keywords")
    a1 = np.asarray(p1, dtype=float)
    a2 = np.asarray(p2, dtype=float)
    if a1.ndim != 1 or a2.ndim != 1:
        raise ValueError(f"charge_stability_map: p1 and p2 must be 1-D axes, got shapes "
                         f"{a1.shape} and {a2.shape}")
    dev = device if device is not None else DeviceParams()
    grid: dict[str, ArrayLike] = dict(gates)
    grid["P1"] = a1[np.newaxis, :]
    grid["P2"] = a2[:, np.newaxis]
    return simulate(dev, grid).sensor_current
