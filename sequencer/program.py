"""Compiled output: per-AWG programs and per-digitizer acquisition programs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.limits import AwgLimits, DigitizerLimits
from dotstack.sequencer.waves import WaveStore

OutputFormat = Literal["int16", "float32"]
PadReason = Literal["granularity", "min_length", "lockstep"]


@dataclass(frozen=True, eq=False)
class Waveform:
    """One unique waveform: ``data`` (int16 DAC codes or float32 V) and marker bits."""

    data: npt.NDArray[np.int16] | npt.NDArray[np.float32]
    markers: npt.NDArray[np.uint8] | None = None

    def __len__(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class Step:
    """One sequence-table row (``goto``/``jump_to`` -1 means: next step / no jump)."""

    waveforms: tuple[int, ...]
    repeat: int
    trigger_wait: bool
    goto: int
    jump_to: int


@dataclass(frozen=True, eq=False)
class SequenceTable:
    """Rows as arrays: ``waveform[i, c]`` indexes ``Program.waveforms`` for channel c."""

    channels: tuple[str, ...]
    waveform: npt.NDArray[np.int64]
    repeat: npt.NDArray[np.int64]
    trigger_wait: npt.NDArray[np.bool_]
    goto: npt.NDArray[np.int64]
    jump_to: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.repeat)

    def __getitem__(self, i: int) -> Step:
        return Step(tuple(int(x) for x in self.waveform[i]), int(self.repeat[i]),
                    bool(self.trigger_wait[i]), int(self.goto[i]), int(self.jump_to[i]))

    def __iter__(self) -> Iterator[Step]:
        return (self[i] for i in range(len(self)))


@dataclass(frozen=True)
class Padding:
    """Samples added so the hardware can play a step (reported, never silent)."""

    points: tuple[int, ...]
    segment: str
    channel: str
    samples: int
    reason: PadReason


NoteKind = Literal["dropped_segment", "delay_tail", "end_mismatch"]


@dataclass(frozen=True)
class Note:
    """A compile-report entry: something played differently from what was written.

    ``dropped_segment``: a segment whose duration rounds to 0 samples (not played);
    ``delay_tail``: samples of a delayed channel/marker lane that fall past the program's
    end; ``end_mismatch``: AWGs in one compile end at different times (after the last
    point). ``lane`` names the lane, channel or marker lane concerned.
    """

    kind: NoteKind
    message: str
    lane: str = ""
    segment: str = ""
    points: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class Program:
    """What one AWG plays: unique waveforms, a sequence table, marker data.

    ``waves`` holds the unique waveforms compactly (plateaus and packed steps as runs,
    ramps as linear runs); their samples are materialised on first access to
    ``waveform_data``/``waveforms`` (cached) or row by row with ``waves.row(i)``;
    ``render`` writes them into its output without materialising. ``point_starts[p]`` is the output sample
    where sweep point ``p`` starts (trigger waits not counted); ``point_starts[-1]`` is the
    total length. ``padding`` and ``report`` list what the compiler added or left out.
    """

    awg: str
    limits: AwgLimits
    channels: tuple[str, ...]
    output: OutputFormat
    waves: WaveStore
    table: SequenceTable
    marker_lanes: tuple[tuple[str, str, int], ...]
    point_starts: npt.NDArray[np.int64]
    padding: tuple[Padding, ...] = ()
    packed: int = 1  # sweep points per sequence-table group (>1 when steps were packed)
    report: tuple[Note, ...] = ()

    @cached_property
    def waveform_data(self) -> tuple[npt.NDArray[np.generic], ...]:
        """Samples of every unique waveform (materialised once, then cached)."""
        return self.waves.materialise()

    @property
    def waveform_markers(self) -> tuple[npt.NDArray[np.uint8] | None, ...]:
        """Marker bits of every unique waveform (None: no markers)."""
        return self.waves.markers()

    @cached_property
    def waveforms(self) -> tuple[Waveform, ...]:
        """The unique waveforms (index = sequence-table waveform number); materialises."""
        return tuple(Waveform(d, m) for d, m in  # type: ignore[arg-type]
                     zip(self.waveform_data, self.waveform_markers, strict=True))

    @property
    def n_waveforms(self) -> int:
        return len(self.waves)

    @property
    def waveform_lengths(self) -> npt.NDArray[np.int64]:
        """Samples of each unique waveform (no materialisation)."""
        return self.waves.lengths

    @property
    def n_samples(self) -> int:
        return int(self.point_starts[-1])

    def memory_samples(self) -> dict[str, int]:
        """Unique waveform samples stored per channel."""
        lengths = self.waves.lengths
        return {ch: int(lengths[np.unique(self.table.waveform[:, c])].sum())
                for c, ch in enumerate(self.channels)}

    def to_volts(self, data: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
        """DAC codes (or float32 volts) -> volts."""
        if self.output == "float32":
            return data.astype(np.float64)
        return self.limits.mid + data.astype(np.float64) * self.limits.lsb


@dataclass(frozen=True)
class AcquisitionWindow:
    """An acquisition window of the first sweep point; times in s from the point's start.

    ``single_shot``: per-shot values wanted; ``threshold`` (V, None: none) classifies them
    (at the first point; a swept threshold is per record in ``record_threshold``)."""

    name: str
    channel: str
    start: float
    duration: float
    single_shot: bool = False
    threshold: float | None = None


@dataclass(frozen=True, eq=False)
class AcquisitionProgram:
    """What one digitizer records: one record per acquisition window occurrence.

    Record ``r`` belongs to sweep point ``record_point[r]`` and window
    ``window_names[record_window[r]]``; it starts ``record_start[r]`` s after program
    start (trigger waits not counted) and holds ``record_samples[r]`` valid samples of
    ``record_length``. ``coords`` gives every axis' value for each record.

    Single shot: ``record_single_shot[r]`` says record ``r`` wants every shot (each play of
    the program) returned, not averaged: its value is the record integrated over its window
    (:meth:`integrate`: the mean of its valid samples, V); ``record_threshold[r]`` (V, NaN:
    none) classifies each shot (:meth:`classify`: True when the value exceeds it). A
    digitizer controller plays the program ``shots`` times without averaging, then returns
    ``integrate(volts)`` (shots, records) and ``classify(...)`` for these records.
    """

    digitizer: str
    limits: DigitizerLimits
    sample_rate: float
    record_length: int
    channels: tuple[str, ...]
    window_names: tuple[str, ...]
    windows: tuple[AcquisitionWindow, ...]
    record_point: npt.NDArray[np.int64]
    record_window: npt.NDArray[np.int64]
    record_channel: npt.NDArray[np.int64]
    record_start: npt.NDArray[np.float64]
    record_samples: npt.NDArray[np.int64]
    coords: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    sweep_shape: tuple[int, ...] = ()
    record_single_shot: npt.NDArray[np.bool_] | None = None  # None: no record is single-shot
    record_threshold: npt.NDArray[np.float64] | None = None  # None: no thresholds (all NaN)

    def __post_init__(self) -> None:
        n = len(self.record_point)
        single = (np.zeros(n, dtype=bool) if self.record_single_shot is None
                  else np.asarray(self.record_single_shot, dtype=bool))
        thr = (np.full(n, np.nan) if self.record_threshold is None
               else np.asarray(self.record_threshold, dtype=np.float64))
        if single.shape != (n,) or thr.shape != (n,):
            raise ValueError(f"record_single_shot and record_threshold need {n} entries")
        object.__setattr__(self, "record_single_shot", single)
        object.__setattr__(self, "record_threshold", thr)

    @property
    def n_records(self) -> int:
        return len(self.record_point)

    @property
    def single_shot(self) -> bool:
        """True when any record wants per-shot values."""
        return bool(np.any(self.record_single_shot))

    @property
    def thresholded(self) -> npt.NDArray[np.bool_]:
        """Per record: True when it has a threshold."""
        return ~np.isnan(np.asarray(self.record_threshold))

    def integrate(self, volts: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Records ``(..., records, samples)`` (V) -> each record's mean over its
        ``record_samples`` valid samples, ``(..., records)``."""
        v = np.asarray(volts, dtype=np.float64)
        if v.ndim < 2 or v.shape[-2] != self.n_records:
            raise ValueError(f"expected (..., {self.n_records} records, samples), got shape "
                             f"{v.shape}")
        valid = np.arange(v.shape[-1])[None, :] < self.record_samples[:, None]
        if np.any(self.record_samples > v.shape[-1]):
            raise ValueError(f"records hold {int(self.record_samples.max())} valid samples, "
                             f"got only {v.shape[-1]}")
        return np.asarray((v * valid).sum(axis=-1) / self.record_samples)

    def classify(self, values: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Per-shot values ``(..., records)`` -> True where a value exceeds its record's
        threshold (records without a threshold: False; see :attr:`thresholded`)."""
        v = np.asarray(values, dtype=np.float64)
        if v.shape[-1:] != (self.n_records,):
            raise ValueError(f"expected (..., {self.n_records} records), got shape {v.shape}")
        with np.errstate(invalid="ignore"):
            return np.asarray(v > np.asarray(self.record_threshold))

    def coordinates(self) -> dict[str, npt.NDArray[np.generic]]:
        """Per-record coordinates: every sweep axis, window name and channel."""
        out: dict[str, npt.NDArray[np.generic]] = dict(self.coords)
        out["window"] = np.asarray(self.window_names, dtype=object)[self.record_window]
        out["channel"] = np.asarray(self.channels, dtype=object)[self.record_channel]
        out["point"] = self.record_point
        return out

    def reshape(self, values: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        """Per-record values (first axis = record) -> (*sweep_shape, windows per point, ...)."""
        per_point = self.n_records // max(int(np.prod(self.sweep_shape or (1,))), 1)
        return values.reshape(*self.sweep_shape, per_point, *values.shape[1:])


@dataclass(frozen=True, eq=False)
class Compiled:
    """Everything one compile produced."""

    programs: dict[str, Program]
    acquisitions: dict[str, AcquisitionProgram]
    droop: dict[str, float] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()  # not tied to one AWG (e.g. acquisition lanes)

    @property
    def padding(self) -> tuple[Padding, ...]:
        return tuple(p for prog in self.programs.values() for p in prog.padding)

    @property
    def report(self) -> tuple[Note, ...]:
        """Every report note: compile-wide ones, then each program's."""
        return self.notes + tuple(n for prog in self.programs.values() for n in prog.report)
