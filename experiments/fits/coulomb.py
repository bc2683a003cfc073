"""Sensor Coulomb peaks: find the peaks, fit the tallest, choose the operating point.

Each peak is fitted with the thermally broadened line shape
``I(V) = A / cosh²((V - V0) / (2 w)) + c``, whose slope is steepest at
``V = V0 ± 2 w · atanh(1/√3)``.  The operating point is the steepest flank of the tallest peak (rising
or falling side, as asked); the sensitivity there is the fitted slope dI/dV.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit
from scipy.signal import find_peaks

from dotstack.experiments.fits._data import sorted_xy

_STEEPEST = 2.0 * math.atanh(1.0 / math.sqrt(3.0))  # flank offset in units of w


@dataclass(frozen=True)
class SensorFit:
    peaks: tuple[float, ...]  # V, every peak found (ascending)
    peak: float  # V, centre of the fitted (tallest) peak
    height: float  # A
    width: float  # V (w of the line shape)
    background: float  # A
    operating_point: float  # V, steepest flank
    slope: float  # A/V at the operating point (signed)

    def model(self, volts: ArrayLike) -> np.ndarray:
        return _peak(np.asarray(volts, float), self.peak, self.width, self.height, self.background)

    def as_dict(self) -> dict[str, object]:
        return {"peaks_V": list(self.peaks), "peak_V": self.peak, "height_A": self.height,
                "width_V": self.width, "background_A": self.background,
                "operating_point_V": self.operating_point, "slope_A_per_V": self.slope}


def _peak(v: np.ndarray, v0: float, w: float, a: float, c: float) -> np.ndarray:
    return a / np.cosh((v - v0) / (2.0 * w)) ** 2 + c


def fit_sensor_peaks(volts: ArrayLike, current: ArrayLike, *, prefer: str = "rising") -> SensorFit:
    """Find Coulomb peaks in a sensor-gate sweep and pick the operating point.

    ``prefer`` chooses the flank: "rising" (dI/dV > 0) or "falling".
    """
    if prefer not in ("rising", "falling"):
        raise ValueError(f"prefer must be 'rising' or 'falling', got {prefer!r}")
    v, i = sorted_xy(volts, current, min_points=7, what="sensor fit")
    base = float(np.percentile(i, 10))
    span = float(np.max(i)) - base
    if not span > 0:
        raise ValueError("sensor fit: no peak (the current is flat)")
    idx, _ = find_peaks(i, prominence=0.3 * span)
    if idx.size == 0:
        raise ValueError("sensor fit: no Coulomb peak stands out of the sweep")
    tallest = int(idx[np.argmax(i[idx])])
    half = base + 0.5 * (i[tallest] - base)
    left = tallest
    while left > 0 and i[left] > half:
        left -= 1
    right = tallest
    while right < v.size - 1 and i[right] > half:
        right += 1
    fwhm = max(float(v[right] - v[left]), float(np.min(np.diff(v))) * 2)
    w0 = fwhm / 3.525  # FWHM of cosh^-2(x/2w) is 3.525 w
    window = np.abs(v - v[tallest]) < 4 * fwhm
    try:
        popt, _ = curve_fit(_peak, v[window], i[window],
                            p0=[float(v[tallest]), w0, float(i[tallest]) - base, base],
                            maxfev=20000)
    except RuntimeError as exc:
        raise ValueError(f"sensor peak fit did not converge: {exc}") from exc
    v0, w, a, c = (float(x) for x in popt)
    w = abs(w)
    flank = v0 - _STEEPEST * w if (prefer == "rising") == (a > 0) else v0 + _STEEPEST * w
    eps = w * 1e-4
    slope = float((_peak(np.array([flank + eps]), v0, w, a, c)
                   - _peak(np.array([flank - eps]), v0, w, a, c))[0] / (2 * eps))
    return SensorFit(tuple(float(x) for x in v[idx]), v0, a, w, c, float(flank), slope)
