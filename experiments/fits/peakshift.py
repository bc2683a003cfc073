"""Sensor peak shift vs a plunger: the slope dS/dP that a sensor compensation cancels.

A map ``current[k, j]`` of the sensor current vs plunger value ``P[k]`` (rows) and sensor gate
``S[j]`` (columns) shows a Coulomb peak whose position ``S_pk(P)`` is a sawtooth: it slides
linearly while the double dot keeps its charge, and jumps at every charge transition (that jump
is the charge-sensing signal).  The compensation wants the slope *within* a charge state.

`track_peak` locates the peak in each row (thermal line shape fitted around the peak nearest to
the previous row's); `fit_peak_shift` fits one common slope with one intercept per segment,
splitting the track at jumps: the median of the point-to-point slopes is a first sliding slope
(most intervals hold no transition); with it removed the track is piecewise constant, and its
steps (means on either side that differ by many standard errors) are the jumps; the split and
the fit are iterated until the jumps stop changing.  The two points beside each jump are left out
(a transition that falls on a sample splits its jump over two intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import curve_fit
from scipy.signal import find_peaks


@dataclass(frozen=True)
class PeakShiftFit:
    slope: float  # dS_peak/dP (V/V) within a charge state
    slope_stderr: float  # V/V
    jumps: tuple[float, ...]  # plunger values (V, midpoints) where the track jumps
    jump_sizes: tuple[float, ...]  # V of S, beyond the sliding slope
    n_segments: int  # segments with at least 2 points (those that carry the slope)
    n_points: int  # rows with a located peak
    residual_rms: float  # V of S, about the fitted segments

    def as_dict(self) -> dict[str, object]:
        return {"slope": self.slope, "slope_stderr": self.slope_stderr,
                "jumps_V": list(self.jumps), "jump_sizes_V": list(self.jump_sizes),
                "n_segments": self.n_segments, "n_points": self.n_points,
                "residual_rms_V": self.residual_rms}


def _line(v: np.ndarray, v0: float, w: float, a: float, c: float) -> np.ndarray:
    return a / np.cosh((v - v0) / (2.0 * w)) ** 2 + c


def track_peak(s: ArrayLike, current: ArrayLike, *, start: float | None = None) -> np.ndarray:
    """Centre (V) of one sensor Coulomb peak in every row of ``current[k, j]`` at ``s[j]``.

    The first row searched is the middle one, starting from the peak nearest ``start`` (default:
    the tallest); each further row (outwards) takes the peak nearest its neighbour's.  Rows with
    no peak standing out, or whose fit fails, are NaN.
    """
    sv = np.asarray(s, float)
    z = np.asarray(current, float)
    if sv.ndim != 1 or z.ndim != 2 or z.shape[1] != sv.size:
        raise ValueError(f"track_peak: current must be (rows, len(s)) = (n, {sv.size}), "
                         f"got {z.shape}")
    if sv.size < 7 or not np.all(np.isfinite(sv)) or np.any(np.diff(sv) <= 0):
        raise ValueError("track_peak: s must hold at least 7 finite, increasing voltages")
    centres = np.full(z.shape[0], np.nan)
    mid = z.shape[0] // 2
    order = [mid, *range(mid + 1, z.shape[0]), *range(mid - 1, -1, -1)]
    previous: float | None = None if start is None else float(start)
    for k in order:
        if k == mid - 1:  # going down from the middle: start again from the middle row's peak
            previous = None if math.isnan(centres[mid]) else float(centres[mid])
        centre = _row_peak(sv, z[k], previous)
        centres[k] = centre
        if not math.isnan(centre):
            previous = centre
    return centres


def _row_peak(s: np.ndarray, i: np.ndarray, near: float | None) -> float:
    ok = np.isfinite(i)
    if ok.sum() < 7:
        return math.nan
    s, i = s[ok], i[ok]
    base = float(np.percentile(i, 10))
    span = float(np.max(i)) - base
    if not span > 0:
        return math.nan
    idx, _ = find_peaks(i, prominence=0.3 * span)
    if idx.size == 0:
        return math.nan
    k = int(idx[np.argmax(i[idx])]) if near is None else int(idx[np.argmin(np.abs(s[idx] - near))])
    half = base + 0.5 * (i[k] - base)
    lo, hi = k, k
    while lo > 0 and i[lo] > half:
        lo -= 1
    while hi < s.size - 1 and i[hi] > half:
        hi += 1
    fwhm = max(float(s[hi] - s[lo]), 2.0 * float(np.min(np.diff(s))))
    window = np.abs(s - s[k]) < 1.5 * fwhm
    if window.sum() < 5:
        return math.nan
    try:
        popt, _ = curve_fit(_line, s[window], i[window],
                            p0=[float(s[k]), fwhm / 3.525, float(i[k]) - base, base], maxfev=5000)
    except RuntimeError:
        return math.nan
    centre = float(popt[0])
    return centre if s[window][0] <= centre <= s[window][-1] else math.nan


def fit_peak_shift(plunger: ArrayLike, peak: ArrayLike, *, threshold: float = 5.0,
                   window: int = 4, max_iterations: int = 10) -> PeakShiftFit:
    """Common slope of the peak track ``peak(plunger)`` between its jumps (NaN points skipped).

    With the sliding slope removed the track is piecewise constant; an interval is a jump where
    the means of up to ``window`` points on either side differ by more than ``threshold``
    standard errors (the point scatter from the track's first differences, robustly), the
    largest first, none within ``window`` intervals of a larger one.
    """
    p = np.asarray(plunger, float)
    y = np.asarray(peak, float)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"fit_peak_shift needs two 1-D arrays of one length, got {p.shape} and "
                         f"{y.shape}")
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"fit_peak_shift: window must be an integer >= 1, got {window!r}")
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"fit_peak_shift: threshold must be > 0, got {threshold!r}")
    ok = np.isfinite(p) & np.isfinite(y)
    p, y = p[ok], y[ok]
    order = np.argsort(p)
    p, y = p[order], y[order]
    if p.size < 4 or np.any(np.diff(p) <= 0):
        raise ValueError("fit_peak_shift needs at least 4 located peaks at distinct plunger "
                         f"values, got {p.size}")
    dp, dy = np.diff(p), np.diff(y)
    slope = float(np.median(dy / dp))
    jump = np.zeros(dp.size, bool)
    n_seg, stderr, scatter = 0, math.inf, 0.0
    for _ in range(max_iterations):
        new = _find_jumps(y - slope * p, int(window), threshold)
        # a transition may fall on a point (partly made: the dot's thermal or noisy occupation),
        # splitting its jump over two intervals: the points on either side of a jump are left
        # out of the fit (each its own one-point segment)
        breaks = new.copy()
        breaks[1:] |= new[:-1]
        breaks[:-1] |= new[1:]
        slope, stderr, scatter, n_seg = _segments_fit(p, y, breaks)
        if np.array_equal(new, jump):
            break
        jump = new
    if n_seg == 0:
        raise ValueError("fit_peak_shift: no two neighbouring points without a jump between "
                         "them; sample the plunger more finely")
    where = np.flatnonzero(jump)
    r = y - slope * p
    sizes = [float(np.mean(r[k + 2:k + 2 + window]) - np.mean(r[max(0, k - window):k]))
             if k >= 1 and k + 2 < r.size else float(dy[k] - slope * dp[k]) for k in where]
    return PeakShiftFit(slope, stderr, tuple(float(x) for x in 0.5 * (p[where] + p[where + 1])),
                        tuple(sizes), n_seg, int(p.size), scatter)


def _find_jumps(r: np.ndarray, window: int, threshold: float) -> np.ndarray:
    """Intervals of the piecewise-constant ``r`` (noisy) where it steps (bool per interval)."""
    d = np.diff(r)
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d)))) / math.sqrt(2.0)
    if not sigma > 0:
        sigma = max(float(np.std(d)), 1e-15)
    n = r.size
    csum = np.concatenate([[0.0], np.cumsum(r)])
    z = np.zeros(n - 1)
    for k in range(n - 1):  # interval between points k and k + 1
        lo, hi = max(0, k + 1 - window), min(n, k + 1 + window)
        n_left, n_right = k + 1 - lo, hi - (k + 1)
        left = (csum[k + 1] - csum[lo]) / n_left
        right = (csum[hi] - csum[k + 1]) / n_right
        z[k] = (right - left) / (sigma * math.sqrt(1.0 / n_left + 1.0 / n_right))
    jump = np.zeros(n - 1, bool)
    free = np.ones(n - 1, bool)
    for k in np.argsort(-np.abs(z)):
        if abs(z[k]) <= threshold:
            break
        if free[k]:
            jump[k] = True
            free[max(0, k - window):k + window + 1] = False
    return jump


def _segments_fit(p: np.ndarray, y: np.ndarray, jump: np.ndarray) -> tuple[float, float, float, int]:
    """Least squares ``y = slope p + b_seg``: (slope, its standard error, residual rms, segments
    with >= 2 points)."""
    seg = np.concatenate([[0], np.cumsum(jump)])
    pc, yc = p.copy(), y.copy()
    n_seg = 0
    for s in np.unique(seg):
        sel = seg == s
        if sel.sum() >= 2:
            n_seg += 1
        pc[sel] -= p[sel].mean()
        yc[sel] -= y[sel].mean()
    sxx = float(pc @ pc)
    if n_seg == 0 or sxx <= 0:
        return float(np.median(np.diff(y) / np.diff(p))), math.inf, 0.0, 0
    slope = float(pc @ yc) / sxx
    resid = yc - slope * pc
    dof = max(p.size - len(np.unique(seg)) - 1, 1)
    rms = math.sqrt(float(resid @ resid) / dof)
    return slope, rms / math.sqrt(sxx), rms, n_seg
