"""What the 1-D fits share on top of lmfit: uncertainties, propagated errors, goodness of fit.

The fits are unweighted least squares (the noise of a DC reading is not known beforehand), so
lmfit scales the covariance by the reduced chi-square (``scale_covar=True``): the standard
errors are those implied by the scatter of the residuals.  ``chi_square`` is then the residual
sum of squares in the data's units squared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def stderr(result: Any, name: str) -> float:
    """The standard error of parameter ``name`` (inf when lmfit could not estimate it)."""
    err = result.params[name].stderr
    return float(err) if err is not None and math.isfinite(err) else math.inf


def propagate(result: Any, gradient: Mapping[str, float]) -> float:
    """Standard error of a function of the fitted parameters, by linear propagation through the
    covariance: ``sqrt(g^T C g)`` with ``g`` its partial derivatives (by parameter name)."""
    covar = result.covar
    names = list(result.var_names)
    if covar is None or any(n not in names for n in gradient if gradient[n] != 0.0):
        return math.inf
    g = np.array([gradient.get(n, 0.0) for n in names])
    var = float(g @ np.asarray(covar) @ g)
    return math.sqrt(var) if var >= 0 and math.isfinite(var) else math.inf


def quality(result: Any) -> dict[str, float | int | bool]:
    """Goodness of fit as lmfit computes it, plus the rms residual (in the data's units)."""
    resid = np.asarray(result.residual, float)
    return {
        "chi_square": float(result.chisqr),
        "reduced_chi_square": float(result.redchi),
        "r_squared": float(getattr(result, "rsquared", math.nan)),
        "aic": float(result.aic),
        "bic": float(result.bic),
        "n_points": int(result.ndata),
        "n_parameters": int(result.nvarys),
        "residual_rms": float(np.sqrt(np.mean(resid**2))) if resid.size else math.nan,
        "errors_estimated": bool(result.errorbars),
    }


def with_stderr(values: Mapping[str, Any], errors: Mapping[str, float]) -> dict[str, Any]:
    """``values`` with a ``<key>_stderr`` entry after each key that has an error."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        out[key] = value
        if key in errors:
            out[f"{key}_stderr"] = errors[key]
    return out
