"""Compile a schedule or sweep against AWG and digitizer limits.

Steps per AWG: bind the sweep to the AWG's sample grid (points grouped by structure),
mix virtual gates, cut each step into granularity-respecting windows (constant stretches
become one short waveform with a repeat count), turn the windows of all points of a group
into waveforms at once, deduplicate waveforms by content, build the sequence table and
merge identical consecutive rows into repeat counts where the hardware allows.

Windows made of holds and ramps stay symbolic: plateaus as runs (level, length), ramps as
linear runs (start, slope, length); virtual gates mix the lanes' levels and slopes, never
samples. Only windows holding other segments (bursts, chirps, arbitrary functions) are
sampled here; the rest is written when rendered or uploaded.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.acquire import compile_acquisition
from dotstack.sequencer.assemble import ChannelSource, GroupAssembler
from dotstack.sequencer.biast import BiasT, step_integral
from dotstack.sequencer.cut import Window, cut_step
from dotstack.sequencer.delays import Carried, carry, check_trigger_waits, source_delays
from dotstack.sequencer.errors import BiasTDroopWarning, LimitError, SequencerError
from dotstack.sequencer.pack import last_segment, pack_short_steps
from dotstack.sequencer.pool import Pool
from dotstack.sequencer.program import Compiled, Note, Padding, PadReason, Program
from dotstack.sequencer.schedule import Schedule, Sweep, as_sweep
from dotstack.sequencer.segments import Burst, Chirp
from dotstack.sequencer.steps import split_groups, step_quanta, step_totals
from dotstack.sequencer.table import finish_table
from dotstack.sequencer.targets import AwgTarget, DigitizerTarget
from dotstack.sequencer.timeline import Group, Occurrence, Timeline, bind
from dotstack.sequencer.virtual_gates import VirtualGates


def compile_schedule(item: Schedule | Sweep, awgs: Sequence[AwgTarget],
                     digitizers: Sequence[DigitizerTarget] = (), *,
                     virtual_gates: VirtualGates | None = None, bias_t: BiasT | None = None,
                     dedup: bool = True) -> Compiled:
    """Compile ``item`` into one `Program` per AWG and one acquisition per digitizer.

    Several AWGs play every sweep point in steps of equal duration (see ``steps.py``).
    What the compiler pads is in ``Program.padding``; what it cannot play as written
    (segments rounding to nothing, delayed samples past the end) in ``Compiled.report``.
    Marker lanes must be wired to an AWG marker and acquisition lanes recorded by a
    digitizer, else `SequencerError`.

    Args:
        item: The schedule, or a `Sweep` of it (each sweep point is a point of the programs).
        awgs: The AWGs that play it: limits, the gate channels each drives, marker wiring.
        digitizers: The digitizers that record its acquisition lanes.
        virtual_gates: Layers mapping virtual gate lanes to the real gate channels.
        bias_t: The bias-T on the AWG lines: droop is estimated (``Compiled.droop``) and
            warned about (`BiasTDroopWarning`) beyond its ``max_droop``.
        dedup: Store waveforms of equal content once.

    Returns:
        One `Program` per AWG name, one `AcquisitionProgram` per digitizer name, the droop
        estimates and the compile-wide notes.

    Raises:
        SequencerError: No AWG, or a marker or acquisition lane that nothing plays or records.
        LimitError: What the hardware limits cannot play (e.g. a frequency above Nyquist).
    """
    sweep = as_sweep(item)
    if not awgs:
        raise SequencerError("compile needs at least one AwgTarget")
    timelines: dict[float, Timeline] = {}
    for target in awgs:
        sr = target.limits.sample_rate
        if sr not in timelines:
            timelines[sr] = _bind(sweep, sr)
    tl0 = timelines[awgs[0].limits.sample_rate]
    _check_lanes(tl0, awgs, digitizers)
    comp_len = {t.name: _comp_len(t, bias_t) for t in awgs}
    totals = step_totals({t.name: (timelines[t.limits.sample_rate], comp_len[t.name])
                          for t in awgs}, step_quanta(awgs))
    programs: dict[str, Program] = {}
    droop: dict[str, float] = {}
    wired = {ch for a in awgs for ch in a.channels}
    for target in awgs:
        tl = timelines[target.limits.sample_rate]
        sources = _sources(tl, target, virtual_gates, wired)
        programs[target.name] = _compile_awg(tl, target, sources, bias_t, dedup, droop,
                                             comp_len[target.name], totals[target.name],
                                             len(awgs) > 1)
    first = programs[awgs[0].name]
    acquisitions = {d.name: compile_acquisition(tl0, d, first.point_starts) for d in digitizers}
    notes = [_dropped_note(tl0, occ, pts) for occ, pts in tl0.dropped
             if tl0.lane_kinds.get(occ.lane) == "acquire"]
    notes += _check_ends(list(programs.values()), sweep)
    return Compiled(programs, acquisitions, droop, tuple(notes))


@lru_cache(maxsize=8)
def _bind(sweep: Sweep, sample_rate: float) -> Timeline:
    """Binding does not depend on virtual gates or limits: recompiles reuse it."""
    return bind(sweep, sample_rate)


def _comp_len(target: AwgTarget, bias_t: BiasT | None) -> int:
    return target.limits.samples(bias_t.compensation_duration) if (
        bias_t and bias_t.compensate) else 0


def _check_lanes(tl: Timeline, awgs: Sequence[AwgTarget],
                 digitizers: Sequence[DigitizerTarget]) -> None:
    """Marker and acquisition lanes must go somewhere (they are never dropped silently)."""
    markers = {lane for a in awgs for lane, _, _ in a.markers}
    recorded = {ch for d in digitizers for ch in d.channels}
    for lane, kind in tl.lane_kinds.items():
        if kind == "marker" and lane not in markers:
            raise SequencerError(
                f"marker lane {lane!r} is not wired to any AWG marker (AwgTarget.markers): "
                "its Marker segments would be dropped")
        if kind == "acquire" and lane not in recorded:
            raise SequencerError(
                f"acquisition lane {lane!r} is not recorded by any digitizer "
                "(DigitizerTarget.channels): its Acquire windows would be dropped")


def _dropped_note(tl: Timeline, occ: Occurrence, pts: npt.NDArray[np.int64]) -> Note:
    return Note("dropped_segment",
                f"{occ.seg.describe()} on lane {occ.lane!r} rounds to 0 samples at "
                f"{tl.sample_rate:g} Sa/s (at {len(pts)} of {tl.n_points} points) and is not "
                "played", lane=occ.lane, segment=occ.seg.describe(),
                points=tuple(int(p) for p in pts))


def _check_ends(programs: list[Program], sweep: Sweep) -> list[Note]:
    """AWGs in lockstep end together unless short steps were packed differently."""
    if len(programs) < 2:
        return []
    ends = {p.awg: Fraction(p.n_samples) / Fraction(p.limits.sample_rate).limit_denominator(
        10**6) for p in programs}
    if len(set(ends.values())) <= 1:
        return []
    desc = ", ".join(f"{k!r} at {float(v):.9g} s" for k, v in ends.items())
    msg = (f"AWG programs end at different times ({desc}): short steps were packed and the "
           "last packed step padded to each AWG's min_length")
    if sweep.loop:
        raise SequencerError(msg + "; looping would let the AWGs drift apart")
    return [Note("end_mismatch", msg + " (after the last point; the points are aligned)",
                 points=(sweep.n_points - 1,))]


def _sources(tl: Timeline, target: AwgTarget, vg: VirtualGates | None,
             wired: set[str]) -> list[ChannelSource]:
    analog = [lane for lane, kind in tl.lane_kinds.items() if kind == "analog"]
    if vg is not None:
        names, mat = vg.compose(analog)
    else:
        names, mat = tuple(analog), np.eye(len(analog))
    for i, name in enumerate(names):
        if name not in wired and np.any(mat[i] != 0):
            raise SequencerError(f"channel {name!r} is not wired to any AWG")
    for lane, kind in tl.lane_kinds.items():
        if kind == "marker" and not any(lane == m[0] for m in target.markers) and lane in wired:
            raise SequencerError(f"marker lane {lane!r} is wired as an analog channel")
    row = {n: i for i, n in enumerate(names)}
    lanes = [[(analog[j], float(w)) for j, w in enumerate(mat[row[ch]]) if w != 0.0]
             if ch in row else [] for ch in target.channels]
    offsets = _mixer_correction(target, lanes)
    marks = [[(lane, bit) for lane, c, bit in target.markers if c == ch]
             for ch in target.channels]
    delays, mdelays = source_delays(target, list(target.channels), marks)
    out = [ChannelSource(ch, ln, d, [(lane, bit, md) for (lane, bit), md in zip(mk, mds,
                                                                                strict=True)],
                         off)
           for ch, ln, d, mk, mds, off in zip(target.channels, lanes, delays, marks, mdelays,
                                              offsets, strict=True)]
    _check_frequencies(tl, target, out)
    check_trigger_waits(tl.sweep, target, out)
    return out


def _mixer_correction(target: AwgTarget, lanes: list[list[tuple[str, float]]]) -> list[float]:
    """Apply each IQ pair's MixerCorrection to the lane weights (in place: the correction is
    linear in the lanes); returns every channel's constant offset (V)."""
    offsets = [0.0] * len(target.channels)
    index = {ch: k for k, ch in enumerate(target.channels)}
    for i_ch, q_ch, corr in target.iq_pairs:
        ki, kq = index[i_ch], index[q_ch]
        weights: dict[str, float] = {}
        for lane, w in lanes[kq]:
            weights[lane] = weights.get(lane, 0.0) + corr.gain * math.cos(corr.phase) * w
        for lane, w in lanes[ki]:
            weights[lane] = weights.get(lane, 0.0) + corr.gain * math.sin(corr.phase) * w
        lanes[kq] = [(lane, w) for lane, w in weights.items() if w != 0.0]
        offsets[ki], offsets[kq] = corr.offset_i, corr.offset_q
    return offsets


