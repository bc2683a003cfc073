"""Barrier pinch-off: current vs barrier voltage fitted with a logistic transmission (lmfit).

Model: ``I(V) = I_open / (1 + exp(-(V - V0) / w)) + I_offset`` — the barrier is half open at the
pinch-off voltage ``V0``; ``w`` (V, > 0) is the width of the opening.  A falling curve has
``I_open < 0`` (``I_offset`` is then the open current).  Standard errors come from lmfit's
covariance, scaled by the reduced chi-square (see `dotstack.experiments.fits._lmfit`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import lmfit
import numpy as np
from numpy.typing import ArrayLike

from dotstack.experiments.fits._data import sorted_xy
from dotstack.experiments.fits._lmfit import quality, stderr, with_stderr


def _logistic(v: np.ndarray, v0: float, w: float, i_open: float, offset: float) -> np.ndarray:
    return i_open * 0.5 * (1.0 + np.tanh((v - v0) / (2.0 * w))) + offset


#: the lmfit model of a pinch-off curve (independent variable ``v``)
MODEL = lmfit.Model(_logistic, independent_vars=["v"], name="pinch-off logistic")


@dataclass(frozen=True)
class PinchOffFit:
    pinch_off: float  # V
    width: float  # V
    open_current: float  # A
    offset: float  # A
    pinch_off_stderr: float  # V
    width_stderr: float  # V
    open_current_stderr: float = float("inf")  # A
    offset_stderr: float = float("inf")  # A
    #: chi-square, reduced chi-square, R², AIC, BIC, ... (see `_lmfit.quality`)
    fit_quality: dict[str, Any] = field(default_factory=dict, compare=False)
    #: the lmfit `ModelResult` (parameters with uncertainties, correlations, ``fit_report()``)
    model_result: Any = field(default=None, repr=False, compare=False)

    @classmethod
    def from_dict(cls, fit: Mapping[str, Any]) -> PinchOffFit:
        """The fit back from its `as_dict` (e.g. a run's ``meta/fit``; no `model_result`)."""
        def err(key: str) -> float:
            return float(fit.get(f"{key}_stderr", math.inf))

        return cls(float(fit["pinch_off_V"]), float(fit["width_V"]), float(fit["open_current_A"]),
                   float(fit["offset_A"]), err("pinch_off_V"), err("width_V"), err("open_current_A"),
                   err("offset_A"), fit_quality=dict(fit.get("fit_quality") or {}))

    def model(self, volts: ArrayLike) -> np.ndarray:
        return _logistic(np.asarray(volts, float), self.pinch_off, self.width,
                         self.open_current, self.offset)

    def as_dict(self) -> dict[str, Any]:
        values = {"pinch_off_V": self.pinch_off, "width_V": self.width,
                  "open_current_A": self.open_current, "offset_A": self.offset}
        errors = {"pinch_off_V": self.pinch_off_stderr, "width_V": self.width_stderr,
                  "open_current_A": self.open_current_stderr, "offset_A": self.offset_stderr}
        return {**with_stderr(values, errors),
                # the names of the first version, kept for readers of older runs
                "pinch_off_stderr_V": self.pinch_off_stderr, "width_stderr_V": self.width_stderr,
                "fit_quality": dict(self.fit_quality)}


def fit_pinchoff(volts: ArrayLike, current: ArrayLike) -> PinchOffFit:
    """Fit a pinch-off curve; NaN points (not acquired) are ignored."""
    v, i = sorted_xy(volts, current, min_points=5, what="pinch-off fit")
    lo, hi = float(np.percentile(i, 5)), float(np.percentile(i, 95))
    span = hi - lo
    if not span > 0:
        raise ValueError("pinch-off fit: the current does not change over the sweep")
    tail = max(1, v.size // 10)
    sign = 1.0 if np.mean(i[-tail:]) >= np.mean(i[:tail]) else -1.0
    crossing = int(np.argmin(np.abs(i - (lo + 0.5 * span))))
    sweep = float(v[-1] - v[0])
    params = MODEL.make_params(
        v0=dict(value=float(v[crossing])),
        # 10-90 % rise of a logistic is 4.4 widths; start from a tenth of the sweep
        w=dict(value=sweep / 20.0, min=sweep * 1e-6),
        i_open=dict(value=sign * span),
        offset=dict(value=lo if sign > 0 else hi),
    )
    result = MODEL.fit(i, params, v=v, max_nfev=20000)
    if not result.success:
        raise ValueError(f"pinch-off fit did not converge: {result.message}")
    p = result.params
    return PinchOffFit(
        float(p["v0"].value), float(p["w"].value), float(p["i_open"].value), float(p["offset"].value),
        stderr(result, "v0"), stderr(result, "w"), stderr(result, "i_open"), stderr(result, "offset"),
        fit_quality=quality(result), model_result=result)
