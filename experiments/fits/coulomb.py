"""Sensor Coulomb peaks: find the peaks, fit the tallest, choose the operating point.

Each peak is fitted with the thermally broadened line shape
``I(V) = A / cosh²((V - V0) / (2 w)) + c``, whose slope is steepest at
``V = V0 ± 2 w · atanh(1/√3)``.  The operating point is the steepest flank of the tallest peak (rising
or falling side, as asked); the sensitivity there is the fitted slope dI/dV, which is
``∓ 2 A / (3 √3 w)`` (the sign that of the flank).  The peak is fitted with lmfit; the
operating point's and the slope's standard errors are propagated through the fit's covariance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike
from scipy.signal import find_peaks

from dotstack.experiments.fits._data import sorted_xy
from dotstack.experiments.fits._lmfit import propagate, quality, stderr, with_stderr

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
    #: standard errors by `as_dict` key (``peak_V``, ``operating_point_V``, ``slope_A_per_V``, ...)
    stderr: dict[str, float] = field(default_factory=dict, compare=False)
    #: chi-square, reduced chi-square, R², AIC, BIC, ... of the peak fit (see `_lmfit.quality`)
    fit_quality: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the lmfit `ModelResult` of the tallest peak (fitted in the window ``fit_range``)
    model_result: Any = field(default=None, repr=False, compare=False)
    fit_range: tuple[float, float] = (-math.inf, math.inf)  # V, the window the peak was fitted in

    @classmethod
    def from_dict(cls, fit: Mapping[str, Any]) -> SensorFit:
        """The fit back from its `as_dict` (e.g. a run's ``meta/fit``; no `model_result`)."""
        keys = ("peak_V", "height_A", "width_V", "background_A", "operating_point_V", "slope_A_per_V")
        lo, hi = fit.get("fit_range_V") or (-math.inf, math.inf)
        return cls(tuple(float(x) for x in fit.get("peaks_V", ())), float(fit["peak_V"]),
                   float(fit["height_A"]), float(fit["width_V"]), float(fit["background_A"]),
                   float(fit["operating_point_V"]), float(fit["slope_A_per_V"]),
                   stderr={k: float(fit[f"{k}_stderr"]) for k in keys if f"{k}_stderr" in fit},
                   fit_quality=dict(fit.get("fit_quality") or {}), fit_range=(float(lo), float(hi)))

    def model(self, volts: ArrayLike) -> np.ndarray:
        return _peak(np.asarray(volts, float), self.peak, self.width, self.height, self.background)

    def as_dict(self) -> dict[str, object]:
        values = {"peaks_V": list(self.peaks), "peak_V": self.peak, "height_A": self.height,
                  "width_V": self.width, "background_A": self.background,
                  "operating_point_V": self.operating_point, "slope_A_per_V": self.slope}
        return {**with_stderr(values, self.stderr), "fit_range_V": list(self.fit_range),
                "fit_quality": dict(self.fit_quality)}


def _peak(v: np.ndarray, v0: float, w: float, a: float, c: float) -> np.ndarray:
    return a / np.cosh((v - v0) / (2.0 * w)) ** 2 + c


#: the lmfit model of one thermally broadened Coulomb peak (independent variable ``v``)
MODEL = lmfit.Model(_peak, independent_vars=["v"], name="Coulomb peak sech²")


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
    params = MODEL.make_params(v0=dict(value=float(v[tallest])), w=dict(value=w0, min=w0 * 1e-3),
                               a=dict(value=float(i[tallest]) - base), c=dict(value=base))
    result = MODEL.fit(i[window], params, v=v[window], max_nfev=20000)
    if not result.success:
        raise ValueError(f"sensor peak fit did not converge: {result.message}")
    p = result.params
    v0, w, a, c = (float(p[n].value) for n in ("v0", "w", "a", "c"))
    # rising flank (dI/dV > 0): left of a peak, right of a dip
    side = -1.0 if (prefer == "rising") == (a > 0) else 1.0
    flank = v0 + side * _STEEPEST * w
    slope = -side * 2.0 * a / (3.0 * math.sqrt(3.0) * w)  # dI/dV at V0 ± 2w atanh(1/sqrt 3)
    errors = {"peak_V": stderr(result, "v0"), "width_V": stderr(result, "w"),
              "height_A": stderr(result, "a"), "background_A": stderr(result, "c"),
              "operating_point_V": propagate(result, {"v0": 1.0, "w": side * _STEEPEST}),
              "slope_A_per_V": propagate(result, {"a": slope / a, "w": -slope / w})}
    return SensorFit(tuple(float(x) for x in v[idx]), v0, a, w, c, float(flank), float(slope),
                     stderr=errors, fit_quality=quality(result), model_result=result,
                     fit_range=(float(v[window][0]), float(v[window][-1])))
