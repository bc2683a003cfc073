"""Charge noise on the spins: per-shot sampling along a sequence, and its exact coherence.

The noise of each dot's potential is the lab's construction (`noise.ou_corner_weights`): a sum
of OU components k with rate ``g_k = 2 pi f_k`` and variance ``A^2 v_k``.  For one component in
units of its own std and time ``tau = g t``, the pair (x, y = integral of x) is Gauss-Markov with
transition ``x' = e x + w1``, ``y' = y + (1 - e) x + w2`` over ``tau`` (``e = exp(-tau)``),
``(w1, w2) ~ N(0, Q(tau))``.

* `sample_means`: per shot and segment, the exact mean of each dot's noise over the segment
  (eV): one constant per shot for the quasi-static components (``g T < QUASI_STATIC``, T the
  sequence length; the neglected drift changes the phase variance of an echo by a relative
  ~ (g T)^2), exact (x, y) transitions for the others, vectorised over shots.
* `phase_variance`: the exact variance of ``integral s(t) dmu(t) dt`` for a sign function s
  that flips at given times (ideal Ramsey/echo/CPMG filters), by propagating the (x, phase)
  covariance through the intervals with the same transition: no quadrature, no cut-offs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics.noise import ou_corner_weights
from dotstack.mocks.physics.spin.params import SpinNoise

Array = NDArray[np.float64]
#: Components with g_k T below this are constant over a sequence of length T.
QUASI_STATIC = 1e-3


def components(noise: SpinNoise) -> tuple[Array, Array]:
    """(rates g_k = 2 pi f_k in 1/s, variances v_k for unit amplitude) of the OU sum."""
    freqs, variances = ou_corner_weights(noise.band, noise.per_decade)
    return 2.0 * math.pi * freqs, variances


def transition(tau: Array) -> tuple[Array, Array, Array, Array, Array]:
    """(e, 1 - e, l11, l21, l22) for normalised steps ``tau``: the lower Cholesky factor of
    Q(tau) with series where the closed forms cancel."""
    tau = np.asarray(tau, dtype=float)
    e = np.exp(-tau)
    one_me = -np.expm1(-tau)
    q11 = -np.expm1(-2.0 * tau)
    q12 = one_me * one_me
    small = tau < 0.05
    ts = np.where(small, tau, 0.0)
    series = ts**3 * (2.0 / 3.0 + ts * (-0.5 + ts * (7.0 / 30.0 + ts * (-1.0 / 12.0
                                                                        + ts * 31.0 / 1260.0))))
    q22 = np.where(small, series, 2.0 * tau - 3.0 + 4.0 * e - e * e)
    # conditional variance of y given x': det(Q) / q11, det ~ tau^4 / 3 for small tau
    det_series = ts**4 * (1.0 / 3.0 + ts * (-1.0 / 3.0 + ts * (17.0 / 90.0 + ts * (
        -7.0 / 90.0 + ts * (0.025595238095238095 - ts * 0.007076719576719577)))))
    det = np.where(small, det_series, q11 * q22 - q12 * q12)
    l11 = np.sqrt(q11)
    safe = np.where(l11 > 0, l11, 1.0)
    l21 = np.where(l11 > 0, q12 / safe, 0.0)
    l22 = np.sqrt(np.clip(np.where(l11 > 0, det / (safe * safe), 0.0), 0.0, None))
    return e, one_me, l11, l21, l22


def sample_means(noise: SpinNoise, durations: Array, shots: int, rng: np.random.Generator,
                 channels: int = 2) -> Array:
    """Mean of each channel's noise (eV) over each segment, per shot: (segments, channels,
    shots).  Independent stationary realisations per shot and channel."""
    s_count = durations.size
    out = np.zeros((s_count, channels, shots))
    if noise.amplitude_ev == 0:
        return out
    rates, variances = components(noise)
    total = float(durations.sum())
    slow = rates * total < QUASI_STATIC
    amp = noise.amplitude_ev
    if slow.any():
        std = amp * math.sqrt(float(variances[slow].sum()))
        out += std * rng.standard_normal((channels, shots))[None]
    fast = ~slow
    if not fast.any():
        return out
    g = rates[fast]
    scale = amp * np.sqrt(variances[fast]) / g  # integral of x in physical units (eV s)
    tau = durations[:, None] * g[None, :]  # (S, K)
    e, one_me, l11, l21, l22 = transition(tau)
    k_count = g.size
    x = rng.standard_normal((channels, k_count, shots))
    z = np.empty((2, channels, k_count, shots))
    y = np.empty_like(x)
    w = scale / durations[:, None]  # (S, K): per-segment weights of y in the mean
    for j in range(s_count):  # normals drawn per segment: cache-sized, no big temporaries
        rng.standard_normal(out=z)
        np.multiply(one_me[j][:, None], x, out=y)
        y += l21[j][:, None] * z[0]
        y += l22[j][:, None] * z[1]
        x *= e[j][:, None]
        x += l11[j][:, None] * z[0]
        out[j] += np.einsum("k,ckn->cn", w[j], y)
    return out


def phase_variance(noise: SpinNoise, flips: ArrayLike, total: float) -> float:
    """Variance (eV^2 s^2) of ``integral_0^total s(t) dmu(t) dt`` for one channel, with s = +1
    on the first interval and changing sign at each time of ``flips`` (0 < flips < total)."""
    if noise.amplitude_ev == 0:
        return 0.0
    cuts = np.concatenate([[0.0], np.sort(np.asarray(flips, dtype=float)), [float(total)]])
    lengths = np.diff(cuts)
    if np.any(lengths < 0):
        raise ValueError(f"flip times must lie in [0, {total}] s")
    rates, variances = components(noise)
    # covariance of (x, Phi) per component, Phi in units of (std / g)
    pxx = np.ones_like(rates)
    pxp = np.zeros_like(rates)
    ppp = np.zeros_like(rates)
    sign = 1.0
    for length in lengths:
        e, one_me, l11, l21, l22 = transition(rates * length)
        b = sign * one_me
        q11, q12, q22 = l11 * l11, l11 * l21, l21 * l21 + l22 * l22
        ppp = ppp + 2.0 * b * pxp + b * b * pxx + q22
        pxp = e * pxp + e * b * pxx + sign * q12
        pxx = e * e * pxx + q11
        sign = -sign
    return float(noise.amplitude_ev**2 * np.sum(variances * ppp / rates**2))


def cpmg_flips(total: float, pulses: int) -> Array:
    """Times of ``pulses`` ideal pi pulses of a CPMG of length ``total`` (Hahn echo: 1)."""
    n = int(pulses)
    return np.asarray(total * (np.arange(1, n + 1) - 0.5) / n)


def coherence(noise: SpinNoise, couplings: Sequence[float], t1: float, total: float,
              flips: ArrayLike) -> float:
    """Coherence ``exp(-<phi^2>/2 - total / (2 T1))`` of a spin whose frequency moves by
    ``couplings[c]`` Hz per eV of channel c, under the filter of ``flips`` (ideal pulses)."""
    var = phase_variance(noise, flips, total)
    chi = 0.5 * (2.0 * math.pi) ** 2 * var * sum(c * c for c in couplings)
    return math.exp(-chi - total / (2.0 * t1))
