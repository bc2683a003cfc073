"""Digitizer programs: one record per acquisition window, mapped back to sweep points.

Single-shot windows (``Acquire(..., single_shot=True)`` or with a ``threshold``) mark their
records in ``AcquisitionProgram.record_single_shot`` and carry their threshold (V, per
record: a swept threshold differs per point; NaN where none) in ``record_threshold``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.errors import LimitError, SequencerError
from dotstack.sequencer.program import AcquisitionProgram, AcquisitionWindow
from dotstack.sequencer.segments import Acquire
from dotstack.sequencer.targets import DigitizerTarget
from dotstack.sequencer.timeline import Timeline


def compile_acquisition(tl: Timeline, target: DigitizerTarget,
                        point_starts: npt.NDArray[np.int64]) -> AcquisitionProgram:
    """Records for every Acquire segment on ``target``'s lanes, in play order."""
    lim = target.limits
    sr = tl.sample_rate
    if len(target.channels) > len(lim.channels):
        raise SequencerError(f"digitizer {target.name!r} records {len(target.channels)} lanes "
                             f"but has only channels {lim.channels}")
    names: dict[str, int] = {}
    per_point = np.zeros(tl.n_points, dtype=np.int64)
    group_windows = []
    rec_len = 0
    for group in tl.groups:
        wins = []
        for c, ch in enumerate(target.channels):
            for p in group.lanes.get(ch, []):
                if p.occ is None or not isinstance(p.occ.seg, Acquire):
                    continue
                seg = p.occ.seg
                names.setdefault(seg.name, len(names))
                n_dig = int(np.ceil((p.stop - p.start) / sr * lim.sample_rate - 1e-9))
                if n_dig > lim.max_record_length:
                    raise LimitError(
                        f"{seg.describe()} on digitizer channel {ch!r}: {n_dig} samples exceed "
                        f"max_record_length={lim.max_record_length} of {target.name!r}",
                        segment=seg.describe(), channel=ch, limit="max_record_length")
                rec_len = max(rec_len, n_dig)
                thr = p.occ.values.get("threshold", np.nan)
                thr = thr[group.points] if isinstance(thr, np.ndarray) else np.full(
                    len(group.points), float(thr))
                wins.append((p.start, c, names[seg.name], p.stop - p.start, n_dig,
                             int(seg.single_shot), thr))
        wins.sort(key=lambda w: w[:2])
        per_point[group.points] = len(wins)
        group_windows.append(wins)
    offsets = np.zeros(tl.n_points + 1, dtype=np.int64)
    np.cumsum(per_point, out=offsets[1:])
    n_rec = int(offsets[-1])
    if n_rec > lim.max_records:
        raise LimitError(f"digitizer {target.name!r}: {n_rec} records exceed max_records="
                         f"{lim.max_records}", segment="(all Acquire windows)",
                         channel=",".join(target.channels), limit="max_records")
    g = lim.record_granularity
    record_length = max(-(-rec_len // g) * g, -(-lim.min_record_length // g) * g) if n_rec else 0
    rec_point = np.repeat(np.arange(tl.n_points), per_point)
    rec_win = np.empty(n_rec, dtype=np.int64)
    rec_ch = np.empty(n_rec, dtype=np.int64)
    rec_start = np.empty(n_rec)
    rec_samples = np.empty(n_rec, dtype=np.int64)
    rec_single = np.zeros(n_rec, dtype=bool)
    rec_thr = np.full(n_rec, np.nan)
    for group, wins in zip(tl.groups, group_windows, strict=True):
        if not wins:
            continue
        pos = offsets[group.points][:, None] + np.arange(len(wins))[None, :]
        arr = np.array([w[:6] for w in wins], dtype=np.int64)
        rec_single[pos] = arr[:, 5].astype(bool)[None, :]
        rec_thr[pos] = np.stack([w[6] for w in wins], axis=1)
        rec_win[pos] = arr[:, 2]
        rec_ch[pos] = arr[:, 1]
        rec_samples[pos] = arr[:, 4]
        rec_start[pos] = (point_starts[group.points][:, None] + arr[:, 0][None, :]) / sr
    coords: dict[str, npt.NDArray[np.float64]] = {}
    shape = tl.sweep.shape
    for k, ax in enumerate(tl.sweep.axes):
        idx = np.indices(shape)[k].ravel() if len(shape) > 1 else np.arange(shape[0])
        coords[ax.name] = np.asarray(ax.values)[idx][rec_point]
    first = group_windows[int(tl.group_of_point[0])] if tl.n_points else []
    inv_names = {v: n for n, v in names.items()}
    row0 = int(np.flatnonzero(tl.groups[int(tl.group_of_point[0])].points == 0)[0]) if (
        tl.n_points) else 0
    windows = tuple(AcquisitionWindow(inv_names[w[2]], target.channels[w[1]], w[0] / sr,
                                      w[3] / sr, bool(w[5]),
                                      None if np.isnan(w[6][row0]) else float(w[6][row0]))
                    for w in first)
    return AcquisitionProgram(target.name, lim, lim.sample_rate, record_length,
                              target.channels, tuple(names), windows, rec_point, rec_win,
                              rec_ch, rec_start, rec_samples, coords, shape, rec_single,
                              rec_thr)
