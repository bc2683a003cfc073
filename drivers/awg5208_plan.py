"""Upload planning for the AWG5208 driver: scaling, safety checks, names, sequence commands.

Pure (no I/O).  A program's samples are volts at the output (``Program.to_volts``); a channel
plays ``sample * amplitude / 2 + offset``, so the driver sends ``(volts - offset) /
(amplitude / 2)`` as float32, quantised by the instrument to its DAC resolution.  Each
waveform uploaded is named after its content: the sequencer's 64-bit fingerprint plus a digest
of what else shapes the samples sent (markers, code-to-volt mapping, channel scaling), so the
waveform list itself says what is on the instrument.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.sequencer import Program
from dotstack.sequencer.waves import DenseChunk, RunChunk

#: Names of the waveforms this driver uploads: ``ds`` + 16 hex (content) + 8 hex (the rest).
NAME = re.compile(r"ds[0-9a-f]{16}_[0-9a-f]{8}")
AMPLITUDE_RANGE = (0.025, 1.5)  # Vpp the AWG5208 accepts (DC High BW path)
OFFSET_RANGE = (-2.0, 2.0)  # V
SAMPLE_RATE_RANGE = (1.49e3, 2.5e9)  # Sa/s
N_CHANNELS, N_MARKERS = 8, 4


@dataclass(frozen=True)
class Scaling:
    """Amplitude (Vpp) and offset (V) of one channel; samples are sent relative to them."""

    amplitude: float
    offset: float = 0.0

    def normalise(self, volts: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        return ((np.asarray(volts, np.float64) - self.offset) / (self.amplitude / 2)
                ).astype(np.float32)


@dataclass(frozen=True)
class Upload:
    """One waveform to have on the instrument: program waveform ``index`` under ``scaling``."""

    name: str
    index: int
    scaling: Scaling
    length: int
    has_markers: bool


@dataclass(frozen=True)
class Plan:
    """Everything `prepare` sends, decided before any byte leaves."""

    channels: dict[str, int]  # program channel -> AWG channel
    scalings: dict[int, Scaling]
    resolutions: dict[int, int]
    markers: dict[int, tuple[int, ...]]  # AWG channel -> markers used (1-based)
    uploads: dict[str, Upload]  # every waveform the program needs, by name
    names: npt.NDArray[np.object_]  # (steps, tracks) waveform name of each table cell


def channel_numbers(program: Program, channel_map: dict[str, int]) -> dict[str, int]:
    """Program channel -> AWG channel: ``channel_map``, else ``"3"``/``"ch3"``, else position."""
    out: dict[str, int] = {}
    for i, ch in enumerate(program.channels):
        m = re.fullmatch(r"(?:ch)?(\d+)", ch.strip().lower())
        n = channel_map.get(ch, int(m.group(1)) if m else i + 1)
        if not 1 <= n <= N_CHANNELS:
            raise LimitError(f"program channel {ch!r}: AWG channel {n} does not exist (1..8)")
        out[ch] = n
    if len(set(out.values())) != len(out):
        raise LimitError(f"program channels map twice onto one AWG channel: {out}")
    return out


def extrema(program: Program) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Lowest and highest volts of every waveform (NaN or inf where a sample is not finite)."""
    lows, highs = [], []
    for chunk in program.waves.chunks:
        if isinstance(chunk, RunChunk):
            rows = chunk.codes
        elif isinstance(chunk, DenseChunk):
            rows = chunk.rows
        else:  # any other chunk kind (e.g. piecewise-linear): its samples
            rows = chunk.materialise()
        data = np.asarray(rows)
        if data.shape[1] == 0:
            lows.append(np.zeros(data.shape[0]))
            highs.append(np.zeros(data.shape[0]))
            continue
        with np.errstate(invalid="ignore"):
            lo, hi = data.min(axis=1), data.max(axis=1)
            if data.dtype.kind == "f":
                bad = ~np.isfinite(data).all(axis=1)
                lo, hi = np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)
        lows.append(program.to_volts(lo))
        highs.append(program.to_volts(hi))
    empty = np.zeros(0)
    return (np.concatenate(lows) if lows else empty, np.concatenate(highs) if highs else empty)


