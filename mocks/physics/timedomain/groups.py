"""Which triggered records see the same drive (so that one simulation serves them all).

Two records have the same drive when every AWG-driven gate plays the same runs (levels and start
times relative to the trigger, to 10 ps) over the record, and the DAC levels at its start,
middle and end agree to 1 nV.  Fingerprints (run count, integer sums of the relative times and
of the levels' bit patterns) are computed for all records at once from cumulative sums; records
sharing a fingerprint are then compared exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics.params import GATES
from dotstack.mocks.physics.timedomain.segments import Runs
from dotstack.mocks.physics.timedomain.trace import Drive

if TYPE_CHECKING:
    from dotstack.mocks.physics.lab import VirtualLab

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
EDGE = 1e-11  # s: a run start this close to a trigger counts as at it; relative times in these units

#: per record and drive: (runs, first run index, stop index, trigger time in EDGE units)
_Slice = tuple[Runs, int, int, int]


def _slices(runs: Runs, starts: Array, span: float) -> tuple[IntArray, IntArray, IntArray]:
    """(first run, stop run, fingerprint columns (N, 3)) of each record in ``runs``."""
    i0 = np.maximum(np.searchsorted(runs.starts, starts + EDGE, side="right") - 1, 0)
    i1 = np.maximum(np.searchsorted(runs.starts, starts + span - EDGE, side="left"), i0 + 1)
    s_int = np.round(runs.starts / EDGE).astype(np.int64)
    t_int = np.round(starts / EDGE).astype(np.int64)
    cs_s = np.concatenate([[0], np.cumsum(s_int)])
    cs_v = np.concatenate([[0], np.cumsum(runs.values.view(np.int64))])
    times = cs_s[i1] - cs_s[i0 + 1] - (i1 - i0 - 1) * t_int
    levels = cs_v[i1] - cs_v[i0]
    return i0, i1, np.stack([i1 - i0, times, levels], axis=1)


def _same(a: _Slice, b: _Slice) -> bool:
    (ra, a0, a1, ta), (rb, b0, b1, tb) = a, b
    if a1 - a0 != b1 - b0 or not np.array_equal(ra.values[a0:a1], rb.values[b0:b1]):
        return False
    rel_a = np.round(ra.starts[a0 + 1:a1] / EDGE).astype(np.int64) - ta
    rel_b = np.round(rb.starts[b0 + 1:b1] / EDGE).astype(np.int64) - tb
    return bool(np.array_equal(rel_a, rel_b))


def drive_groups(lab: VirtualLab, drives: Mapping[str, Drive], starts: Array, span: float
                 ) -> list[IntArray]:
    """Indices of the records (triggers ``starts``, length ``span`` s) with identical drive, in
    order of first appearance."""
    n = starts.size
    if n == 1:
        return [np.array([0], dtype=np.int64)]
    probe = np.concatenate([starts, starts + 0.5 * span, starts + span * (1 - 1e-9)])
    dc = lab.gate_voltages_at(probe)
    columns = [np.round(np.stack([dc[g] for g in GATES], axis=1) * 1e9).astype(np.int64)
               .reshape(3, n, len(GATES)).transpose(1, 0, 2).reshape(n, -1)]
    t_int = np.round(starts / EDGE).astype(np.int64)
    slices: list[list[_Slice]] = [[] for _ in range(n)]
    dense = float(starts.max() - starts.min()) <= 4 * n * span
    for drive in drives.values():
        if dense:  # one fetch covers every record
            runs = drive.runs(float(starts.min()), float(starts.max()) + span)
            i0, i1, cols = _slices(runs, starts, span)
            for r in range(n):
                slices[r].append((runs, int(i0[r]), int(i1[r]), int(t_int[r])))
        else:
            rows = []
            for r, t in enumerate(starts.tolist()):
                runs = drive.runs(t, t + span)
                i0, i1, c = _slices(runs, starts[r:r + 1], span)
                slices[r].append((runs, int(i0[0]), int(i1[0]), int(t_int[r])))
                rows.append(c[0])
            cols = np.stack(rows)
        columns.append(cols)
    keys = np.concatenate(columns, axis=1)
    groups: dict[bytes, list[list[int]]] = {}
    order: list[list[int]] = []
    for r in range(n):
        candidates = groups.setdefault(keys[r].tobytes(), [])
        for members in candidates:
            rep = members[0]
            if all(_same(a, b) for a, b in zip(slices[rep], slices[r], strict=True)):
                members.append(r)
                break
        else:
            candidates.append([r])
            order.append(candidates[-1])
    return [np.array(m, dtype=np.int64) for m in order]
