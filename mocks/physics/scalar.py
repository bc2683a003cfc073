"""Scalar fast path of the model and the noise (plain floats, `math`, few numpy calls): one
reading costs some ten microseconds.

It evaluates exactly the formulas of `dotstack.mocks.physics.model` and of the noise processes
in `dotstack.mocks.physics.noise` (tests hold the two paths equal); the mock instruments take one
reading at a time, where numpy's per-call overhead would dominate.
"""

from __future__ import annotations

import functools
import math
from array import array
from bisect import bisect_right
from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics import noise as _noise
from dotstack.mocks.physics.noise import (
    _AR4,
    _BROWNIAN_CELL,
    _BROWNIAN_NODE_LOG,
    _LOG_PAGE,
    _TABLE_BITS,
    _TABLE_MASK,
    BrownianPath,
    OneOverF,
    Telegraph,
    normal_table,
)
from dotstack.mocks.physics.params import E_CHARGE, G0, GATES, DeviceParams

_M64 = 0xFFFFFFFFFFFFFFFF
_BROWNIAN_NODE_MASK = (1 << _BROWNIAN_NODE_LOG) - 1
_TABLE_SHIFT = 64 - _TABLE_BITS
_PAGE_MASK = (1 << _LOG_PAGE) - 1


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

    def dot_state(self, v: Mapping[str, float], mu1: float = 0.0,
                  mu2: float = 0.0) -> tuple[float, float, float, float]:
        """(<N1>, <N2>, gate-induced n0_1, n0_2) at gate voltages ``v``, the dots'
        electrochemical potentials shifted by ``mu1``, ``mu2`` (eV)."""
        n1, n2, i1, i2, _ = self.dot_state_margin(v, mu1, mu2)
        return n1, n2, i1, i2

    def dot_state_margin(self, v: Mapping[str, float], mu1: float = 0.0,
                         mu2: float = 0.0) -> tuple[float, float, float, float, float]:
        """`dot_state` plus the gap (kT) from the ground state to the next configuration."""
        d = self.device
        cm = d.mutual_capacitance + d.mutual_capacitance_open * self.transmission("B2", v["B2"])
        c1, c2 = self.base1 + cm, self.base2 + cm
        det = c1 * c2 - cm * cm
        a, b, m = E_CHARGE * c2 / det, E_CHARGE * c1 / det, E_CHARGE * cm / det
        g1 = n1 = d.offset_charge[0] + sum(c * v[g] for g, c in self.c1)
        g2 = n2 = d.offset_charge[1] + sum(c * v[g] for g, c in self.c2)
        if mu1 or mu2:
            det_e = a * b - m * m
            n1 -= (b * mu1 - m * mu2) / det_e
            n2 -= (a * mu2 - m * mu1) / det_e
        y1 = n1 + (m / a) * min(n2, 0.0)
        y2 = n2 + (m / b) * min(n1, 0.0)
        base1, base2 = math.floor(max(y1, 0.0)), math.floor(max(y2, 0.0))
        f1, f2 = n1 - base1, n2 - base2
        beta = self.beta
        x10 = beta * (0.5 * a * (1.0 - 2.0 * f1) - m * f2)
        x01 = beta * (0.5 * b * (1.0 - 2.0 * f2) - m * f1)
        x11 = x10 + x01 + beta * m
        corners = sorted((0.0, x10, x01, x11))
        low = corners[0]
        w00, w10, w01, w11 = (math.exp(low), math.exp(low - x10), math.exp(low - x01),
                              math.exp(low - x11))
        z = w00 + w10 + w01 + w11
        return (base1 + (w10 + w11) / z, base2 + (w01 + w11) / z, g1, g2,
                corners[1] - low)

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


def _page_y(noise: OneOverF, t: float, sign: float, out: list[float]) -> None:
    """Add ``sign`` times the paged components' integral at t >= 0 to ``out`` (per channel)."""
    u = t * noise._page_scale
    m = int(u)
    f = u - m
    data = noise._page(m >> _LOG_PAGE)
    c = noise.channels
    s2 = c + c
    o = (m & _PAGE_MASK) * s2
    h = noise._page_h * sign
    f2 = f * f
    f3 = f2 * f
    h01 = (3.0 * f2 - 2.0 * f3) * sign
    h00 = sign - h01
    h10 = (f3 - 2.0 * f2 + f) * h
    h11 = (f3 - f2) * h
    for ch in range(c):
        out[ch] += (h00 * data[o + c + ch] + h10 * data[o + ch] + h01 * data[o + s2 + c + ch]
                    + h11 * data[o + s2 + ch])


def _fast_increments(noise: OneOverF, times: NDArray[np.float64],
                     weights: NDArray[np.float64]) -> NDArray[np.float64]:
    """``sum_p weights[p] * integral(times[p])`` over the components too fast for pages (t >= 0,
    without the amplitudes), one numpy pass over those components."""
    u = noise._fscale[:, None] * times  # (F, P)
    i = u.astype(np.int64)
    j = i >> noise._flog0[:, None]
    if not (noise._cur_j[noise._frows, j & 1] == j).all() and not noise._load_slots(j):
        return np.asarray(sum((_fast_increments(noise, times[p:p + 1], weights[p:p + 1])
                               for p in range(len(times))), np.zeros(noise.channels)))
    rows = noise._cur_off[noise._frows, j & 1] + 2 * i
    data = noise._cur[rows[..., None] + _AR4]  # (F, P, 4, C)
    w = (_noise._powers((u - i).ravel()).reshape(*u.shape, 4) * weights[:, None]
         ) @ noise._fwy  # (F, P, 4)
    return np.asarray(w.ravel() @ data.reshape(-1, noise.channels))


