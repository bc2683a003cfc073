"""What a gate sees of an AWG program through its bias-T: the range a limit check must use.

A bias-T's AC port is a first-order high pass (time constant ``tau``): the gate gets
``DC + gain * (x - lp)``, where ``lp`` is the low pass of the AWG's output ``x``.  Checking the
AWG's samples alone misses ``- lp``: a pattern with a nonzero mean charges the bias-T, and the
gate then swings below (or above) what the samples say, most visibly when the AWG stops and its
output returns to 0 V while ``lp`` still holds the mean.

`gate_range` bounds ``x - lp`` exactly for a program played once or repeated any number of
times, and for the AWG stopping at any sample, from a discharged bias-T: the AWG holds each
sample for ``1 / rate``, so on each sample ``lp`` relaxes exponentially and ``x - lp`` is
monotonic, with its extremes at the sample edges; ``lp`` at the start of the p-th play is
``lp_ss (1 - A^p)`` (``A = exp(-n / (rate tau))``), and ``x - lp`` is affine in it, so the first
play (from 0) and the periodic steady state (from ``lp_ss``) bound every play.  ``tau = inf``: a
DC-coupled line, the gate sees ``x`` (and 0 V when the AWG is idle).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter


def gate_range(samples: npt.ArrayLike, rate: float, tau: float) -> tuple[float, float]:
    """(lowest, highest) of ``x - lp`` (V at the AWG output) over any number of plays of
    ``samples`` at ``rate`` S/s through a bias-T of time constant ``tau`` s, before, during
    and after them (the AWG idle at 0 V)."""
    x = np.asarray(samples, dtype=float).ravel()
    if x.size == 0:
        return 0.0, 0.0
    if not np.isfinite(x).all():
        raise ValueError("gate_range: samples must be finite")
    if not (rate > 0 and math.isfinite(rate)) or not tau > 0:
        raise ValueError(f"gate_range: need a finite rate > 0 and tau > 0, got {rate}, {tau}")
    if math.isinf(tau):
        return min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    a = math.exp(-1.0 / (rate * tau))
    lows, highs = [0.0], [0.0]  # the idle line before the first play
    ends: list[float] = []
    for lp0 in (0.0, None):
        if lp0 is None:  # the periodic steady state of endless plays
            big_a = a ** x.size
            lp0 = ends[0] / (1.0 - big_a) if big_a < 1.0 else 0.0
        after, _ = lfilter([1.0 - a], [1.0, -a], x, zi=[a * lp0])
        before = np.concatenate([[lp0], after[:-1]])
        ends.append(float(after[-1]))
        for lp in (before, after):
            lows.append(float((x - lp).min()))
            highs.append(float((x - lp).max()))
            lows.append(float((-lp).min()))  # the AWG stopping here: 0 V out, lp still charged
            highs.append(float((-lp).max()))
    return min(lows), max(highs)
