"""Mutable state of the QDAC-II mock: channels (output ramp, DC generator, waveform generators,
sensor), output triggers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from dotstack.mocks.instruments.qdac2.limits import LEAKAGE_OHM

SENSOR_MEMORY = 1 << 16  # readings a current sensor holds


@dataclass
class Sensor:
    """The current sensor of one channel and the readings it holds."""

    range: str = "high"
    aperture: float = 0.02
    nplc: int = 1
    delay: float = 0.0
    count: int = 1
    source: str = "imm"
    continuous: bool = False
    armed: bool = False
    data: list[float] = field(default_factory=list)


#: The waveform generators of a channel, by the key the lab knows them under.
WAVE_KINDS = ("sine", "tri", "squ", "awg")


@dataclass
class Wave:
    """One waveform generator of a channel (sine, triangle, square or AWG) and its playback.

    While it plays, ``shape(t - t_start)`` (V, vectorised) is added to the DC level on
    [t_start, t_end); ``event`` is its next action on the lab clock (a period boundary or the
    end), ``k`` the period index that action is for.
    """

    kind: str
    period: float = 1e-3
    polarity: str = "norm"
    span: float = 0.0
    offset: float = 0.0
    slew: float = math.inf
    delay: float = 0.0
    count: int = 1  # periods (-1: forever)
    dcycle: float = 50.0  # % of the period high (square) or rising (triangle)
    type: str = "symm"  # square only: symm, pos, neg
    trace: str = ""  # AWG only: the trace it plays
    scale: float = 1.0  # AWG only
    source: str = "imm"
    continuous: bool = False
    armed: bool = False
    running: bool = False
    markers: dict[str, int] = field(
        default_factory=lambda: {"start": 0, "end": 0, "pstart": 0, "pend": 0}
    )
    t_start: float = 0.0
    t_end: float = 0.0
    shape: Any = None
    event: Any = None
    k: int = 0

    def value(self, t: float) -> float:
        """What the generator adds to the output at lab time ``t`` (V)."""
        if self.shape is None or not self.t_start <= t < self.t_end:
            return 0.0
        return float(self.shape(t - self.t_start))


@dataclass
class Channel:
    """State of one output.  The present output is a ramp: v0 at t0 moving to v1 at ``rate``."""

    n: int
    level: float = 0.0
    triggered: float | None = None
    slew: float = math.inf
    mode: str = "fix"
    range: str = "high"
    filter: str = "high"
    t0: float = 0.0
    v0: float = 0.0
    v1: float = 0.0
    rate: float = math.inf
    # DC generator
    source: str = "imm"
    continuous: bool = False
    armed: bool = False
    running: bool = False
    delay: float = 0.0
    markers: dict[str, int] = field(
        default_factory=lambda: {"start": 0, "end": 0, "sst": 0, "send": 0}
    )
    t_start: float = 0.0
    step: int = -1  # index of the point output now (in the cycle)
    cycle: int = 0
    list_v: list[float] = field(default_factory=lambda: [0.0])
    list_dwell: float = 1e-3
    list_dir: str = "up"
    list_count: int = 1
    list_tmode: str = "auto"
    swe_start: float = 0.0
    swe_stop: float = 0.0
    swe_points: int = 2
    swe_dwell: float = 1e-3
    swe_dir: str = "up"
    swe_count: int = 1
    swe_gen: str = "step"
    sense: Sensor = field(default_factory=Sensor)
    event: Any = None  # the generator's next action on the lab clock (an `Event`), if any
    waves: dict[str, Wave] = field(default_factory=lambda: {k: Wave(k) for k in WAVE_KINDS})

    def output(self, t: float) -> float:
        """DC generator's output (V) at lab time ``t`` along the present ramp (no waveforms)."""
        if self.rate == math.inf or t <= self.t0:
            return self.v1 if self.rate == math.inf or t > self.t0 else self.v0
        span = self.v1 - self.v0
        moved = self.rate * (t - self.t0)
        return self.v1 if moved >= abs(span) else self.v0 + math.copysign(moved, span)

    def total(self, t: float) -> float:
        """Output (V) at lab time ``t``: the DC ramp plus every waveform generator."""
        return self.output(t) + sum(w.value(t) for w in self.waves.values())

    def current(self, t: float) -> float:
        """Current (A) the sensor sees at lab time ``t``: the output across the leakage."""
        return self.total(t) / LEAKAGE_OHM

    def measure(self, t: float) -> None:
        """One sensor acquisition at ``t``: COUNt readings into the data buffer."""
        s = self.sense
        s.armed = s.continuous
        s.data.extend(self.current(t) for _ in range(s.count))
        if len(s.data) > SENSOR_MEMORY:  # the oldest readings are overwritten
            del s.data[: len(s.data) - SENSOR_MEMORY]

    def values(self) -> list[float]:
        """The points of the selected generator (list or sweep) in output order."""
        if self.mode == "list":
            vals = list(self.list_v)
            return vals[::-1] if self.list_dir == "down" else vals
        n = self.swe_points
        a, b = self.swe_start, self.swe_stop
        vals = [a + (b - a) * i / (n - 1) for i in range(n)] if n > 1 else [a]
        return vals[::-1] if self.swe_dir == "down" else vals

    @property
    def dwell(self) -> float:
        return self.list_dwell if self.mode == "list" else self.swe_dwell

    @property
    def count(self) -> int:
        return self.list_count if self.mode == "list" else self.swe_count

    @property
    def stepped(self) -> bool:
        return self.mode == "list" and self.list_tmode == "step"

    @property
    def analog(self) -> bool:
        return self.mode == "swe" and self.swe_gen == "anal"


@dataclass
class OutputTrigger:
    """One external trigger output: what drives it and the pulses it has emitted."""

    source: str = "hold"
    width: float = 1e-6
    polarity: str = "norm"
    delay: float = 0.0
