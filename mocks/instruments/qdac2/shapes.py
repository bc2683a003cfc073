"""Shapes of the QDAC-II waveform generators: vectorised functions of the time since the start.

Each builder returns ``fn(tau)`` (tau in s since the waveform started, a float or an array) ->
volts the generator adds to the channel's DC level.  Definitions (``s`` = +1 for polarity
``norm``, -1 for ``inv``; ``d`` = duty cycle / 100; ``p`` = phase in the period, 0 <= p < 1):

- sine: ``offset + s * span/2 * sin(2 pi tau / period)`` (starts at the offset, rising);
- triangle: from ``offset - s*span/2`` it rises for ``d * period`` to ``offset + s*span/2``
  and falls back over the rest of the period;
- square: for ``p < d`` the pulse level, otherwise the base level.  Type ``symm``: pulse
  ``offset + s*span/2``, base ``offset - s*span/2``; ``pos``: pulse ``offset + s*span``, base
  ``offset``; ``neg``: pulse ``offset - s*span``, base ``offset``;
- AWG: point ``k`` of the trace, ``scale * trace[k] + offset``, is held for one sample
  (1 / `SAMPLE_RATE`) from ``tau = k / SAMPLE_RATE`` (the trace repeats every period).

Sine, triangle and square are evaluated continuously (the output filter smooths the 1 MS/s
steps); the AWG is a sample-and-hold of its trace.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.instruments.qdac2.limits import SAMPLE_RATE

Shape = Callable[[Any], Any]

#: A time this close below a period boundary (in periods) counts as the boundary itself, so
#: that ``t_start + k * period`` computed in floating point lands in period k.
_EPS = 1e-9


def _phase(tau: Any, period: float) -> Any:
    x = np.asarray(tau, dtype=float) / period
    return np.maximum(x - np.floor(x + _EPS), 0.0)


def sine(period: float, span: float, offset: float, inverted: bool) -> Shape:
    amp = -span / 2 if inverted else span / 2
    omega = 2 * math.pi / period

    def fn(tau: Any) -> Any:
        return offset + amp * np.sin(omega * np.asarray(tau, dtype=float))

    return fn


def triangle(period: float, span: float, offset: float, dcycle: float, inverted: bool) -> Shape:
    amp = -span / 2 if inverted else span / 2
    d = min(max(dcycle / 100.0, 0.0), 1.0)

    def fn(tau: Any) -> Any:
        p = _phase(tau, period)
        with np.errstate(divide="ignore", invalid="ignore"):
            up = -1.0 + 2.0 * p / d if d > 0 else np.ones_like(p)
            down = 1.0 - 2.0 * (p - d) / (1.0 - d) if d < 1 else np.ones_like(p)
        return offset + amp * np.where(p < d, up, down)

    return fn


def square(period: float, span: float, offset: float, dcycle: float, kind: str,
           inverted: bool) -> Shape:
    if kind == "symm":
        pulse, base = span / 2, -span / 2
    elif kind == "pos":
        pulse, base = span, 0.0
    else:
        pulse, base = -span, 0.0
    if inverted:
        pulse, base = -pulse, -base
    d = min(max(dcycle / 100.0, 0.0), 1.0)

    def fn(tau: Any) -> Any:
        return offset + np.where(_phase(tau, period) < d, pulse, base)

    return fn


def awg(trace: NDArray[np.float64], scale: float, offset: float) -> Shape:
    levels = scale * np.asarray(trace, dtype=float) + offset
    n = len(levels)

    def fn(tau: Any) -> Any:
        k = np.floor(np.asarray(tau, dtype=float) * SAMPLE_RATE + 1e-6).astype(np.int64)
        return levels[np.mod(k, n)]

    return fn
