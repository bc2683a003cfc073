"""Sampling one group's windows for one AWG: virtual-gate mixing, delays, quantization.

Output sample ``j`` of a step on a channel delayed by ``d`` samples is the channel's
undelayed stream at ``j - d``; the first ``d`` samples of a step are the last ``d`` of the
previous step (set with :meth:`GroupAssembler.set_head`, see ``delays.py``). The
undelayed stream of a step is the source (segments, then any bias-T compensation) followed
by padding: analog channels rest (hold their last value, or a burst's offset), markers are
low. Marker lanes have their own delays, independent of the analog delay of the channel
they ride on. ``starts`` (program sample of each point's step) sets the carrier phase of
bursts; a channel's ``offset`` (V, e.g. an IQ mixer's DC correction) is added everywhere.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer import ramps
from dotstack.sequencer._util import as_uint64, fp_weights
from dotstack.sequencer.errors import LimitError, SequencerError
from dotstack.sequencer.segments import Hold
from dotstack.sequencer.targets import AwgTarget
from dotstack.sequencer.timeline import FloatArray, Group, IntArray, Piece, Timeline


@dataclass
class ChannelSource:
    """How a real channel is made: weighted lanes, an analog delay (samples) and marker
    lanes (lane, bit, delay in samples)."""

    name: str
    lanes: list[tuple[str, float]]
    delay: int
    markers: list[tuple[str, int, int]]
    offset: float = 0.0  # V added to every sample (IQ mixer DC correction)

    @property
    def marker_delay(self) -> int:
        return max((d for _, _, d in self.markers), default=0)


@dataclass
class Sub:
    """Source interval [s, e) of one channel and the lane pieces that cover it."""

    s: int
    e: int
    parts: list[tuple[float, Piece]]
    comp: bool
    const: bool


def _is_const(p: Piece) -> bool:
    return p.occ is None or p.occ.seg.constant


class GroupAssembler:
    """Produces the samples of windows of one group on one AWG."""

    def __init__(self, tl: Timeline, group: Group, target: AwgTarget,
                 sources: list[ChannelSource], comp: dict[str, FloatArray], comp_len: int,
                 total: int, starts: IntArray | None = None) -> None:
        self.tl, self.g, self.target, self.sources = tl, group, target, sources
        self.starts = (np.zeros(len(group.points), dtype=np.int64) if starts is None
                       else np.asarray(starts, dtype=np.int64))
        self.comp, self.comp_len, self.total = comp, comp_len, total
        self.src_len = group.length + comp_len
        self.dtype = np.int16 if target.output == "int16" else np.float32
        self.n = len(group.points)
        self._const_cache: dict[int, FloatArray] = {}
        self._lin_cache: dict[int, tuple[FloatArray, FloatArray] | None] = {}
        self.subs = [self._subs(src) for src in sources]
        self._sub_starts = [[sub.s for sub in subs] for subs in self.subs]
        self.marks = [self._marker_runs(src, None) for src in sources]
        n_ch = len(sources)
        self.head: list[FloatArray | None] = [None] * n_ch  # carried-over analog samples
        self.head_const = [True] * n_ch
        self.mhead: list[npt.NDArray[np.uint8] | None] = [None] * n_ch  # per-point marker heads

    def set_head(self, c: int, head: FloatArray) -> None:
        """Samples [0, delay) of channel ``c``: the previous step's last samples, (n, delay)."""
        self.head[c] = head
        self.head_const[c] = bool((head == head[:, :1]).all())

    def set_marker_head(self, c: int, head: npt.NDArray[np.uint8]) -> None:
        """Marker bits carried over from the previous step, (n, max marker delay)."""
        if bool((head == head[:1]).all()):
            self.marks[c] = self._marker_runs(self.sources[c], head[0])
        else:
            self.mhead[c] = head

    # -- structure -------------------------------------------------------------------
    def _subs(self, src: ChannelSource) -> list[Sub]:
        T = self.g.length
        lanes = [(w, self.g.lanes[lane]) for lane, w in src.lanes if w != 0.0]
        cuts = sorted({0, T, *(p.start for _, ps in lanes for p in ps)})
        out: list[Sub] = []
        idx = [0] * len(lanes)
        for s, e in pairwise(cuts):
            parts = []
            for j, (w, ps) in enumerate(lanes):
                while ps[idx[j]].stop <= s:
                    idx[j] += 1
                parts.append((w, ps[idx[j]]))
            out.append(Sub(s, e, parts, False, all(_is_const(p) for _, p in parts)))
        if not out:
            out.append(Sub(0, T, [], False, True))
        if self.comp_len:
            out.append(Sub(T, T + self.comp_len, [], True, True))
        return out

    def _marker_runs(self, src: ChannelSource, head: npt.NDArray[np.uint8] | None
                     ) -> list[tuple[int, int, int]]:
        """(start, stop, bits) runs in output samples covering the step; ``head``: bits
        carried over from the previous step (shared by every point) or None."""
        T = self.total
        lanes = [(self.g.lanes.get(lane, []), bit, d) for lane, bit, d in src.markers]
        edges = {0, T}
        for pieces, _, d in lanes:
            edges.add(min(d, T))
            edges |= {min(p.start + d, T) for p in pieces} | {min(p.stop + d, T) for p in pieces}
        if head is not None:
            edges |= {min(len(head), T), *(np.flatnonzero(np.diff(head)) + 1).tolist()}
        runs: list[tuple[int, int, int]] = []
        for x, y in pairwise(sorted(e for e in edges if e <= T)):
            bits = 0
            for pieces, bit, d in lanes:
                if x >= d:  # own samples; past the segments (padding): low
                    p = next((p for p in pieces if p.start <= x - d < p.stop), None)
                    if p is not None and p.occ is not None:
                        bits |= int(getattr(p.occ.seg, "state", 0)) << bit
            if head is not None and x < len(head):
                bits |= int(head[x])
            if runs and runs[-1][2] == bits:
                runs[-1] = (runs[-1][0], y, bits)
            else:
                runs.append((x, y, bits))
        return runs

    def _subs_in(self, c: int, a: int, b: int) -> list[Sub]:
        """Source intervals of channel ``c`` whose output samples may meet [a, b) (a
        superset; callers clip with :meth:`_out_range`), found by bisection."""
        d = self.sources[c].delay
        starts = self._sub_starts[c]
        i0 = max(bisect_right(starts, a - d) - 1, 0)
        i1 = max(bisect_left(starts, b - d), i0 + 1)
        return self.subs[c][i0:i1]

    def _out_range(self, sub: Sub, d: int) -> tuple[int, int]:
        """Output samples of source interval ``sub`` (the last one also covers padding)."""
        lo = min(sub.s + d, self.total)
        hi = self.total if sub.e >= self.src_len else min(sub.e + d, self.total)
        return lo, hi

    def intervals(self) -> list[tuple[int, int, bool]]:
        """Output-sample intervals (start, stop, constant on every channel and marker)."""
        edges = {0, self.total}
        nonconst: list[tuple[int, int]] = []
        for c, (src, subs) in enumerate(zip(self.sources, self.subs, strict=True)):
            for sub in subs:
                lo, hi = self._out_range(sub, src.delay)
                if hi > lo:
                    edges |= {lo, hi}
                    if not sub.const:
                        nonconst.append((lo, hi))
            if src.delay:
                hh = min(src.delay, self.total)
                edges.add(hh)
                if not self.head_const[c]:
                    nonconst.append((0, hh))
            for lo, hi, _ in self.marks[c]:
                edges |= {lo, hi}
            mh = self.mhead[c]
            if mh is not None:
                hh = min(mh.shape[1], self.total)
                edges.add(hh)
                nonconst.append((0, hh))
        cuts = sorted(x for x in edges if 0 <= x <= self.total)
        # every non-constant interval starts and ends on a cut: count the ones covering each
        # elementary interval with a difference array (linear, not intervals x cuts)
        cover = np.zeros(len(cuts) + 1, dtype=np.int64)
        if nonconst:
            pos = np.searchsorted(np.array(cuts), np.array(nonconst, dtype=np.int64).clip(
                0, self.total))
            np.add.at(cover, pos[:, 0], 1)
            np.add.at(cover, pos[:, 1], -1)
        busy = np.cumsum(cover)[:max(len(cuts) - 1, 0)] > 0
        return [(a, b, not bool(x)) for (a, b), x in zip(pairwise(cuts), busy, strict=True)]

    def source_values(self, c: int, a: int, b: int) -> FloatArray:
        """Undelayed stream of channel ``c`` at samples [a, b) of the step, volts (n, b - a)."""
        out = np.empty((self.n, b - a))
        subs = self.subs[c]
        for k, sub in enumerate(subs):
            lo, hi = max(sub.s, a), min(self.total if k == len(subs) - 1 else sub.e, b)
            if hi <= lo:
                continue
            if sub.const:
                out[:, lo - a:hi - a] = self._sub_level(c, sub)
            else:
                out[:, lo - a:hi - a] = self._sub_block(c, sub, np.arange(lo, hi))
        return out

    def _sub_block(self, c: int, sub: Sub, m: IntArray) -> FloatArray:
        """Values of non-constant ``sub`` at source samples ``m`` (ascending, >= sub.s); those
        past its end (step padding) rest at :meth:`sub_rest`. Shape (n, len(m))."""
        inside = int(np.searchsorted(m, sub.e))
        if inside == len(m):
            return self._sub_values(sub, m, c)
        out = np.empty((self.n, len(m)))
        out[:, :inside] = self._sub_values(sub, m[:inside], c)
        out[:, inside:] = self.sub_rest(c, sub)
        return out

    def sub_rest(self, c: int, sub: Sub) -> FloatArray:
        """Value channel ``c`` rests at after ``sub`` (the step's last source interval), (n, 1):
        holds and ramps hold their last sample, bursts and chirps return to their offset."""
        if sub.const:
            return self._sub_level(c, sub)
        acc = np.full((self.n, 1), self.sources[c].offset)
        for w, p in sub.parts:
            if _is_const(p):
                acc = acc + w * self._piece_level(p)
            else:
                assert p.occ is not None
                acc = acc + w * self.tl.rest_value(p.occ, self.g.points, self.g)
        return acc

    def lane_bits(self, lane: str, a: int, b: int) -> npt.NDArray[np.uint8]:
        """Undelayed marker state (0/1) of ``lane`` at samples [a, b); low past its segments."""
        out = np.zeros(b - a, dtype=np.uint8)
        for p in self.g.lanes.get(lane, []):
            lo, hi = max(p.start, a), min(p.stop, b)
            if hi > lo and p.occ is not None:
                out[lo - a:hi - a] = int(getattr(p.occ.seg, "state", 0))
        return out

    # -- values -------------------------------------------------------------------------
    def _piece_level(self, p: Piece) -> FloatArray:
        key = id(p)
        if key not in self._const_cache:
            pts = self.g.points
            if p.occ is None:
                val = self.tl.rest_value(p.hold, pts, self.g) if (
                    p.hold is not None and p.hold.seg.kind == "analog") else np.zeros((self.n, 1))
            else:
                v = p.occ.values["level"] if isinstance(p.occ.seg, Hold) else 0.0
                val = v[pts][:, None] if isinstance(v, np.ndarray) else np.full((self.n, 1), v)
            self._const_cache[key] = np.asarray(val, dtype=float)
        return self._const_cache[key]

    def _sub_level(self, c: int, sub: Sub) -> FloatArray:
        if sub.comp:
            return self.comp[self.sources[c].name][:, None]
        acc = np.full((self.n, 1), self.sources[c].offset)
        for w, p in sub.parts:
            acc = acc + w * self._piece_level(p)
        return acc

    def _piece_linear(self, p: Piece) -> tuple[FloatArray, FloatArray] | None:
        """(value at the piece's first sample, change per sample), per point; None when the
        piece is not linear in the sample index (then it is sampled)."""
        key = id(p)
        if key not in self._lin_cache:
            out: tuple[FloatArray, FloatArray] | None
            if _is_const(p):
                out = (self._piece_level(p)[:, 0], np.zeros(self.n))
            else:
                assert p.occ is not None
                pts = self.g.points
                vals = {k: v[pts] if isinstance(v, np.ndarray) else v
                        for k, v in p.occ.values.items()}
                lin = p.occ.seg.linear(vals, p.stop - p.start)
                out = None if lin is None else (
                    np.broadcast_to(np.asarray(lin[0], dtype=float), (self.n,)),
                    np.broadcast_to(np.asarray(lin[1], dtype=float), (self.n,)))
            self._lin_cache[key] = out
        return self._lin_cache[key]

    def sub_linear(self, c: int, sub: Sub) -> tuple[FloatArray, FloatArray] | None:
        """Channel ``c`` on ``sub`` as (value at ``sub.s``, change per sample) per point, V:
        the virtual-gate mix of its lanes' levels and slopes (no samples); None when a lane
        piece there is not linear."""
        if sub.const:
            return self._sub_level(c, sub)[:, 0], np.zeros(self.n)
        start, slope = np.full(self.n, self.sources[c].offset), np.zeros(self.n)
        for w, p in sub.parts:
            lin = self._piece_linear(p)
            if lin is None:
                return None
            a, b = lin
            start = start + w * (a + b * (sub.s - p.start))
            slope = slope + w * b
        return start, slope

    def _eval(self, p: Piece, m: IntArray) -> FloatArray:
        assert p.occ is not None
        return self.tl.evaluate(p.occ, self.g.points, m - p.start, p.stop - p.start,
                                self.starts + p.start)

    def _sub_values(self, sub: Sub, m: IntArray, c: int) -> FloatArray:
        """Values of ``sub`` at source samples ``m`` (within it), volts (n, len(m))."""
        offset = self.sources[c].offset
        if len(sub.parts) == 1 and sub.parts[0][0] == 1.0 and not _is_const(sub.parts[0][1]):
            vals = self._eval(sub.parts[0][1], m)
            return vals + offset if offset else vals
        acc: Any = offset
        for w, p in sub.parts:
            if _is_const(p):
                acc = acc + w * self._piece_level(p)
            else:
                vals = self._eval(p, m)
                acc = acc + (vals if w == 1.0 else w * vals)
        return np.broadcast_to(acc, (self.n, len(m)))

    def window(self, c: int, a: int, b: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None]:
        """Samples [a, b) of channel ``c`` for every point: (data, marker bits or None)."""
        data, marks, _ = self.window_fp(c, a, b)
        return data, marks

    def window_fp(self, c: int, a: int, b: int
                  ) -> tuple[npt.NDArray[Any], npt.NDArray[Any] | None, npt.NDArray[np.uint64]]:
        """Like :meth:`window`, plus each row's content fingerprint (see ``fingerprint``)."""
        src = self.sources[c]
        d = src.delay
        out = np.empty((self.n, b - a), dtype=np.int16 if self.target.output == "int16"
                       else np.float32)
        w, pw = fp_weights(b - a)
        fp = np.zeros(self.n, dtype=np.uint64)
        if d and a < d:
            head = self.head[c]
            if head is None:
                raise SequencerError(f"channel {src.name!r}: delayed samples were not set")
            hi = min(b, d)
            block = self._convert(head[:, a:hi], c, None, a)
            out[:, :hi - a] = block
            with np.errstate(over="ignore"):
                fp += as_uint64(block) @ w[:hi - a]
        for sub in self._subs_in(c, a, b):
            lo, hi = self._out_range(sub, d)
            lo, hi = max(lo, a), min(hi, b)
            if hi <= lo:
                continue
            if sub.const:
                level = self._convert(self._sub_level(c, sub), c, sub, lo)
                out[:, lo - a:hi - a] = level
                with np.errstate(over="ignore"):
                    fp += as_uint64(level[:, 0]) * (pw[hi - a] - pw[lo - a])
            else:
                m = np.maximum(np.arange(lo, hi) - d, sub.s)
                block = self._convert(self._sub_block(c, sub, m), c, sub, lo)
                out[:, lo - a:hi - a] = block
                fp += as_uint64(block) @ w[lo - a:hi - a]
        marks = None
        if src.markers:
            row = np.zeros(b - a, dtype=np.uint8)
            for lo, hi, bits in self.marks[c]:
                lo, hi = max(lo, a), min(hi, b)
                if hi > lo and bits:
                    row[lo - a:hi - a] = bits
            marks = np.broadcast_to(row, (self.n, b - a))
            mh = self.mhead[c]
            if mh is not None and a < mh.shape[1]:
                hi = min(b, mh.shape[1])
                marks = marks.copy()
                marks[:, :hi - a] |= mh[:, a:hi]
        return out, marks, fp

    def _convert(self, v: FloatArray, c: int, sub: Sub | None, at: int) -> npt.NDArray[Any]:
        lim = self.target.limits
        self._check_range(float(v.min()), float(v.max()), c, sub, at)
        if self.target.output == "float32":
            return v.astype(np.float32)
        scaled = v * (1.0 / lim.lsb) if lim.mid == 0 else (v - lim.mid) * (1.0 / lim.lsb)
        return np.rint(scaled, out=scaled if scaled is not v else None).astype(np.int16)

    def _check_range(self, vmin: float, vmax: float, c: int, sub: Sub | None, at: int) -> None:
        """Refuse non-finite samples and samples outside the amplitude range."""
        lo, hi = self.target.limits.amplitude_range
        tol = 1e-9 * (hi - lo)
        finite = math.isfinite(vmin) and math.isfinite(vmax)
        if not finite or vmin < lo - tol or vmax > hi + tol:
            bad = vmax if vmax > hi + tol or not math.isfinite(vmax) else vmin
            seg = self._describe(sub)
            ch = self.sources[c].name
            if not finite:
                raise SequencerError(
                    f"channel {ch!r} of AWG {self.target.name!r}: non-finite sample ({bad}) "
                    f"near sample {at} of a step, in {seg}; NaN/inf are never sent to an AWG")
            raise LimitError(
                f"channel {ch!r} of AWG {self.target.name!r}: {bad:.6g} V outside the "
                f"amplitude range [{lo}, {hi}] V near sample {at} of a step, in {seg}",
                segment=seg, channel=ch, limit="amplitude_range")

    @staticmethod
    def _describe(sub: Sub | None) -> str:
        if sub is None:
            return "samples carried over from the previous step (channel delay)"
        return "; ".join(f"{p.occ.seg.describe()} on lane {p.occ.lane!r}" if p.occ
                         else f"hold on lane {p.hold.lane if p.hold else '?'!r}"
                         for _, p in sub.parts) or "bias-T compensation pulse"

    def window_runs(self, c: int, a: int, b: int
                    ) -> tuple[npt.NDArray[Any], IntArray, npt.NDArray[np.uint8] | None] | None:
        """Samples [a, b) of channel ``c`` as runs if it only holds there, else None.

        Returns (codes (n, runs), run lengths, marker bits per run or None); row ``i`` of
        :meth:`window` equals ``np.repeat(codes[i], lengths)``.
        """
        src = self.sources[c]
        edges = {a}
        if src.delay and a < src.delay and not self.head_const[c]:
            return None
        mh = self.mhead[c]
        if mh is not None and a < mh.shape[1]:
            return None
        for sub in self._subs_in(c, a, b):
            lo, hi = self._out_range(sub, src.delay)
            lo, hi = max(lo, a), min(hi, b)
            if hi <= lo:
                continue
            if not sub.const:
                return None
            edges.add(lo)
        for lo, hi, _ in self.marks[c] if src.markers else ():
            if a < lo < b and hi > lo:
                edges.add(lo)
        starts = sorted(edges)
        lengths = np.diff(np.array([*starts, b], dtype=np.int64)).astype(np.int64)
        codes = np.concatenate([self.level_codes(c, x) for x in starts], axis=1)
        bits = (np.array([self.marker_bits(c, x) for x in starts], dtype=np.uint8)
                if src.markers else None)
        return codes, lengths, bits

    def window_lin(self, c: int, a: int, b: int
                   ) -> tuple[FloatArray, FloatArray, IntArray, npt.NDArray[np.uint8] | None] | None:
        """Samples [a, b) of channel ``c`` as linear runs if every lane piece there is linear
        (holds, ramps, padding), else None. No samples are computed.

        Returns (starts (n, runs), slopes (n, runs), run lengths, marker bits per run or
        None) in output units (DAC codes for int16, V for float32); row ``i`` of
        :meth:`window` equals those runs sampled as ``ramps`` defines (to rounding).
        """
        src = self.sources[c]
        d = src.delay
        mh = self.mhead[c]
        if (mh is not None and a < mh.shape[1]) or (d and a < d and (
                not self.head_const[c] or self.head[c] is None)):
            return None
        zero = np.zeros(self.n)
        runs: list[tuple[int, FloatArray, FloatArray, Sub | None]] = []  # (start, level, slope)
        holds: list[tuple[int, int]] = []  # runs holding the end of the run before them
        if d and a < d:
            head = self.head[c]
            assert head is not None
            runs.append((a, head[:, 0], zero, None))
        for sub in self._subs_in(c, a, b):
            lo, hi = self._out_range(sub, d)
            lo, hi = max(lo, a), min(hi, b)
            if hi <= lo:
                continue
            lin = self.sub_linear(c, sub)
            if lin is None:
                return None
            v0, slope = lin
            live = min(hi, sub.e + d)  # past it (padding): hold the last sample
            if live > lo:
                runs.append((lo, v0 + slope * (lo - d - sub.s), slope, sub))
            if hi > live:  # (exactly the last sample played when that is in the window)
                runs.append((live, v0 + slope * (sub.e - 1 - sub.s), zero, sub))
                if live > lo:
                    holds.append((live, hi))
        if src.markers:
            for x in sorted({lo for lo, hi, _ in self.marks[c] if a < lo < b and hi > lo}):
                k = max(i for i, r in enumerate(runs) if r[0] <= x)
                x0, v0, slope, part = runs[k]
                if x0 < x:
                    runs.insert(k + 1, (x, v0 + slope * (x - x0), slope, part))
        starts = [r[0] for r in runs]
        lengths = np.diff(np.array([*starts, b], dtype=np.int64)).astype(np.int64)
        first = np.stack([r[1] for r in runs], axis=1)
        slopes = np.stack([np.broadcast_to(r[2], (self.n,)) for r in runs], axis=1)
        last = first + slopes * (lengths - 1)
        for k, (x0, _, _, part) in enumerate(runs):
            lo_v = min(float(first[:, k].min()), float(last[:, k].min()))
            hi_v = max(float(first[:, k].max()), float(last[:, k].max()))
            self._check_range(lo_v, hi_v, c, part, x0)
        lim = self.target.limits
        if self.target.output == "int16":
            inv = 1.0 / lim.lsb
            first = first * inv if lim.mid == 0 else (first - lim.mid) * inv
            slopes = slopes * inv
        for x, y in holds:  # (marker edges may have split the hold)
            k = starts.index(x)
            last = ramps.values_at(first[:, k - 1], slopes[:, k - 1], lengths[k - 1] - 1,
                                   self.dtype)
            first[:, k:bisect_left(starts, y)] = last[:, None]
        bits = (np.array([self.marker_bits(c, x) for x in starts], dtype=np.uint8)
                if src.markers else None)
        return np.ascontiguousarray(first), np.ascontiguousarray(slopes), lengths, bits

    def level_codes(self, c: int, a: int) -> npt.NDArray[Any]:
        """Per-point value at output sample ``a`` of a constant stretch, shape (n, 1)."""
        data, _ = self.window(c, a, a + 1)
        return data

    def marker_bits(self, c: int, a: int) -> int:
        for lo, hi, bits in self.marks[c]:
            if lo <= a < hi:
                return bits
        return 0
