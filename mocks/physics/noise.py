"""Seeded noise processes defined in lab time: deterministic, random access, bounded memory.

- `OneOverF`: 1/f noise with a continuous spectrum, a weighted sum of Ornstein-Uhlenbeck
  (Lorentzian) processes whose corner frequencies are log-spaced across the band; several
  independent channels (streams) share one set of components.  Values, integrals and exact
  window averages at any lab times, in any order.
- `BrownianPath`: a Brownian path W(t); white noise is its derivative, so the white-noise average
  over [a, b] is (W(b) - W(a)) / (b - a) and averages are additive across windows.
- `Telegraph`: a two-level fluctuator with Poisson switching; its occupied fraction over a window
  is exact.
- `white_normal`: a standard normal number per (time, duration) from a counter-based hash (for
  instrument-internal noise; not consistent across windows).

Random access in lab time (OU components and the Brownian path alike): the state at block
boundaries is a Markov chain generated forward from t = 0 with a seeded stream (a second,
independent chain for t < 0 makes the processes two-sided); blocks are filled in by exact
bridges between their end states, level by level down to a fine grid, each node from its own
counter-based draw, so any time is evaluated without generating what lies before it.  Nodes are
cached (bounded); between fine-grid points the value is a fixed interpolation.  Every grid is
dyadic in lab time (steps are powers of two seconds).
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import nnls
from scipy.signal import lfilter
from scipy.special import ndtri

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
_M64 = 0xFFFFFFFFFFFFFFFF
_GOLDEN = 0x9E3779B97F4A7C15


# ---------------------------------------------------------------- counter-based randomness
def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = x + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)))


def _mix(*words: int) -> int:
    """A 64-bit hash of integers (pure Python splitmix64 chain)."""
    h = 0x6A09E667F3BCC909
    for w in words:
        z = ((h ^ (w & _M64)) + _GOLDEN) & _M64
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
        h = z ^ (z >> 31)
    return h


def _key(values: ArrayLike) -> NDArray[np.uint64]:
    """Times (s) -> uint64 keys at 1 ns resolution."""
    ns = np.round(np.atleast_1d(np.asarray(values, dtype=float)) * 1e9).astype(np.int64)
    return ns.view(np.uint64)


def white_normal(seed: int, stream: int, t: ArrayLike, duration: ArrayLike) -> Array:
    """Standard normal numbers, a deterministic function of (seed, stream, t, duration).

    One independent number per reading; averages over different windows are *not* consistent
    with each other (use `BrownianPath` for a physical white noise).
    """
    t_arr, d_arr = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(duration, float))
    shape = t_arr.shape
    base = _splitmix64(np.array([(seed * 1_000_003 + stream) & _M64], np.uint64))
    h = _splitmix64(_splitmix64(base ^ _key(t_arr).ravel()) ^ _key(d_arr).ravel())
    h2 = _splitmix64(h ^ np.uint64(0xD1B54A32D192ED03))
    u1 = ((h >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53  # (0, 1]
    u2 = (h2 >> np.uint64(11)).astype(np.float64) * 2.0**-53
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    return np.asarray(z.reshape(shape))


# A node's standard normals are read from a fixed table of 2^20 normal quantiles (shuffled) along
# an arithmetic progression mod 2^20 whose start and odd stride come from a 64-bit hash of the
# node's key: cheap (one gather), and two nodes share at most isolated entries.
_TABLE_BITS = 16
_TABLE_MASK = (1 << _TABLE_BITS) - 1
_table_lock = threading.Lock()
_TABLE: Array | None = None
_TABLE_PY: array | None = None
_ARANGES: dict[int, NDArray[np.uint64]] = {}


def normal_table() -> tuple[Array, array]:
    """The shared table of standard normals (numpy array and a Python ``array`` view)."""
    global _TABLE, _TABLE_PY
    if _TABLE is None or _TABLE_PY is None:
        with _table_lock:
            if _TABLE is None or _TABLE_PY is None:
                n = 1 << _TABLE_BITS
                q = ndtri((np.arange(n) + 0.5) / n)  # exact quantiles: mean 0, no sampling error
                q /= math.sqrt(np.mean(q * q))  # unit variance
                table = np.ascontiguousarray(q[np.random.default_rng(0x5EED7AB1E).permutation(n)])
                table.flags.writeable = False
                _TABLE_PY = array("d", table.tobytes())
                _TABLE = table
    return _TABLE, _TABLE_PY


_U31, _U29, _UTOP = np.uint64(31), np.uint64(29), np.uint64(64 - _TABLE_BITS)
_UMUL, _UONE, _UMASK = np.uint64(0xBF58476D1CE4E5B9), np.uint64(1), np.uint64(_TABLE_MASK)
_UGOLDEN = np.uint64(_GOLDEN)
_U16 = np.uint64(16)


def _node_normals(keys: NDArray[np.uint64], count: int) -> Array:
    """``count`` standard normals per key (keys must already be well mixed, e.g. a hashed base
    plus a multiple of the golden ratio): shape ``keys.shape + (count,)``."""
    table = _TABLE if _TABLE is not None else normal_table()[0]
    ar = _ARANGES.get(count)
    if ar is None:
        ar = _ARANGES[count] = np.arange(count, dtype=np.uint64)
    h = keys ^ (keys >> _U31)
    h *= _UMUL
    h ^= h >> _U29
    idx = (h >> _UTOP)[..., None] + (h | _UONE)[..., None] * ar
    idx &= _UMASK
    return table.take(idx.view(np.int64))


# ---------------------------------------------------------------- unit OU process (x, y)
# Normalised time tau = gamma t; x is a stationary OU process of unit variance
# (dx = -x dtau + sqrt(2) dW) and y(tau) = integral of x from 0: the pair is Gauss-Markov.
def _phi(tau: Array) -> Array:
    """Transition matrices Phi(tau) (..., 2, 2): S(tau) = Phi S(0) + noise."""
    e = np.exp(-tau)
    out = np.zeros((*np.shape(tau), 2, 2))
    out[..., 0, 0] = e
    out[..., 1, 0] = -np.expm1(-tau)
    out[..., 1, 1] = 1.0
    return out


def _q(tau: Array) -> Array:
    """Noise covariances Q(tau) (..., 2, 2) of the transition over tau."""
    em1 = np.expm1(-tau)  # e^-tau - 1
    em2 = np.expm1(-2.0 * tau)
    out = np.empty((*np.shape(tau), 2, 2))
    out[..., 0, 0] = -em2
    out[..., 0, 1] = out[..., 1, 0] = em1 * em1
    out[..., 1, 1] = 2.0 * tau + 4.0 * em1 - em2
    return out


class _Level:
    """Exact OU bridge over ``n`` cells of normalised length ``d`` (one tree level)."""

    def __init__(self, d: float, n: int) -> None:
        self.d, self.n = d, n
        self.rho = math.exp(-d)
        self.qx = math.sqrt(-math.expm1(-2.0 * d))
        self.a = math.tanh(0.5 * d)  # E[integral of a step | its end values] = a (x0 + x1)
        self.qj = math.sqrt(max(2.0 * d - 4.0 * math.tanh(0.5 * d), 0.0))
        i = np.arange(n + 1, dtype=np.float64) * d
        cov_end = np.matmul(_q(i), np.swapaxes(_phi(n * d - i), -1, -2))  # Cov(S_i, S_n | S_0)
        gain = cov_end @ np.linalg.inv(_q(np.array(n * d)))
        gain[0] = 0.0
        gain[n] = np.eye(2)
        self.gain = gain  # (n + 1, 2, 2)

    def bridge(self, eps: Array, xi: Array, ends: Array) -> Array:
        """States (B, n + 1, 2) from normals ``eps``, ``xi`` (B, n) and ends (B, 4) =
        (x0, y0, xn, yn): a free path from the start, then Matheron's correction to the end."""
        x0, y0, xn, yn = ends[:, 0], ends[:, 1], ends[:, 2], ends[:, 3]
        b, n = eps.shape
        x = np.empty((b, n + 1))
        x[:, 0] = x0
        x[:, 1:] = lfilter([self.qx], [1.0, -self.rho], eps, axis=-1,
                           zi=(self.rho * x0)[:, None])[0]
        y = np.empty((b, n + 1))
        y[:, 0] = 0.0
        np.cumsum(self.a * (x[:, :-1] + x[:, 1:]) + self.qj * xi, axis=1, out=y[:, 1:])
        y += y0[:, None]
        dx = xn - x[:, -1]
        dy = yn - y[:, -1]
        g = self.gain
        out = np.empty((b, n + 1, 2))
        out[..., 0] = x + g[:, 0, 0] * dx[:, None] + g[:, 0, 1] * dy[:, None]
        out[..., 1] = y + g[:, 1, 0] * dx[:, None] + g[:, 1, 1] * dy[:, None]
        out[:, 0, 0], out[:, 0, 1], out[:, -1, 0], out[:, -1, 1] = x0, y0, xn, yn
        return out


