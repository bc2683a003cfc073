"""The spin engine's input: piecewise-constant segments of one shot's sequence.

A `SpinSegment` holds, for ``duration`` seconds, the detuning of the double dot (eV, from the
(1,1)-(0,2) anticrossing; negative in (1,1)), the microwave drive at the dot as an I/Q envelope
(``drive_i``, ``drive_q``: V at the dot, after the line) on a carrier of ``frequency`` Hz with
``phase`` rad.  The drive field is ``Re[(I + iQ) exp(i (2 pi frequency t + phase))]`` with t from
the start of the sequence, so a continuous carrier has the same ``phase`` in every segment and a
virtual Z gate is a change of ``phase``.  A segment with I = Q = 0 is free evolution (its
frequency and phase do not matter).

The time-domain lab's AWG pieces ``(lab start, samples, rate)`` become segments by run lengths
(`dotstack.mocks.physics.timedomain.segments.runs_from_pieces`): each run of constant I/Q and
gate levels is one segment, the gate levels mapped to a detuning and the source's carrier taken
at the run's lab time.  `SpinSequence` is the validated, array form the engine runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics.spin.params import real

Array = NDArray[np.float64]
_FIELDS = ("duration", "detuning_ev", "drive_i", "drive_q", "frequency", "phase")


@dataclass(frozen=True)
class SpinSegment:
    """One piecewise-constant stretch of a shot (see the module docstring)."""

    duration: float
    detuning_ev: float = -2e-3
    drive_i: float = 0.0
    drive_q: float = 0.0
    frequency: float = 0.0
    phase: float = 0.0

    def __post_init__(self) -> None:
        own = type(self).__name__
        object.__setattr__(self, "duration", real(own, "duration", self.duration, positive=True))
        for name in ("detuning_ev", "drive_i", "drive_q", "phase"):
            object.__setattr__(self, name, real(own, name, getattr(self, name)))
        object.__setattr__(self, "frequency", real(own, "frequency", self.frequency,
                                                   non_negative=True))

    @property
    def amplitude(self) -> float:
        """|I + iQ| (V at the dot)."""
        return math.hypot(self.drive_i, self.drive_q)


def _column(name: str, values: ArrayLike, n: int | None) -> Array:
    arr = np.asarray(values)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"SpinSequence.{name} must be real numbers, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=float).reshape(-1) if arr.ndim else np.full(n or 1, float(arr))
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"SpinSequence.{name}[{bad}] is not finite ({arr[bad]})")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class SpinSequence:
    """A shot's segments as arrays (one entry per segment), validated; see `SpinSegment`."""

    duration: Array
    detuning_ev: Array
    drive_i: Array
    drive_q: Array
    frequency: Array
    phase: Array
    start: Array = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = np.asarray(self.duration).size
        for name in _FIELDS:
            object.__setattr__(self, name, _column(name, getattr(self, name), n))
        sizes = {name: getattr(self, name).size for name in _FIELDS}
        if len(set(sizes.values())) != 1:
            raise ValueError(f"SpinSequence: columns of different lengths {sizes}")
        if n == 0:
            raise ValueError("SpinSequence needs at least one segment")
        if not np.all(self.duration > 0):
            bad = int(np.flatnonzero(~(self.duration > 0))[0])
            raise ValueError(f"SpinSequence.duration[{bad}] must be > 0 s, got "
                             f"{self.duration[bad]}")
        if np.any(self.frequency < 0):
            bad = int(np.flatnonzero(self.frequency < 0)[0])
            raise ValueError(f"SpinSequence.frequency[{bad}] must be >= 0 Hz, got "
                             f"{self.frequency[bad]}")
        start = np.concatenate([[0.0], np.cumsum(self.duration)[:-1]])
        start.flags.writeable = False
        object.__setattr__(self, "start", start)

    @classmethod
    def of(cls, segments: Iterable[SpinSegment]) -> SpinSequence:
        """From `SpinSegment` values."""
        segs = list(segments)
        for i, s in enumerate(segs):
            if not isinstance(s, SpinSegment):
                raise TypeError(f"segment {i} is a {type(s).__name__}, not a SpinSegment")
        return cls(*(np.array([getattr(s, name) for s in segs], dtype=float)
                     for name in _FIELDS))

    @property
    def size(self) -> int:
        return int(self.duration.size)

    @property
    def total(self) -> float:
        """Length of the sequence (s)."""
        return float(self.duration.sum())

    @property
    def amplitude(self) -> Array:
        return np.asarray(np.hypot(self.drive_i, self.drive_q))

    def segments(self) -> list[SpinSegment]:
        """Back to `SpinSegment` values."""
        cols: Sequence[Array] = [getattr(self, name) for name in _FIELDS]
        return [SpinSegment(*(float(c[k]) for c in cols)) for k in range(self.size)]
