"""From a piecewise-constant signal to digitizer samples: the readout filter and its noise.

The demodulated signal is constant on each simulated interval; the single-pole readout filter
(time constant ``tau``) turns it into ``x_k + (y_k - x_k) exp(-(t - t_k) / tau)`` on interval k,
with the filter state ``y_k`` from the closed-form scan (`lowpass_pwl`).  `render_points` writes
each interval's level with one ``np.repeat`` and adds the transient only where it exceeds a
tolerance (it decays geometrically from sample to sample); `render_bins` averages exactly over
sample bins (a video pixel integrated over its dwell).

`BandLimitedNoise`: white noise through the same filter, sampled at rate r, is exactly an AR(1)
process ``z_j+1 = rho z_j + sqrt(1 - rho^2) sigma e_j`` with ``rho = exp(-1 / (r tau))``.  Drawing
10^7 normals and filtering them costs more than a 10 MS record may, so records are assembled from
slices of a cached stationary AR(1) table (unit variance, 2^21 samples per rho) at seeded random
offsets, signs and directions (a stationary Gaussian AR(1) is time-reversible): each slice is
continued exactly from the end of the previous one by adding ``rho^(j+1) (x_prev - s_-1)``, the
part of the path its own start carried over, so the record is an exact AR(1) path whose
innovations are the table's.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from dotstack.mocks.physics.timedomain.segments import lowpass_pwl

Array = NDArray[np.float64]
_TABLE_LEN = 1 << 21
_SLICE = 1 << 16
_TABLES = 4  # cached rho values
#: Noise of a record: (lag-1 correlation rho, standard deviation sigma (V), random stream).
Noise = tuple[float, float, np.random.Generator]


def sample_index(times: Array, t0: float, rate: float, n: int) -> NDArray[np.int64]:
    """Index of the first sample at or after each time (samples at t0 + j / rate), in [0, n]."""
    j = np.ceil((times - t0) * rate - 1e-6)
    return np.clip(j, 0, n).astype(np.int64)


def render_points(edges: Array, x: Array, tau: float, t0: float, n: int, rate: float,
                  tolerance: float, noise: Noise | None = None) -> Array:
    """Point samples at ``t0 + j / rate`` (j < n) of the readout filter's output for the signal
    ``x`` (constant on the intervals of ``edges``, which must cover the samples), the filter
    settled at ``x[0]`` at ``edges[0]``; plus the band-limited ``noise`` if given."""
    lp = lowpass_pwl(edges, x, tau, float(x[0]))
    first = sample_index(edges, t0, rate, n)
    counts = np.diff(first)
    if int(counts.sum()) != n:
        raise ValueError(f"signal intervals cover {int(counts.sum())} of {n} samples")
    if 4 * (x.size - 1) > n:  # about as many intervals as samples: evaluate per sample
        return _dense(edges, x, lp.y, counts, tau, t0, rate, noise)
    values, repeats = _stream(edges, x, lp.y[:-1] - x, first, counts, tau, t0, rate, tolerance)
    if noise is None:
        return np.repeat(values, repeats)
    out = np.empty(n)
    ends = np.cumsum(repeats)
    for a, b in BandLimitedNoise.blocks(out, *noise):  # the signal joins each block in cache
        j0 = int(np.searchsorted(ends, a, side="right"))
        j1 = int(np.searchsorted(ends, b, side="left")) + 1
        stop = ends[j0:j1]
        c = np.minimum(stop, b) - np.maximum(stop - repeats[j0:j1], a)
        out[a:b] += np.repeat(values[j0:j1], c)
    return out


def _dense(edges: Array, x: Array, y: Array, counts: NDArray[np.int64], tau: float, t0: float,
           rate: float, noise: Noise | None) -> Array:
    """`render_points` where the intervals are about as dense as the samples: each sample is
    ``x_k + (y_k - x_k) exp(-(t - t_k) / tau)`` of its interval k (exact, one exp a sample)."""
    n = int(counts.sum())
    k = np.repeat(np.arange(x.size), counts)  # the samples are t0 + j / rate, in order
    out = x[k]
    if math.isfinite(tau):
        out += (y[:-1] - x)[k] * np.exp(-(t0 + np.arange(n) / rate - edges[k]) / tau)
    if noise is not None:
        out += _noise_path(n, *noise)
    return out


def _noise_path(n: int, rho: float, sigma: float, rng: np.random.Generator) -> Array:
    path = np.zeros(n)
    BandLimitedNoise.add(path, rho, sigma, rng)
    return path


def _stream(edges: Array, x: Array, delta: Array, first: NDArray[np.int64],
            counts: NDArray[np.int64], tau: float, t0: float, rate: float, tolerance: float
            ) -> tuple[Array, NDArray[np.int64]]:
    """(values, repeat counts) whose ``np.repeat`` is the filtered signal: interval k gives its
    transient ``x_k + delta_k exp(-(t - t_k) / tau)`` sample by sample until it is below
    ``tolerance``, then ``x_k`` repeated.  Intervals with transients of similar length are
    laid out as dense rows (`_row_width`; unused entries are repeated 0 times)."""
    length = np.zeros(x.size, dtype=np.int64)
    keep = np.flatnonzero((counts > 0) & (np.abs(delta) > tolerance))
    step = 1.0 / (rate * tau) if math.isfinite(tau) else math.inf
    amp = np.zeros(x.size)
    if keep.size and math.isfinite(step):
        u0 = np.maximum((t0 + first[keep] / rate - edges[keep]) / tau, 0.0)
        amp[keep] = delta[keep] * np.exp(-u0)
        with np.errstate(divide="ignore"):
            need = np.ceil(np.log(np.abs(amp[keep]) / tolerance) / step) + 1
        need = np.nan_to_num(need, nan=0.0, posinf=float(counts.max()), neginf=0.0)
        length[keep] = np.clip(need, 0, counts[keep]).astype(np.int64)
    width = np.where(length > 0, _row_width(length + 1), 1)
    offset = np.cumsum(width) - width
    values = np.zeros(int(width.sum()))
    repeats = np.zeros(values.size, dtype=np.int64)
    single = width == 1
    values[offset[single]] = x[single]
    repeats[offset[single]] = counts[single]
    for w in np.unique(width[~single]).tolist():
        rows = np.flatnonzero(width == w)
        i = np.arange(w)
        block = x[rows, None] + amp[rows, None] * np.exp(-step * i)
        reps = (i < length[rows, None]).astype(np.int64)
        last = np.arange(rows.size), length[rows]
        block[last] = x[rows]
        reps[last] = counts[rows] - length[rows]
        at = offset[rows, None] + i
        values[at] = block
        repeats[at] = reps
    return values, repeats


def _row_width(need: NDArray[np.int64]) -> NDArray[np.int64]:
    """Row widths >= need: multiples of 16 up to 256, then of 1/16 of the next power of two
    (at most 15 entries or 1/8 of a row wasted, a few dozen distinct widths)."""
    grain = np.maximum(16, (1 << np.ceil(np.log2(np.maximum(need, 1))).astype(np.int64)) // 16)
    return np.asarray(-(-need // grain) * grain, dtype=np.int64)


def render_bins(edges: Array, x: Array, tau: float, t0: float, n: int, rate: float) -> Array:
    """Averages of the readout filter's output over the bins ``[t0 + j / rate, t0 + (j+1) / rate)``
    (bin edges must be among ``edges``)."""
    lp = lowpass_pwl(edges, x, tau, float(x[0]))
    d = np.diff(edges)
    mid = 0.5 * (edges[:-1] + edges[1:])
    b = np.floor((mid - t0) * rate).astype(np.int64)
    ok = (b >= 0) & (b < n)
    sums = np.bincount(b[ok], weights=(lp.mean * d)[ok], minlength=n)
    return np.asarray(sums * rate)


def bin_noise(tau: float, rate: float) -> tuple[float, float]:
    """(standard deviation relative to a point sample's, lag-1 correlation) of the averages of
    the filtered white noise (an OU process) over consecutive bins of 1 / rate."""
    x = 1.0 / (rate * tau)
    if x < 1e-6:
        return 1.0, math.exp(-x)
    em = -math.expm1(-x)
    var = 2.0 * (x - em) / (x * x)
    return math.sqrt(var), min(em * em / (x * x * var), 1.0)


class BandLimitedNoise:
    """Exact AR(1) noise paths assembled from cached tables (see the module docstring)."""

    _lock: ClassVar[threading.Lock] = threading.Lock()
    _tables: ClassVar[OrderedDict[float, tuple[Array, Array]]] = OrderedDict()

    @classmethod
    def table(cls, rho: float) -> tuple[Array, Array]:
        """(stationary unit-variance AR(1) table, rho^(1..m) until it is below 1e-17)."""
        with cls._lock:
            hit = cls._tables.get(rho)
            if hit is not None:
                cls._tables.move_to_end(rho)
                return hit
        rng = np.random.default_rng([0x7AB1E, round(rho * 2**52)])
        eps = rng.standard_normal(_TABLE_LEN)
        z0 = rng.standard_normal()
        gain = math.sqrt(max(1.0 - rho * rho, 0.0))
        table = np.asarray(lfilter([gain], [1.0, -rho], eps, zi=[rho * z0])[0], dtype=float)
        m = 0 if rho <= 0 else min(_SLICE, math.ceil(-39.0 / math.log(rho)) if rho < 1 else _SLICE)
        powers = rho ** np.arange(1, m + 1, dtype=float)
        table.flags.writeable = False
        with cls._lock:
            cls._tables[rho] = (table, powers)
            while len(cls._tables) > _TABLES:
                cls._tables.popitem(last=False)
        return table, powers

    @classmethod
    def blocks(cls, out: Array, rho: float, sigma: float, rng: np.random.Generator
               ) -> Iterator[tuple[int, int]]:
        """Write ``sigma`` times a stationary unit-variance AR(1) path (lag-1 correlation
        ``rho``) into ``out`` block by block, yielding each block's (start, stop) once written."""
        table, powers = cls.table(float(rho))
        n = out.size
        k = -(-n // _SLICE)
        offsets = rng.integers(1, _TABLE_LEN - _SLICE - 1, size=k)
        kinds = rng.integers(0, 4, size=k)
        prev = 0.0
        for s in range(k):
            a = s * _SLICE
            m = min(n, a + _SLICE) - a
            o = int(offsets[s])
            if kinds[s] & 2:  # reversed in time
                seg, before = table[o + m - 1:o - 1:-1], float(table[o + m])
            else:
                seg, before = table[o:o + m], float(table[o - 1])
            sign = -sigma if kinds[s] & 1 else sigma
            block = out[a:a + m]
            np.multiply(seg, sign, out=block)
            if s:
                j = min(m, powers.size)
                block[:j] += (prev - sign * before) * powers[:j]
            prev = float(block[-1])  # the path's own value (the caller may add to the block)
            yield a, a + m

    @classmethod
    def add(cls, out: Array, rho: float, sigma: float, rng: np.random.Generator) -> None:
        """Add such a path (see `blocks`) to ``out`` in place."""
        if sigma == 0 or out.size == 0:
            return
        path = np.empty(out.size)
        for _ in cls.blocks(path, rho, sigma, rng):
            pass
        out += path