_LEVELS: dict[tuple[float, int], _Level] = {}


def _level(d: float, n: int) -> _Level:
    level = _LEVELS.get((d, n))
    if level is None:
        level = _LEVELS[(d, n)] = _Level(d, n)
    return level


class _BottomGenerator:
    """Bottom nodes of ``n`` cells of normalised length ``d``, flat (B, 2 (n + 1)) =
    (x0, y0, x1, y1, ...), from keys (B,) and ends (B, 4).  Only row-wise operations (a
    recursion, running sums, elementwise corrections): a node's values never depend on which
    other nodes were generated with it."""

    _cache: ClassVar[dict[tuple[float, int], _BottomGenerator]] = {}

    def __init__(self, d: float, n: int) -> None:
        self.n = n
        self.level = _level(d, n)

    @classmethod
    def get(cls, d: float, n: int) -> _BottomGenerator:
        gen = cls._cache.get((d, n))
        if gen is None:
            gen = cls._cache[(d, n)] = cls(d, n)
        return gen

    def __call__(self, keys: NDArray[np.uint64], ends: Array) -> Array:
        n = self.n
        z = _node_normals(keys, 2 * n)
        return self.level.bridge(z[:, :n], z[:, n:], ends).reshape(len(keys), 2 * (n + 1))


def hermite_matrices(h: float) -> tuple[Array, Array]:
    """Within a cell of length h, y is the cubic Hermite interpolant of (y, dy/dt = x) at the
    cell's ends and x its derivative: at fraction f of the cell the weights on
    (x_c, y_c, x_c+1, y_c+1) are [1, f, f^2, f^3] @ (first matrix) for y and @ (second) for x."""
    hy = np.array([[0.0, 1.0, 0.0, 0.0],
                   [h, 0.0, 0.0, 0.0],
                   [-2.0 * h, -3.0, -h, 3.0],
                   [h, 2.0, h, -2.0]])
    hx = np.array([[1.0, 0.0, 0.0, 0.0],
                   [-4.0, -6.0 / h, -2.0, 6.0 / h],
                   [3.0, 6.0 / h, 3.0, -6.0 / h],
                   [0.0, 0.0, 0.0, 0.0]])
    return hy, hx