def marker_digests(program: Program) -> list[int]:
    """Per waveform: 0 without markers, else a fingerprint of its marker bytes."""
    out: list[int] = []
    for chunk in program.waves.chunks:
        m = chunk.markers
        digest = 0 if m is None or not np.any(m) else int.from_bytes(
            hashlib.blake2b(np.asarray(m, np.uint8).tobytes(), digest_size=8).digest()) | 1
        out.extend([digest] * chunk.n)
    return out


def quantised(x: float, bits: int) -> float:
    q = float(2 ** (bits - 1) - 1)
    return float(np.clip(np.rint(x * q), -q, q) / q)


def check_channel(what: str, lows: npt.NDArray[np.float64], highs: npt.NDArray[np.float64],
                  scaling: Scaling, bits: int, limits: ChannelLimits) -> None:
    """Refuse (`LimitError`) waveforms a channel cannot play within ``limits``."""
    if not (np.all(np.isfinite(lows)) and np.all(np.isfinite(highs))):
        raise LimitError(f"{what}: a waveform holds NaN or infinite samples")
    lo, hi = float(lows.min(initial=math.inf)), float(highs.max(initial=-math.inf))
    if lo > hi:
        return
    half = scaling.amplitude / 2
    x_lo, x_hi = (lo - scaling.offset) / half, (hi - scaling.offset) / half
    if x_lo < -1 - 1e-9 or x_hi > 1 + 1e-9:
        raise LimitError(
            f"{what}: waveforms span [{lo:+.6g}, {hi:+.6g}] V, outside the channel's range "
            f"[{scaling.offset - half:+.6g}, {scaling.offset + half:+.6g}] V "
            f"(amplitude {scaling.amplitude:g} Vpp, offset {scaling.offset:g} V)")
    # the instrument rounds the float32 sample it is sent, not our float64 one
    out_lo = scaling.offset + half * quantised(float(np.float32(x_lo)), bits)
    out_hi = scaling.offset + half * quantised(float(np.float32(x_hi)), bits)
    for v in (out_lo, out_hi):
        limits.check(v, what)


def upload_name(content: int, digest: int, program: Program, scaling: Scaling,
                length: int) -> str:
    """The waveform-list name of one waveform as this driver sends it: its samples' content
    fingerprint, its length (the fingerprint is blind to trailing zero codes: an all-zero
    waveform has fingerprint 0 at any length), markers and scaling."""
    extra = (digest, length, program.output, program.limits.mid, program.limits.lsb,
             scaling.amplitude, scaling.offset)
    tail = hashlib.blake2b(repr(extra).encode(), digest_size=4).hexdigest()
    return f"ds{content:016x}_{tail}"


def waveform_bytes(program: Program, uploads: list[Upload]) -> Iterator[tuple[Upload, bytes, bytes | None]]:
    """(upload, float32 little-endian samples, marker bytes or None), materialising each chunk
    of the program once for all its waveforms in ``uploads``."""
    chunk_of, row_of = program.waves.chunk_index()
    by_chunk: dict[int, list[Upload]] = {}
    for u in uploads:
        by_chunk.setdefault(int(chunk_of[u.index]), []).append(u)
    for k, items in by_chunk.items():
        chunk = program.waves.chunks[k]
        rows = row_of[[u.index for u in items]]
        if isinstance(chunk, RunChunk):
            data = np.repeat(chunk.codes[rows], chunk.lengths, axis=1)
        elif isinstance(chunk, DenseChunk):
            data = chunk.rows[rows]
        else:  # any other chunk kind (e.g. piecewise-linear): its rows' samples
            data = np.stack([chunk.row(int(r)) for r in rows])
        volts = program.to_volts(data)
        marks = None if chunk.markers is None else np.asarray(chunk.markers, np.uint8).tobytes()
        for u, v in zip(items, volts, strict=True):
            yield u, u.scaling.normalise(v).astype("<f4").tobytes(), \
                (marks if u.has_markers else None)


