"""What one AWG channel outputs in lab time: segments, sample pieces and vectorised values.

A channel's history is a list of runs (``Run``: from a lab time, the player it follows and its
track, or None: idle) and a log of its settings (``Scaling``: amplitude, offset, resolution,
output state, hold mode, each from a lab time).  Out of that:

* `ChannelView.segments` -- the sample stream as (start lab time, volts, repeat count) segments;
  a hold (waiting for a trigger, stopped, idle) is a one-sample segment of ``kind="hold"``
  lasting ``1 / rate`` s (``rate`` 0: open-ended);
* `ChannelView.pieces` -- (lab time, samples, sample rate) pieces that tile [t0, t1), repeats
  expanded, holds as one sample of rate 1 / duration;
* `ChannelView.values` -- volts at an array of lab times.

Volts are ``offset + amplitude / 2 * sample`` with the sample quantised to the resolution;
0 V while the output is off.  A waveform's volts under one `Scaling` are computed once and
shared (read-only) by every segment that plays it (`Scaling.volts_of`): a sequence that plays
a few waveforms thousands of times converts each once.
"""

from __future__ import annotations

import bisect
import itertools
import math
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dotstack.mocks.instruments.awg5208.timeline import Piece, Player

F64 = npt.NDArray[np.float64]
#: (start, end, player, track, piece, piece index) of a stretch of a channel's history
Span = tuple[float, float, "Player | None", int, "Piece | None", int]


@dataclass(frozen=True)
class Scaling:
    """Channel settings that shape its output, in effect from a lab time."""

    amplitude: float = 0.5
    offset: float = 0.0
    resolution: int = 16
    on: bool = False
    hold: str = "FIRST"

    def volts(self, normalised: npt.NDArray[np.floating]) -> F64:
        if not self.on:
            return np.zeros(np.shape(normalised))
        q = float(2 ** (self.resolution - 1) - 1)
        codes = np.clip(np.rint(np.asarray(normalised, np.float64) * q), -q, q)
        return self.offset + (self.amplitude / 2) * (codes / q)

    def volts_of(self, samples: npt.NDArray[np.floating]) -> F64:
        """`volts` of a waveform's samples, cached per (samples array, scaling) and returned
        read-only; a waveform edited in place since (its content differs from the copy kept)
        is converted again."""
        key = (id(samples), self)
        with _VOLTS_LOCK:
            hit = _VOLTS.get(key)
        if hit is not None and hit[0] is samples and np.array_equal(hit[1], samples):
            return hit[2]
        volts = self.volts(samples)
        volts.flags.writeable = False
        size = volts.nbytes + samples.nbytes
        global _VOLTS_BYTES
        with _VOLTS_LOCK:
            if len(_VOLTS) >= _VOLTS_MAX or _VOLTS_BYTES + size > _VOLTS_MAX_BYTES:
                _VOLTS.clear()
                _VOLTS_BYTES = 0
            if size <= _VOLTS_MAX_BYTES:
                _VOLTS[key] = (samples, np.array(samples, copy=True), volts)
                _VOLTS_BYTES += size
        return volts


#: (id of the samples, scaling) -> (the samples, a copy of them, their volts, read-only)
_VOLTS: dict[tuple[int, Scaling], tuple[npt.NDArray[np.floating], npt.NDArray[np.floating], F64]]
_VOLTS = {}
_VOLTS_MAX = 4096  # entries
_VOLTS_MAX_BYTES = 256 * 2**20  # the copies and volts held, at most
_VOLTS_BYTES = 0
_VOLTS_LOCK = threading.Lock()


@dataclass(frozen=True)
class Run:
    """From lab time ``t0`` the channel follows track ``track`` (0-based) of ``player``."""

    t0: float
    player: Player | None
    track: int = 0


@dataclass(frozen=True)
class Segment:
    """``samples`` (V) played ``repeat`` times from lab time ``start`` at ``rate`` Sa/s."""

    start: float
    samples: F64
    repeat: float
    rate: float
    kind: str = "play"

    @property
    def end(self) -> float:
        if self.rate == 0 or math.isinf(self.repeat):
            return math.inf
        return self.start + len(self.samples) * self.repeat / self.rate


