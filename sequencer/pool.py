"""Unique-waveform pool: deduplication by content (bytes of samples and markers)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer._util import as_uint64, fingerprint, fp_weights, unique_rows
from dotstack.sequencer.assemble import ChannelSource
from dotstack.sequencer.errors import LimitError
from dotstack.sequencer.limits import AwgLimits
from dotstack.sequencer.program import SequenceTable

IntArray = npt.NDArray[np.int64]


class Pool:
    """Collects waveforms; with ``dedup`` identical content is stored once.

    Candidates are found by a 64-bit linear fingerprint (see ``_util.fingerprint``) and
    confirmed sample by sample, so deduplication is exact.
    """

    def __init__(self, dedup: bool, limits: AwgLimits) -> None:
        self.dedup = dedup
        self.limits = limits
        self.data: list[npt.NDArray[Any]] = []
        self.marks: list[npt.NDArray[np.uint8] | None] = []
        self.lengths: list[int] = []
        self._index: dict[tuple[int, int, int], list[int]] = {}

    def _find(self, key: tuple[int, int, int], row: npt.NDArray[Any],
              mrow: npt.NDArray[Any] | None) -> int | None:
        for h in self._index.get(key, ()):
            if np.array_equal(self.data[h], row) and _same(self.marks[h], mrow):
                return h
        return None

    def _append(self, rows: Any, mrow: npt.NDArray[Any] | None, length: int) -> int:
        base = len(self.data)
        self.data.extend(rows)
        added = len(self.data) - base
        self.marks.extend([mrow] * added)
        self.lengths.extend([length] * added)
        return base

    def _add(self, data: npt.NDArray[Any], marks: npt.NDArray[Any] | None) -> int:
        """Add one waveform (copied); returns its index."""
        mrow = None if marks is None else np.array(marks, dtype=np.uint8)
        if self.dedup:
            mfp = -1 if mrow is None else int(fingerprint(mrow)[0])
            key = (len(data), int(fingerprint(data)[0]), mfp)
            hit = self._find(key, data, mrow)
            if hit is not None:
                return hit
            self._index.setdefault(key, []).append(len(self.data))
        return self._append([np.array(data)], mrow, len(data))

    def add_rows(self, data: npt.NDArray[Any], marks: npt.NDArray[Any] | None,
                 fp: npt.NDArray[np.uint64] | None = None) -> IntArray:
        """One waveform per row of ``data`` (rows x samples); ``fp``: row fingerprints."""
        n, length = data.shape
        same_marks = marks is None or bool(np.all(marks == marks[0]))
        if not self.dedup or not same_marks:
            return np.array([self._add(data[i], None if marks is None else marks[i])
                             for i in range(n)], dtype=np.int64)
        fps = fingerprint(data) if fp is None else fp
        mrow = None if marks is None else np.array(marks[0], dtype=np.uint8)
        mfp = -1 if mrow is None else int(fingerprint(mrow)[0])
        fps_list = fps.tolist()
        if len(set(fps_list)) == n:  # fast path: all rows distinct and none stored yet
            keys = [(length, f, mfp) for f in fps_list]
            get = self._index.get
            if all(get(k) is None for k in keys):
                base = self._append(data, mrow, length)
                self._index.update(zip(keys, ([i] for i in range(base, base + n)), strict=True))
                return np.arange(base, base + n, dtype=np.int64)
        ufp, first, inv = np.unique(fps, return_index=True, return_inverse=True)
        inv = inv.reshape(-1)
        if len(first) < n and not np.array_equal(data, data[first][inv]):
            # a fingerprint collision inside the batch: go row by row
            return np.array([self._add(data[i], marks if marks is None else marks[i])
                             for i in range(n)], dtype=np.int64)
        keys = [(length, f, mfp) for f in ufp.tolist()]
        get = self._index.get
        hits = [get(k) for k in keys]
        ids = np.full(len(keys), -1, dtype=np.int64)
        for j in [j for j, h in enumerate(hits) if h is not None]:
            found = self._find(keys[j], data[first[j]], mrow)
            if found is None:
                found = self._append([np.array(data[first[j]])], mrow, length)
                self._index[keys[j]].append(found)
            ids[j] = found
        new = np.flatnonzero(ids < 0)
        if len(new):
            sel = first[new]
            # rows are stored as views of one array (no copy when every row is new)
            rows = data if len(sel) == n and np.array_equal(sel, np.arange(n)) else data[sel]
            base = self._append(rows, mrow, length)
            ids[new] = base + np.arange(len(new))
            self._index.update(zip([keys[j] for j in new.tolist()],
                                   ([i] for i in ids[new].tolist()), strict=True))
        return ids[inv]

    def add_constant(self, levels: npt.NDArray[Any], length: int, bits: int | None) -> IntArray:
        """Constant waveforms of ``length`` samples, one per entry of ``levels``."""
        marks = None if bits is None else np.full(length, bits, dtype=np.uint8)
        if not self.dedup:
            return np.array([self._add(np.full(length, v, dtype=levels.dtype), marks)
                             for v in levels], dtype=np.int64)
        uniq, inv = np.unique(levels, return_inverse=True)
        ids = np.array([self._add(np.full(length, v, dtype=levels.dtype), marks)
                        for v in uniq], dtype=np.int64)
        return ids[inv.reshape(-1)]

    def add_patterns(self, codes: npt.NDArray[Any], lengths: IntArray,
                     marks: npt.NDArray[Any] | None) -> IntArray:
        """Rows of run-length patterns: row i is ``np.repeat(codes[i], lengths)``."""
        mk = None if marks is None else np.repeat(marks.astype(np.uint8), lengths)
        if not self.dedup:
            return np.array([self._add(np.repeat(r, lengths), mk) for r in codes],
                            dtype=np.int64)
        first, inv = unique_rows(codes)
        uniq = codes[first]
        data = np.repeat(uniq, lengths, axis=1)
        ends = np.cumsum(lengths)
        _, pw = fp_weights(int(ends[-1]))
        with np.errstate(over="ignore"):
            fp = as_uint64(uniq) @ (pw[ends] - pw[ends - lengths])
        marks2 = None if mk is None else np.broadcast_to(mk, data.shape)
        return self.add_rows(data, marks2, fp)[inv]

    def check(self, name: str, sources: list[ChannelSource], table: SequenceTable) -> None:
        """Refuse programs that exceed waveform count or memory limits."""
        lim = self.limits
        if len(self.data) > lim.max_waveforms:
            raise LimitError(
                f"AWG {name!r}: {len(self.data)} unique waveforms exceed max_waveforms="
                f"{lim.max_waveforms}", segment="(whole program)", channel="*",
                limit="max_waveforms")
        lengths = np.asarray(self.lengths, dtype=np.int64)
        for c, src in enumerate(sources):
            mem = int(lengths[np.unique(table.waveform[:, c])].sum())
            if mem > lim.memory_per_channel:
                raise LimitError(
                    f"AWG {name!r} channel {src.name!r}: {mem} samples of unique waveforms "
                    f"exceed memory_per_channel={lim.memory_per_channel}",
                    segment="(whole program)", channel=src.name, limit="memory_per_channel")


def _same(a: npt.NDArray[Any] | None, b: npt.NDArray[Any] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return bool(np.array_equal(a, b))
