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
_BY_ID: dict[int, tuple[Array, tuple[Array, Array]]] = {}
_CACHE_MAX = 4096  # entries of each cache
_CACHE_MAX_BYTES = 128 * 2**20  # waveform bytes the caches hold (keys and kept arrays), at most
_cache_bytes = 0


def _runs_of(samples: Array) -> tuple[Array, Array]:
    """(indices where a run starts, run values) of one waveform.  Read-only arrays (the AWG
    mock's cached volts of a waveform) are looked up by identity, others by content."""
    frozen = not samples.flags.writeable
    if frozen:
        hit_id = _BY_ID.get(id(samples))
        if hit_id is not None and hit_id[0] is samples:
            return hit_id[1]
    global _cache_bytes
    if len(_CACHE) >= _CACHE_MAX or len(_BY_ID) >= _CACHE_MAX or \
            _cache_bytes + 2 * samples.nbytes > _CACHE_MAX_BYTES:
        _CACHE.clear()
        _BY_ID.clear()
        _cache_bytes = 0
    key = samples.tobytes()
    hit = _CACHE.get(key)
    if hit is None:
        s = np.asarray(samples, dtype=float)
        change = np.ones(s.size, dtype=bool)
        change[1:] = s[1:] != s[:-1]
        idx = np.flatnonzero(change)
        hit = (idx.astype(float), s[idx])
        _CACHE[key] = hit
        _cache_bytes += len(key)
    if frozen:
        _BY_ID[id(samples)] = (samples, hit)
        _cache_bytes += samples.nbytes
    return hit


def channel_runs(segments: Sequence[Any], t0: float, t1: float, idle: float = 0.0) -> Runs:
    """Runs of one channel on [t0, t1) from its segments (see the module docstring).

    Repetitions of segments that play the same waveform are expanded together (one array
    operation per distinct waveform, not per segment); ties in time keep segment order."""
    times: list[Array] = []
    values: list[Array] = []
    order_keys: list[Array] = []
    # per played segment: start, rate, length, first repetition, count, its runs
    starts: list[float] = []
    rates: list[float] = []
    lengths: list[int] = []
    firsts: list[int] = []
    counts: list[int] = []
    seg_ids: list[int] = []
    groups: dict[int, tuple[tuple[Array, Array], list[int]]] = {}
    floor, ceil, isinf = math.floor, math.ceil, math.isinf
    for k, seg in enumerate(segments):
        samples = seg.samples
        if type(samples) is not np.ndarray or samples.dtype != np.float64:
            samples = np.asarray(samples, dtype=float)
        rate, n = float(seg.rate), samples.size
        if n == 0:
            continue
        if rate <= 0 or isinf(rate):  # a hold without an end: one run
            times.append(np.array([max(float(seg.start), t0)]))
            values.append(samples[:1])
            order_keys.append(np.array([k]))
            continue
        start = float(seg.start)
        period = n / rate
        reps = seg.repeat
        first = max(0, floor((t0 - start) / period))
        last = ceil((t1 - start) / period)
        if not isinf(reps):
            last = min(last, int(reps))
        if last <= first:
            continue
        runs = _runs_of(samples)
        entry = groups.get(id(runs[0]))
        if entry is None:
            entry = groups[id(runs[0])] = (runs, [])
        entry[1].append(len(starts))
        starts.append(start)
        rates.append(rate)
        lengths.append(n)
        firsts.append(first)
        counts.append(last - first)
        seg_ids.append(k)
    seg_index = np.asarray(seg_ids, dtype=np.int64)
    if starts:
        st, rt = np.asarray(starts), np.asarray(rates)
        ln, fs, ct = (np.asarray(x, dtype=np.int64) for x in (lengths, firsts, counts))
        for (idx, vals), members in groups.values():
            sel = np.asarray(members, dtype=np.int64)
            c = ct[sel]
            rep_seg = np.repeat(sel, c)  # one row per repetition
            within = np.arange(rep_seg.size) - np.repeat(np.cumsum(c) - c, c)
            m = (fs[rep_seg] + within).astype(float)
            t = (st[rep_seg][:, None] + (m[:, None] * ln[rep_seg][:, None] + idx[None, :])
                 / rt[rep_seg][:, None]).ravel()
            times.append(t)
            values.append(np.tile(vals, rep_seg.size))
            order_keys.append(np.repeat(seg_index[rep_seg], idx.size))
    if not times:
        return Runs(np.array([t0]), np.array([idle]), t1)
    t_all = np.concatenate(times)
    v_all = np.concatenate(values)
    order = np.lexsort((np.concatenate(order_keys), t_all))
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