_AR4 = np.arange(4)


def _hermite_basis(f: Array, integral_only: bool) -> list[Array]:
    """Cubic Hermite basis at fractions f of a cell, elementwise (no size-dependent kernels):
    y = y0 + (y1 - y0) s + d (x0 a + x1 b) and, unless ``integral_only``,
    x = (y1 - y0) s' / d + x0 a' + x1 b'; returned as [s, a, b] (+ [s', a', b'])."""
    f2 = f * f
    f3 = f2 * f
    out = [3.0 * f2 - 2.0 * f3, f3 - 2.0 * f2 + f, f3 - f2]
    if not integral_only:
        out += [6.0 * f - 6.0 * f2, 3.0 * f2 - 4.0 * f + 1.0, 3.0 * f2 - 2.0 * f]
    return out


def _powers(f: Array) -> Array:
    """[1, f, f^2, f^3] for each f: (N, 4)."""
    out = np.empty((f.size, 4))
    out[:, 0] = 1.0
    out[:, 1] = f
    np.multiply(f, f, out=out[:, 2])
    np.multiply(out[:, 2], f, out=out[:, 3])
    return out


def ou_corner_weights(band: tuple[float, float], per_decade: int) -> tuple[Array, Array]:
    """(corner frequencies f_k (Hz), variances v_k of the components for a PSD of 1/f):
    corners log-spaced across ``band``, ``per_decade`` per decade, and non-negative weights fitted
    so that the summed one-sided PSD ``sum_k v_k 4 g_k / (g_k^2 + w^2)`` (g_k = 2 pi f_k,
    w = 2 pi f) equals 1/f across the band."""
    lo, hi = band
    n = max(2, math.ceil(per_decade * math.log10(hi / lo) - 1e-9) + 1)
    corners = np.geomspace(lo, hi, n)
    f = np.geomspace(lo, hi, 40 * n)
    g, w = 2.0 * math.pi * corners, 2.0 * math.pi * f
    design = 4.0 * g / (g**2 + w[:, None] ** 2) * f[:, None]
    variances, _ = nnls(design, np.ones_like(f))
    return corners, variances


class _Chains:
    """Block-boundary states (C, N + 1, 2) of one component on one side of t = 0, extended
    forward with seeded streams (one per channel)."""

    def __init__(self, seeds: Sequence[Sequence[int]], step: float, x0: Array) -> None:
        self.rngs = [np.random.default_rng(list(s)) for s in seeds]
        self.level = _Level(step, 1)
        self.states = np.zeros((len(seeds), 1, 2))
        self.states[:, 0, 0] = x0

    def ensure(self, index: int) -> Array:
        """States up to at least ``index`` (inclusive)."""
        while index > self.states.shape[1] - 1:  # fixed chunks: values independent of queries
            steps = _CHAIN_CHUNK
            lv = self.level
            z = np.stack([rng.standard_normal((2, steps)) for rng in self.rngs])
            last = self.states[:, -1, :]
            x = lfilter([lv.qx], [1.0, -lv.rho], z[:, 0], axis=-1,
                        zi=(lv.rho * last[:, 0])[:, None])[0]
            prev = np.concatenate([last[:, :1], x[:, :-1]], axis=1)
            y = last[:, 1:2] + np.cumsum(lv.a * (prev + x) + lv.qj * z[:, 1], axis=1)
            self.states = np.concatenate([self.states, np.stack([x, y], axis=-1)], axis=1)
        return self.states


# Geometry.  Component k lives on the dyadic grid of step h_k = 2^-q_k s, the power of two
# nearest to 1 / (20 gamma_k) in log (14 to 28 points per correlation time).  Bottom nodes hold n0_k
# cells (a power of two, 32 to 4096, spanning about _BOTTOM_SPAN s where that allows), upper nodes
# 1024 cells, with as many upper levels as make the chain step at least _TOP_SPAN s.  The scalar
# path sums the components with grids down to 2^-_PAGE_Q_MAX s on "pages" of 2^_LOG_PAGE cells
# of the finest of those grids (cubic Hermite reproduces cubics, so a page holds exactly the
# components' own interpolants: a cache, not an approximation); faster components (small nodes,
# new ones at almost every reading) are read in one numpy pass.
CELLS_PER_TIME_CONSTANT = 20
_LOG_BOTTOM_MIN, _LOG_BOTTOM_MAX = 5, 12
_BOTTOM_SPAN = 4.0
N_UPPER, _LOG_UPPER = 1024, 10
_TOP_SPAN = 10.0
_UPPER_CACHE = 64
_BOTTOM_CACHE = 64
_CHAIN_CHUNK = 64
_PAGE_Q_MAX = 11
_LOG_PAGE = 12


