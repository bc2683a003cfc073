"""Charge-stability diagram: transition lines -> cross-capacitance ratios and virtual gates.

The sensor current steps where an electron enters a dot.  Edge pixels (large smoothed
gradient) are sorted by the gradient's orientation into the dot-1 family (gradient nearly
along P1, steep lines), the dot-2 family (gradient nearly along P2, shallow lines) and the
inter-dot family.  Each family's lines are parallel; their common slope is fitted by least
squares with one intercept per line (lines separated by gaps in the projection on the normal).

In the constant-interaction model a dot-i line obeys ``a_i1 dP1 + a_i2 dP2 = 0`` (``a`` the
lever-arm matrix), so the dot-1 line slope is ``dP2/dP1 = -a11/a12`` and the dot-2 slope is
``-a21/a22``.  The virtual-gate matrix ``M`` (``virtual = M @ [P1, P2]``) has rows normalised to a
unit diagonal: ``M = [[1, a12/a11], [a21/a22, 1]]``; each virtual plunger then moves only its
own dot's lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class StabilityFit:
    slope_dot1: float  # dP2/dP1 of the dot-1 lines (steep)
    slope_dot2: float  # dP2/dP1 of the dot-2 lines (shallow)
    n_segments_dot1: int
    n_segments_dot2: int

    @property
    def cross_ratio_12(self) -> float:
        """a12/a11: how strongly P2 acts on dot 1, relative to P1."""
        return -1.0 / self.slope_dot1

    @property
    def cross_ratio_21(self) -> float:
        """a21/a22: how strongly P1 acts on dot 2, relative to P2."""
        return -self.slope_dot2

    @property
    def virtual_gate_matrix(self) -> np.ndarray:
        return np.array([[1.0, self.cross_ratio_12], [self.cross_ratio_21, 1.0]])

    def as_dict(self) -> dict[str, object]:
        return {"slope_dot1": self.slope_dot1, "slope_dot2": self.slope_dot2,
                "n_segments_dot1": self.n_segments_dot1, "n_segments_dot2": self.n_segments_dot2,
                "cross_ratio_12": self.cross_ratio_12, "cross_ratio_21": self.cross_ratio_21,
                "virtual_gate_matrix": self.virtual_gate_matrix.tolist()}


def fit_charge_stability(p1: ArrayLike, p2: ArrayLike, current: ArrayLike,
                         *, edge_sigma: float = 4.0, reach: int = 6) -> StabilityFit:
    """Fit a map ``current[j, i]`` measured at ``(p1[i], p2[j])`` (NaN rows = not acquired).

    Steps between neighbouring pixels mark transitions: a steep dot-1 segment makes a step
    along P1 in every row it spans, a shallow dot-2 segment a step along P2 in every column.
    The segments are short (they break, offset, at every triple point), so the slope is found
    locally: the shear that makes the most pairs of steps up to ``reach`` rows (columns) apart
    line up within half a pixel.  Offsets at triple points cost every candidate slope alike, so
    they do not bias it, unlike a fit of whole lines.
    """
    x = np.asarray(p1, float)
    y = np.asarray(p2, float)
    z = np.asarray(current, float)
    if z.shape != (y.size, x.size):
        raise ValueError(f"current must have shape (len(p2), len(p1)) = {(y.size, x.size)}, got {z.shape}")
    rows = np.all(np.isfinite(z), axis=1)
    if rows.sum() < 10 or x.size < 10:
        raise ValueError("charge-stability fit needs at least 10 complete rows and columns")
    y, z = y[rows], z[rows]
    dx, dy = float(np.mean(np.diff(x))), float(np.mean(np.diff(y)))
    step_x = np.abs(np.diff(z, axis=1))  # at (j, i + 1/2)
    step_y = np.abs(np.diff(z, axis=0))  # at (j + 1/2, i)
    thr = _edge_threshold(np.concatenate([step_x.ravel(), step_y.ravel()]), edge_sigma)
    # dot 1: positions along P1 (i) of steps in each row (j); dot 2: the transpose
    s1, n1 = _best_shear(*_steps(step_x, thr), reach)
    s2, n2 = _best_shear(*_steps(step_y.T, thr), reach)
    if n1 == 0 or n2 == 0:
        raise ValueError("charge-stability fit: found no transition lines of "
                         + ("dot 1" if n1 == 0 else "dot 2"))
    # dot 1: i + s1 j = const -> dP2/dP1 = -dy / (s1 dx); dot 2: j + s2 i = const -> -s2 dy / dx
    slope1 = -dy / (s1 * dx) if s1 != 0 else -np.inf
    slope2 = -s2 * dy / dx
    return StabilityFit(float(slope1), float(slope2), n1, n2)


def _edge_threshold(mag: np.ndarray, sigma: float) -> float:
    """Step size that marks a transition: ``sigma`` robust standard deviations above the median
    step (the median step lies inside a charge-state cell, where only noise and the smooth
    background vary), and never below 20 % of the largest steps (noiseless maps)."""
    med = float(np.median(mag))
    spread = 1.4826 * float(np.median(np.abs(mag - med)))
    return max(med + sigma * spread, 0.2 * float(np.quantile(mag, 0.995)))


def _steps(step: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, positions (sub-pixel, at local maxima along the row) and sizes of the steps."""
    big = step > thr
    left = np.pad(step, ((0, 0), (1, 0)), constant_values=-np.inf)[:, :-1]
    right = np.pad(step, ((0, 0), (0, 1)), constant_values=-np.inf)[:, 1:]
    peak = big & (step >= left) & (step > right)
    rr, cc = np.nonzero(peak)
    a, b, c = left[rr, cc], step[rr, cc], right[rr, cc]
    a = np.where(np.isfinite(a), a, b)
    c = np.where(np.isfinite(c), c, b)
    den = a - 2 * b + c
    frac = np.where(den < 0, 0.5 * (a - c) / np.where(den < 0, den, -1.0), 0.0)
    return rr.astype(float), cc + 0.5 + np.clip(frac, -0.5, 0.5), b


