"""Unique-waveform pool: deduplication by content (samples and markers).

Waveforms arrive sampled (``add_rows``), as run-length rows (``add_runs``: plateaus, packed
steps) or as linear runs (``add_linear``: ramps, video-raster rows); run and linear rows are
stored compactly and never expanded here. Sampled and run rows are indexed by a 64-bit
content fingerprint that does not depend on the representation (see
``_util.fingerprint``). Linear rows are indexed by a *sketch*: the same kind of
fingerprint over the samples at a few fixed positions (a function of the length only), so
it is computed from the runs' closed form without sampling and any two equal waveforms,
whatever their form, share it. Once a linear row is stored, sampled and run rows get a
sketch too. Every candidate is confirmed sample by sample (linear rows with equal runs by
their parameters), so deduplication is exact and never changes what is played.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer._util import as_uint64, fingerprint, fp_weights, unique_rows
from dotstack.sequencer.assemble import ChannelSource
from dotstack.sequencer.errors import LimitError
from dotstack.sequencer.limits import AwgLimits
from dotstack.sequencer.program import SequenceTable
from dotstack.sequencer.waves import (
    Chunk,
    DenseChunk,
    LinearChunk,
    Markers,
    RunChunk,
    WaveStore,
    run_fingerprints,
)

IntArray = npt.NDArray[np.int64]
_MIX_LEN = 0x9E3779B97F4A7C15
_MIX_MARK = 0xC2B2AE3D27D4EB4F
_MASK = 2**64 - 1
_MIN_RUN = 8  # mean run length below which run rows are stored as samples
_SKETCH = 17  # sample positions of a sketch


def _bits(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Integer view for exact (bitwise) comparison: float32 -0.0 differs from 0.0."""
    if a.dtype == np.float32:
        return a.view(np.uint32)
    if a.dtype == np.float64:
        return a.view(np.int64)
    return a