def one_over_f_integral(noise: OneOverF, t: float) -> list[float]:
    """Scalar twin of `OneOverF.integral`: the integral from 0 to t of every channel."""
    if t < 0.0:
        return (noise._evaluate(np.array([t]))[0, :, 1] * noise.amplitudes).tolist()
    acc = [0.0] * noise.channels
    if noise._paged:
        _page_y(noise, t, 1.0, acc)
    if noise._fast:
        with noise._lock:
            diff = _fast_increments(noise, np.array([t]), np.ones(1)).tolist()
        acc = [a + d for a, d in zip(acc, diff, strict=True)]
    return [a * amp for a, amp in zip(acc, noise._amp_list, strict=True)]


_PAIR = np.array([-1.0, 1.0])


def one_over_f_mean(noise: OneOverF, t: float, duration: float) -> list[float]:
    """Scalar twin of `OneOverF.mean` (duration > 0): the average of every channel over
    [t, t + duration]."""
    end = t + duration
    if t < 0.0:
        y = noise._evaluate(np.array([t, end]))[:, :, 1]
        return ((y[1] - y[0]) * (noise.amplitudes / duration)).tolist()
    if noise._fast or noise.channels != 1:
        acc = [0.0] * noise.channels
        if noise._paged:
            _page_y(noise, end, 1.0, acc)
            _page_y(noise, t, -1.0, acc)
        if noise._fast:
            with noise._lock:
                diff = _fast_increments(noise, np.array([t, end]), _PAIR).tolist()
            acc = [a + d for a, d in zip(acc, diff, strict=True)]
        return [a * amp / duration for a, amp in zip(acc, noise._amp_list, strict=True)]
    # one channel, all components paged: the integral at both ends from its Hermite cubic
    return [(_paged_integral(noise, end) - _paged_integral(noise, t)) * noise._amp_list[0]
            / duration]


def _paged_integral(noise: OneOverF, t: float) -> float:
    """The summed components' running integral at ``t``, from the page's cubic Hermite."""
    u = t * noise._page_scale
    m = int(u)
    f = u - m
    data = noise._page(m >> _LOG_PAGE)
    o = (m & _PAGE_MASK) * 2
    x0, y0, x1, y1 = data[o], data[o + 1], data[o + 2], data[o + 3]
    f2 = f * f
    f3 = f2 * f
    return (y0 + (y1 - y0) * (3.0 * f2 - 2.0 * f3)
            + noise._page_h * (x0 * (f3 - 2.0 * f2 + f) + x1 * (f3 - f2)))


def brownian_path(path: BrownianPath, t: float) -> float:
    """Scalar twin of `BrownianPath.path`."""
    if t < 0.0:
        return float(path.path(t))
    u = t / _BROWNIAN_CELL
    cell = int(u)
    v = u - cell
    sec = cell >> _BROWNIAN_NODE_LOG
    if path._cur_sec != sec:
        with path._lock:
            path._cur_node = array("d", path._node(0, sec).tobytes())
            path._cur_sec = sec
    node = path._cur_node
    loc = cell & _BROWNIAN_NODE_MASK
    w0 = node[loc]
    w = w0 + v * (node[loc + 1] - w0)
    h = ((path._cell_base[0] ^ cell) * 0x9E3779B97F4A7C15) & _M64
    h ^= h >> 29
    start, stride = h >> _TABLE_SHIFT, (h >> 16) | 1
    table = _noise._TABLE_PY if _noise._TABLE_PY is not None else normal_table()[1]
    for m, s_l in path._levy_list:
        vm = v * m
        q = int(vm)
        r = vm - q
        w += s_l * table[(start + stride * (m + q)) & _TABLE_MASK] * (1.0 - abs(r + r - 1.0))
    return w


def brownian_mean(path: BrownianPath, t: float, duration: float) -> float:
    """Scalar twin of `BrownianPath.mean`: (W(t + duration) - W(t)) / duration."""
    return (brownian_path(path, t + duration) - brownian_path(path, t)) / duration


def telegraph_fraction(noise: Telegraph, t: float, duration: float) -> float:
    """Scalar twin of `Telegraph.fraction` (duration > 0)."""
    end = t + duration
    knots, up = noise.knots_list, noise.up_list
    if end >= knots[-1]:
        noise.extend(end)
    total = 0.0
    for when, sign in ((end, 1.0), (t, -1.0)):
        if when <= 0.0:
            continue
        k = bisect_right(knots, when) - 1
        # cumulative time in state 1 up to `when` (np.interp on the same knots)
        k1 = k + 1
        frac = (when - knots[k]) / (knots[k1] - knots[k])
        total += sign * (up[k] + frac * (up[k1] - up[k]))
    return total / duration


__all__ = ["ScalarModel", "brownian_mean", "brownian_path", "one_over_f_integral",
           "one_over_f_mean", "telegraph_fraction", "white_normal"]