class ChannelView:
    """The output of one channel, from its runs and its settings log (both in time order)."""

    def __init__(self, runs: list[Run], log: list[tuple[float, Scaling]]) -> None:
        self.runs = runs
        self.log = log

    # -- normalised values piece by piece ---------------------------------------------------
    def _spans(self, t0: float, t1: float) -> Iterator[Span]:
        """(start, end, player, track, piece, piece index) spans covering [t0, t1)."""
        first = self.runs[0].t0 if self.runs else math.inf
        if t0 < first:  # before the first run: idle
            yield t0, first, None, 0, None, -1
        for r, run in enumerate(self.runs):
            r_end = self.runs[r + 1].t0 if r + 1 < len(self.runs) else math.inf
            lo, hi = max(t0, run.t0), min(t1, r_end)
            if lo >= hi:
                continue
            p = run.player
            if p is None:
                yield run.t0, r_end, None, run.track, None, -1
                continue
            p.extend(hi)
            i = max(p.index_at(lo), 0)
            while i < len(p.pieces):
                piece = p.pieces[i]
                start = piece.start
                end = p.pieces[i + 1].start if i + 1 < len(p.pieces) else r_end
                end = min(end, r_end)
                if start >= hi:
                    break
                yield start, end, p, run.track, piece, i
                i += 1

    def _hold_value(self, p: Player, track: int, piece: Piece, index: int, scaling: Scaling) -> float:
        if piece.kind == "wait":
            return float(p.waves[piece.step][track].samples[0]) if scaling.hold == "FIRST" else 0.0
        if piece.kind == "end":
            for prev in reversed(p.pieces[:index]):
                if prev.kind == "play" and prev.total > 0:
                    wave = p.waves[prev.step][track].samples
                    return float(wave[int(prev.total - 1) % prev.length])
        return 0.0

    def _scaling_changes(self, lo: float, hi: float, times: list[float] | None = None
                         ) -> list[float]:
        """Times of settings changes strictly inside (lo, hi), sorted, each once."""
        times = [t for t, _ in self.log] if times is None else times
        inside = times[bisect.bisect_right(times, lo):bisect.bisect_left(times, hi)]
        return sorted(set(inside))

    def scaling_at(self, t: float, times: list[float] | None = None) -> Scaling:
        """The settings in effect at ``t`` (before the first change: the first settings)."""
        if not self.log:
            return Scaling()
        times = [w for w, _ in self.log] if times is None else times
        return self.log[max(bisect.bisect_right(times, t) - 1, 0)][1]

    # -- segments ------------------------------------------------------------------------
    def segments(self, t0: float, t1: float) -> list[Segment]:
        """Segments (repeats not expanded) covering [t0, t1)."""
        out: list[Segment] = []
        times = [t for t, _ in self.log]  # in time order (the log is appended in time order)
        memo: dict[tuple[int, int], F64] = {}  # volts per (waveform, scaling object) this call
        n_log = len(times)
        for start, end, p, track, piece, index in self._spans(t0, t1):
            i = bisect.bisect_right(times, start)
            parts: Iterable[tuple[float, float, Scaling]]
            if i >= n_log or times[i] >= end:  # no settings change inside: one part
                parts = ((start, end, self.log[max(i - 1, 0)][1] if self.log else Scaling()),)
            else:
                cuts = [start, *self._scaling_changes(start, end, times), end]
                parts = [(a, b, self.scaling_at(a, times)) for a, b in itertools.pairwise(cuts)]
            for a, b, scaling in parts:
                if b <= a:
                    continue
                if p is None or piece is None or piece.kind != "play":
                    v = 0.0 if p is None or piece is None else \
                        self._hold_value(p, track, piece, index, scaling)
                    rate = 0.0 if math.isinf(b) else 1.0 / (b - a) if b > a else 0.0
                    out.append(Segment(a, scaling.volts(np.array([v])), 1, rate, "hold"))
                    continue
                out.extend(self._play_segments(p, track, piece, a, b, scaling, memo))
        return out

    def _play_segments(self, p: Player, track: int, piece: Piece, a: float, b: float,
                       scaling: Scaling, memo: dict[tuple[int, int], F64] | None = None
                       ) -> list[Segment]:
        rate, L = p.rate, piece.length
        samples = p.waves[piece.step][track].samples
        key = (id(samples), id(scaling))  # both held alive by the player and the log
        wave = memo.get(key) if memo is not None else None
        if wave is None:
            wave = scaling.volts_of(samples)
            if memo is not None:
                memo[key] = wave
        j0 = max(0, math.ceil((a - piece.start) * rate - 1e-6))
        j1 = piece.total if math.isinf(b) else min(piece.total, math.ceil((b - piece.start) * rate - 1e-6))
        if j0 == 0 and j1 == L:  # one whole repetition (most steps): what add() below gives
            return [Segment(piece.start + 0 / rate, wave, (j1 - 0) // L, rate)]
        out: list[Segment] = []

        def add(lo: int, hi: float, reps: float) -> None:
            i0 = lo % L
            samples = wave if (i0 == 0 and hi - lo >= L) else wave[i0:i0 + int(hi - lo)]
            out.append(Segment(piece.start + lo / rate, samples, reps, rate))

        if j1 <= j0:
            return out
        first_full = -(-j0 // L) * L
        if first_full > j0:  # the rest of a repetition cut by a settings change
            add(j0, min(first_full, j1), 1)
        if first_full < j1:
            reps = (j1 - first_full) // L if not math.isinf(j1) else math.inf
            if reps:
                add(first_full, first_full + L, reps)
            tail = first_full + reps * L if not math.isinf(reps) else j1
            if tail < j1:
                add(int(tail), j1, 1)
        return out

    def pieces(self, t0: float, t1: float) -> list[tuple[float, F64, float]]:
        """(lab time, samples in V, sample rate) pieces tiling [t0, t1) (first may start earlier)."""
        out: list[tuple[float, F64, float]] = []
        for seg in self.segments(t0, t1):
            lo, hi = max(t0, seg.start), min(t1, seg.end)
            if seg.kind == "hold":
                if hi > lo:
                    out.append((lo, seg.samples, 1.0 / (hi - lo)))
                continue
            n = len(seg.samples)
            j0 = max(0, math.floor((lo - seg.start) * seg.rate + 1e-6))
            j1 = math.ceil((hi - seg.start) * seg.rate - 1e-6)
            if j1 > j0:
                out.append((seg.start + j0 / seg.rate, seg.samples[np.arange(j0, j1) % n], seg.rate))
        return out

    # -- values --------------------------------------------------------------------------
    def values(self, times: npt.ArrayLike) -> F64:
        """Volts at lab times ``times`` (any shape)."""
        t = np.asarray(times, dtype=np.float64)
        flat = t.ravel()
        out = np.zeros(flat.shape)
        if flat.size == 0:
            return out.reshape(t.shape)
        order = np.argsort(flat, kind="stable")
        ts = flat[order]
        norm = np.zeros(ts.shape)
        lo = 0
        t_last = float(np.nextafter(ts[-1], math.inf))
        for start, end, p, track, piece, index in self._spans(float(ts[0]), t_last):
            hi = int(np.searchsorted(ts, end, side="left"))
            a = int(np.searchsorted(ts, start, side="left"))
            lo = max(lo, a)
            if hi <= lo:
                continue
            seg = slice(lo, hi)
            if p is None or piece is None:
                norm[seg] = 0.0
            elif piece.kind == "play":
                k = np.floor((ts[seg] - piece.start) * p.rate + 1e-6).astype(np.int64)
                k = np.minimum(k, int(piece.total) - 1) if not math.isinf(piece.total) else k
                norm[seg] = p.waves[piece.step][track].samples[k % piece.length]
            else:
                norm[seg] = self._hold_value(p, track, piece, index, self.scaling_at(start))
            lo = hi
        volts = np.zeros(ts.shape)
        edges = [t for t, _ in self.log]
        which = np.searchsorted(np.asarray(edges), ts, side="right") - 1 if edges else np.zeros(ts.shape, int)
        for k in np.unique(which):
            mask = which == k
            scaling = self.log[max(int(k), 0)][1] if self.log else Scaling()
            volts[mask] = scaling.volts(norm[mask])
        out[order] = volts
        return out.reshape(t.shape)