def sketch_positions(length: int) -> IntArray:
    """Sample positions a sketch looks at (first, last and evenly between)."""
    return np.unique(np.arange(_SKETCH, dtype=np.int64) * max(length - 1, 0) // (_SKETCH - 1))


def _mix(length: int, marks: Markers) -> int:
    mfp = 0 if marks is None else int(fingerprint(marks)[0]) | 1
    return (length * _MIX_LEN + mfp * _MIX_MARK) & _MASK


def _sketches(chunk: Chunk) -> list[int]:
    """Sketch key of every row of ``chunk`` (samples at ``sketch_positions``)."""
    pos = sketch_positions(chunk.length)
    w, _ = fp_weights(len(pos))
    with np.errstate(over="ignore"):
        fp = as_uint64(chunk.sample_at(pos)) @ w
    return (fp + np.uint64(_mix(chunk.length, chunk.markers))).tolist()


class Pool:
    """Collects waveforms in chunks; with ``dedup`` identical content is stored once."""

    def __init__(self, dedup: bool, limits: AwgLimits) -> None:
        self.dedup = dedup
        self.limits = limits
        self.chunks: list[Chunk] = []
        self.n = 0
        self._chunk_start: list[int] = []
        self._index: dict[int, int] = {}  # content key -> first waveform with that key
        self._more: dict[int, list[int]] = {}  # content key -> further waveforms (collisions)
        self._lin: dict[int, list[int]] = {}  # sketch key -> linear waveforms
        self._other: dict[int, list[int]] | None = None  # sketch -> sampled/run (once needed)

    # -- storage ------------------------------------------------------------------------
    def _append(self, chunk: Chunk) -> int:
        base = self.n
        self.chunks.append(chunk)
        self._chunk_start.append(base)
        self.n += chunk.n
        return base

    def store(self) -> WaveStore:
        return WaveStore(tuple(self.chunks))

    def _locate(self, h: int) -> tuple[Chunk, int]:
        k = bisect_right(self._chunk_start, h) - 1
        return self.chunks[k], h - self._chunk_start[k]

    # -- index ----------------------------------------------------------------------------
    @staticmethod
    def _keys(fps: npt.NDArray[np.uint64], length: int, marks: Markers) -> list[int]:
        return (fps + np.uint64(_mix(length, marks))).tolist()  # uint64 arrays wrap silently

    @staticmethod
    def _same_content(a: Chunk, i: int, b: Chunk, j: int) -> bool:
        """Row ``i`` of ``a`` and row ``j`` of ``b`` hold the same samples and markers."""
        if a.length != b.length or not _same(a.markers, b.markers):
            return False
        if isinstance(a, RunChunk) and isinstance(b, RunChunk) and np.array_equal(
                a.lengths, b.lengths):  # same runs: compare levels
            return bool(np.array_equal(_bits(a.codes[i]), _bits(b.codes[j])))
        if (isinstance(a, LinearChunk) and isinstance(b, LinearChunk)
                and np.array_equal(a.lengths, b.lengths)
                and np.array_equal(_bits(a.starts[i]), _bits(b.starts[j]))
                and np.array_equal(_bits(a.slopes[i]), _bits(b.slopes[j]))):
            return True  # same runs, same parameters: same samples
        return bool(np.array_equal(_bits(a.row(i)), _bits(b.row(j))))

    def _register(self, key: int, i: int) -> None:
        if key in self._index:
            self._more.setdefault(key, []).append(i)
        else:
            self._index[key] = i

    def _sketch_others(self) -> dict[int, list[int]]:
        """Sketch index of the sampled and run waveforms (built when first needed)."""
        if self._other is None:
            self._other = {}
            for chunk, base in zip(self.chunks, self._chunk_start, strict=True):
                if not isinstance(chunk, LinearChunk):
                    for r, key in enumerate(_sketches(chunk)):
                        self._other.setdefault(key, []).append(base + r)
        return self._other

    # -- adding -----------------------------------------------------------------------------
    def _add_batch(self, chunk: Chunk, fps: npt.NDArray[np.uint64] | None) -> IntArray:
        """Add the rows of ``chunk`` (distinct from each other) unless stored already;
        ``fps``: their content fingerprints (None for a linear chunk). Returns their
        waveform indices."""
        n = chunk.n
        linear = fps is None
        others = self._sketch_others() if linear else self._other
        keys = [] if fps is None else self._keys(fps, chunk.length, chunk.markers)
        skeys = _sketches(chunk) if others is not None else []
        ids = np.full(n, -1, dtype=np.int64)
        stored_match = (keys and not self._index.keys().isdisjoint(keys)) or (skeys and (
            not self._lin.keys().isdisjoint(skeys)
            or (linear and others and not others.keys().isdisjoint(skeys))))
        if stored_match:
            for j in range(n):
                cands: list[int] = []
                if keys and keys[j] in self._index:
                    cands += [self._index[keys[j]], *self._more.get(keys[j], ())]
                if skeys:
                    cands += self._lin.get(skeys[j], [])
                    if linear and others:
                        cands += others.get(skeys[j], [])
                for h in cands:
                    stored, r = self._locate(h)
                    if self._same_content(stored, r, chunk, j):
                        ids[j] = h
                        break
        new = np.flatnonzero(ids < 0)
        if not len(new):
            return ids
        base = self._append(chunk if len(new) == n else _take(chunk, new))
        ids[new] = base + np.arange(len(new))
        fast = not stored_match and not linear  # all new: index them at once
        if fast:
            size = len(self._index)
            self._index.update(zip(keys, range(base, base + n), strict=True))
            if len(self._index) - size < n:  # two keys collide within the batch: undo
                for key in keys:
                    self._index.pop(key, None)
                fast = False
        if not fast and not linear:
            for j, i in zip(new.tolist(), ids[new].tolist(), strict=True):
                self._register(keys[j], i)
        if skeys:
            index = self._lin if linear else others
            assert index is not None
            for j, i in zip(new.tolist(), ids[new].tolist(), strict=True):
                index.setdefault(skeys[j], []).append(i)
        return ids

    def add_rows(self, data: npt.NDArray[Any], marks: npt.NDArray[Any] | None,
                 fp: npt.NDArray[np.uint64] | None = None) -> IntArray:
        """One sampled waveform per row of ``data`` (rows x samples); ``fp``: fingerprints."""
        n = data.shape[0]
        same_marks = marks is None or bool(np.all(marks == marks[0]))
        if not same_marks:
            assert marks is not None
            return np.concatenate([self.add_rows(data[i:i + 1], marks[i:i + 1])
                                   for i in range(n)])
        mrow = None if marks is None else np.array(marks[0], dtype=np.uint8)
        if not self.dedup:
            base = self._append(DenseChunk(data, mrow))
            return np.arange(base, base + n, dtype=np.int64)
        fps = fingerprint(data) if fp is None else fp
        _, first, inv = np.unique(fps, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
        if len(first) < n and not np.array_equal(_bits(data), _bits(data[first][inv])):
            # a fingerprint collision inside the batch: go row by row
            return np.concatenate([self.add_rows(data[i:i + 1], None if mrow is None
                                                 else mrow[None, :]) for i in range(n)])
        uniq = data if len(first) == n else data[first]
        ids = self._add_batch(DenseChunk(uniq, mrow), fps if len(first) == n else fps[first])
        return ids if len(first) == n else ids[inv]

    def add_runs(self, codes: npt.NDArray[Any], lengths: IntArray,
                 marks: npt.NDArray[Any] | None) -> IntArray:
        """Run-length waveforms: row i is ``np.repeat(codes[i], lengths)``; ``marks`` gives
        one marker value per run (or None). Stored compactly, never expanded."""
        lengths = np.asarray(lengths, dtype=np.int64)
        mk = None if marks is None else np.repeat(np.asarray(marks, dtype=np.uint8), lengths)
        length = int(lengths.sum())
        if length < _MIN_RUN * len(lengths):  # short runs: cheaper stored as samples
            data = np.repeat(codes, lengths, axis=1)
            return self.add_rows(data, None if mk is None else np.broadcast_to(mk, data.shape))
        if not self.dedup:
            base = self._append(RunChunk(codes, lengths, mk))
            return np.arange(base, base + codes.shape[0], dtype=np.int64)
        first, inv = _distinct_rows(_bits(codes))
        every = len(first) == codes.shape[0]  # all distinct: keep the given order
        uniq = codes if every else codes[first]
        ids = self._add_batch(RunChunk(uniq, lengths, mk), run_fingerprints(uniq, lengths))
        return ids if every else ids[inv]

    def add_linear(self, starts: npt.NDArray[np.float64], slopes: npt.NDArray[np.float64],
                   lengths: IntArray, marks: npt.NDArray[Any] | None, dtype: Any) -> IntArray:
        """Piecewise-linear waveforms (see :class:`LinearChunk`): ``starts``/``slopes``
        (rows, runs) in output units, ``marks`` one marker value per run (or None).
        Stored compactly, never expanded (short runs are stored as samples)."""
        lengths = np.asarray(lengths, dtype=np.int64)
        mk = None if marks is None else np.repeat(np.asarray(marks, dtype=np.uint8), lengths)
        chunk = LinearChunk(starts, slopes, lengths, np.dtype(dtype), mk)
        if chunk.length < _MIN_RUN * len(lengths):
            data = chunk.materialise()
            return self.add_rows(data, None if mk is None else np.broadcast_to(mk, data.shape))
        if not self.dedup:
            base = self._append(chunk)
            return np.arange(base, base + chunk.n, dtype=np.int64)
        # rows with equal parameters are equal; rows whose sketches agree are compared
        first, inv = _distinct_rows(np.concatenate([_bits(starts), _bits(slopes)], axis=1))
        if len(first) == chunk.n:  # all distinct: keep the given order
            first, inv = np.arange(chunk.n), np.arange(chunk.n)
        uniq = chunk if len(first) == chunk.n else _take(chunk, first)
        skeys = np.array(_sketches(uniq), dtype=np.uint64)
        _, sfirst, sinv = np.unique(skeys, return_index=True, return_inverse=True)
        if len(sfirst) < uniq.n:  # same sketch, other parameters: compare the samples
            rep = np.arange(uniq.n)
            seen: dict[bytes, int] = {}
            for j in np.flatnonzero(np.bincount(sinv.reshape(-1))[sinv.reshape(-1)] > 1):
                rep[j] = seen.setdefault(uniq.row(int(j)).tobytes(), int(j))
            keep, back = np.unique(rep, return_inverse=True)
            ids = self._add_batch(_take(uniq, keep), None)[back.reshape(-1)]
        else:
            ids = self._add_batch(uniq, None)
        return ids[inv]

    def add_constant(self, levels: npt.NDArray[Any], length: int, bits: int | None) -> IntArray:
        """Constant waveforms of ``length`` samples, one per entry of ``levels``."""
        return self.add_runs(np.asarray(levels).reshape(-1, 1), np.array([length]),
                             None if bits is None else np.array([bits]))

    # -- checks -----------------------------------------------------------------------------
    def check(self, name: str, sources: list[ChannelSource], table: SequenceTable) -> None:
        """Refuse programs that exceed waveform count or memory limits."""
        lim = self.limits
        if self.n > lim.max_waveforms:
            raise LimitError(
                f"AWG {name!r}: {self.n} unique waveforms exceed max_waveforms="
                f"{lim.max_waveforms}", segment="(whole program)", channel="*",
                limit="max_waveforms")
        lengths = np.repeat(np.array([c.length for c in self.chunks], dtype=np.int64),
                            [c.n for c in self.chunks])
        for c, src in enumerate(sources):
            used = np.zeros(self.n, dtype=bool)
            used[table.waveform[:, c]] = True
            mem = int(lengths[used].sum())
            if mem > lim.memory_per_channel:
                raise LimitError(
                    f"AWG {name!r} channel {src.name!r}: {mem} samples of unique waveforms "
                    f"exceed memory_per_channel={lim.memory_per_channel}",
                    segment="(whole program)", channel=src.name, limit="memory_per_channel")


def _take(chunk: Chunk, rows: IntArray) -> Chunk:
    """The rows ``rows`` of ``chunk``, as a chunk of the same kind."""
    if isinstance(chunk, DenseChunk):
        return DenseChunk(chunk.rows[rows], chunk.markers)
    if isinstance(chunk, RunChunk):
        return RunChunk(chunk.codes[rows], chunk.lengths, chunk.markers)
    return LinearChunk(chunk.starts[rows], chunk.slopes[rows], chunk.lengths, chunk.dtype,
                       chunk.markers)


def _distinct_rows(m: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """(first occurrence of each distinct row, inverse); quick when all rows are equal."""
    if m.shape[0] > 1 and bool((m == m[0]).all()):
        return np.zeros(1, dtype=np.int64), np.zeros(m.shape[0], dtype=np.int64)
    return unique_rows(m)


def _same(a: Markers, b: Markers) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))
