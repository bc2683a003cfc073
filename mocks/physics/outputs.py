"""DAC channel outputs as piecewise-linear ramps in lab time (not thread-safe: the lab locks)."""

from __future__ import annotations

import bisect
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray


class ChannelOutput:
    """History of one channel: ramps (start time, start value, target, duration).

    A ramp moves linearly from its start value to its target over its duration (0: a step) and
    then holds.  A new command cuts the running ramp at its own time; a command dated before
    the last one rewrites the history after it.  At most ``max_segments`` ramps are kept.
    """

    def __init__(self, initial: float = 0.0, max_segments: int = 4096) -> None:
        self.initial = float(initial)
        self.max_segments = max_segments
        self._t: list[float] = []
        self._v0: list[float] = []
        self._v1: list[float] = []
        self._dur: list[float] = []
        self._arrays: tuple[NDArray[np.float64], ...] | None = None

    def set(self, t: float, volts: float, slew: float = math.inf) -> None:
        """From time ``t`` move to ``volts`` at ``slew`` V/s (inf: at once)."""
        if not math.isfinite(volts):
            raise ValueError(f"output voltage must be finite, got {volts}")
        if not slew > 0:
            raise ValueError(f"slew rate must be > 0 V/s, got {slew}")
        start = self.value(t)
        while self._t and self._t[-1] > t:
            for seq in (self._t, self._v0, self._v1, self._dur):
                seq.pop()
        duration = abs(volts - start) / slew if math.isfinite(slew) else 0.0
        self._t.append(float(t))
        self._v0.append(start)
        self._v1.append(float(volts))
        self._dur.append(duration)
        if len(self._t) > self.max_segments:
            drop = len(self._t) - self.max_segments // 2
            self.initial = self._v0[drop]
            for seq in (self._t, self._v0, self._v1, self._dur):
                del seq[:drop]
        self._arrays = None

    def value(self, t: float) -> float:
        """Output (V) at time ``t``."""
        ts = self._t
        if not ts:
            return self.initial
        if t >= ts[-1]:
            i = len(ts) - 1
        elif t < ts[0]:
            return self._v0[0]
        else:
            i = bisect.bisect_right(ts, t) - 1
        dt, duration = t - ts[i], self._dur[i]
        if dt >= duration:
            return self._v1[i]
        v0 = self._v0[i]
        return v0 + (self._v1[i] - v0) * dt / duration

    def values(self, t: ArrayLike) -> NDArray[np.float64]:
        """Outputs (V) at an array of times."""
        t = np.asarray(t, dtype=float)
        if not self._t:
            return np.full(t.shape, self.initial)
        if self._arrays is None:
            self._arrays = tuple(np.asarray(x, dtype=float)
                                 for x in (self._t, self._v0, self._v1, self._dur))
        ts, v0, v1, dur = self._arrays
        i = np.searchsorted(ts, t, side="right") - 1
        j = np.maximum(i, 0)
        dt = t - ts[j]
        frac = np.where(dt >= dur[j], 1.0, dt / np.where(dur[j] > 0, dur[j], 1.0))
        out = v0[j] + (v1[j] - v0[j]) * np.clip(frac, 0.0, 1.0)
        return np.asarray(np.where(i < 0, v0[0], out))

    def settled_at(self) -> float:
        """Lab time at which the last ramp reaches its target."""
        return self._t[-1] + self._dur[-1] if self._t else -math.inf
