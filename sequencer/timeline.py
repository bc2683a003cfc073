"""Binding: a sweep -> integer-sample timelines, grouped by structure.

Points whose segment boundaries fall on the same samples form a group; each group's
samples are then produced with vectorised numpy over all of its points at once.
Carrier segments (bursts) are evaluated at program time: the caller passes the sample at
which each point's occurrence starts (``t0``), and every occurrence carries its lane's
virtual-Z frame (the sum of the lane's earlier phase shifts in the sweep point).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer._util import unique_rows
from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.schedule import Repeat, Sweep
from dotstack.sequencer.segments import Param, PhaseShift, Segment

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass
class Occurrence:
    """One segment placed in the unrolled timeline."""

    index: int
    block: int
    lane: str
    seg: Segment
    values: dict[str, Any]  # field -> float or (P,) array
    frame: Any = 0.0  # virtual-Z phase (rad) of the lane before it: float or (P,) array


@dataclass
class Piece:
    """Part of one lane in one group: an occurrence or padding, samples [start, stop)."""

    start: int
    stop: int
    occ: Occurrence | None  # None: padding
    hold: Occurrence | None = None  # padding holds this occurrence's last sample (None: 0)


@dataclass
class Group:
    """Sweep points sharing one sample structure."""

    points: IntArray
    length: int  # samples of one step (before compensation / padding)
    lanes: dict[str, list[Piece]]
    block_starts: IntArray
    repeats: list[tuple[int, int, int]] = field(default_factory=list)  # (start, body, count)


@dataclass
class Timeline:
    sweep: Sweep
    sample_rate: float
    n_points: int
    occurrences: list[Occurrence]
    lane_kinds: dict[str, str]
    groups: list[Group]
    group_of_point: IntArray
    step_lengths: IntArray  # (P,)
    dropped: list[tuple[Occurrence, IntArray]] = field(default_factory=list)  # 0 samples
    _cache: dict[int, tuple[IntArray, FloatArray]] = field(default_factory=dict)

    def field_values(self, occ: Occurrence, points: IntArray) -> dict[str, Any]:
        """Bound values of ``occ`` for ``points`` as (n, 1) arrays or floats."""
        return {k: (v[points][:, None] if isinstance(v, np.ndarray) else v)
                for k, v in occ.values.items()}

    def carrier_phase(self, occ: Occurrence, points: IntArray, t0: IntArray | None
                      ) -> FloatArray | None:
        """Phase (rad) added to a carrier segment's ``phase`` per point: its frame plus the
        carrier's advance up to sample ``t0`` of the program, ``2π frac(f t0 / sr)``;
        None when it is 0 for every point (or the segment has no carrier)."""
        if not occ.seg.carrier:
            return None
        frame = occ.frame[points] if isinstance(occ.frame, np.ndarray) else np.full(
            len(points), float(occ.frame))
        if t0 is not None:
            f = occ.values["frequency"]
            f = f[points] if isinstance(f, np.ndarray) else f
            cycles = np.mod(f * (np.asarray(t0, dtype=np.float64) / self.sample_rate), 1.0)
            frame = frame + 2 * np.pi * cycles
        return None if not frame.any() else frame

    def evaluate(self, occ: Occurrence, points: IntArray, k: IntArray, n: int,
                 t0: IntArray | None = None) -> FloatArray:
        """Samples of ``occ`` at local sample indices ``k`` for ``points`` (n samples long);
        ``t0``: program sample at which ``occ`` starts, per point (carrier phase)."""
        sr = self.sample_rate
        shift = self.carrier_phase(occ, points, t0)
        free = occ.seg.duration_independent() and not occ.seg.constant
        if free:
            inv, table = self._duration_free_table(occ)
            if table is not None:
                rows = _columns(table, k)[inv[points]]
                if shift is None:
                    return rows
                # a shifted carrier from the in-phase and quadrature tables (no sines):
                # off + A sin(x + s) = off + (S - off) cos s + (C - off) sin s
                _, quad = self._duration_free_table(occ, quadrature=True)
                off = self.field_values(occ, points)["offset"]
                c, s = np.cos(shift)[:, None], np.sin(shift)[:, None]
                return off + (rows - off) * c + (_columns(quad, k)[inv[points]] - off) * s
        vals = self.field_values(occ, points)
        if shift is not None:
            vals["phase"] = vals["phase"] + shift[:, None]
        dur = np.full((len(points), 1), n / sr)
        return occ.seg.sample(vals, (k / sr)[None, :], dur)

    def _duration_free_table(self, occ: Occurrence, quadrature: bool = False
                             ) -> tuple[IntArray, Any]:
        """Evaluate once per distinct set of non-duration fields, at the longest length
        (``quadrature``: a carrier's samples at phase + π/2)."""
        key = -1 - occ.index if quadrature else occ.index
        if key in self._cache:
            return self._cache[key]
        names = [n for n in occ.seg.numeric_fields() if n != "duration"]
        cols = [np.broadcast_to(np.asarray(occ.values[n], float), (self.n_points,))
                for n in names]
        lengths = self._occ_lengths(occ)
        mat = np.stack(cols, axis=1) if cols else np.zeros((self.n_points, 0))
        first, inv = unique_rows(mat) if cols else (np.zeros(1, dtype=np.int64),
                                                    np.zeros(self.n_points, dtype=np.int64))
        uniq = mat[first]
        n_max = int(lengths.max(initial=0))
        table: Any = None
        if uniq.shape[0] * n_max <= max(int(lengths.sum()), 1):
            vals = {n: uniq[:, i:i + 1] for i, n in enumerate(names)}
            if quadrature:
                vals["phase"] = vals["phase"] + np.pi / 2
            t = (np.arange(n_max) / self.sample_rate)[None, :]
            table = occ.seg.sample(vals, t, np.full((uniq.shape[0], 1), np.inf))
            table = np.ascontiguousarray(np.broadcast_to(table, (uniq.shape[0], n_max)))
        self._cache[key] = (inv, table)
        return inv, table

    def _occ_lengths(self, occ: Occurrence) -> IntArray:
        out = np.zeros(self.n_points, dtype=np.int64)
        for g in self.groups:
            for p in g.lanes[occ.lane]:
                if p.occ is occ:
                    out[g.points] = p.stop - p.start
        return out

    def rest_value(self, occ: Occurrence | None, points: IntArray, group: Group) -> FloatArray:
        """Value the lane rests at after ``occ`` for ``points``, shape (n, 1): 0 V if None,
        the offset after an oscillating segment, else its last sample."""
        if occ is None:
            return np.zeros((len(points), 1))
        if occ.seg.rests_at_offset:
            v = occ.values["offset"]
            return v[points][:, None] if isinstance(v, np.ndarray) else np.full(
                (len(points), 1), float(v))
        piece = next(p for p in group.lanes[occ.lane] if p.occ is occ)
        n = piece.stop - piece.start
        return self.evaluate(occ, points, np.array([n - 1]), n)


def _columns(table: FloatArray, k: IntArray) -> FloatArray:
    contiguous = len(k) and k[-1] - k[0] == len(k) - 1
    return table[:, k[0]:k[-1] + 1] if contiguous else table[:, k]


def _bind_values(seg: Segment, params: dict[str, FloatArray]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in seg.numeric_fields():
        v = getattr(seg, name)
        out[name] = params[v.name] if isinstance(v, Param) else float(v)
    return out


def bind(sweep: Sweep, sample_rate: float) -> Timeline:
    """Unroll ``sweep.schedule``, place every segment on the sample grid, group points."""
    params = sweep.param_values()
    P = sweep.n_points
    occs: list[Occurrence] = []
    dropped: list[tuple[Occurrence, IntArray]] = []
    kinds: dict[str, str] = {}
    frames: dict[str, Any] = {}  # lane -> virtual-Z phase so far (float or (P,) array)
    blocks = list(sweep.schedule.blocks())
    # per block, per lane: list of (occurrence, start, stop) sample arrays
    layout: list[dict[str, list[tuple[Occurrence, IntArray, IntArray]]]] = []
    block_len = np.zeros((P, len(blocks)), dtype=np.int64)
    for b, block in enumerate(blocks):
        lanes: dict[str, list[tuple[Occurrence, IntArray, IntArray]]] = {}
        for lane, segs in block.lanes:
            cum = np.zeros(P)
            start = np.zeros(P, dtype=np.int64)
            placed = []
            for seg in segs:
                if seg.kind != "gap":
                    kinds.setdefault(lane, seg.kind)
                if seg.kind != "gap" and kinds[lane] != seg.kind:
                    raise SequencerError(f"lane {lane!r} mixes {kinds[lane]} and {seg.kind}")
                occ = Occurrence(len(occs), b, lane, seg, _bind_values(seg, params),
                                 frames.get(lane, 0.0))
                if isinstance(seg, PhaseShift):
                    frames[lane] = frames.get(lane, 0.0) + occ.values["phase"]
                dur = np.broadcast_to(np.asarray(occ.values["duration"], float), (P,))
                if np.any(dur < 0) or not np.all(np.isfinite(dur)):
                    raise SequencerError(f"negative or non-finite duration in {seg.describe()}"
                                         f" on lane {lane!r}")
                seg.check_bound(occ.values, lane)
                occs.append(occ)
                cum = cum + dur
                stop = np.round(cum * sample_rate).astype(np.int64)
                gone = (stop == start) & (dur > 0)
                if gone.any():
                    dropped.append((occ, np.flatnonzero(gone)))
                placed.append((occ, start, stop))
                start = stop
            lanes[lane] = placed
            if placed:
                block_len[:, b] = np.maximum(block_len[:, b], placed[-1][2])
        layout.append(lanes)
    for lane in frames:
        if kinds.get(lane, "analog") != "analog":
            raise SequencerError(f"phase_shift on {kinds[lane]} lane {lane!r}: virtual Z acts "
                                 "on analog (burst) lanes only")
    block_starts = np.zeros((P, len(blocks) + 1), dtype=np.int64)
    np.cumsum(block_len, axis=1, out=block_starts[:, 1:])
    cols = [block_starts] + [np.stack([s, e], axis=1) for lanes in layout
                             for placed in lanes.values() for _, s, e in placed]
    struct = np.concatenate(cols, axis=1)
    first, inverse = unique_rows(struct)
    order = np.argsort(inverse, kind="stable")
    splits = np.cumsum(np.bincount(inverse, minlength=len(first)))[:-1]
    regions = _repeat_blocks(sweep)
    groups = [_group(pts, int(first[g]), layout, block_starts, kinds, regions)
              for g, pts in enumerate(np.split(order, splits))]
    return Timeline(sweep, sample_rate, P, occs, kinds, groups, inverse,
                    block_starts[:, -1].copy(), dropped)


def _repeat_blocks(sweep: Sweep) -> list[tuple[int, int, int]]:
    """Top-level repeats as (first block, blocks per body, count) of the unrolled blocks."""
    out, b = [], 0
    for item in sweep.schedule.items:
        if isinstance(item, Repeat):
            nb = sum(1 for _ in item.body.blocks())
            if nb and item.count > 1:
                out.append((b, nb, item.count))
            b += nb * item.count
        else:
            b += 1
    return out


def _group(points: IntArray, rep: int, layout: list[dict[str, list[tuple[Occurrence, IntArray,
           IntArray]]]], block_starts: IntArray, kinds: dict[str, str],
           regions: list[tuple[int, int, int]]) -> Group:
    bs = block_starts[rep]
    repeats = []
    for b0, nb, count in regions:
        edges = bs[b0:b0 + nb * count + 1:nb]
        body = int(edges[1] - edges[0])
        if body > 0 and bool((np.diff(edges) == body).all()):
            repeats.append((int(edges[0]), body, count))
    pieces: dict[str, list[Piece]] = {lane: [] for lane in kinds}
    last: dict[str, Occurrence | None] = dict.fromkeys(kinds)
    for b, lanes in enumerate(layout):
        b0, b1 = int(bs[b]), int(bs[b + 1])
        for lane in kinds:
            pos = b0
            for occ, s, e in lanes.get(lane, []):
                s_, e_ = b0 + int(s[rep]), b0 + int(e[rep])
                if e_ > s_ and occ.seg.kind == "gap":
                    pieces[lane].append(Piece(s_, e_, None, last[lane]))
                elif e_ > s_:
                    pieces[lane].append(Piece(s_, e_, occ))
                    last[lane] = occ
                pos = e_
            if pos < b1:
                pieces[lane].append(Piece(pos, b1, None, last[lane]))
    return Group(points, int(bs[-1]), pieces, bs.copy(), repeats)
