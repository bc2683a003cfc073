"""Scalar fast path of the model (plain floats, `math`): one reading costs a few microseconds.

It evaluates exactly the formulas of `dotstack.mocks.physics.model` (tests hold the two paths
equal); the mock instruments take one reading at a time, where numpy's per-call overhead
would dominate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np

from dotstack.mocks.physics.noise import OneOverF, Telegraph
from dotstack.mocks.physics.params import E_CHARGE, G0, GATES, DeviceParams

_M64 = 0xFFFFFFFFFFFFFFFF


def _sech2(x: float) -> float:
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / (1.0 + e) ** 2


class ScalarModel:
    """Precomputed coefficients of a `DeviceParams` for single-point evaluation."""

    def __init__(self, device: DeviceParams) -> None:
        self.device = device
        self.c1 = [(g, device.dot1_gate_capacitance[g] / E_CHARGE) for g in GATES
                   if device.dot1_gate_capacitance[g]]
        self.c2 = [(g, device.dot2_gate_capacitance[g] / E_CHARGE) for g in GATES
                   if device.dot2_gate_capacitance[g]]
        self.cs = [(g, device.sensor_gate_capacitance[g] / E_CHARGE) for g in GATES
                   if device.sensor_gate_capacitance[g]]
        self.base1 = (sum(device.dot1_gate_capacitance.values()) + device.lead_capacitance[0]
                      + device.other_capacitance[0])
        self.base2 = (sum(device.dot2_gate_capacitance.values()) + device.lead_capacitance[1]
                      + device.other_capacitance[1])
        self.barriers = {k: (b.pinch_off, b.width) for k, b in device.barriers.items()}
        self.beta = 1.0 / device.kt_ev
        self.ec_s = E_CHARGE / device.sensor_capacitance
        self.peak_scale = self.ec_s / (2.0 * device.kt_ev)

    def transmission(self, barrier: str, volts: float) -> float:
        v0, w = self.barriers[barrier]
        return 0.5 * (1.0 + math.tanh((volts - v0) / (2.0 * w)))

    def dot_state(self, v: Mapping[str, float]) -> tuple[float, float, float, float]:
        """(<N1>, <N2>, induced n0_1, induced n0_2) at gate voltages ``v``."""
        d = self.device
        cm = d.mutual_capacitance + d.mutual_capacitance_open * self.transmission("B2", v["B2"])
        c1, c2 = self.base1 + cm, self.base2 + cm
        det = c1 * c2 - cm * cm
        a, b, m = E_CHARGE * c2 / det, E_CHARGE * c1 / det, E_CHARGE * cm / det
        n1 = d.offset_charge[0] + sum(c * v[g] for g, c in self.c1)
        n2 = d.offset_charge[1] + sum(c * v[g] for g, c in self.c2)
        y1 = n1 + (m / a) * min(n2, 0.0)
        y2 = n2 + (m / b) * min(n1, 0.0)
        base1, base2 = math.floor(max(y1, 0.0)), math.floor(max(y2, 0.0))
        f1, f2 = n1 - base1, n2 - base2
        beta = self.beta
        x10 = beta * (0.5 * a * (1.0 - 2.0 * f1) - m * f2)
        x01 = beta * (0.5 * b * (1.0 - 2.0 * f2) - m * f1)
        x11 = x10 + x01 + beta * m
        low = min(x10, x01, x11, 0.0)
        w00, w10, w01, w11 = (math.exp(low), math.exp(low - x10), math.exp(low - x01),
                              math.exp(low - x11))
        z = w00 + w10 + w01 + w11
        return base1 + (w10 + w11) / z, base2 + (w01 + w11) / z, n1, n2

    def sensor_current(self, v: Mapping[str, float], state: tuple[float, float, float, float],
                       shift_ev: float = 0.0) -> float:
        """Noiseless sensor current (A)."""
        d = self.device
        n1, n2, i1, i2 = state
        k1, k2 = d.sensor_dot_coupling_ev
        ns = d.sensor_offset_charge + sum(c * v[g] for g, c in self.cs)
        u = ns + 0.5 - (k1 * (n1 - i1) + k2 * (n2 - i2) + shift_ev) / self.ec_s
        r = u - round(u)
        s = self.peak_scale
        shape = _sech2(s * r)
        if s * 0.5 < 15.0:
            shape += _sech2(s * (1.0 - r)) + _sech2(s * (1.0 + r))
        t1 = self.transmission("SB1", v["SB1"])
        t2 = self.transmission("SB2", v["SB2"])
        vis = (1.0 - t1) * (1.0 - t2)
        return G0 * d.bias * t1 * t2 * ((1.0 - vis) + vis * shape)


def _splitmix64(x: int) -> int:
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


@functools.lru_cache(maxsize=64)
def _stream_base(seed: int, stream: int) -> int:
    return _splitmix64((seed * 1_000_003 + stream) & _M64)


def white_normal(seed: int, stream: int, t: float, duration: float) -> float:
    """Scalar twin of `noise.white_normal` (same numbers)."""
    base = _stream_base(seed, stream)
    h = _splitmix64(_splitmix64(base ^ (round(t * 1e9) & _M64)) ^ (round(duration * 1e9) & _M64))
    h2 = _splitmix64(h ^ 0xD1B54A32D192ED03)
    u1 = ((h >> 11) + 1.0) * 2.0**-53
    u2 = (h2 >> 11) * 2.0**-53
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def one_over_f_mean(noise: OneOverF, t: float, duration: float) -> float:
    """Scalar twin of `OneOverF.mean` (duration > 0)."""
    if noise.amplitude == 0.0:
        return 0.0
    half = 0.5 * duration
    weights = noise.amplitudes * np.sinc(noise.omegas * (half / math.pi))
    return float(np.dot(np.cos(noise.omegas * (t + half) + noise.phases), weights))


def telegraph_fraction(noise: Telegraph, t: float, duration: float) -> float:
    """Scalar twin of `Telegraph.fraction` (duration > 0)."""
    knots, up = noise.extend(t + duration)
    start, end = np.interp((max(t, 0.0), max(t + duration, 0.0)), knots, up)
    return float(end - start) / duration


__all__ = ["ScalarModel", "one_over_f_mean", "telegraph_fraction", "white_normal"]
