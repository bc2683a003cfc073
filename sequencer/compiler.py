"""Compile a schedule or sweep against AWG and digitizer limits.

Steps per AWG: bind the sweep to the AWG's sample grid (points grouped by structure),
mix virtual gates, cut each step into granularity-respecting windows (constant stretches
become one short waveform with a repeat count), sample the windows for all points of a
group at once, deduplicate waveforms by content, build the sequence table and merge
identical consecutive rows into repeat counts where the hardware allows.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.acquire import compile_acquisition
from dotstack.sequencer.assemble import ChannelSource, GroupAssembler
from dotstack.sequencer.biast import BiasT, step_integral
from dotstack.sequencer.cut import Window, cut_step
from dotstack.sequencer.errors import BiasTDroopWarning, LimitError, SequencerError
from dotstack.sequencer.pool import Pool
from dotstack.sequencer.program import Compiled, Padding, Program
from dotstack.sequencer.schedule import Schedule, Sweep, as_sweep
from dotstack.sequencer.segments import Burst, Chirp
from dotstack.sequencer.table import finish_table
from dotstack.sequencer.targets import AwgTarget, DigitizerTarget
from dotstack.sequencer.timeline import Group, Timeline, bind
from dotstack.sequencer.virtual_gates import VirtualGates


def compile_schedule(item: Schedule | Sweep, awgs: Sequence[AwgTarget],
                     digitizers: Sequence[DigitizerTarget] = (), *,
                     virtual_gates: VirtualGates | None = None, bias_t: BiasT | None = None,
                     dedup: bool = True) -> Compiled:
    """Compile ``item`` into one :class:`Program` per AWG and one acquisition per digitizer."""
    sweep = as_sweep(item)
    if not awgs:
        raise SequencerError("compile needs at least one AwgTarget")
    timelines: dict[float, Timeline] = {}
    programs: dict[str, Program] = {}
    droop: dict[str, float] = {}
    wired = {ch for a in awgs for ch in a.channels}
    for target in awgs:
        sr = target.limits.sample_rate
        tl = timelines.get(sr) or timelines.setdefault(sr, _bind(sweep, sr))
        sources = _sources(tl, target, virtual_gates, wired)
        programs[target.name] = _compile_awg(tl, target, sources, bias_t, dedup, droop)
    first = programs[awgs[0].name]
    acquisitions = {d.name: compile_acquisition(timelines[awgs[0].limits.sample_rate], d,
                                                first.point_starts) for d in digitizers}
    return Compiled(programs, acquisitions, droop)


@lru_cache(maxsize=8)
def _bind(sweep: Sweep, sample_rate: float) -> Timeline:
    """Binding does not depend on virtual gates or limits: recompiles reuse it."""
    return bind(sweep, sample_rate)


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
    out = []
    for ch in target.channels:
        lanes = ([(analog[j], float(w)) for j, w in enumerate(mat[row[ch]]) if w != 0.0]
                 if ch in row else [])
        marks = [(lane, bit) for lane, c, bit in target.markers if c == ch]
        out.append(ChannelSource(ch, lanes, target.limits.delay_samples(ch), marks))
    delays = [s.delay for s in out]
    if delays and min(delays) < 0:
        for s in out:
            s.delay -= min(delays)
    _check_frequencies(tl, target, out)
    return out


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


def _last_segment(group: Group, sources: list[ChannelSource]) -> str:
    best = None
    for src in sources:
        for lane, _ in src.lanes:
            for p in group.lanes.get(lane, []):
                if p.occ is not None and (best is None or p.stop >= best.stop):
                    best = p
    return best.occ.seg.describe() if best and best.occ else "(empty step)"


def _compile_awg(tl: Timeline, target: AwgTarget, sources: list[ChannelSource],
                 bias_t: BiasT | None, dedup: bool, droop: dict[str, float]) -> Program:
    lim = target.limits
    g_ = lim.granularity
    comp_len = lim.samples(bias_t.compensation_duration) if bias_t and bias_t.compensate else 0
    pool = Pool(dedup, lim)
    padding: list[Padding] = []
    per_group: list[tuple[Group, list[Window], npt.NDArray[np.int64]]] = []
    short: list[tuple[Group, GroupAssembler, int]] = []
    step_len = np.zeros(tl.n_points, dtype=np.int64)
    for group in tl.groups:
        raw = group.length + comp_len
        total = max(-(-raw // g_) * g_, g_)
        comp = _bias_t(tl, group, target, sources, bias_t, comp_len, total, droop)
        asm = GroupAssembler(tl, group, target, sources, comp, comp_len, total)
        step_len[group.points] = total
        if total > raw:
            padding.append(Padding(tuple(int(p) for p in group.points),
                                   _last_segment(group, sources), "*", total - raw,
                                   "granularity"))
        windows = cut_step(asm.intervals(), total, g_, lim.min_length,
                           repeat=lim.supports_repeat,
                           block_cuts=[int(x) for x in group.block_starts])
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
                else:
                    data, marks, fp = asm.window_fp(c, win.start, win.stop)
                    idx[:, w, c] = pool.add_rows(data, marks, fp)
        per_group.append((group, windows, idx))
    point_starts = np.zeros(tl.n_points + 1, dtype=np.int64)
    np.cumsum(step_len, out=point_starts[1:])
    packed = 1
    if short:
        rows, packed, extra = _pack(tl, target, sources, short, pool, padding)
        point_starts[-1] += extra
    else:
        rows = _rows(tl, per_group, len(sources))
    table = finish_table(rows, tl.sweep, target, packed)
    pool.check(target.name, sources, table)
    return Program(target.name, lim, tuple(s.name for s in sources), target.output,
                   pool.store(), table, target.markers, point_starts, tuple(padding), packed)


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


def _pack(tl: Timeline, target: AwgTarget, sources: list[ChannelSource],
          short: list[tuple[Group, GroupAssembler, int]], pool: Pool,
          padding: list[Padding]) -> tuple[dict[str, Any], int, int]:
    """Steps shorter than min_length: concatenate consecutive points into one window."""
    lim = target.limits
    group, asm, total = short[0]
    if len(short) > 1 or len(tl.groups) > 1 or tl.sweep.trigger in ("point", "row"):
        seg = _last_segment(group, sources)
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
                               _last_segment(group, sources), "*", extra, "min_length"))
    wave = np.empty((n_super, len(sources)), dtype=np.int64)
    intervals = asm.intervals()
    all_const = all(c for _, _, c in intervals)
    for c, src in enumerate(sources):
        mk: Any = None
        if all_const:
            codes = np.concatenate([asm.level_codes(c, a) for a, _, _ in intervals], axis=1)
            lengths = np.array([b - a for a, b, _ in intervals])
            if src.markers:
                mk = np.array([asm.marker_bits(c, a) for a, _, _ in intervals], dtype=np.uint8)
        else:
            data, marks = asm.window(c, 0, total)
            codes, lengths = data, np.ones(total, dtype=np.int64)
            mk = None if marks is None else np.ascontiguousarray(marks[0])
        main = n_super if sizes[-1] == k else n_super - 1
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
                last = np.concatenate([last, last[:, -1:]], axis=1)
                lens = np.concatenate([lens, [extra]])
                mks = None if mks is None else np.concatenate([mks, mks[-1:]])
            wave[main:, c] = pool.add_runs(last, lens, mks)
    rows = {"waveform": wave, "repeat": np.ones(n_super, dtype=np.int64),
            "point_row": np.repeat(np.arange(n_super), sizes)}
    return rows, k, extra


def _bias_t(tl: Timeline, group: Group, target: AwgTarget, sources: list[ChannelSource],
            bias_t: BiasT | None, comp_len: int, total: int,
            droop: dict[str, float]) -> dict[str, Any]:
    if bias_t is None:
        return {}
    asm = GroupAssembler(tl, group, target, sources, {}, 0, max(group.length, 1))
    comp: dict[str, Any] = {}
    tau_samples = bias_t.time_constant * target.limits.sample_rate
    for c, src in enumerate(sources):
        integral, peak = step_integral(asm, c)
        if bias_t.applies(src.name):
            if comp_len:
                comp[src.name] = -integral / comp_len
                peak = np.maximum(peak, np.abs(integral))
            est = float(peak.max(initial=0.0)) / tau_samples
            droop[src.name] = max(droop.get(src.name, 0.0), est)
            if est > bias_t.max_droop:
                warnings.warn(
                    f"channel {src.name!r}: estimated bias-tee droop {est:.3g} V exceeds "
                    f"{bias_t.max_droop:.3g} V (τ = {bias_t.time_constant:g} s)",
                    BiasTDroopWarning, stacklevel=4)
        elif comp_len:
            comp[src.name] = asm._sub_level(c, asm.subs[c][-1])[:, 0] if asm.subs[c][-1].const \
                else _last_sample(asm, c)
    return comp


def _last_sample(asm: GroupAssembler, c: int) -> Any:
    sub = asm.subs[c][-1]
    return asm._sub_values(sub, np.array([sub.e - 1]))[:, 0]