class OneOverF:
    """1/f noise, one-sided PSD ``amplitude**2 / f`` across ``band`` (Hz), as a sum of
    Ornstein-Uhlenbeck processes (corner frequencies log-spaced, ``per_decade`` per decade;
    weights fitted so that the summed Lorentzians are 1/f within a few % across the band;
    below the band the PSD flattens, above it falls as 1/f^2).

    ``amplitude`` and ``streams`` may be sequences: independent channels with one amplitude each
    (values then have a trailing channel axis); a scalar amplitude and an int stream give one
    channel and no channel axis.  The processes are deterministic functions of
    (seed, stream, lab time), stationary from t = 0 on (and two-sided: t < 0 continues with an
    independent stream).  Each component lives on its own dyadic grid (about 20 points per
    correlation time 1/(2 pi f_k)); between grid points its integral is the cubic Hermite
    interpolant of the exact (value, integral) pairs and its value that cubic's derivative, so
    window averages are exact integrals of the values.  Thread-safe.
    """

    def __init__(self, amplitude: float | Sequence[float], band: tuple[float, float],
                 per_decade: int, seed: int, streams: int | Sequence[int] = 0) -> None:
        if isinstance(streams, int | np.integer):
            self._squeeze, stream_list = True, [int(streams)]
        else:
            self._squeeze, stream_list = False, [int(s) for s in streams]
        amps = np.atleast_1d(np.asarray(amplitude, dtype=float))
        if amps.size == 1 and len(stream_list) > 1:
            amps = np.full(len(stream_list), float(amps[0]))
        if amps.shape != (len(stream_list),):
            raise ValueError(f"OneOverF: {amps.size} amplitudes for {len(stream_list)} streams")
        self.amplitudes = amps
        self.band = (float(band[0]), float(band[1]))
        self.seed, self.streams = int(seed), stream_list
        self.freqs, self.variances = ou_corner_weights(self.band, per_decade)
        self.gammas = 2.0 * math.pi * self.freqs
        k_count, c_count = len(self.freqs), len(stream_list)
        self.channels = c_count
        self._std = np.sqrt(self.variances)
        self._q = [round(math.log2(CELLS_PER_TIME_CONSTANT * g)) for g in self.gammas]
        self._h = [2.0 ** -q for q in self._q]  # grid steps (s)
        self._log0 = [_LOG_BOTTOM_MIN if q > _PAGE_Q_MAX else
                      min(max(round(math.log2(_BOTTOM_SPAN / h)), _LOG_BOTTOM_MIN), _LOG_BOTTOM_MAX)
                      for q, h in zip(self._q, self._h, strict=True)]
        self._levels = [next(lv for lv in range(1, 16) if self._spacing(k, lv) >= _TOP_SPAN)
                        for k in range(k_count)]
        self._gens = [_BottomGenerator.get(g * h, 1 << lg)
                      for g, h, lg in zip(self.gammas, self._h, self._log0, strict=True)]
        # weights of (x_c, y_c, x_c+1, y_c+1) on [1, f, f^2, f^3], physical units (y in s):
        # columns 0-3 give the value x, 4-7 the integral y; t < 0 mirrors y
        self._wy, self._wxy = [], []
        for k in range(k_count):
            hy, hx = hermite_matrices(self.gammas[k] * self._h[k])
            self._wy.append(hy * (self._std[k] / self.gammas[k]))
            self._wxy.append(np.concatenate([hx * self._std[k], self._wy[k]], axis=1))
        self._lock = threading.RLock()
        x0 = np.array([[np.random.default_rng([self.seed, s, k, 0x057A]).standard_normal()
                        for s in stream_list] for k in range(k_count)])
        self._chains = [[_Chains([[self.seed, s, k, side, 0xC4A1] for s in stream_list],
                                 self.gammas[k] * self._spacing(k, self._levels[k]), x0[k])
                         for k in range(k_count)] for side in (0, 1)]
        # node-key bases per (side, comp, level): a (C,) uint64 array
        self._bases = [[[np.array([_mix(self.seed, s, k, side, e) for s in stream_list],
                                  dtype=np.uint64) for e in range(self._levels[k])]
                        for k in range(k_count)] for side in (0, 1)]
        self._upper: OrderedDict[tuple[int, int, int, int], Array] = OrderedDict()
        self._bottom: OrderedDict[tuple[int, int, int], Array] = OrderedDict()
        # scalar path: page groups (grid exponent, components) and the remaining fast components
        self._paged = [k for k in range(k_count) if self._q[k] <= _PAGE_Q_MAX]
        self._fast = [k for k in range(k_count) if self._q[k] > _PAGE_Q_MAX]
        self._page_g = max((self._q[k] for k in self._paged), default=0)
        self._page_scale = 2.0 ** self._page_g
        self._page_h = 2.0 ** -self._page_g
        self._pages: list[tuple[int, array]] = [(-1, array("d")), (-1, array("d"))]
        self._refine = {}  # component -> (2^r * 2, 4) weights of (x, y) at the page points
        for k in self._paged:
            r = self._page_g - self._q[k]
            if r <= _LOG_PAGE:
                f = np.arange(1 << r) / (1 << r)
                self._refine[k] = (_powers(f) @ self._wxy[k]).reshape(-1, 2, 4).reshape(-1, 4)
        self._amp_list: list[float] = self.amplitudes.tolist()
        self._scale2 = [np.array([self._std[k], self._std[k] / self.gammas[k]])[:, None]
                        for k in range(k_count)]
        self._init_slots()

    def _spacing(self, k: int, e: int) -> float:
        """Cell length (s) of level e of component k (e = 0: the fine grid)."""
        h = self._h[k]
        return h if e == 0 else h * (1 << self._log0[k]) * N_UPPER ** (e - 1)

    # -------------------------------------------------------------- description
    def psd(self, f: ArrayLike) -> Array:
        """The model's one-sided PSD (unit^2/Hz) at frequencies ``f`` (Hz), per channel."""
        w = 2.0 * math.pi * np.asarray(f, dtype=float)[..., None]
        unit = np.sum(self.variances * 4.0 * self.gammas / (self.gammas**2 + w**2), axis=-1)
        out = unit[..., None] * self.amplitudes**2
        return out[..., 0] if self._squeeze else out

    def describe(self) -> dict[str, object]:
        """JSON-able description of the construction."""
        return {
            "method": "sum of OU processes",
            "band_Hz": list(self.band),
            "corner_frequencies_Hz": self.freqs.tolist(),
            "component_std_per_amplitude": self._std.tolist(),
            "grid_steps_s": list(self._h),
            "streams": list(self.streams),
        }

    # -------------------------------------------------------------- nodes
    def _chain_ends(self, k: int, side: int, j: IntArray) -> Array:
        """Chain states at j and j + 1: (U, C, 4)."""
        states = self._chains[side][k].ensure(int(j.max()) + 1)
        return np.concatenate([states[:, j], states[:, j + 1]], axis=-1).transpose(1, 0, 2)

    def _upper_node(self, k: int, side: int, e: int, j: int) -> Array:
        """Level-e (>= 1) node j of component k: (C, N_UPPER + 1, 2)."""
        key = (side, k, e, j)
        node = self._upper.get(key)
        if node is not None:
            self._upper.move_to_end(key)
            return node
        if e == self._levels[k] - 1:
            ends = self._chain_ends(k, side, np.array([j]))[0]
        else:
            parent = self._upper_node(k, side, e + 1, j >> _LOG_UPPER)
            loc = j & (N_UPPER - 1)
            ends = np.concatenate([parent[:, loc], parent[:, loc + 1]], axis=-1)
        keys = self._bases[side][k][e] + np.array([j], np.uint64) * _UGOLDEN
        z = _node_normals(keys, 2 * N_UPPER)
        level = _level(self.gammas[k] * self._spacing(k, e), N_UPPER)
        node = level.bridge(z[:, :N_UPPER], z[:, N_UPPER:], ends)
        self._upper[key] = node
        if len(self._upper) > _UPPER_CACHE:
            self._upper.popitem(last=False)
        return node

    def _bottom_ends(self, k: int, side: int, j: IntArray) -> Array:
        """End states (U, C, 4) of bottom nodes j (sorted, unique) of component k."""
        if self._levels[k] == 1:
            return self._chain_ends(k, side, j)
        parents = j >> _LOG_UPPER
        loc = j & (N_UPPER - 1)
        ends = np.empty((len(j), self.channels, 4))
        for p in np.unique(parents).tolist():
            sel = parents == p
            node = self._upper_node(k, side, 1, p)
            ends[sel] = np.concatenate([node[:, loc[sel]], node[:, loc[sel] + 1]],
                                       axis=-1).transpose(1, 0, 2)
        return ends

    def _generate(self, k: int, side: int, j: IntArray) -> Array:
        ends = self._bottom_ends(k, side, j)
        keys = self._bases[side][k][0] + (j.astype(np.uint64) * _UGOLDEN)[:, None]
        return self._gens[k](keys.ravel(), ends.reshape(-1, 4)).reshape(len(j), self.channels, -1)

    def _bottoms(self, k: int, side: int, j: IntArray) -> Array:
        """Bottom nodes (U, C, 2 (n0 + 1)) of component k, indices j (sorted, unique); a few
        at a time go through a small cache."""
        if len(j) > 4:
            return self._generate(k, side, j)
        nodes = []
        for jj in j.tolist():
            key = (side, k, jj)
            node = self._bottom.get(key)
            if node is None:
                node = self._bottom[key] = self._generate(k, side, np.array([jj]))[0]
                if len(self._bottom) > _BOTTOM_CACHE:
                    self._bottom.popitem(last=False)
            else:
                self._bottom.move_to_end(key)
            nodes.append(node)
        return np.stack(nodes)

    # -------------------------------------------------------------- evaluation
    _MAX_CELLS = 1 << 19  # fine cells generated at once in the vectorised path

    def _evaluate(self, t: Array, comps: Sequence[int] | None = None,
                  integral_only: bool = False) -> Array:
        """Sums over components of (value, integral from 0): shape (N, C, 2) (only the
        integral, shape (N, C, 1), with ``integral_only``)."""
        t = np.ravel(t)
        c_count = self.channels
        n_out = 1 if integral_only else 2
        out = np.zeros((t.size, c_count, n_out))
        for side in (0, 1):
            mask = t >= 0 if side == 0 else t < 0
            if not mask.any():
                continue
            ts = np.abs(t[mask])
            order = np.argsort(ts, kind="stable")
            ts = ts[order]
            acc = np.zeros((ts.size, n_out, c_count))
            for k in (range(len(self.gammas)) if comps is None else comps):
                u = ts * (2.0 ** self._q[k])
                i = u.astype(np.int64)
                basis = _hermite_basis(u - i, integral_only)
                d = float(self.gammas[k] * self._h[k])  # cell length, normalised
                ys = float(self._std[k] / self.gammas[k]) * (-1.0 if side else 1.0)
                xs = float(self._std[k])
                log0 = self._log0[k]
                j0 = i >> log0
                rows = 2 * (i - (j0 << log0))
                size = 2 * ((1 << log0) + 1)
                per_chunk = max(1, self._MAX_CELLS >> log0)
                start = 0
                while start < ts.size:  # chunks of a bounded number of bottom nodes
                    stop = int(np.searchsorted(j0, j0[start] + per_chunk, side="left"))
                    jc = j0[start:stop]
                    new = np.empty(jc.size, dtype=bool)
                    new[0] = True
                    np.not_equal(jc[1:], jc[:-1], out=new[1:])
                    inv = np.cumsum(new) - 1
                    with self._lock:
                        nodes = self._bottoms(k, side, jc[new])  # (U, C, size)
                    at = inv * size + rows[start:stop]
                    b = [v[start:stop] for v in basis]
                    for c in range(c_count):
                        flat = np.ascontiguousarray(nodes[:, c]).ravel()
                        x0, y0, x1, y1 = (flat.take(at + j) for j in range(4))
                        dy = y1 - y0
                        acc[start:stop, -1, c] += ys * (y0 + dy * b[0] + d * (x0 * b[1]
                                                                              + x1 * b[2]))
                        if not integral_only:
                            acc[start:stop, 0, c] += xs * (dy * b[3] / d + x0 * b[4]
                                                           + x1 * b[5])
                    start = stop
            res = np.empty_like(acc)
            res[order] = acc
            out[mask] = res.transpose(0, 2, 1)
        return out

    def _shape(self, values: Array, shape: tuple[int, ...]) -> Array:
        values = values * self.amplitudes
        return values.reshape(shape) if self._squeeze else values.reshape((*shape, -1))

    def value(self, t: ArrayLike) -> Array:
        """Instantaneous values at lab times t."""
        t_arr = np.asarray(t, dtype=float)
        return self._shape(self._evaluate(t_arr)[..., 0], t_arr.shape)

    def integral(self, t: ArrayLike) -> Array:
        """Integral of the value from 0 to t (unit * s)."""
        t_arr = np.asarray(t, dtype=float)
        return self._shape(self._evaluate(t_arr)[..., 1], t_arr.shape)

    def mean(self, t: ArrayLike, duration: ArrayLike) -> Array:
        """Exact average over [t, t + duration] (duration 0: the value at t)."""
        t_arr, d_arr = np.broadcast_arrays(np.asarray(t, dtype=float),
                                           np.asarray(duration, dtype=float))
        n = t_arr.size
        both = self._evaluate(np.concatenate([t_arr.ravel(), (t_arr + d_arr).ravel()]),
                              integral_only=True)[:, :, 0]
        d = d_arr.ravel()[:, None]
        means = (both[n:] - both[:n]) / np.where(d > 0, d, 1.0)
        if np.any(d <= 0):
            means = np.where(d > 0, means, self._evaluate(t_arr.ravel())[:, :, 0])
        return self._shape(means, t_arr.shape)

    # -------------------------------------------------------------- scalar path support
    def _own_values(self, k: int, i0: int, count: int) -> Array:
        """Component k's (x, y) (normalised) at its grid points i0 ... i0 + count - 1
        (t >= 0): shape (count, 2, C)."""
        log0 = self._log0[k]
        j0, j1 = i0 >> log0, (i0 + count - 1) >> log0
        nodes = self._bottoms(k, 0, np.arange(j0, j1 + 1))  # (U, C, 2 (n0 + 1))
        n0 = 1 << log0
        u = nodes.shape[0]
        pts = nodes.reshape(u, self.channels, n0 + 1, 2)
        seq = np.concatenate([pts[:, :, :n0].transpose(1, 0, 2, 3).reshape(self.channels, -1, 2),
                              pts[-1:, :, n0].transpose(1, 0, 2)], axis=1)  # (C, U n0 + 1, 2)
        start = i0 - (j0 << log0)
        return np.ascontiguousarray(seq[:, start:start + count].transpose(1, 2, 0))

    def _page(self, p: int) -> array:
        """Page p (t >= 0): (x_c..., y_c...) per channel at its 2^_LOG_PAGE + 1 grid points,
        summed over the paged components (without the amplitudes), as a flat array."""
        slot = self._pages[p & 1]
        if slot[0] == p:
            return slot[1]
        with self._lock:
            return self._build_page(p)

    def _build_page(self, p: int) -> array:
        g, c_count = self._page_g, self.channels
        n_pts = (1 << _LOG_PAGE) + 1
        first = p << _LOG_PAGE
        acc = np.zeros((n_pts, 2, c_count))
        for k in self._paged:
            r = g - self._q[k]
            if r <= _LOG_PAGE:  # whole cells of the component's grid, refined 2^r times
                cells = 1 << (_LOG_PAGE - r)
                vals = self._own_values(k, first >> r, cells + 1)  # (cells + 1, 2, C)
                data = np.concatenate([vals[:-1], vals[1:]], axis=1)  # (cells, 4, C)
                refined = self._refine[k] @ data.transpose(1, 0, 2).reshape(4, -1)
                acc[:-1] += refined.reshape(1 << r, 2, cells, c_count).transpose(
                    2, 0, 1, 3).reshape(-1, 2, c_count)
                acc[-1] += vals[-1] * self._scale2[k]
            else:  # the page lies inside one cell of the component's grid: one cubic
                i = first >> r
                vals = self._own_values(k, i, 2)  # (2, 2, C) = (x_c, y_c, x_c+1, y_c+1)
                f = (first - (i << r) + np.arange(n_pts)) / (1 << r)
                coef = self._wxy[k].reshape(4, 2, 4) @ vals.reshape(4, c_count)  # (4, 2, C)
                acc += (_powers(f) @ coef.reshape(4, -1)).reshape(n_pts, 2, c_count)
        data_arr = array("d", acc.tobytes())
        self._pages[p & 1] = (p, data_arr)
        return data_arr

    def _init_slots(self) -> None:
        """Scalar path for the fast components: two bottom nodes each (slot = node parity) and
        one level-1 node, channel last, as rows: row 2 i (2 i + 1) of a node holds x_i (y_i)."""
        fast, c_count = self._fast, self.channels
        sizes = np.array([2 * ((1 << self._log0[k]) + 1) for k in fast], dtype=np.int64)
        base = np.cumsum(2 * sizes) - 2 * sizes
        self._slot_base = np.stack([base, base + sizes], axis=1)
        self._cur = np.zeros((int(2 * sizes.sum()), c_count))
        self._cur_j = np.full((len(fast), 2), -1, dtype=np.int64)
        self._cur_off = self._slot_base.copy()
        self._par = np.zeros((len(fast) * 2 * (N_UPPER + 1), c_count))
        self._par_j = np.full(len(fast), -1, dtype=np.int64)
        self._frows = np.arange(len(fast))[:, None]
        self._fscale = np.array([2.0 ** self._q[k] for k in fast])
        self._flog0 = np.array([self._log0[k] for k in fast], dtype=np.int64)
        self._fwy = np.stack([self._wy[k] for k in fast]) if fast else np.zeros((0, 4, 4))

    def _load_slots(self, j: IntArray) -> bool:
        """Load bottom nodes j[r, p] of fast component r into their slots (j & 1); False if two
        different nodes of one component need the same slot."""
        wanted = {(r, jj) for r, row in enumerate(j.tolist()) for jj in row}
        if len({(r, jj & 1) for r, jj in wanted}) < len(wanted):
            return False
        need = self._cur_j[self._frows, j & 1] != j
        pairs = sorted({(r, jj) for r, jj in zip(np.nonzero(need)[0].tolist(), j[need].tolist(),
                                                 strict=True)})
        for r, jj in pairs:
            k = self._fast[r]
            if self._levels[k] == 1:
                ends = self._chain_ends(k, 0, np.array([jj]))[0]
            else:
                p = jj >> _LOG_UPPER
                if self._par_j[r] != p:
                    node = self._upper_node(k, 0, 1, p)  # (C, N_UPPER + 1, 2)
                    at = r * 2 * (N_UPPER + 1)
                    self._par[at:at + 2 * (N_UPPER + 1)] = node.reshape(self.channels, -1).T
                    self._par_j[r] = p
                at = r * 2 * (N_UPPER + 1) + 2 * (jj & (N_UPPER - 1))
                ends = self._par[at:at + 4].T
            keys = self._bases[0][k][0] + np.array([jj], np.uint64) * _UGOLDEN
            node = self._gens[k](keys, ends)  # (C, 2 (n0 + 1))
            slot = jj & 1
            start = self._slot_base[r, slot]
            self._cur[start:start + node.shape[1]] = node.T
            self._cur_j[r, slot] = jj
            self._cur_off[r, slot] = start - (jj << (self._log0[k] + 1))
        return True


