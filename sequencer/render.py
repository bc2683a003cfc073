"""Render a compiled program back to samples (the inverse of compile)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.program import Program


def render(program: Program, units: Literal["volts", "raw"] = "volts",
           channels: tuple[str, ...] | None = None) -> dict[str, npt.NDArray[Any]]:
    """Sampled output per channel, playing the table once (goto/loop not followed).

    ``units="raw"`` returns the stored dtype (int16 DAC codes or float32 volts);
    ``"volts"`` converts to float64 volts.
    """
    table = program.table
    lengths = np.array([len(w) for w in program.waveform_data], dtype=np.int64)
    out: dict[str, npt.NDArray[Any]] = {}
    dtype = np.int16 if program.output == "int16" else np.float32
    for c, ch in enumerate(program.channels):
        if channels is not None and ch not in channels:
            continue
        col = table.waveform[:, c]
        total = int((lengths[col] * table.repeat).sum())
        buf = np.empty(total, dtype=dtype)
        waves = program.waveform_data
        pos = 0
        for wi, r in zip(col.tolist(), table.repeat.tolist(), strict=True):
            w = waves[wi]
            n = len(w)
            if r == 1:
                buf[pos:pos + n] = w
            else:
                buf[pos:pos + n * r].reshape(r, n)[:] = w
            pos += n * r
        out[ch] = program.to_volts(buf) if units == "volts" else buf
    return out


def render_markers(program: Program) -> dict[str, npt.NDArray[np.uint8]]:
    """Marker bits per channel (bit i = marker i), for channels that carry markers."""
    out = {}
    chans = {ch for _, ch, _ in program.marker_lanes}
    for c, ch in enumerate(program.channels):
        if ch not in chans:
            continue
        parts = []
        for wi, r in zip(program.table.waveform[:, c].tolist(), program.table.repeat.tolist(),
                         strict=True):
            w = program.waveforms[wi]
            m = w.markers if w.markers is not None else np.zeros(len(w), dtype=np.uint8)
            parts.append(np.tile(m, r))
        out[ch] = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
    return out
