"""Single-shot spin measurements on a station: shot schedules, the source, the acquisition.

A shot (`shot_schedule`) is what a PSB spin-qubit lab plays: ``pre`` idle at the operating
point, the manipulation (`Pulse` elements: homodyne I/Q envelopes, constant within a burst, the
source's carrier at the qubit frequency; a pulse's phase is the angle of its I/Q envelope, so a
virtual Z is a rotation of the envelope), then the readout stretch: the plungers pulsed to the
readout point (P1 down, P2 up by ``readout_level`` AWG volts each) for ``readout_time`` plus
``settle``, the AWG marker rising at its start (the digitizer's trigger) and an acquisition
window of ``readout_time`` on the digitizer's channel B; the readout also re-initialises the pair.
The schedule is swept (`dotstack.sequencer.Sweep`, looping); `SpinRunner.measure` plays it
``shots`` times and returns each shot's window-averaged signal per sweep point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.drivers.awg5208 import AWG5208
from dotstack.sequencer import (
    ATS9360,
    Acquire,
    AwgTarget,
    DigitizerTarget,
    Gap,
    Hold,
    Marker,
    Param,
    Sweep,
    axis,
    compile_schedule,
    par,
)
from dotstack.sequencer import AWG5208 as AWG5208_LIMITS
from dotstack.station import LabStation

Array = npt.NDArray[np.float64]
Num = float | Param
IQ_FULL_SCALE = 0.5  #: the SGS100A's I/Q full scale (V): |I + iQ| at this gives the set level


@dataclass(frozen=True)
class Pulse:
    """A manipulation element: ``duration`` s of I/Q envelope ``amplitude`` (AWG V) at
    ``phase`` (rad; ``amplitude`` 0: free evolution).  Numbers or `Param` s."""

    duration: Num
    amplitude: Num = 0.0
    phase: float = 0.0

    def iq(self, frame: float = 0.0) -> tuple[Num, Num]:
        """(I, Q) levels with the envelope's phase ``phase + frame``."""
        if isinstance(self.amplitude, Param):
            raise ValueError("a swept burst amplitude is not supported; sweep its duration")
        a, ph = float(self.amplitude), self.phase + frame
        i, q = a * math.cos(ph), a * math.sin(ph)
        # a quadrature at rounding level (cos(pi/2) = 6e-17) is 0 V, not a waveform of its own
        return (0.0 if abs(i) < 1e-12 else i), (0.0 if abs(q) < 1e-12 else q)


@dataclass(frozen=True)
class SpinConfig:
    """Instruments and timings of the spin experiments (SI units; AWG volts).

    ``power_dbm``: the source's level; ``iq_amplitude``: |I + iQ| of a burst (AWG V);
    ``readout_level``: the plungers' readout pulse (P1 -x, P2 +x, AWG V); ``iq_channels``: the
    AWG channels feeding the source's I/Q inputs (the mock lab's `IQ_WIRING`)."""

    awg: str = "awg"
    digitizer: str = "ats"
    mw: str = "mw"
    awg_rate: float = 250e6
    digitizer_rate: float = 10e6
    iq_channels: tuple[int, int] = (4, 5)
    power_dbm: float = 10.0
    iq_amplitude: float = 0.1
    readout_level: float = 0.207
    readout_time: float = 10e-6
    settle: float = 16e-6
    pre: float = 0.1e-6
    #: the envelopes' common phase (rad), a global phase of the drive: 0 puts an X burst on I
    frame: float = 0.0
    timeout: float = 60.0

    def __post_init__(self) -> None:
        for name in ("awg_rate", "digitizer_rate", "readout_time", "settle", "pre", "timeout"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not (
                    math.isfinite(v) and v > 0):
                raise ValueError(f"SpinConfig.{name} must be a finite number > 0, got {v!r}")
        if not 0 < self.iq_amplitude <= IQ_FULL_SCALE:
            raise ValueError(f"SpinConfig.iq_amplitude must be in (0, {IQ_FULL_SCALE}] V, got "
                             f"{self.iq_amplitude!r}")

    @property
    def carrier_amplitude(self) -> float:
        """Peak volts of the source's CW level into 50 ohm."""
        return math.sqrt(2.0 * 50.0 * 1e-3 * 10.0 ** (self.power_dbm / 10.0))

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in self.__dict__.items()}


def shot_schedule(pulses: Sequence[Pulse], cfg: SpinConfig, readout_level: Num | None = None,
                  init_level: float | None = None, init_time: float = 2e-6) -> Any:
    """One shot: [initialisation], ``pre``, the pulses, the readout stretch (module docstring).

    ``init_level`` (AWG V, plungers as for the readout): first pulse the pair that far into
    (0,2) for ``init_time`` s, which re-initialises it whatever the readout point does (a scan
    of readout levels has levels that do not reach (0,2): without it, their preparations would
    add up into the next shot that is read)."""
    level: Num = cfg.readout_level if readout_level is None else readout_level
    neg: Num = Param(f"{level.name}_neg") if isinstance(level, Param) else -float(level)
    durations: list[Num] = [cfg.pre, *(p.duration for p in pulses)]
    stretch = cfg.readout_time + cfg.settle
    i_lane = [Hold(cfg.pre, 0.0), *(Hold(p.duration, p.iq(cfg.frame)[0]) for p in pulses),
              Hold(stretch, 0.0)]
    q_lane = [Hold(cfg.pre, 0.0), *(Hold(p.duration, p.iq(cfg.frame)[1]) for p in pulses),
              Hold(stretch, 0.0)]
    idle = [Hold(d, 0.0) for d in durations]
    mark = [Marker(d, 0) for d in durations]
    gaps = [Gap(d) for d in durations]
    lanes: dict[str, Any] = {
        "P1": [*idle, Hold(stretch, neg)],
        "P2": [*idle, Hold(stretch, level)],
        "I": i_lane, "Q": q_lane,
        "M": [*mark, Marker(100e-9), Marker(stretch - 100e-9, 0)],
        "B": [*gaps, Acquire(cfg.readout_time, "readout"), Gap(cfg.settle)],
    }
    if init_level is not None:
        v = float(init_level)
        if not (math.isfinite(v) and math.isfinite(init_time) and init_time > 0):
            raise ValueError(f"init_level must be finite AWG volts and init_time > 0 s, got "
                             f"{init_level!r}, {init_time!r}")
        first = {"P1": Hold(init_time, -v), "P2": Hold(init_time, v), "I": Hold(init_time, 0.0),
                 "Q": Hold(init_time, 0.0), "M": Marker(init_time, 0), "B": Gap(init_time)}
        lanes = {k: [first[k], *lane] for k, lane in lanes.items()}
    return par(**lanes)