def make_plan(program: Program, channel_map: dict[str, int], scalings: dict[int, Scaling],
              limits: dict[int, ChannelLimits], min_length: int, name: str) -> Plan:
    """Check ``program`` against the instrument and the channels' limits; nothing is sent.

    ``scalings`` holds the channels set explicitly; the others take the program's amplitude
    range (``amplitude = hi - lo``, ``offset = mid``: DAC codes map one to one).
    """
    lo_sr, hi_sr = SAMPLE_RATE_RANGE
    rate = program.limits.sample_rate
    if not lo_sr <= rate <= hi_sr:
        raise LimitError(f"{name}: sample rate {rate:g} Sa/s outside [{lo_sr:g}, {hi_sr:g}]")
    table = program.table
    lengths = program.waveform_lengths
    used = np.unique(table.waveform) if len(table) else np.zeros(0, np.int64)
    short = [int(i) for i in used if lengths[i] < min_length]
    if short:
        raise LimitError(f"{name}: waveform {short[0]} has {int(lengths[short[0]])} samples, "
                         f"fewer than the instrument's minimum {min_length}")
    chans = channel_numbers(program, channel_map)
    lows, highs = extrema(program)
    digests = marker_digests(program)
    fps = program.waves.fingerprints()
    marks = program.waveform_markers
    out_scalings: dict[int, Scaling] = {}
    resolutions: dict[int, int] = {}
    markers: dict[int, tuple[int, ...]] = {}
    uploads: dict[str, Upload] = {}
    names = np.empty(table.waveform.shape, dtype=object)
    mid, span = program.limits.mid, program.limits.amplitude_range
    for c, ch in enumerate(program.channels):
        n = chans[ch]
        what = f"{name} channel {n} ({ch})"
        scaling = scalings.get(n, Scaling(span[1] - span[0], mid))
        if not AMPLITUDE_RANGE[0] <= scaling.amplitude <= AMPLITUDE_RANGE[1]:
            raise LimitError(f"{what}: amplitude {scaling.amplitude:g} Vpp outside "
                             f"{AMPLITUDE_RANGE} Vpp (compile against the AWG5208 limits, "
                             "or set the channel's scaling)")
        if not OFFSET_RANGE[0] <= scaling.offset <= OFFSET_RANGE[1]:
            raise LimitError(f"{what}: offset {scaling.offset:g} V outside {OFFSET_RANGE} V")
        col = np.unique(table.waveform[:, c])
        bits = sorted({b for _, mc, b in program.marker_lanes if mc == ch})
        if bits and bits[-1] >= N_MARKERS:
            raise LimitError(f"{what}: marker bit {bits[-1]} (the AWG5208 has 4 markers)")
        # marker bits take DAC bits; a program compiled for fewer bits gets them exactly
        resolution = max(12, min(16 - (bits[-1] + 1 if bits else 0),
                                 program.limits.resolution_bits))
        check_channel(what, lows[col], highs[col], scaling, resolution,
                      limits.get(n, ChannelLimits(-0.75, 0.75)))
        out_scalings[n], resolutions[n] = scaling, resolution
        markers[n] = tuple(b + 1 for b in bits)
        col_names = {}
        for wi in col.tolist():
            has = bool(bits) and marks[wi] is not None and digests[wi] != 0
            nm = upload_name(int(fps[wi]), digests[wi] if has else 0, program, scaling,
                             int(program.waveform_lengths[wi]))
            col_names[wi] = nm
            uploads.setdefault(nm, Upload(nm, wi, scaling, int(lengths[wi]), has))
        names[:, c] = [col_names[int(w)] for w in table.waveform[:, c]]
    return Plan(chans, out_scalings, resolutions, markers, uploads, names)