# ---------------------------------------------------------------- Brownian path
BROWNIAN_FINE_STEP = 2.0**-20  # s (about 0.95 us)
_BROWNIAN_LEVY_LEVELS = 10
_BROWNIAN_CELL = BROWNIAN_FINE_STEP * 2**_BROWNIAN_LEVY_LEVELS  # 2^-10 s
_BROWNIAN_NODE_LOG = 10  # cells per node: 2^10, node span 1 s
_BROWNIAN_CACHE = 64


class BrownianPath:
    """A standard Brownian path W(t) (W(0) = 0, Var(W(b) - W(a)) = |b - a|, in sqrt(s)),
    two-sided (t < 0 continues with an independent stream).

    W at whole seconds is a random walk generated forward with a seeded stream; each second is
    filled in by an exact Brownian bridge on a grid of 2^-10 s (cached nodes), and each such cell
    by a Levy construction (midpoint displacements, normals picked from the table by a hash of
    the cell) down to 2^-20 s, linear in between.  White noise of one-sided density S
    (unit/sqrt(Hz)) averaged over [a, b] is ``S / sqrt(2) * (W(b) - W(a)) / (b - a)``: standard
    deviation ``S / sqrt(2 T)``.
    """

    def __init__(self, seed: int, stream: int) -> None:
        self.seed, self.stream = int(seed), int(stream)
        self._lock = threading.RLock()
        self._rngs = [np.random.default_rng([self.seed, self.stream, side, 0xB20])
                      for side in (0, 1)]
        self._chain = [np.zeros(1), np.zeros(1)]
        self._node_base = [_mix(self.seed, self.stream, side, 0xB0DE) for side in (0, 1)]
        self._cell_base = [_mix(self.seed, self.stream, side, 0xCE11) for side in (0, 1)]
        self._nodes: OrderedDict[tuple[int, int], Array] = OrderedDict()
        self._levy_m = 2.0 ** np.arange(_BROWNIAN_LEVY_LEVELS)  # subcells per cell per level
        self._levy_s = np.sqrt(_BROWNIAN_CELL / self._levy_m) / 2.0  # midpoint std per level
        self._levy_list: tuple[tuple[int, float], ...] = tuple(
            (1 << lv, float(s)) for lv, s in enumerate(self._levy_s))
        # scalar path: the current second's node
        self._cur_sec = -1
        self._cur_node = array("d")

    def _chain_at(self, side: int, j: int) -> Array:
        chain = self._chain[side]
        while j + 1 >= len(chain):  # fixed chunks: values independent of queries
            walk = chain[-1] + np.cumsum(self._rngs[side].standard_normal(256))
            chain = self._chain[side] = np.concatenate([chain, walk])
        return chain

    def _node(self, side: int, j: int) -> Array:
        """W at the 2^10 + 1 cell boundaries of second j (side 1: of -t)."""
        key = (side, j)
        node = self._nodes.get(key)
        if node is not None:
            self._nodes.move_to_end(key)
            return node
        chain = self._chain_at(side, j)
        w0, w1 = chain[j], chain[j + 1]
        n = 1 << _BROWNIAN_NODE_LOG
        z = _node_normals(np.array([self._node_base[side] + j * _GOLDEN & _M64], np.uint64), n)[0]
        free = np.empty(n + 1)
        free[0] = 0.0
        np.cumsum(z * math.sqrt(_BROWNIAN_CELL), out=free[1:])
        node = w0 + free + np.linspace(0.0, 1.0, n + 1) * ((w1 - w0) - free[-1])
        node[0], node[-1] = w0, w1
        self._nodes[key] = node
        if len(self._nodes) > _BROWNIAN_CACHE:
            self._nodes.popitem(last=False)
        return node

    def path(self, t: ArrayLike) -> Array:
        """W at lab times t."""
        t_arr = np.asarray(t, dtype=float)
        flat = t_arr.ravel()
        out = np.empty(flat.size)
        table, _ = normal_table()
        for side in (0, 1):
            mask = flat >= 0 if side == 0 else flat < 0
            if not mask.any():
                continue
            u = np.abs(flat[mask]) / _BROWNIAN_CELL
            cell = u.astype(np.int64)
            v = u - cell
            sec = cell >> _BROWNIAN_NODE_LOG
            loc = cell & ((1 << _BROWNIAN_NODE_LOG) - 1)
            uniq, inv = np.unique(sec, return_inverse=True)
            with self._lock:
                nodes = np.stack([self._node(side, s) for s in uniq.tolist()]).ravel()
            at = inv * ((1 << _BROWNIAN_NODE_LOG) + 1) + loc
            w = nodes[at] + v * (nodes[at + 1] - nodes[at])
            h = (np.uint64(self._cell_base[side]) ^ cell.astype(np.uint64)) * _UGOLDEN
            h ^= h >> _U29
            start = h >> _UTOP
            stride = (h >> _U16) | _UONE
            vm = v[:, None] * self._levy_m
            q = vm.astype(np.int64)
            heap = (self._levy_m.astype(np.int64) + q).astype(np.uint64)
            z = table[((start[:, None] + stride[:, None] * heap) & _UMASK).view(np.int64)]
            tent = 1.0 - np.abs(2.0 * (vm - q) - 1.0)
            for lv in range(_BROWNIAN_LEVY_LEVELS):  # fixed order, element by element
                w += self._levy_s[lv] * z[:, lv] * tent[:, lv]
            out[mask] = w
        return out.reshape(t_arr.shape)

    def mean(self, t: ArrayLike, duration: ArrayLike) -> Array:
        """(W(t + duration) - W(t)) / duration (1/sqrt(s)); duration must be > 0."""
        t_arr, d_arr = np.broadcast_arrays(np.asarray(t, dtype=float),
                                           np.asarray(duration, dtype=float))
        w = self.path(np.concatenate([t_arr.ravel(), (t_arr + d_arr).ravel()]))
        n = t_arr.size
        return np.asarray(((w[n:] - w[:n]) / d_arr.ravel()).reshape(t_arr.shape))


