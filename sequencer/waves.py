"""Compact storage of a program's unique waveforms; samples are materialised on demand.

Waveforms are kept in chunks. A :class:`RunChunk` holds waveforms that are piecewise
constant with one shared run structure (row ``i`` is ``np.repeat(codes[i], lengths)``):
plateaus, packed raster steps. A :class:`LinearChunk` holds piecewise-linear waveforms
(ramps and plateaus, e.g. video-raster rows) as run starts and slopes. A
:class:`DenseChunk` holds sampled rows. Compiling only builds chunks (cost ~ number of runs,
not samples); :meth:`WaveStore.materialise` writes samples when they are needed (upload,
``Program.waveform_data``) and ``render`` writes linear runs straight into its output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer import ramps
from dotstack.sequencer._util import as_uint64, fingerprint, fp_weights

IntArray = npt.NDArray[np.int64]
Markers = npt.NDArray[np.uint8] | None


@dataclass(frozen=True, eq=False)
class DenseChunk:
    """Sampled waveforms: ``rows`` (n, length); ``markers`` shared by every row."""

    rows: npt.NDArray[Any]
    markers: Markers = None

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])

    @property
    def length(self) -> int:
        return int(self.rows.shape[1])

    def row(self, i: int) -> npt.NDArray[Any]:
        return self.rows[i]

    def materialise(self) -> npt.NDArray[Any]:
        return self.rows

    def fingerprints(self) -> npt.NDArray[np.uint64]:
        return fingerprint(self.rows)

    def sample_at(self, pos: IntArray) -> npt.NDArray[Any]:
        """Samples of every row at positions ``pos``: (n, len(pos))."""
        return self.rows[:, pos]


@dataclass(frozen=True, eq=False)
class RunChunk:
    """Piecewise-constant waveforms: row ``i`` is ``np.repeat(codes[i], lengths)``."""

    codes: npt.NDArray[Any]
    lengths: IntArray
    markers: Markers = None

    @property
    def n(self) -> int:
        return int(self.codes.shape[0])

    @property
    def length(self) -> int:
        return int(self.lengths.sum())

    def row(self, i: int) -> npt.NDArray[Any]:
        return np.repeat(self.codes[i], self.lengths)

    def materialise(self) -> npt.NDArray[Any]:
        return np.repeat(self.codes, self.lengths, axis=1)

    def fingerprints(self) -> npt.NDArray[np.uint64]:
        return run_fingerprints(self.codes, self.lengths)

    def sample_at(self, pos: IntArray) -> npt.NDArray[Any]:
        return self.codes[:, np.searchsorted(np.cumsum(self.lengths), pos, side="right")]


@dataclass(frozen=True, eq=False)
class LinearChunk:
    """Piecewise-linear waveforms with one shared run structure.

    Run ``j`` of row ``i`` holds ``starts[i, j] + slopes[i, j] * k`` for ``k = 0 ..
    lengths[j] - 1`` in output units (DAC codes for int16, V for float32), sampled as
    :mod:`dotstack.sequencer.ramps` defines; ``dtype`` is the output dtype.
    """

    starts: npt.NDArray[np.float64]
    slopes: npt.NDArray[np.float64]
    lengths: IntArray
    dtype: np.dtype[Any]
    markers: Markers = None

    @property
    def n(self) -> int:
        return int(self.starts.shape[0])

    @property
    def length(self) -> int:
        return int(self.lengths.sum())

    def write(self, i: int, out: npt.NDArray[Any]) -> None:
        """Write row ``i`` into ``out`` (1D, ``length`` samples of ``dtype``)."""
        ramps.fill(out[None, :], self.starts[i:i + 1], self.slopes[i:i + 1], self.lengths)

    def row(self, i: int) -> npt.NDArray[Any]:
        out = np.empty(self.length, dtype=self.dtype)
        self.write(i, out)
        return out

    def materialise(self) -> npt.NDArray[Any]:
        out = np.empty((self.n, self.length), dtype=self.dtype)
        ramps.fill(out, self.starts, self.slopes, self.lengths)
        return out

    def fingerprints(self) -> npt.NDArray[np.uint64]:
        """Content fingerprints (samples are written one row at a time to compute them)."""
        return np.array([int(fingerprint(self.row(i))[0]) for i in range(self.n)],
                        dtype=np.uint64)

    def sample_at(self, pos: IntArray) -> npt.NDArray[Any]:
        ends = np.cumsum(self.lengths)
        run = np.searchsorted(ends, pos, side="right")
        k = pos - (ends - self.lengths)[run]
        return ramps.values_at(self.starts[:, run], self.slopes[:, run], k[None, :],
                               self.dtype)


Chunk = DenseChunk | RunChunk | LinearChunk


def run_fingerprints(codes: npt.NDArray[Any], lengths: IntArray) -> npt.NDArray[np.uint64]:
    """Content fingerprint of each row of run-length waveforms, in O(runs).

    Equal to ``fingerprint(np.repeat(codes, lengths, axis=1))`` (the fingerprint is linear).
    """
    ends = np.cumsum(lengths)
    _, pw = fp_weights(int(ends[-1]) if len(ends) else 0)
    return as_uint64(codes) @ (pw[ends] - pw[ends - lengths])  # uint64 arrays wrap


@dataclass(frozen=True, eq=False)
class WaveStore:
    """The unique waveforms of a program, in chunks; waveform ``i`` is global index ``i``."""

    chunks: tuple[Chunk, ...]
    _starts: IntArray = field(init=False, repr=False)
    _lengths: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        counts = np.array([c.n for c in self.chunks], dtype=np.int64)
        starts = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=starts[1:])
        lens = np.repeat(np.array([c.length for c in self.chunks], dtype=np.int64), counts)
        object.__setattr__(self, "_starts", starts)
        object.__setattr__(self, "_lengths", lens)

    @classmethod
    def from_arrays(cls, data: Sequence[npt.NDArray[Any]],
                    markers: Sequence[Markers] | None = None) -> WaveStore:
        """One dense chunk per waveform (for hand-made programs and tests)."""
        marks = list(markers) if markers is not None else [None] * len(data)
        return cls(tuple(DenseChunk(np.asarray(d)[None, :],
                                    None if m is None else np.asarray(m, dtype=np.uint8))
                         for d, m in zip(data, marks, strict=True)))

    def __len__(self) -> int:
        return int(self._starts[-1])

    @property
    def lengths(self) -> IntArray:
        """Samples of each waveform."""
        return self._lengths

    def locate(self, i: int) -> tuple[Chunk, int]:
        """(chunk, row in chunk) of waveform ``i``."""
        if not 0 <= i < len(self):
            raise IndexError(f"waveform {i} out of range (program has {len(self)})")
        k = int(np.searchsorted(self._starts, i, side="right")) - 1
        return self.chunks[k], i - int(self._starts[k])

    def chunk_index(self) -> tuple[IntArray, IntArray]:
        """(chunk number, row in chunk) for every waveform."""
        counts = np.diff(self._starts)
        chunk = np.repeat(np.arange(len(self.chunks)), counts)
        return chunk, np.arange(len(self)) - self._starts[chunk]

    def row(self, i: int) -> npt.NDArray[Any]:
        """Samples of waveform ``i`` (materialises only that waveform)."""
        chunk, r = self.locate(i)
        return chunk.row(r)

    def rows(self, chunks: set[int] | None = None) -> list[npt.NDArray[Any] | None]:
        """Samples of every waveform of ``chunks`` (all if None; others: None).

        Dense rows are views; run and linear chunks are materialised (not cached).
        """
        out: list[npt.NDArray[Any] | None] = []
        for k, c in enumerate(self.chunks):
            if chunks is None or k in chunks:
                out.extend(c.materialise())
            else:
                out.extend([None] * c.n)
        return out

    def markers(self) -> tuple[Markers, ...]:
        """Marker bits of every waveform (None: no markers)."""
        return tuple(m for c in self.chunks for m in [c.markers] * c.n)

    def materialise(self) -> tuple[npt.NDArray[Any], ...]:
        """Samples of every waveform (rows of one array per chunk)."""
        return tuple(r for c in self.chunks for r in c.materialise())

    def fingerprints(self) -> npt.NDArray[np.uint64]:
        """64-bit content fingerprint per waveform (equal content -> equal fingerprint).

        Computed from the compact form (O(runs) for run chunks; linear chunks are sampled
        one row at a time): a driver can compare them with what it uploaded before and send
        only what changed.
        """
        parts = [c.fingerprints() for c in self.chunks]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)

    def n_compact(self) -> int:
        """Waveforms stored as runs or linear runs (not materialised until asked)."""
        return sum(c.n for c in self.chunks if isinstance(c, RunChunk | LinearChunk))