def _best_shear(rows: np.ndarray, pos: np.ndarray, size: np.ndarray, reach: int,
                lo: float = -0.9, hi: float = 0.9) -> tuple[float, int]:
    """Shear ``s`` in [lo, hi] that best aligns steps ``pos + s * row`` across nearby rows, and
    the number of segments (chains of aligned steps) it shows."""
    if rows.size < 4:
        return 0.0, 0
    dr = rows[None, :] - rows[:, None]
    dp = pos[None, :] - pos[:, None]
    near = (dr >= 1) & (dr <= reach) & (np.abs(dp) <= reach * max(abs(lo), abs(hi)) + 1)
    a, b = np.nonzero(near)
    if a.size == 0:
        return 0.0, 0
    drow, dpos = dr[a, b], dp[a, b]
    # only pairs at least reach/2 apart are scored: positions are quantised to whole pixels,
    # and close pairs would reward zero shear (runs of equal positions along a steep line)
    w = np.where(drow >= max(1, reach // 2), size[a] * size[b], 0.0)

    def score(shear: np.ndarray) -> np.ndarray:
        mis = dpos[None, :] + shear[:, None] * drow[None, :]
        return np.asarray(np.exp(-0.5 * (mis / 0.35) ** 2) @ w)

    grid = np.linspace(lo, hi, 361)
    best = float(grid[int(np.argmax(score(grid)))])
    fine = np.linspace(best - 0.01, best + 0.01, 81)
    best = float(fine[int(np.argmax(score(fine)))])
    aligned = (np.abs(dpos + best * drow) < 0.5) & (drow <= 2)
    has_next = np.zeros(rows.size, bool)
    has_prev = np.zeros(rows.size, bool)
    has_next[a[aligned]] = True
    has_prev[b[aligned]] = True
    return best, int(np.count_nonzero(has_next & ~has_prev))  # chains of >= 2 steps
