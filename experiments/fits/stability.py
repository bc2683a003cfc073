"""Charge-stability diagram: transition lines -> cross-capacitance ratios and virtual gates.

The sensor current steps where an electron enters a dot.  Steps between neighbouring pixels
are found along P1 in every row (the steep dot-1 lines) and along P2 in every column (the
shallow dot-2 lines); each family's common slope is the shear that best lines up steps of
nearby rows (columns), see `fit_charge_stability`.

In the constant-interaction model a dot-i line obeys ``a_i1 dP1 + a_i2 dP2 = 0`` (``a`` the
lever-arm matrix), so the dot-1 line slope is ``dP2/dP1 = -a11/a12`` and the dot-2 slope is
``-a21/a22``.  The virtual-gate matrix ``M`` (``virtual = M @ [P1, P2]``) has rows normalised to a
unit diagonal: ``M = [[1, a12/a11], [a21/a22, 1]]``; each virtual plunger then moves only its
own dot's lines.

Uncertainties: the slope is an arg-max of an alignment score, not a least-squares fit, so its
standard error comes from a **moving-block bootstrap over rows** (columns for dot 2): blocks of
``2 * reach`` consecutive rows are drawn with replacement (as many as cover the map) and the
slope is re-estimated from the steps of the drawn rows, ``bootstrap`` times with a fixed
``seed``; the standard deviation of the replicates is the standard error (of the slopes, the
cross ratios and the virtual-gate matrix).  Blocks keep the rows whose steps are paired together
(at most ``reach`` apart) and the row-to-row correlation of slow drifts; the estimate is
reproducible for a given map and seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

#: half-width (in shear) of the window around the best shear where bootstrap replicates are scored
_WINDOW = 0.15


@dataclass(frozen=True)
class _Shear:
    """One family's alignment: the best shear, its bootstrap replicates, its segments."""

    shear: float
    n_segments: int
    replicates: np.ndarray
    #: segments as (first row, position there, last row, position there) in pixel units
    segments: list[tuple[float, float, float, float]]
    contrast: float  # score at the best shear / median score over all shears


@dataclass(frozen=True)
class StabilityFit:
    slope_dot1: float  # dP2/dP1 of the dot-1 lines (steep)
    slope_dot2: float  # dP2/dP1 of the dot-2 lines (shallow)
    n_segments_dot1: int
    n_segments_dot2: int
    slope_dot1_stderr: float = math.inf
    slope_dot2_stderr: float = math.inf
    cross_ratio_12_stderr: float = math.inf
    cross_ratio_21_stderr: float = math.inf
    #: segments of >= 3 aligned steps, (P1, P2 at the start, P1, P2 at the end) in V, along the
    #: fitted slope through the steps' centre
    lines_dot1: tuple[tuple[float, float, float, float], ...] = ()
    lines_dot2: tuple[tuple[float, float, float, float], ...] = ()
    #: how the uncertainties were found and how clearly the lines stand out
    fit_quality: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, fit: Mapping[str, Any]) -> StabilityFit:
        """The fit back from its `as_dict` (e.g. a run's ``meta/fit``)."""
        def err(key: str) -> float:
            return float(fit.get(f"{key}_stderr", math.inf))

        def lines(key: str) -> tuple[tuple[float, float, float, float], ...]:
            return tuple(_volts(tuple(seg)) for seg in fit.get(key) or ())

        return cls(float(fit["slope_dot1"]), float(fit["slope_dot2"]),
                   int(fit.get("n_segments_dot1", 0)), int(fit.get("n_segments_dot2", 0)),
                   err("slope_dot1"), err("slope_dot2"), err("cross_ratio_12"), err("cross_ratio_21"),
                   lines_dot1=lines("lines_dot1_V"), lines_dot2=lines("lines_dot2_V"),
                   fit_quality=dict(fit.get("fit_quality") or {}))

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

    @property
    def virtual_gate_matrix_stderr(self) -> np.ndarray:
        return np.array([[0.0, self.cross_ratio_12_stderr], [self.cross_ratio_21_stderr, 0.0]])

    def as_dict(self) -> dict[str, object]:
        return {"slope_dot1": self.slope_dot1, "slope_dot1_stderr": self.slope_dot1_stderr,
                "slope_dot2": self.slope_dot2, "slope_dot2_stderr": self.slope_dot2_stderr,
                "n_segments_dot1": self.n_segments_dot1, "n_segments_dot2": self.n_segments_dot2,
                "cross_ratio_12": self.cross_ratio_12,
                "cross_ratio_12_stderr": self.cross_ratio_12_stderr,
                "cross_ratio_21": self.cross_ratio_21,
                "cross_ratio_21_stderr": self.cross_ratio_21_stderr,
                "virtual_gate_matrix": self.virtual_gate_matrix.tolist(),
                "virtual_gate_matrix_stderr": self.virtual_gate_matrix_stderr.tolist(),
                "lines_dot1_V": [list(seg) for seg in self.lines_dot1],
                "lines_dot2_V": [list(seg) for seg in self.lines_dot2],
                "fit_quality": dict(self.fit_quality)}


