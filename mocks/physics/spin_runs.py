"""Run-length form of an AWG's played stream straight from its segments (repeats not expanded).

`channel_runs` turns segments (``start``, ``samples`` in V, ``repeat``, ``rate``; a hold is one
sample) into the runs of equal samples on [t0, t1): the runs of each distinct waveform are found
once (cached by content) and tiled over its repetitions, so a sequence that plays a few shot
waveforms thousands of times costs per repetition, not per sample.  `merge_runs` puts several
channels on one grid of constant pieces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics.timedomain.segments import Runs

Array = NDArray[np.float64]
_CACHE: dict[bytes, tuple[Array, Array]] = {}
_CACHE_MAX = 4096


def _runs_of(samples: Array) -> tuple[Array, Array]:
    """(indices where a run starts, run values) of one waveform."""
    key = samples.tobytes()
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    s = np.asarray(samples, dtype=float)
    change = np.ones(s.size, dtype=bool)
    change[1:] = s[1:] != s[:-1]
    idx = np.flatnonzero(change)
    out = (idx.astype(float), s[idx])
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = out
    return out


def channel_runs(segments: Sequence[Any], t0: float, t1: float, idle: float = 0.0) -> Runs:
    """Runs of one channel on [t0, t1) from its segments (see the module docstring)."""
    times: list[Array] = []
    values: list[Array] = []
    for seg in segments:
        samples = np.asarray(seg.samples, dtype=float)
        rate, n = float(seg.rate), samples.size
        if n == 0:
            continue
        if rate <= 0 or math.isinf(rate):  # a hold without an end: one run
            times.append(np.array([max(float(seg.start), t0)]))
            values.append(samples[:1])
            continue
        period = n / rate
        reps = float(seg.repeat)
        first = max(0, math.floor((t0 - seg.start) / period))
        last = math.ceil((t1 - seg.start) / period)
        if not math.isinf(reps):
            last = min(last, int(reps))
        if last <= first:
            continue
        idx, vals = _runs_of(samples)
        m = np.arange(first, last, dtype=float)
        t = (seg.start + (m[:, None] * n + idx[None, :]) / rate).ravel()
        times.append(t)
        values.append(np.tile(vals, m.size))
    if not times:
        return Runs(np.array([t0]), np.array([idle]), t1)
    t_all = np.concatenate(times)
    v_all = np.concatenate(values)
    order = np.argsort(t_all, kind="stable")
    t_all, v_all = t_all[order], v_all[order]
    keep = np.ones(t_all.size, dtype=bool)
    keep[1:] = v_all[1:] != v_all[:-1]
    t_all, v_all = t_all[keep], v_all[keep]
    if t_all[0] > t0:
        t_all = np.concatenate([[t0], t_all])
        v_all = np.concatenate([[idle], v_all])
    return Runs(t_all, v_all, t1)


def merge_runs(runs: Sequence[Runs], t0: float, t1: float) -> tuple[Array, list[Array]]:
    """(edges on [t0, t1], each channel's value on each interval between them)."""
    inner = [r.starts[(r.starts > t0) & (r.starts < t1)] for r in runs]
    edges = np.unique(np.concatenate([[t0, t1], *inner]))
    mid = 0.5 * (edges[:-1] + edges[1:])
    return edges, [r.at(mid) for r in runs]
