"""Rendering: play a program's sequence table into samples (the inverse of compile).

Works from the compact waveform store: a channel whose waveforms are all run-length
(plateaus, packed steps) is written with one ``np.repeat`` without materialising the
unique waveforms; other channels copy each table row's waveform, except that large
linear waveforms (ramps, video-raster rows) are written straight into the output from
their runs (a few vectorised fills per waveform, no intermediate arrays of samples).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.program import Program
from dotstack.sequencer.waves import LinearChunk, RunChunk, WaveStore

IntArray = npt.NDArray[np.int64]
_MATERIALISE = 1 << 20  # linear chunks up to this many samples may be materialised and copied


def render(program: Program, units: Literal["volts", "raw"] = "volts",
           channels: tuple[str, ...] | None = None) -> dict[str, npt.NDArray[Any]]:
    """Sampled output per channel, playing the table once (goto/loop not followed).

    ``units="raw"`` returns the stored dtype (int16 DAC codes or float32 volts);
    ``"volts"`` converts to float64 volts.
    """
    table, store = program.table, program.waves
    chunk_of, row_of = store.chunk_index()
    out: dict[str, npt.NDArray[Any]] = {}
    dtype = np.int16 if program.output == "int16" else np.float32
    for c, ch in enumerate(program.channels):
        if channels is not None and ch not in channels:
            continue
        col = table.waveform[:, c]
        used = np.unique(col)
        used_chunks = set(np.unique(chunk_of[used]).tolist())
        if used_chunks and all(isinstance(store.chunks[k], RunChunk) for k in used_chunks):
            buf = _play_runs(store, col, table.repeat, used, chunk_of, row_of, dtype)
        else:
            buf = _play_rows(store, col, table.repeat, used_chunks, chunk_of, row_of, dtype)
        out[ch] = program.to_volts(buf) if units == "volts" else buf
    return out


def _play_runs(store: WaveStore, col: IntArray, rep: IntArray, used: IntArray,
               chunk_of: IntArray, row_of: IntArray, dtype: Any) -> npt.NDArray[Any]:
    """All waveforms are runs: expand the table into runs, then one ``np.repeat``."""
    levels, lengths, n_runs = [], [], np.empty(len(used), dtype=np.int64)
    ks = chunk_of[used]
    bounds = np.flatnonzero(np.diff(ks)) + 1
    for part in np.split(np.arange(len(used)), bounds):
        chunk = store.chunks[int(ks[part[0]])]
        assert isinstance(chunk, RunChunk)
        rows = row_of[used[part]]
        levels.append(chunk.codes[rows].astype(dtype, copy=False).ravel())
        lengths.append(np.tile(chunk.lengths, len(rows)))
        n_runs[part] = chunk.codes.shape[1]
    lv, ln = np.concatenate(levels), np.concatenate(lengths)
    ptr = np.concatenate([[0], np.cumsum(n_runs)[:-1]])
    pos = np.searchsorted(used, col)
    nr = n_runs[pos]
    counts = nr * rep
    row_id = np.repeat(np.arange(len(col)), counts)
    first = np.cumsum(counts) - counts
    off = np.arange(int(counts.sum())) - first[row_id]
    idx = ptr[pos][row_id] + off % nr[row_id]
    return np.repeat(lv[idx], ln[idx])


def _play_rows(store: WaveStore, col: IntArray, rep: IntArray, used_chunks: set[int],
               chunk_of: IntArray, row_of: IntArray, dtype: Any) -> npt.NDArray[Any]:
    lengths = store.lengths
    buf = np.empty(int((lengths[col] * rep).sum()), dtype=dtype)
    direct: set[int] = set()  # linear chunks written in place (the others are materialised and copied)
    budget = max(_MATERIALISE, len(buf) // 8)  # samples materialised at most
    for k in sorted(used_chunks):
        chunk = store.chunks[k]
        if isinstance(chunk, LinearChunk):
            size = chunk.n * chunk.length
            if size > _MATERIALISE or size > budget:
                direct.add(k)
            else:
                budget -= size
    waves = store.rows(used_chunks - direct)
    pos = 0
    for wi, r in zip(col.tolist(), rep.tolist(), strict=True):
        w = waves[wi]
        n = int(lengths[wi])
        if w is None:  # a large linear waveform: written in place, then repeated
            chunk = store.chunks[int(chunk_of[wi])]
            assert isinstance(chunk, LinearChunk)
            chunk.write(int(row_of[wi]), buf[pos:pos + n])
            if r > 1:
                buf[pos + n:pos + n * r].reshape(r - 1, n)[:] = buf[pos:pos + n]
        elif r == 1:
            buf[pos:pos + n] = w
        else:
            buf[pos:pos + n * r].reshape(r, n)[:] = w
        pos += n * r
    return buf


def render_markers(program: Program) -> dict[str, npt.NDArray[np.uint8]]:
    """Marker bits per channel (bit i = marker i), for channels that carry markers."""
    out = {}
    chans = {ch for _, ch, _ in program.marker_lanes}
    marks, lengths = program.waveform_markers, program.waves.lengths
    for c, ch in enumerate(program.channels):
        if ch not in chans:
            continue
        parts = []
        for wi, r in zip(program.table.waveform[:, c].tolist(), program.table.repeat.tolist(),
                         strict=True):
            m = marks[wi]
            parts.append(np.zeros(int(lengths[wi]) * r, dtype=np.uint8) if m is None
                         else np.tile(m, r))
        out[ch] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
    return out
