"""A stand-in AWG for the time-domain lab: a video-mode raster played in lab time.

`RasterPattern` is a ``channel_segments(channel, t0, t1)`` hook like `AWG5208Model`'s: the fast
channel plays a sawtooth (one plateau of ``samples_per_pixel`` samples per pixel, one piece per
row), the slow channel a staircase (one constant piece per row, same sample rate), frame after
frame from ``t_start``; before and after, both hold 0 V (one sample lasting the hold, as the AWG
mock reports holds).  For tests and benchmarks, and for scripts before an AWG is wired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from dotstack.mocks.physics.timedomain.segments import Piece


@dataclass(frozen=True)
class RasterPattern:
    """``points = (nx, ny)`` pixels of ``dwell`` s; levels ``linspace(-a, a, n)`` with
    ``amplitudes = (a_fast, a_slow)`` (V at the AWG output); ``frames`` frames (inf: endless)."""

    fast_channel: Any = 1
    slow_channel: Any = 2
    points: tuple[int, int] = (100, 100)
    amplitudes: tuple[float, float] = (0.5, 0.5)
    dwell: float = 1e-6
    t_start: float = 0.0
    frames: float = math.inf
    samples_per_pixel: int = 1

    @property
    def row_time(self) -> float:
        return self.points[0] * self.dwell

    @property
    def frame_time(self) -> float:
        return self.points[1] * self.row_time

    @property
    def rate(self) -> float:
        return self.samples_per_pixel / self.dwell

    @cached_property
    def _rows(self) -> tuple[np.ndarray, list[np.ndarray]]:
        """The fast channel's row and the slow channel's rows (samples, V)."""
        fast = np.repeat(self.levels(self.fast_channel), self.samples_per_pixel)
        width = self.points[0] * self.samples_per_pixel
        return fast, [np.full(width, v) for v in self.levels(self.slow_channel)]

    def levels(self, channel: Any) -> np.ndarray:
        """The fast axis' pixel levels or the slow axis' row levels (V)."""
        k = 0 if channel == self.fast_channel else 1
        return np.linspace(-self.amplitudes[k], self.amplitudes[k], self.points[k])

    def __call__(self, channel: Any, t0: float, t1: float) -> list[Piece]:
        if channel not in (self.fast_channel, self.slow_channel):
            return [(t0, np.zeros(1), 1.0 / (t1 - t0))]
        end = self.t_start + self.frames * self.frame_time
        out: list[Piece] = []
        if t0 < self.t_start:
            stop = min(t1, self.t_start)
            out.append((t0, np.zeros(1), 1.0 / (stop - t0)))
        lo, hi = max(t0, self.t_start), min(t1, end)
        if hi > lo:
            ny = self.points[1]
            first = math.floor((lo - self.t_start) / self.row_time)
            last = math.ceil((hi - self.t_start) / self.row_time)
            fast, slow = self._rows
            for row in range(first, last):
                start = self.t_start + row * self.row_time
                if channel == self.fast_channel:
                    out.append((start, fast, self.rate))
                else:
                    out.append((start, slow[row % ny], self.rate))
        if t1 > end:
            start = max(t0, end)
            out.append((start, np.zeros(1), 1.0 / (t1 - start)))
        return out
