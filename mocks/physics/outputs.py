"""DAC channel outputs in lab time: piecewise-linear DC ramps plus additive periodic waveforms
(not thread-safe: the lab locks)."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: A waveform: vectorised function of the time since its start (s) -> volts added to the DC level.
WaveFunction = Callable[[Any], Any]


@dataclass
class Waveform:
    """One waveform window: ``fn(t - start)`` is added to the output for start <= t < end."""

    start: float
    end: float
    fn: WaveFunction
    key: str = ""


class ChannelOutput:
    """History of one channel: DC ramps (start time, start value, target, duration) plus
    waveforms (function generators) added on top.

    A ramp moves linearly from its start value to its target over its duration (0: a step) and
    then holds.  A new command cuts the running ramp at its own time; a command dated before
    the last one rewrites the history after it.  At most ``max_segments`` ramps are kept.

    A waveform is active on [start, end) (end may be inf); waveforms of different keys (one per
    generator) add up.  With no waveform the DC path costs one extra test.
    """

    #: Waveform windows kept (the oldest that have ended are dropped first).
    max_waveforms = 256

    def __init__(self, initial: float = 0.0, max_segments: int = 4096) -> None:
        self.initial = float(initial)
        self.max_segments = max_segments
        self._t: list[float] = []
        self._v0: list[float] = []
        self._v1: list[float] = []
        self._dur: list[float] = []
        self._arrays: tuple[NDArray[np.float64], ...] | None = None
        self._waves: list[Waveform] = []

    def set(self, t: float, volts: float, slew: float = math.inf) -> None:
        """From time ``t`` move to ``volts`` at ``slew`` V/s (inf: at once)."""
        if not math.isfinite(volts):
            raise ValueError(f"output voltage must be finite, got {volts}")
        if not slew > 0:
            raise ValueError(f"slew rate must be > 0 V/s, got {slew}")
        start = self.level(t)
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
        """Output (V) at time ``t``: the DC level plus the active waveforms."""
        if self._waves:
            return self.level(t) + self._wave_value(t)
        return self.level(t)

    def values(self, t: ArrayLike) -> NDArray[np.float64]:
        """Outputs (V) at an array of times."""
        t = np.asarray(t, dtype=float)
        out = self.levels(t)
        if self._waves:
            for w in self._waves:
                mask = (t >= w.start) & (t < w.end)
                if mask.any():
                    out = np.array(out, dtype=float)  # writable
                    out[mask] += np.asarray(w.fn(t[mask] - w.start), dtype=float)
        return out

    def level(self, t: float) -> float:
        """DC level (V) at time ``t`` (the ramps only, without waveforms)."""
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

    def levels(self, t: ArrayLike) -> NDArray[np.float64]:
        """DC levels (V) at an array of times (the ramps only)."""
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
        """Lab time at which the last DC ramp reaches its target (waveforms not counted)."""
        return self._t[-1] + self._dur[-1] if self._t else -math.inf

    # -- waveforms ------------------------------------------------------------------------
    def set_waveform(self, t_start: float, t_end: float, fn: WaveFunction, key: str = "") -> None:
        """Add ``fn(t - t_start)`` to the output on [t_start, t_end) (t_end may be inf).

        ``key`` names the generator: a waveform of the same key active at ``t_start`` is cut
        there, and one dated after ``t_start`` is dropped (the history is rewritten).
        """
        t_start, t_end = float(t_start), float(t_end)
        if not math.isfinite(t_start) or not t_end >= t_start:
            raise ValueError(f"waveform window must be finite start <= end, got "
                             f"[{t_start}, {t_end})")
        self.clear_waveform(t_start, key)
        self._waves.append(Waveform(t_start, t_end, fn, key))
        if len(self._waves) > self.max_waveforms:
            ended = [w for w in self._waves if w.end <= t_start]
            drop = ended[: len(self._waves) - self.max_waveforms] or self._waves[:1]
            for w in drop:
                self._waves.remove(w)

    def clear_waveform(self, t: float, key: str | None = None) -> None:
        """Stop the waveforms of ``key`` (None: all) at time ``t``: active ones end at ``t``,
        ones that start at or after ``t`` are dropped."""
        kept: list[Waveform] = []
        for w in self._waves:
            if key is None or w.key == key:
                if w.start >= t:
                    continue
                w.end = min(w.end, t)
            kept.append(w)
        self._waves = kept

    def waveforms(self) -> list[Waveform]:
        """The waveform windows held (oldest first)."""
        return list(self._waves)

    def _wave_value(self, t: float) -> float:
        total = 0.0
        for w in self._waves:
            if w.start <= t < w.end:
                total += float(w.fn(t - w.start))
        return total
