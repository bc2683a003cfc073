"""Packing: steps shorter than ``min_length`` are concatenated, consecutive sweep points in
one waveform, when every point has the same structure and no trigger waits between them.
Holds stay runs and ramps linear runs (not sampled) in the packed waveforms.
The last packed step is padded to ``min_length``: analog channels rest (hold, or a burst's
offset), markers are low
and delayed channels first play what spills from the last point.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer import ramps
from dotstack.sequencer.assemble import ChannelSource, GroupAssembler
from dotstack.sequencer.delays import Carried
from dotstack.sequencer.errors import LimitError
from dotstack.sequencer.pool import Pool
from dotstack.sequencer.program import Padding
from dotstack.sequencer.targets import AwgTarget
from dotstack.sequencer.timeline import Group, Timeline


def last_segment(group: Group, sources: list[ChannelSource]) -> str:
    """Description of the segment that ends last in a step (for padding reports)."""
    best = None
    for src in sources:
        for lane, _ in src.lanes:
            for p in group.lanes.get(lane, []):
                if p.occ is not None and (best is None or p.stop >= best.stop):
                    best = p
    return best.occ.seg.describe() if best and best.occ else "(empty step)"


def pack_short_steps(tl: Timeline, target: AwgTarget, sources: list[ChannelSource],
                     short: list[tuple[Group, GroupAssembler, int]], pool: Pool,
                     padding: list[Padding], carried: Carried
                     ) -> tuple[dict[str, Any], int, int]:
    """Steps shorter than min_length: concatenate consecutive points into one window.

    Returns (table rows, points per packed step, samples of end padding)."""
    lim = target.limits
    group, asm, total = short[0]
    if len(short) > 1 or len(tl.groups) > 1 or tl.sweep.trigger in ("point", "row"):
        seg = last_segment(group, sources)
        ch = sources[0].name if sources else "*"
        raise LimitError(
            f"AWG {target.name!r}: a step of {total} samples (in {seg}) is shorter than "
            f"min_length={lim.min_length} and cannot be packed with its neighbours "
            "(points differ in structure or wait for triggers)",
            segment=seg, channel=ch, limit="min_length")
    P = tl.n_points
    k = -(-lim.min_length // total)
    n_super = max(P // k, 1)
    sizes = np.full(n_super, k)
    sizes[-1] += P - n_super * k if k <= P else P - k
    unit = -(-lim.min_length // lim.granularity) * lim.granularity
    extra = max(unit - int(sizes[-1]) * total, 0)
    if extra:
        padding.append(Padding(tuple(range(P - int(sizes[-1]), P)),
                               last_segment(group, sources), "*", extra, "min_length"))
    wave = np.empty((n_super, len(sources)), dtype=np.int64)
    intervals = asm.intervals()
    all_const = all(c for _, _, c in intervals)
    main = n_super if sizes[-1] == k else n_super - 1
    dtype = np.int16 if target.output == "int16" else np.float32
    for c, src in enumerate(sources):
        mk: Any = None  # marker bits: None, one per run, or (points, samples) if they differ
        spills = c in carried.analog or c in carried.marks
        lin = None if all_const or spills else asm.window_lin(c, 0, total)
        if lin is not None:  # holds and ramps: packed as linear runs, not sampled
            wave[:, c] = _pack_linear(pool, lin, k, main, n_super, int(sizes[-1]), extra,
                                      dtype)
            continue
        if all_const:
            codes = np.concatenate([asm.level_codes(c, a) for a, _, _ in intervals], axis=1)
            lengths = np.array([b - a for a, b, _ in intervals])
            if src.markers:
                mk = np.array([asm.marker_bits(c, a) for a, _, _ in intervals], dtype=np.uint8)
        else:
            data, marks = asm.window(c, 0, total)
            codes, lengths = data, np.ones(total, dtype=np.int64)
            if marks is not None:
                mk = np.ascontiguousarray(marks[0] if (marks == marks[0]).all() else marks)
        rest = asm._convert(asm.sub_rest(c, asm.subs[c][-1])[-1:], c, asm.subs[c][-1], total)
        tail = _spill(asm, c, carried, rest, extra)
        if mk is not None and mk.ndim == 2:  # delayed markers carried over differ per point
            wave[:, c] = _pack_rows(pool, codes, mk, k, main, n_super, tail)
            continue
        if main:
            wave[:main, c] = pool.add_runs(codes[:main * k].reshape(main, -1),
                                           np.tile(lengths, k),
                                           None if mk is None else np.tile(mk, k))
        if main < n_super:
            n_last = int(sizes[-1])
            last = codes[main * k:].reshape(1, -1)
            lens = np.tile(lengths, n_last)
            mks = None if mk is None else np.tile(mk, n_last)
            if extra:
                last = np.concatenate([last, tail[0]], axis=1)
                lens = np.concatenate([lens, tail[1]])
                mks = None if mks is None else np.concatenate([mks, tail[2]]).astype(np.uint8)
            wave[main:, c] = pool.add_runs(last, lens, mks)
    rows = {"waveform": wave, "repeat": np.ones(n_super, dtype=np.int64),
            "point_row": np.repeat(np.arange(n_super), sizes)}
    return rows, k, extra


def _pack_linear(pool: Pool, lin: Any, k: int, main: int, n_super: int, n_last: int,
                 extra: int, dtype: Any) -> npt.NDArray[np.int64]:
    """Packed steps from linear runs (starts, slopes (points, runs), lengths, bits); the end
    padding holds exactly the last sample played (markers low)."""
    starts, slopes, lengths, bits = lin
    ids = []
    if main:
        ids.append(pool.add_linear(starts[:main * k].reshape(main, -1),
                                   slopes[:main * k].reshape(main, -1), np.tile(lengths, k),
                                   None if bits is None else np.tile(bits, k), dtype))
    if main < n_super:
        a, b = starts[main * k:].reshape(1, -1), slopes[main * k:].reshape(1, -1)
        lens = np.tile(lengths, n_last)
        mks = None if bits is None else np.tile(bits, n_last)
        if extra:
            last = ramps.values_at(a[:, -1:], b[:, -1:], lens[-1] - 1, dtype).astype(float)
            a, b = np.concatenate([a, last], axis=1), np.concatenate([b, np.zeros((1, 1))], axis=1)
            lens = np.concatenate([lens, [extra]])
            mks = None if mks is None else np.concatenate([mks, [0]]).astype(np.uint8)
        ids.append(pool.add_linear(a, b, lens, mks, dtype))
    return np.concatenate(ids)


def _spill(asm: GroupAssembler, c: int, carried: Carried, last: Any, extra: int
           ) -> tuple[Any, npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """Runs (codes (1, m), lengths, marker bits) for ``extra`` samples of end padding after
    the last point: analog holds, markers are low, delayed samples continue first."""
    if not extra or (c not in carried.analog and c not in carried.marks):
        return last, np.array([extra]), np.zeros(1, dtype=np.uint8)
    vals = carried.analog.get(c)
    if vals is None:
        codes = np.repeat(last, extra, axis=1)
    else:
        held = np.concatenate([vals, np.full(max(extra - len(vals), 0), vals[-1])])[:extra]
        codes = asm._convert(held[None, :], c, None, asm.total)
    bits = np.zeros(extra, dtype=np.uint8)
    if c in carried.marks:
        m = carried.marks[c][:extra]
        bits[:len(m)] = m
    return codes, np.ones(extra, dtype=np.int64), bits


def _pack_rows(pool: Pool, data: Any, marks: Any, k: int, main: int, n_super: int,
               tail: tuple[Any, npt.NDArray[np.int64], npt.NDArray[np.uint8]]
               ) -> npt.NDArray[np.int64]:
    """Packed steps as sampled rows with per-row marker data."""
    ids = []
    if main:
        ids.append(pool.add_rows(data[:main * k].reshape(main, -1),
                                 marks[:main * k].reshape(main, -1)))
    if main < n_super:
        last, lm = data[main * k:].reshape(1, -1), marks[main * k:].reshape(1, -1)
        codes, lengths, bits = tail
        if int(lengths.sum()):
            last = np.concatenate([last, np.repeat(codes, lengths, axis=1)], axis=1)
            lm = np.concatenate([lm, np.repeat(bits, lengths)[None, :]], axis=1)
        ids.append(pool.add_rows(last, lm))
    return np.concatenate(ids)
