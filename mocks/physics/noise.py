"""Seeded noise processes defined in lab time, evaluable (vectorised) at arbitrary times.

- `white_normal`: a standard normal number per (time, integration time), from a counter-based
  hash of the seed and the times (so the same reading gives the same number in any order).
- `OneOverF`: 1/f noise by spectral synthesis, a sum of random-phase sinusoids at log-spaced
  frequencies; its average over a window is exact.
- `Telegraph`: a two-level fluctuator with Poisson switching from a seeded stream of
  exponential waiting times, extended lazily; its occupied fraction over a window is exact.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)))


def _key(values: ArrayLike) -> NDArray[np.uint64]:
    """Times (s) -> uint64 keys at 1 ns resolution."""
    ns = np.round(np.atleast_1d(np.asarray(values, dtype=float)) * 1e9).astype(np.int64)
    return ns.view(np.uint64)


def white_normal(seed: int, stream: int, t: ArrayLike, duration: ArrayLike) -> Array:
    """Standard normal numbers, a deterministic function of (seed, stream, t, duration)."""
    t_arr, d_arr = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(duration, float))
    shape = t_arr.shape
    base = _splitmix64(np.array([(seed * 1_000_003 + stream) & 0xFFFFFFFFFFFFFFFF], np.uint64))
    h = _splitmix64(_splitmix64(base ^ _key(t_arr).ravel()) ^ _key(d_arr).ravel())
    h2 = _splitmix64(h ^ np.uint64(0xD1B54A32D192ED03))
    u1 = ((h >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0**-53  # (0, 1]
    u2 = (h2 >> np.uint64(11)).astype(np.float64) * 2.0**-53
    z = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    return np.asarray(z.reshape(shape))


class OneOverF:
    """Noise with PSD ``amplitude**2 / f`` between ``band`` (Hz), as a sum of sinusoids.

    Each component k has frequency f_k (log-spaced, ratio r) and amplitude
    ``amplitude * sqrt(2 ln r)``, so its power equals the 1/f power in its band.
    """

    def __init__(self, amplitude: float, band: tuple[float, float], per_decade: int,
                 seed: int) -> None:
        lo, hi = band
        n = max(2, math.ceil(per_decade * math.log10(hi / lo)) + 1)
        self.freqs = np.geomspace(lo, hi, n)
        ratio = self.freqs[1] / self.freqs[0]
        self.amplitudes = np.full(n, amplitude * math.sqrt(2.0 * math.log(ratio)))
        self.phases = np.random.default_rng([seed, 1]).uniform(0.0, 2.0 * math.pi, n)
        self.amplitude = amplitude
        self.omegas = 2.0 * math.pi * self.freqs

    def value(self, t: ArrayLike) -> Array:
        """Instantaneous value at times t."""
        t = np.asarray(t, dtype=float)[..., np.newaxis]
        return np.asarray(np.sum(self.amplitudes * np.cos(2 * math.pi * self.freqs * t
                                                          + self.phases), axis=-1))

    def mean(self, t: ArrayLike, duration: ArrayLike) -> Array:
        """Average over [t, t + duration] (duration 0: the value at t).

        Each component averages to ``a sinc(w d / 2) cos(w (t + d/2) + phase)``.
        """
        t_arr = np.asarray(t, dtype=float)
        d_arr = np.asarray(duration, dtype=float)
        shape = np.broadcast_shapes(t_arr.shape, d_arr.shape)
        if self.amplitude == 0.0:
            return np.zeros(shape)
        half = 0.5 * d_arr
        arg = np.multiply.outer(t_arr + half, self.omegas)
        arg += self.phases
        if d_arr.ndim == 0:
            weights = self.amplitudes * np.sinc(self.omegas * (half / math.pi))
            return np.asarray(np.cos(arg, out=arg) @ weights)
        weights = self.amplitudes * np.sinc(np.multiply.outer(half, self.omegas / math.pi))
        return np.asarray(np.sum(np.cos(arg) * weights, axis=-1))


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
