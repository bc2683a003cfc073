"""Charge state in time with finite lead tunnel rates.

Each dot's occupation relaxes toward the equilibrium occupation of the static model
(`dotstack.mocks.physics.model.dot_state` at the instantaneous gate voltages) at its tunnel
rate: on an interval where the gates (hence ``n_eq`` and ``Gamma``) are constant,

    dn/dt = -Gamma (n - n_eq)   =>   n(t_k + u) = n_eq + (n_k - n_eq) exp(-Gamma u),

the two-state master equation of the electron being added (``p = n - floor(n_eq)``, in at rate
``Gamma p_eq``, out at ``Gamma (1 - p_eq)``).  `relax` solves it on all intervals at once.

Single shot (`telegraph`): the same master equation, drawn.  A two-state chain whose in/out rates
sum to Gamma is *refreshed* at rate Gamma: at each event of a Poisson process of rate Gamma the
state is redrawn from the equilibrium (``floor(n_eq) + Bernoulli(p_eq)``) whatever it was, so the
state at t is the draw of the last event before t, and its ensemble mean follows `relax` exactly.
Where ``p_eq`` is 0 or 1 (to 1e-12) only the first event of an interval can change anything, so
only it is drawn: the events drawn number about the intervals plus ``Gamma * time`` spent near a
transition, not ``Gamma * time``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics.timedomain.segments import decay_factors, linear_scan

Array = NDArray[np.float64]
_DETERMINISTIC = 1e-12


def relax(edges: Array, n_eq: Array, rate: Array, n0: float) -> tuple[Array, Array]:
    """Ensemble-mean occupation at the K + 1 edges and its average over the K intervals, from
    ``n0`` at ``edges[0]``, relaxing at ``rate`` (Hz) toward ``n_eq`` on each interval."""
    a, avg = decay_factors(np.diff(edges), rate)
    n = linear_scan(a, (1.0 - a) * n_eq, n0)
    return n, np.asarray(n_eq + (n[:-1] - n_eq) * avg)


def telegraph(edges: Array, n_eq: Array, rate: Array, rng: np.random.Generator,
              max_events: int) -> tuple[float, Array, Array] | None:
    """One draw of a dot's occupation on the intervals: (occupation at ``edges[0]``, times of its
    jumps, occupation after each jump), or None if more than ``max_events`` events would be
    needed (the caller then uses the ensemble mean)."""
    d = np.diff(edges)
    rate = np.broadcast_to(np.asarray(rate, dtype=float), d.shape)
    base = np.floor(n_eq)
    frac = n_eq - base
    certain = (frac < _DETERMINISTIC) | (frac > 1.0 - _DETERMINISTIC)
    lam = rate * d
    if d.size + float(lam[~certain].sum()) > max_events:
        return None
    start = edges[:-1]
    # intervals with a certain outcome: the first refresh only
    with np.errstate(divide="ignore"):
        first = rng.standard_exponential(d.size) / rate
    hit = certain & (first < d)
    t_cert = start[hit] + first[hit]
    v_cert = np.where(frac[hit] > 0.5, base[hit] + 1.0, base[hit])
    # intervals near a transition: every refresh
    near = np.flatnonzero(~certain)
    counts = rng.poisson(lam[near])
    which = np.repeat(near, counts)
    t_near = start[which] + rng.random(which.size) * d[which]
    v_near = base[which] + (rng.random(which.size) < frac[which])
    times = np.concatenate([t_cert, t_near])
    values = np.concatenate([v_cert, v_near])
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    initial = float(base[0] + (rng.random() < frac[0]))
    seq = np.concatenate([[initial], values])
    jump = seq[1:] != seq[:-1]
    return initial, np.asarray(times[jump]), np.asarray(values[jump])


def occupation_on(edges: Array, initial: float, jump_times: Array, jump_values: Array) -> Array:
    """Occupation on each interval of ``edges`` (constant on it: the jumps must be edges)."""
    mid = 0.5 * (edges[:-1] + edges[1:])
    i = np.searchsorted(jump_times, mid, side="right") - 1
    values = np.concatenate([[initial], jump_values])
    return np.asarray(values[i + 1])