# ---------------------------------------------------------------- telegraph
class Telegraph:
    """Random telegraph signal starting at t = 0 (state 0 before), switching 0->1 at
    ``rate_in`` and 1->0 at ``rate_out`` (Hz); the initial state is drawn from the stationary
    distribution.  Thread-safe."""

    _BLOCK = 512

    def __init__(self, rate_in: float, rate_out: float, seed: int) -> None:
        self.rate_in, self.rate_out = rate_in, rate_out
        self._rng = np.random.default_rng([seed, 2])
        self.initial = int(self._rng.uniform() < rate_in / (rate_in + rate_out))
        self._lock = threading.Lock()
        self._knots = np.zeros(1)  # switching times, starting at 0
        self._up = np.zeros(1)  # cumulative time in state 1 at each knot
        self.knots_list: list[float] = [0.0]  # the same as lists, for the scalar path
        self.up_list: list[float] = [0.0]

    def _state_after(self, k: int) -> int:
        """State on [knot k, knot k+1)."""
        return (self.initial + k) % 2

    def extend(self, t_max: float) -> tuple[Array, Array]:
        """(switching times, cumulative time in state 1 at each), generated past ``t_max``."""
        with self._lock:
            while self._knots[-1] <= t_max:
                n0 = len(self._knots)
                waits = self._rng.standard_exponential(self._BLOCK)
                states = (self.initial + n0 - 1 + np.arange(self._BLOCK)) % 2
                waits = waits / np.where(states == 1, self.rate_out, self.rate_in)
                knots = self._knots[-1] + np.cumsum(waits)
                up = self._up[-1] + np.cumsum(waits * states)
                self._knots = np.concatenate([self._knots, knots])
                self._up = np.concatenate([self._up, up])
                self.knots_list.extend(knots.tolist())
                self.up_list.extend(up.tolist())
            return self._knots, self._up

    def state(self, t: ArrayLike) -> NDArray[np.int64]:
        """State (0 or 1) at times t."""
        t = np.asarray(t, dtype=float)
        knots, _ = self.extend(float(np.max(t, initial=0.0)))
        k = np.searchsorted(knots, t, side="right") - 1
        return np.where(k < 0, 0, (self.initial + np.maximum(k, 0)) % 2)

    def fraction(self, t: ArrayLike, duration: ArrayLike) -> Array:
        """Fraction of [t, t + duration] spent in state 1 (duration 0: the state at t)."""
        t_arr, d_arr = np.broadcast_arrays(np.asarray(t, dtype=float),
                                           np.asarray(duration, dtype=float))
        end = t_arr + d_arr
        knots, up = self.extend(float(np.max(end, initial=0.0)))
        ups = np.interp(np.maximum(end, 0.0), knots, up) - np.interp(np.maximum(t_arr, 0.0),
                                                                     knots, up)
        safe = np.where(d_arr > 0, d_arr, 1.0)
        return np.asarray(np.where(d_arr > 0, ups / safe, self.state(t_arr)), dtype=float)
