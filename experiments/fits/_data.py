"""Input checks shared by the 1-D fits."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def sorted_xy(x: ArrayLike, y: ArrayLike, *, min_points: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Two 1-D arrays of one length, without NaN points (not acquired), sorted by ``x``."""
    xa = np.asarray(x, float)
    ya = np.asarray(y, float)
    if xa.shape != ya.shape or xa.ndim != 1:
        raise ValueError(f"{what} needs two 1-D arrays of one length, got {xa.shape} and {ya.shape}")
    ok = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[ok], ya[ok]
    if xa.size < min_points:
        raise ValueError(f"{what} needs at least {min_points} valid points, got {xa.size}")
    order = np.argsort(xa)
    return xa[order], ya[order]