def _check_frequencies(tl: Timeline, target: AwgTarget, sources: list[ChannelSource]) -> None:
    nyq = target.limits.sample_rate / 2
    for src in sources:
        lanes = {lane for lane, _ in src.lanes}
        for occ in tl.occurrences:
            if occ.lane in lanes and isinstance(occ.seg, Burst | Chirp):
                keys = ("frequency",) if isinstance(occ.seg, Burst) else ("f_start", "f_stop")
                fmax = max(float(np.max(np.abs(occ.values[k]))) for k in keys)
                if fmax > nyq:
                    raise LimitError(
                        f"{occ.seg.describe()} on lane {occ.lane!r} -> channel {src.name!r}: "
                        f"{fmax:.6g} Hz exceeds the Nyquist limit {nyq:.6g} Hz of AWG "
                        f"{target.name!r} (sample_rate {target.limits.sample_rate:g})",
                        segment=occ.seg.describe(), channel=src.name, limit="sample_rate")


def _compile_awg(tl: Timeline, target: AwgTarget, sources: list[ChannelSource],
                 bias_t: BiasT | None, dedup: bool, droop: dict[str, float], comp_len: int,
                 totals: npt.NDArray[np.int64], lockstep: bool) -> Program:
    lim = target.limits
    g_ = lim.granularity
    pool = Pool(dedup, lim)
    dtype = np.int16 if target.output == "int16" else np.float32
    padding: list[Padding] = []
    prepared: list[tuple[Group, GroupAssembler]] = []
    point_starts = np.zeros(tl.n_points + 1, dtype=np.int64)
    np.cumsum(totals, out=point_starts[1:])
    for group, total in split_groups(tl.groups, totals, lockstep):
        raw = group.length + comp_len
        own = max(-(-raw // g_) * g_, g_)
        starts = point_starts[group.points]  # program sample of each step: carrier phase
        comp = _bias_t(tl, group, target, sources, bias_t, comp_len, total, droop, starts)
        prepared.append((group, GroupAssembler(tl, group, target, sources, comp, comp_len,
                                               total, starts)))
        pads: tuple[tuple[int, PadReason], ...] = ((own - raw, "granularity"),
                                                   (total - own, "lockstep"))
        for n, reason in pads:
            if n > 0:
                padding.append(Padding(tuple(group.points.tolist()), last_segment(
                    group, sources), "*", n, reason))
    fed = _fed_lanes(sources)
    report = [_dropped_note(tl, occ, pts) for occ, pts in tl.dropped if occ.lane in fed]
    carried = carry(prepared, sources, tl.sweep) if any(
        s.delay or s.marker_delay for s in sources) else Carried()
    per_group: list[tuple[Group, list[Window], npt.NDArray[np.int64]]] = []
    short: list[tuple[Group, GroupAssembler, int]] = []
    for group, asm in prepared:
        total = asm.total
        windows = cut_step(asm.intervals(), total, g_, lim.min_length,
                           repeat=lim.supports_repeat,
                           block_cuts=[int(x) for x in group.block_starts],
                           regions=group.repeats)
        if len(windows) == 1 and windows[0].length < lim.min_length:
            short.append((group, asm, total))
            continue
        idx = np.empty((len(group.points), len(windows), len(sources)), dtype=np.int64)
        for w, win in enumerate(windows):
            for c in range(len(sources)):
                if win.const:
                    codes = asm.level_codes(c, win.start)
                    bits = asm.marker_bits(c, win.start) if sources[c].markers else None
                    idx[:, w, c] = pool.add_constant(codes[:, 0], win.length, bits)
                elif (runs := asm.window_runs(c, win.start, win.stop)) is not None:
                    idx[:, w, c] = pool.add_runs(*runs)
                elif (lin := asm.window_lin(c, win.start, win.stop)) is not None:
                    idx[:, w, c] = pool.add_linear(*lin, dtype)
                else:
                    data, marks, fp = asm.window_fp(c, win.start, win.stop)
                    idx[:, w, c] = pool.add_rows(data, marks, fp)
        per_group.append((group, windows, idx))
    packed, extra = 1, 0
    if short:
        rows, packed, extra = pack_short_steps(tl, target, sources, short, pool, padding, carried)
        point_starts[-1] += extra
    else:
        rows = _rows(tl, per_group, len(sources))
    report += carried.notes(extra, lim.sample_rate, tl.n_points)
    table = finish_table(rows, tl.sweep, target, packed)
    pool.check(target.name, sources, table)
    return Program(target.name, lim, tuple(s.name for s in sources), target.output,
                   pool.store(), table, target.markers, point_starts, tuple(padding), packed,
                   tuple(report))


def _fed_lanes(sources: list[ChannelSource]) -> set[str]:
    return {lane for s in sources for lane, _ in s.lanes} | {
        lane for s in sources for lane, _, _ in s.markers}


def _rows(tl: Timeline, per_group: list[tuple[Group, list[Window], Any]],
          n_ch: int) -> dict[str, Any]:
    n_w = np.zeros(tl.n_points, dtype=np.int64)
    for group, windows, _ in per_group:
        n_w[group.points] = len(windows)
    offsets = np.zeros(tl.n_points + 1, dtype=np.int64)
    np.cumsum(n_w, out=offsets[1:])
    n = int(offsets[-1])
    wave = np.empty((n, n_ch), dtype=np.int64)
    rep = np.empty(n, dtype=np.int64)
    for group, windows, idx in per_group:
        pos = offsets[group.points][:, None] + np.arange(len(windows))[None, :]
        wave[pos] = idx
        rep[pos] = np.array([w.repeat for w in windows])[None, :]
    return {"waveform": wave, "repeat": rep, "point_row": offsets[:-1]}


def _bias_t(tl: Timeline, group: Group, target: AwgTarget, sources: list[ChannelSource],
            bias_t: BiasT | None, comp_len: int, total: int,
            droop: dict[str, float], starts: npt.NDArray[np.int64]) -> dict[str, Any]:
    if bias_t is None:
        return {}
    asm = GroupAssembler(tl, group, target, sources, {}, 0, max(group.length, 1), starts)
    comp: dict[str, Any] = {}
    tau_samples = bias_t.time_constant * target.limits.sample_rate
    for c, src in enumerate(sources):
        integral, peak = step_integral(asm, c)
        if bias_t.applies(src.name):
            if comp_len:  # the compensation level also holds through the padding
                comp[src.name] = -integral / (total - group.length)
                peak = np.maximum(peak, np.abs(integral))
            est = float(peak.max(initial=0.0)) / tau_samples
            droop[src.name] = max(droop.get(src.name, 0.0), est)
            if est > bias_t.max_droop:
                warnings.warn(
                    f"channel {src.name!r}: estimated bias-tee droop {est:.3g} V exceeds "
                    f"{bias_t.max_droop:.3g} V (τ = {bias_t.time_constant:g} s)",
                    BiasTDroopWarning, stacklevel=4)
        elif comp_len:  # rests through the compensation time
            comp[src.name] = asm.sub_rest(c, asm.subs[c][-1])[:, 0]
    return comp