def fit_charge_stability(p1: ArrayLike, p2: ArrayLike, current: ArrayLike,
                         *, edge_sigma: float = 4.0, reach: int = 6, bootstrap: int = 200,
                         seed: int = 0) -> StabilityFit:
    """Fit a map ``current[j, i]`` measured at ``(p1[i], p2[j])`` (NaN rows = not acquired).

    Steps between neighbouring pixels mark transitions: a steep dot-1 segment makes a step
    along P1 in every row it spans, a shallow dot-2 segment a step along P2 in every column.
    The segments are short (they break, offset, at every triple point), so the slope is found
    locally: the shear that makes the most pairs of steps up to ``reach`` rows (columns) apart
    line up within half a pixel.  Offsets at triple points cost every candidate slope alike, so
    they do not bias it, unlike a fit of whole lines.  Standard errors: ``bootstrap`` replicates
    of a moving-block bootstrap over rows (module docstring), seeded by ``seed``; 0 skips them
    (the errors are then inf).
    """
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, int | np.integer) or bootstrap < 0:
        raise ValueError(f"bootstrap must be an integer >= 0 (replicates), got {bootstrap!r}")
    if isinstance(reach, bool) or not isinstance(reach, int | np.integer) or reach < 1:
        raise ValueError(f"reach must be an integer >= 1 (rows), got {reach!r}")
    if not (isinstance(edge_sigma, int | float | np.number) and math.isfinite(edge_sigma)):
        raise ValueError(f"edge_sigma must be a finite number, got {edge_sigma!r}")
    x = np.asarray(p1, float)
    y = np.asarray(p2, float)
    z = np.asarray(current, float)
    if z.shape != (y.size, x.size):
        raise ValueError(f"current must have shape (len(p2), len(p1)) = {(y.size, x.size)}, got {z.shape}")
    rows = np.all(np.isfinite(z), axis=1)
    if rows.sum() < 10 or x.size < 10:
        raise ValueError("charge-stability fit needs at least 10 complete rows and columns")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("charge-stability fit: the gate voltages p1, p2 must be finite")
    y, z = y[rows], z[rows]
    dx, dy = float(np.mean(np.diff(x))), float(np.mean(np.diff(y)))
    step_x = np.abs(np.diff(z, axis=1))  # at (j, i + 1/2)
    step_y = np.abs(np.diff(z, axis=0))  # at (j + 1/2, i)
    thr = _edge_threshold(np.concatenate([step_x.ravel(), step_y.ravel()]), edge_sigma)
    rng = np.random.default_rng(seed)
    # dot 1: positions along P1 (i) of steps in each row (j); dot 2: the transpose
    f1 = _best_shear(*_steps(step_x, thr), reach, n_rows=z.shape[0], bootstrap=int(bootstrap), rng=rng)
    f2 = _best_shear(*_steps(step_y.T, thr), reach, n_rows=z.shape[1], bootstrap=int(bootstrap),
                     rng=rng)
    if f1.n_segments == 0 or f2.n_segments == 0:
        raise ValueError("charge-stability fit: found no transition lines of "
                         + ("dot 1" if f1.n_segments == 0 else "dot 2"))
    # dot 1: i + s1 j = const -> dP2/dP1 = -dy / (s1 dx); dot 2: j + s2 i = const -> -s2 dy / dx
    slope1 = -dy / (f1.shear * dx) if f1.shear != 0 else -math.inf
    slope2 = -f2.shear * dy / dx
    with np.errstate(divide="ignore"):
        slopes1 = -dy / (f1.replicates * dx)
    slopes2 = -f2.replicates * dy / dx
    ratio12, ratio21 = f1.replicates * dx / dy, f2.replicates * dy / dx  # -1/slope1, -slope2
    block = 2 * int(reach)
    x0, y0 = float(x[0]), float(y[0])
    return StabilityFit(
        float(slope1), float(slope2), f1.n_segments, f2.n_segments,
        _spread(slopes1), _spread(slopes2), _spread(ratio12), _spread(ratio21),
        lines_dot1=tuple(_volts((x0 + p0 * dx, y0 + r0 * dy, x0 + p1_ * dx, y0 + r1 * dy))
                         for r0, p0, r1, p1_ in f1.segments),
        lines_dot2=tuple(_volts((x0 + r0 * dx, y0 + p0 * dy, x0 + r1 * dx, y0 + p1_ * dy))
                         for r0, p0, r1, p1_ in f2.segments),
        fit_quality={"uncertainty": f"moving-block bootstrap over rows (dot 1) and columns "
                                    f"(dot 2), blocks of {block}",
                     "n_bootstrap": int(bootstrap), "block_rows": block, "seed": seed,
                     "edge_threshold": thr,
                     "alignment_contrast_dot1": f1.contrast, "alignment_contrast_dot2": f2.contrast})