@dataclass
class SpinRunner:
    """Compiles a swept shot for the station's AWG/digitizer, plays it, returns single shots."""

    station: LabStation
    cfg: SpinConfig = field(default_factory=SpinConfig)
    program: Any = None
    acquisition: Any = None

    def compile(self, shot: Any, axes: Mapping[str, Any] | None = None) -> None:
        """Compile ``shot`` swept over ``axes`` (param -> values, all of one length: a point
        per value; several params step together)."""
        cfg = self.cfg
        items = list((axes or {"_point": [0.0]}).items())
        lengths = {len(v) for _, v in items}
        if len(lengths) != 1:
            raise ValueError(f"swept parameters of different lengths: {[(k, len(v)) for k, v in items]}")
        first, values = items[0]
        ax = axis(first, [float(x) for x in values], **{k: [float(x) for x in v] for k, v in items[1:]})
        sweep = Sweep(shot, (ax,), loop=True)
        awg = AwgTarget(cfg.awg, AWG5208_LIMITS.with_(sample_rate=cfg.awg_rate),
                        ("P1", "P2", "I", "Q"), markers=(("M", "P1", 0),))
        dig = DigitizerTarget(cfg.digitizer, ATS9360.with_(sample_rate=cfg.digitizer_rate),
                              ("A", "B"))
        res = compile_schedule(sweep, [awg], [dig])
        dropped = [n.message for n in res.report if n.kind == "dropped_segment"]
        if dropped:
            raise ValueError(f"spin shot at {cfg.awg_rate:g} Sa/s: {dropped[0]}")
        self.program = res.programs[cfg.awg]
        self.acquisition = res.acquisitions[cfg.digitizer]

    def summary(self) -> dict[str, Any]:
        """The compiled program, for ``meta/program``."""
        p, a = self.program, self.acquisition
        return {"channels": list(p.channels), "samples": int(p.n_samples),
                "sample_rate": float(p.limits.sample_rate), "waveforms": int(p.n_waveforms),
                "steps": len(p.table), "pass_s": p.n_samples / p.limits.sample_rate,
                "records_per_pass": int(a.n_records), "digitizer_rate": float(a.sample_rate),
                "window_samples": int(a.record_length),
                "awg_channels": self.channel_map(), "config": self.cfg.to_dict()}

    def channel_map(self) -> dict[str, int]:
        lines = self.station.pulse_lines
        i_ch, q_ch = self.cfg.iq_channels
        return {"P1": lines["P1"].channel, "P2": lines["P2"].channel, "I": i_ch, "Q": q_ch}

    def prepare(self, shots: int) -> None:
        st, cfg = self.station, self.cfg
        awg = st.instruments[cfg.awg]
        if isinstance(awg, AWG5208):
            awg.channel_map = self.channel_map()
        st.limit_awg()
        for ch in cfg.iq_channels:
            awg.set_channel_limits(ch, -IQ_FULL_SCALE, IQ_FULL_SCALE)
        st.check_pulses(self.program)  # the gate pulses as the gates see them (bias-Ts)
        awg.prepare(self.program)
        st.digitizer(cfg.digitizer).prepare(self.acquisition, averages=int(shots), raw=True)

    def source(self, frequency: float) -> None:
        """The source at ``frequency`` (Hz), the configured level, I/Q modulation, output on."""
        mw = self.station.instruments[self.cfg.mw]
        mw.power(self.cfg.power_dbm)
        mw.IQ_state(True)
        mw.frequency(float(frequency))
        mw.status(True)
        mw.frequency()  # a query: the settings above are in effect

    def measure(self, shots: int) -> Array:
        """Play the compiled sweep ``shots`` times: ``(shots, points)`` window averages (V)."""
        st, cfg = self.station, self.cfg
        awg = st.instruments[cfg.awg]
        dig = st.digitizer(cfg.digitizer)
        self.prepare(shots)
        dig.arm()
        try:
            awg.stop()
            awg.arm()
            st.sleep(shots * self.program.n_samples / self.program.limits.sample_rate + 1e-3)
            raw = dig.fetch(timeout=cfg.timeout)
        finally:
            awg.stop()
        # each record's mean over its window's samples (the board records whole granules)
        return np.asarray(self.acquisition.integrate(raw), dtype=float)


def pi_time(f_rabi: float) -> float:
    return 1.0 / (2.0 * f_rabi)
