"""Shared pieces of the time-domain lab tests: labs, stand-in AWG hooks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dotstack.mocks.physics import ManualClock, NoiseParams, VirtualLab, model
from dotstack.mocks.physics.params import DeviceParams


def quiet_lab(seed: int = 1) -> VirtualLab:
    """A lab on a manual clock without the DC instruments' noise (no dot charge noise)."""
    return VirtualLab(seed=seed, clock=ManualClock(), noise=NoiseParams.none())


def hold(t0: float, t1: float, value: float) -> tuple[float, np.ndarray, float]:
    """A hold as the AWG mock reports it: one sample lasting the whole stretch."""
    return (t0, np.array([value]), 1.0 / (t1 - t0))


class StepAWG:
    """Every channel holds ``before`` until ``t_on``, then ``after`` (V)."""

    def __init__(self, t_on: float, after: float, before: float = 0.0) -> None:
        self.t_on, self.after, self.before = t_on, after, before

    def __call__(self, channel: object, t0: float, t1: float) -> list:
        out = []
        if t0 < self.t_on:
            out.append(hold(t0, min(t1, self.t_on), self.before))
        if t1 > self.t_on:
            start = max(t0, self.t_on)
            out.append(hold(start, t1, self.after))
        return out


class SampleAWG:
    """One channel plays ``samples`` at ``rate`` from ``t_start`` (0 V before and after);
    other channels hold 0 V."""

    def __init__(self, samples: Sequence[float], rate: float, t_start: float,
                 channel: object = 1) -> None:
        self.samples = np.asarray(samples, dtype=float)
        self.rate, self.t_start, self.channel = rate, t_start, channel
        self.t_end = t_start + self.samples.size / rate

    def __call__(self, channel: object, t0: float, t1: float) -> list:
        if channel != self.channel:
            return [hold(t0, t1, 0.0)]
        out = []
        if t0 < self.t_start:
            out.append(hold(t0, min(t1, self.t_start), 0.0))
        lo, hi = max(t0, self.t_start), min(t1, self.t_end)
        if hi > lo:
            j0 = math.floor((lo - self.t_start) * self.rate + 1e-9)
            j1 = math.ceil((hi - self.t_start) * self.rate - 1e-9)
            out.append((self.t_start + j0 / self.rate, self.samples[j0:j1], self.rate))
        if t1 > self.t_end:
            start = max(t0, self.t_end)
            out.append(hold(start, t1, 0.0))
        return out


def p1_at_half_filling(device: DeviceParams, electron: int, p2: float = 0.0) -> float:
    """P1 (V) where dot 1's ``electron``-th electron is half occupied (bisection)."""
    lo, hi = -0.5, 0.5
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        n1 = float(model.dot_state(device, {"P1": mid, "P2": p2}).n1)
        lo, hi = (mid, hi) if n1 < electron - 0.5 else (lo, mid)
    return 0.5 * (lo + hi)
