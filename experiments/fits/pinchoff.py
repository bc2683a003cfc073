"""Barrier pinch-off: current vs barrier voltage fitted with a logistic transmission.

Model: ``I(V) = I_open / (1 + exp(-(V - V0) / w)) + I_offset`` — the barrier is half open at the
pinch-off voltage ``V0``; ``w`` (V) is the width of the opening.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit

from dotstack.experiments.fits._data import sorted_xy


@dataclass(frozen=True)
class PinchOffFit:
    pinch_off: float  # V
    width: float  # V
    open_current: float  # A
    offset: float  # A
    pinch_off_stderr: float
    width_stderr: float

    def model(self, volts: ArrayLike) -> np.ndarray:
        return _logistic(np.asarray(volts, float), self.pinch_off, self.width,
                         self.open_current, self.offset)

    def as_dict(self) -> dict[str, float]:
        return {"pinch_off_V": self.pinch_off, "width_V": self.width,
                "open_current_A": self.open_current, "offset_A": self.offset,
                "pinch_off_stderr_V": self.pinch_off_stderr, "width_stderr_V": self.width_stderr}


def _logistic(v: np.ndarray, v0: float, w: float, i_open: float, offset: float) -> np.ndarray:
    return i_open * 0.5 * (1.0 + np.tanh((v - v0) / (2.0 * w))) + offset


def fit_pinchoff(volts: ArrayLike, current: ArrayLike) -> PinchOffFit:
    """Fit a pinch-off curve; NaN points (not acquired) are ignored."""
    v, i = sorted_xy(volts, current, min_points=5, what="pinch-off fit")
    lo, hi = float(np.percentile(i, 5)), float(np.percentile(i, 95))
    span = hi - lo
    if not span > 0:
        raise ValueError("pinch-off fit: the current does not change over the sweep")
    sign = 1.0 if np.mean(i[-max(1, v.size // 10):]) >= np.mean(i[: max(1, v.size // 10)]) else -1.0
    half = lo + 0.5 * span
    crossing = int(np.argmin(np.abs(i - half)))
    v0_guess = float(v[crossing])
    # 10-90 % rise of a logistic is 4.4 widths; start from a tenth of the sweep, refined by the fit
    w_guess = sign * (v[-1] - v[0]) / 20.0
    p0 = [v0_guess, w_guess, span, lo]
    try:
        popt, pcov = curve_fit(_logistic, v, i, p0=p0, maxfev=20000)
    except RuntimeError as exc:
        raise ValueError(f"pinch-off fit did not converge: {exc}") from exc
    v0, w, i_open, offset = (float(x) for x in popt)
    if w < 0:  # the same curve with the other sign convention
        w, i_open, offset = -w, -i_open, offset + i_open
    err = np.sqrt(np.diag(pcov)) if np.all(np.isfinite(pcov)) else np.full(4, math.inf)
    return PinchOffFit(v0, w, i_open, offset, float(err[0]), float(err[1]))
