"""Closed-form first-order filters on piecewise-constant / piecewise-linear signals, and the
run-length form of AWG sample pieces.

A signal is given on intervals ``[t_k, t_k+1)`` (``edges``, K + 1 increasing times) by its value
at each interval start ``x_k`` and slope ``s_k`` (V/s; 0 for plateaus).  A first-order low pass
``tau dy/dt = x - y`` has on each interval the exact solution

    y(t_k + u) = x_k + s_k (u - tau) + (y_k - x_k + s_k tau) exp(-u / tau),

so ``y_k+1 = a_k y_k + (1 - a_k)(x_k - s_k tau) + s_k d_k`` with ``a_k = exp(-d_k / tau)``: a
linear recurrence, solved for all k at once by a log-depth scan (`linear_scan`), never stepped
sample by sample.  The high pass (a bias-T's AC path) is ``x - y``.  Interval averages are exact
as well (`lowpass_pwl` returns them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

#: A piece of an AWG channel's played stream: (lab start time, samples in V, sample rate).
Piece = tuple[float, NDArray[np.floating], float]


def linear_scan(a: Array, b: Array, y0: float | Array) -> Array:
    """Solve ``y_k+1 = a_k y_k + b_k`` (k = 0 .. K-1) from ``y_0``: returns y_0 .. y_K.

    A Hillis-Steele scan over the affine maps (log2 K vectorised passes): exact, and stable for
    0 <= a_k <= 1 (products of a only shrink)."""
    a_arr = np.array(a, dtype=float)
    b_arr = np.array(b, dtype=float)
    n = a_arr.size
    shift = 1
    while shift < n:
        b_arr[shift:] += a_arr[shift:] * b_arr[:-shift]
        a_arr[shift:] *= a_arr[:-shift].copy()
        shift *= 2
    out = np.empty(n + 1)
    out[0] = y0
    out[1:] = a_arr * y0 + b_arr
    return out


def decay_factors(duration: ArrayLike, rate: ArrayLike) -> tuple[Array, Array]:
    """(``exp(-lam)``, ``(1 - exp(-lam)) / lam``) for ``lam = duration * rate``: the decay over an
    interval and the interval average of ``exp(-u rate)`` (1 at lam = 0; rate may be 0 or inf)."""
    d = np.asarray(duration, dtype=float)
    r = np.asarray(rate, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        lam = np.where(np.isinf(r), np.inf, d * np.where(np.isinf(r), 0.0, r))
    lam = np.where(d > 0, lam, 0.0)
    a = np.exp(-lam)
    small = lam < 1e-8
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(small, 1.0 - 0.5 * lam, -np.expm1(-lam) / np.where(small, 1.0, lam))
    return np.asarray(a), np.asarray(mean)


@dataclass(frozen=True)
class Filtered:
    """A low pass on a piecewise signal: ``y`` at the K + 1 edges, ``mean`` over the K intervals."""

    y: Array
    mean: Array


def lowpass_pwl(edges: ArrayLike, x: ArrayLike, tau: float, y0: float,
                slope: ArrayLike | None = None) -> Filtered:
    """Exact first-order low pass (time constant ``tau``, s; inf: y stays at y0) of the signal
    ``x_k + slope_k (t - t_k)`` on ``[t_k, t_k+1)``, starting from ``y(t_0) = y0``."""
    t = np.asarray(edges, dtype=float)
    xk = np.asarray(x, dtype=float)
    d = np.diff(t)
    s = np.zeros_like(xk) if slope is None else np.asarray(slope, dtype=float)
    if not tau > 0:
        raise ValueError(f"low pass time constant must be > 0 s, got {tau}")
    if np.isinf(tau):
        y = np.full(t.size, float(y0))
        return Filtered(y=y, mean=y[:-1].copy())
    a, avg = decay_factors(d, 1.0 / tau)
    target = xk - s * tau  # the value y relaxes towards at the interval start (moving with s)
    y = linear_scan(a, (1.0 - a) * target + s * d, y0)
    # mean of x_k + s (u - tau) + (y_k - x_k + s tau) e^{-u/tau} over [0, d)
    mean = target + 0.5 * s * d + (y[:-1] - target) * avg
    return Filtered(y=y, mean=np.asarray(mean))


def highpass_pwl(edges: ArrayLike, x: ArrayLike, tau: float, y0: float = 0.0,
                 slope: ArrayLike | None = None) -> Filtered:
    """Exact first-order high pass ``x - lowpass(x)`` (see `lowpass_pwl`, ``y0`` is the low-pass
    state): its values just after each edge (K + 1; the last one at the end) and its interval
    averages."""
    t = np.asarray(edges, dtype=float)
    xk = np.asarray(x, dtype=float)
    s = np.zeros_like(xk) if slope is None else np.asarray(slope, dtype=float)
    lp = lowpass_pwl(t, xk, tau, y0, s)
    x_after = np.append(xk, xk[-1] + s[-1] * (t[-1] - t[-2])) if xk.size else np.array([y0])
    x_mean = xk + 0.5 * s * np.diff(t)
    return Filtered(y=x_after - lp.y, mean=x_mean - lp.mean)


@dataclass(frozen=True)
class Runs:
    """A piecewise-constant signal: ``values[k]`` from ``starts[k]`` to the next start (the last
    one to ``end``).  Before the first start the signal is ``values[0]`` (held)."""

    starts: Array
    values: Array
    end: float

    def at(self, times: ArrayLike) -> Array:
        """Values at ``times`` (held before the first start and after the end)."""
        i = np.searchsorted(self.starts, np.asarray(times, dtype=float), side="right") - 1
        return np.asarray(self.values[np.clip(i, 0, self.values.size - 1)])

    def shifted(self, dt: float) -> Runs:
        return Runs(self.starts + dt, self.values, self.end + dt)


def runs_from_pieces(pieces: Sequence[Piece], t0: float, t1: float, idle: float = 0.0) -> Runs:
    """Run-length form of AWG pieces on [t0, t1): consecutive equal samples merge into one run
    (the zero-order hold the AWG plays); a gap between pieces is ``idle`` volts."""
    if not pieces:
        return Runs(np.array([t0]), np.array([idle]), t1)
    first, arrays, rate_list = zip(*pieces, strict=True)
    starts_p = np.array(first, dtype=float)
    rates = np.array(rate_list, dtype=float)
    lengths = np.fromiter((np.asarray(a).size for a in arrays), dtype=np.int64, count=len(arrays))
    ends_p = starts_p + lengths / rates
    samples = np.concatenate(arrays, axis=None).astype(float, copy=False)
    offsets = np.cumsum(lengths) - lengths
    change = np.empty(samples.size, dtype=bool)
    change[0] = True
    np.not_equal(samples[1:], samples[:-1], out=change[1:])
    idx = np.flatnonzero(change)
    piece = np.repeat(np.arange(lengths.size), lengths)[idx]
    times = starts_p[piece] + (idx - offsets[piece]) / rates[piece]
    values = samples[idx]
    # gaps between pieces (none when the pieces tile the window, as the AWG mock's do)
    gap = np.flatnonzero(starts_p[1:] > ends_p[:-1] + 1e-12)
    if gap.size:
        times = np.concatenate([times, ends_p[gap]])
        values = np.concatenate([values, np.full(gap.size, idle)])
        # the sample after a gap starts a run even if it repeats the value before the gap
        times = np.concatenate([times, starts_p[gap + 1]])
        values = np.concatenate([values, samples[offsets[gap + 1]]])
        order = np.argsort(times, kind="stable")
        times, values = times[order], values[order]
    if times[0] > t0:
        times = np.concatenate([[t0], times])
        values = np.concatenate([[idle], values])
    end = max(float(ends_p.max()), t1)
    return Runs(np.asarray(times), np.asarray(values), end)
