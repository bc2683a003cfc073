"""Unique-waveform pool: deduplication by content (samples and markers).

Waveforms arrive either sampled (``add_rows``) or as run-length rows (``add_runs``:
plateaus, packed steps); run rows are stored compactly and never expanded here.
Candidates are found by a 64-bit content fingerprint that does not depend on the
representation (see ``_util.fingerprint``) and confirmed sample by sample, so
deduplication is exact and never changes what is played.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer._util import fingerprint, unique_rows
from dotstack.sequencer.assemble import ChannelSource
from dotstack.sequencer.errors import LimitError
from dotstack.sequencer.limits import AwgLimits
from dotstack.sequencer.program import SequenceTable
from dotstack.sequencer.waves import (
    Chunk,
    DenseChunk,
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


def _bits(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Integer view for exact (bitwise) comparison: float32 -0.0 differs from 0.0."""
    return a.view(np.uint32) if a.dtype == np.float32 else a


class Pool:
    """Collects waveforms in chunks; with ``dedup`` identical content is stored once."""

    def __init__(self, dedup: bool, limits: AwgLimits) -> None:
        self.dedup = dedup
        self.limits = limits
        self.chunks: list[Chunk] = []
        self.n = 0
        self._chunk_start: list[int] = []
        self._index: dict[int, int] = {}  # key -> first waveform with that key
        self._more: dict[int, list[int]] = {}  # key -> further waveforms (collisions)

    # -- storage ------------------------------------------------------------------------
    def _append(self, chunk: Chunk) -> int:
        base = self.n
        self.chunks.append(chunk)
        self._chunk_start.append(base)
        self.n += chunk.n
        return base

    def store(self) -> WaveStore:
        return WaveStore(tuple(self.chunks))

    # -- index ----------------------------------------------------------------------------
    @staticmethod
    def _keys(fps: npt.NDArray[np.uint64], length: int, marks: Markers) -> list[int]:
        mfp = 0 if marks is None else int(fingerprint(marks)[0]) | 1
        extra = (length * _MIX_LEN + mfp * _MIX_MARK) & _MASK
        return (fps + np.uint64(extra)).tolist()  # uint64 arrays wrap silently

    def _find(self, key: int, row: npt.NDArray[Any], runs: IntArray | None,
              marks: Markers) -> int | None:
        """Stored waveform with key ``key`` and the same content as ``row`` (samples, or
        run codes when ``runs`` gives the run lengths), or None."""
        first = self._index.get(key)
        if first is None:
            return None
        for h in [first, *self._more.get(key, ())]:
            k = bisect_right(self._chunk_start, h) - 1
            chunk, r = self.chunks[k], h - self._chunk_start[k]
            if not _same(chunk.markers, marks):
                continue
            if (runs is not None and isinstance(chunk, RunChunk)
                    and np.array_equal(chunk.lengths, runs)):  # same runs: compare levels
                same = np.array_equal(_bits(chunk.codes[r]), _bits(row))
            else:
                new = row if runs is None else np.repeat(row, runs)
                stored = chunk.row(r)
                same = len(stored) == len(new) and np.array_equal(_bits(stored), _bits(new))
            if same:
                return h
        return None

    def _register(self, key: int, i: int) -> None:
        if key in self._index:
            self._more.setdefault(key, []).append(i)
        else:
            self._index[key] = i

    # -- adding -----------------------------------------------------------------------------
    def _add_batch(self, uniq: npt.NDArray[Any], runs: IntArray | None,
                   fps: npt.NDArray[np.uint64], length: int, marks: Markers) -> IntArray:
        """Add rows of ``uniq`` (distinct from each other): samples, or run codes with run
        lengths ``runs``. Returns their waveform indices."""
        n = uniq.shape[0]
        keys = self._keys(fps, length, marks)

        def chunk(rows: npt.NDArray[Any]) -> Chunk:
            return DenseChunk(rows, marks) if runs is None else RunChunk(rows, runs, marks)

        if self._index.keys().isdisjoint(keys):  # fast path: nothing stored matches
            base = self._append(chunk(uniq))
            self._index.update(zip(keys, range(base, base + n), strict=True))
            return np.arange(base, base + n, dtype=np.int64)
        ids = np.full(n, -1, dtype=np.int64)
        for j in [j for j, k in enumerate(keys) if k in self._index]:
            hit = self._find(keys[j], uniq[j], runs, marks)
            if hit is not None:
                ids[j] = hit
        new = np.flatnonzero(ids < 0)
        if len(new):
            base = self._append(chunk(uniq if len(new) == n else uniq[new]))
            ids[new] = base + np.arange(len(new))
            for j, i in zip(new.tolist(), ids[new].tolist(), strict=True):
                self._register(keys[j], i)
        return ids

    def add_rows(self, data: npt.NDArray[Any], marks: npt.NDArray[Any] | None,
                 fp: npt.NDArray[np.uint64] | None = None) -> IntArray:
        """One sampled waveform per row of ``data`` (rows x samples); ``fp``: fingerprints."""
        n, length = data.shape
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
        ids = self._add_batch(uniq, None, fps if len(first) == n else fps[first], length, mrow)
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
        ids = self._add_batch(uniq, lengths, run_fingerprints(uniq, lengths), length, mk)
        return ids if every else ids[inv]

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


def _distinct_rows(m: npt.NDArray[Any]) -> tuple[IntArray, IntArray]:
    """(first occurrence of each distinct row, inverse); quick when all rows are equal."""
    if m.shape[0] > 1 and bool((m == m[0]).all()):
        return np.zeros(1, dtype=np.int64), np.zeros(m.shape[0], dtype=np.int64)
    return unique_rows(m)


def _same(a: Markers, b: Markers) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))
