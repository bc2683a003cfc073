"""Mutable state of the QDAC-II mock: channels (output ramp, generator, sensor), output triggers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from dotstack.mocks.instruments.qdac2.limits import LEAKAGE_OHM


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

    def output(self, t: float) -> float:
        """Output (V) at lab time ``t`` along the present ramp."""
        if self.rate == math.inf or t <= self.t0:
            return self.v1 if self.rate == math.inf or t > self.t0 else self.v0
        span = self.v1 - self.v0
        moved = self.rate * (t - self.t0)
        return self.v1 if moved >= abs(span) else self.v0 + math.copysign(moved, span)

    def current(self, t: float) -> float:
        """Current (A) the sensor sees at lab time ``t``: the output across the leakage."""
        return self.output(t) / LEAKAGE_OHM

    def measure(self, t: float) -> None:
        """One sensor acquisition at ``t``: COUNt readings into the data buffer."""
        s = self.sense
        s.armed = s.continuous
        s.data.extend(self.current(t) for _ in range(s.count))

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
    pulses: list[float] = field(default_factory=list)  # lab times of emitted pulses