def _volts(seg: Sequence[float]) -> tuple[float, float, float, float]:
    if len(seg) != 4:
        raise ValueError(f"a line segment is (P1, P2, P1, P2), got {list(seg)!r}")
    return (float(seg[0]), float(seg[1]), float(seg[2]), float(seg[3]))


def _spread(samples: np.ndarray) -> float:
    """Standard deviation of the bootstrap replicates (inf without replicates, or if any is)."""
    if samples.size < 2 or not np.all(np.isfinite(samples)):
        return math.inf
    return float(np.std(samples, ddof=1))


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


def _best_shear(rows: np.ndarray, pos: np.ndarray, size: np.ndarray, reach: int, *,
                n_rows: int, bootstrap: int, rng: np.random.Generator,
                lo: float = -0.9, hi: float = 0.9) -> _Shear:
    """Shear ``s`` in [lo, hi] that best aligns steps ``pos + s * row`` across nearby rows, its
    block-bootstrap replicates, the segments (chains of aligned steps) it shows and how far its
    score stands above the typical one."""
    none = _Shear(0.0, 0, np.zeros(0), [], 0.0)
    if rows.size < 4:
        return none
    dr = rows[None, :] - rows[:, None]
    dp = pos[None, :] - pos[:, None]
    near = (dr >= 1) & (dr <= reach) & (np.abs(dp) <= reach * max(abs(lo), abs(hi)) + 1)
    a, b = np.nonzero(near)
    if a.size == 0:
        return none
    drow, dpos = dr[a, b], dp[a, b]
    # only pairs at least reach/2 apart are scored: positions are quantised to whole pixels,
    # and close pairs would reward zero shear (runs of equal positions along a steep line)
    w = np.where(drow >= max(1, reach // 2), size[a] * size[b], 0.0)

    def kernel(shear: np.ndarray) -> np.ndarray:
        mis = dpos[None, :] + shear[:, None] * drow[None, :]
        return np.asarray(np.exp(-0.5 * (mis / 0.35) ** 2))

    grid = np.linspace(lo, hi, 361)
    coarse = kernel(grid) @ w
    best = float(grid[int(np.argmax(coarse))])
    fine = np.linspace(best - 0.01, best + 0.01, 81)
    best = float(fine[int(np.argmax(kernel(fine) @ w))])
    median = float(np.median(coarse))
    contrast = float(np.max(coarse) / median) if median > 0 else math.inf
    replicates = _bootstrap(kernel, w, rows[a], rows[b], best, reach, n_rows, bootstrap, rng)
    aligned = (np.abs(dpos + best * drow) < 0.5) & (drow <= 2)
    has_next = np.zeros(rows.size, bool)
    has_prev = np.zeros(rows.size, bool)
    has_next[a[aligned]] = True
    has_prev[b[aligned]] = True
    segments = _segments(rows, pos, a[aligned], b[aligned], best)
    return _Shear(best, int(np.count_nonzero(has_next & ~has_prev)),  # chains of >= 2 steps
                  replicates, segments, contrast)


def _bootstrap(kernel: Any, w: np.ndarray, row_a: np.ndarray, row_b: np.ndarray, best: float,
               reach: int, n_rows: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Best shears of ``n`` moving-block bootstrap replicates over rows.  A replicate draws
    ``ceil(n_rows / L)`` blocks of ``L = 2 reach`` consecutive rows; a pair of steps counts once
    per drawn block holding both its rows.  Scored on a fine grid around ``best`` (the score is
    linear in the pair weights: one matrix product for all replicates), the maximum refined by
    a parabola through its neighbours."""
    if n == 0:
        return np.zeros(0)
    length = min(2 * reach, n_rows)
    starts = n_rows - length + 1
    draws = rng.integers(0, starts, size=(n, math.ceil(n_rows / length)))
    counts = np.zeros((n, starts + 1))
    np.add.at(counts, (np.arange(n)[:, None], draws + 1), 1.0)
    cum = np.cumsum(counts, axis=1)  # cum[k, s] = blocks of replicate k starting before s
    first = np.clip(row_b.astype(int) - length + 1, 0, starts)  # block starts holding both rows
    last = np.clip(row_a.astype(int), -1, starts - 1)
    mult = np.where(last >= first, cum[:, last + 1] - cum[:, first], 0.0)  # (n, pairs)
    step = 0.00125
    grid = best + step * np.arange(-round(_WINDOW / step), round(_WINDOW / step) + 1)
    scores = kernel(grid) @ (w[:, None] * mult.T)  # (grid, n)
    k = np.clip(np.argmax(scores, axis=0), 1, grid.size - 2)
    cols = np.arange(n)
    left, mid, right = scores[k - 1, cols], scores[k, cols], scores[k + 1, cols]
    den = left - 2 * mid + right
    shift = np.where(den < 0, 0.5 * (left - right) / np.where(den < 0, den, -1.0), 0.0)
    return np.asarray(grid[k] + step * np.clip(shift, -0.5, 0.5))


def _segments(rows: np.ndarray, pos: np.ndarray, a: np.ndarray, b: np.ndarray,
              shear: float) -> list[tuple[float, float, float, float]]:
    """Chains of aligned steps (pairs ``a[k] - b[k]``) as lines of the fitted shear through
    each chain's centre, from its first to its last row: (row, pos, row, pos) in pixels."""
    parent = list(range(rows.size))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        parent[root(i)] = root(j)
    chains: dict[int, list[int]] = {}
    for k in range(rows.size):
        chains.setdefault(root(k), []).append(k)
    out = []
    for members in chains.values():
        if len(members) < 3:  # a line drawn through two steps says little
            continue
        r, p = rows[members], pos[members]
        pc = float(np.mean(p + shear * r))  # pos + shear * row = const along the line
        r0, r1 = float(np.min(r)), float(np.max(r))
        out.append((r0, pc - shear * r0, r1, pc - shear * r1))
    return sorted(out)
