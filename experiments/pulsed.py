"""The pulse path: a fast 2D raster compiled by the sequencer, played by the station's AWG,
recorded by its digitizer (triggered by an AWG marker), binned into pixels.

`raster_schedule` builds the schedule: one sweep point per row of ``y``; each row holds for
``settle`` (the sawtooth's flyback, the readout settling), then ramps the ``x`` gate linearly
over ``nx`` pixels of ``dwell`` while the ``y`` gate holds the row's level (the rows in
`row_order`: interleaved by default, see there), then ``tail`` at 0 V (an AWG holds its last
sample after the sequence ends: a level held there would charge the bias-T before the next
frame).  An acquisition window covers the ramp
and the marker rises as it opens (the digitizer's trigger: one per record, no trigger delay).
The settle's first half sits at the ramp's end, the second at its start, so each row's mean is
the axis centre: a symmetric raster (start = -stop on both axes) has zero mean and the bias-T
(AC coupling) removes nothing on average; interleaving the rows keeps that true over every
few rows, not only over the frame (an ascending staircase droops by about
``amplitude * frame / (8 tau)`` within a frame).
Amplitudes are AWG volts at the AWG output (the gate sees them times its line's gain), around
each gate's DC level.

`PulsedRaster` compiles it once for the station's AWG and digitizer; `prepare` narrows the AWG
channels from the gates' limits and DC levels (`LabStation.limit_awg`) and uploads (only what
changed; refused, nothing sent, beyond a limit); `acquire` takes one frame: arm the digitizer,
start the AWG (``averages`` plays), fetch, bin into ``(ny, nx)`` pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.drivers.awg5208 import AWG5208
from dotstack.drivers.protocols import AWG
from dotstack.sequencer import (
    ATS9360,
    Acquire,
    AwgLimits,
    AwgTarget,
    DigitizerLimits,
    DigitizerTarget,
    Gap,
    Hold,
    Marker,
    Param,
    Ramp,
    Sweep,
    VirtualGates,
    compile_schedule,
    par,
    sweep,
)
from dotstack.sequencer import AWG5208 as AWG5208_LIMITS
from dotstack.station import LabStation

#: (gate, start, stop, points): an axis in AWG volts.
RasterAxis = tuple[str, float, float, int]


def row_order(ny: int, order: str = "interleaved") -> npt.NDArray[np.int64]:
    """The order in which the rows (indices into ascending ``y``) are played.

    ``"ascending"``: 0, 1, ..., ny-1 (a staircase: through a bias-T's high pass it droops by
    about ``amplitude * frame / (8 tau)`` within the frame, shearing the slow axis);
    ``"interleaved"``: 0, ny-1, 1, ny-2, ... (each row followed by its mirror image about the
    centre: the bias-T's running mean stays within a row's level over a few rows, so a frame
    as long as the bias-T's time constant is not distorted)."""
    if order not in ("ascending", "interleaved"):
        raise ValueError(f"row order must be 'ascending' or 'interleaved', got {order!r}")
    if isinstance(ny, bool) or not isinstance(ny, int | np.integer) or ny < 1:
        raise ValueError(f"row_order: ny must be an integer >= 1, got {ny!r}")
    rows = np.arange(int(ny))
    if order == "ascending":
        return rows
    out = np.empty(int(ny), dtype=np.int64)
    out[0::2] = rows[: (ny + 1) // 2]
    out[1::2] = rows[::-1][: ny // 2]
    return out


def raster_schedule(x: RasterAxis, y: RasterAxis, *, dwell: float, settle: float,
                    marker: str = "M", lane: str = "A", window: str = "row",
                    marker_width: float = 100e-9, tail: float = 1e-6,
                    order: str = "interleaved") -> Sweep:
    """Rows of ``y`` (in `row_order` ``order``), a sawtooth on ``x`` per row; see the module
    docstring."""
    (gx, x0, x1, nx), (gy, y0, y1, ny) = x, y
    if gx == gy:
        raise ValueError(f"x and y must be different gates, both are {gx!r}")
    if int(nx) < 2 or int(ny) < 1:
        raise ValueError(f"a raster needs nx >= 2 and ny >= 1 points, got {nx} x {ny}")
    row = int(nx) * dwell
    if not (dwell > 0 and settle > 0 and tail > 0 and row > marker_width and math.isfinite(dwell + settle)):
        raise ValueError(f"need dwell, settle > 0 s and a row longer than the marker "
                         f"({marker_width} s), got dwell {dwell}, settle {settle}")
    step = (x1 - x0) / (int(nx) - 1)
    # the pixel centres are x0 .. x1: the ramp runs half a pixel beyond them on either side
    lo, hi = x0 - step / 2, x1 + step / 2
    # flyback: half the settle at the ramp's end, half at its start: the row's mean is the
    # axis centre (zero for a symmetric axis: nothing for the bias-T to remove)
    # each row ends with ``tail`` at 0 V: an AWG holds its last sample after the sequence ends,
    # and a level held there would charge the bias-T before the next frame
    lanes: dict[str, Any] = {
        gx: [Hold(settle / 2, hi), Hold(settle / 2, lo), Ramp(row, lo, hi), Hold(tail, 0.0)],
        gy: [Hold(settle + row, Param("y")), Hold(tail, 0.0)],
        marker: [Marker(settle, 0), Marker(marker_width), Marker(row - marker_width, 0)],
        lane: [Gap(settle), Acquire(row, window), Gap(tail)],
    }
    levels = np.linspace(y0, y1, int(ny))[row_order(int(ny), order)]
    return sweep(par(**lanes), ("y", levels))


@dataclass
class PulsedRaster:
    """A raster compiled for ``station``'s AWG and digitizer; `prepare`, then `acquire` frames.

    ``averages``: plays of the raster averaged per frame (the digitizer averages); rates: the
    AWG's and the digitizer's sample rates (S/s).  Pixels are the mean of the samples in each
    pixel's dwell (the window's samples split in ``nx`` equal parts).
    """

    station: LabStation
    x: RasterAxis
    y: RasterAxis
    dwell: float = 1e-6
    settle: float = 10e-6
    averages: int = 1
    awg: str = "awg"
    digitizer: str = "ats"
    awg_rate: float = 10e6
    digitizer_rate: float = 10e6
    awg_limits: AwgLimits = AWG5208_LIMITS
    digitizer_limits: DigitizerLimits = ATS9360
    timeout: float = 10.0
    #: maps the axes' names onto AWG channels (named by the gates they drive); None: the axes
    #: are the AWG channels' gates themselves
    virtual_gates: VirtualGates | None = None
    #: the order the rows are played in (see `row_order`); frames come back ascending in ``y``
    order: str = "interleaved"
    program: Any = field(init=False)
    acquisition: Any = field(init=False)

    def __post_init__(self) -> None:
        st = self.station
        lines = st.pulse_lines
        outputs = self.outputs
        for gate in outputs:
            line = lines.get(gate)
            if line is None or line.instrument != self.awg:
                raise ValueError(f"gate {gate!r} is not driven by AWG {self.awg!r} "
                                 f"(pulse lines: {sorted(lines)})")
        channels = tuple(sorted(outputs, key=lambda g: lines[g].channel))
        # the digitizer's trigger is marker 1 of channel 1 (``awg.marker1``): it must be played
        trigger = next((g for g in channels if lines[g].channel == 1), None)
        if trigger is None:
            raise ValueError(f"the digitizer's trigger is AWG {self.awg!r} channel 1's marker, "
                             f"but the raster drives only {list(channels)} (channels "
                             f"{[lines[g].channel for g in channels]})")
        # the digitizer's trigger: at least one AWG sample wide (a shorter one is not played)
        sched = raster_schedule(self.x, self.y, dwell=self.dwell, settle=self.settle,
                                marker_width=max(100e-9, 1.0 / self.awg_rate), order=self.order,
                                tail=self._tail())
        self.rows = row_order(int(self.y[3]), self.order)
        awg = AwgTarget(self.awg, self.awg_limits.with_(sample_rate=self.awg_rate), channels,
                        markers=(("M", trigger, 0),))
        dig = DigitizerTarget(self.digitizer,
                              self.digitizer_limits.with_(sample_rate=self.digitizer_rate), ("A",))
        res = compile_schedule(sched, [awg], [dig], virtual_gates=self.virtual_gates)
        dropped = [note.message for note in res.report if note.kind == "dropped_segment"]
        if dropped:
            raise ValueError(f"raster at {self.awg_rate:g} Sa/s: {dropped[0]}")
        self.program = res.programs[self.awg]
        self.acquisition = res.acquisitions[self.digitizer]
        self.marker_channel = lines[trigger].channel

    def _tail(self) -> float:
        """The 0 V hold after each row: 1 us, or longer if the digitizer's record (the row
        rounded up to the board's record granularity) would outlast the row's period (a board
        ignores triggers while it records)."""
        lim, rate = self.digitizer_limits, self.digitizer_rate
        samples = math.ceil(int(self.x[3]) * self.dwell * rate - 1e-9)
        g = lim.record_granularity
        record = max(-(-samples // g) * g, -(-lim.min_record_length // g) * g) / rate
        need = record + 2.0 / rate - (self.settle + int(self.x[3]) * self.dwell)
        tail = max(1e-6, need)
        return math.ceil(tail * self.awg_rate - 1e-9) / self.awg_rate

    @property
    def outputs(self) -> tuple[str, ...]:
        """The gates (AWG channels) the raster drives: the axes through the virtual gates."""
        lanes = (self.x[0], self.y[0])
        if self.virtual_gates is None:
            return lanes
        names, matrix = self.virtual_gates.compose(lanes)
        return tuple(n for n, row in zip(names, matrix, strict=True) if np.any(row != 0))

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.y[3]), int(self.x[3])

    def coordinates(self) -> dict[str, npt.NDArray[np.float64]]:
        """AWG volts of each row (``y`` gate) and column (``x`` gate)."""
        return {self.y[0]: np.linspace(self.y[1], self.y[2], int(self.y[3])),
                self.x[0]: np.linspace(self.x[1], self.x[2], int(self.x[3]))}

    def prepare(self) -> None:
        """Narrow the AWG channels to the gates' limits (DC levels now), upload the program
        (refused, nothing sent, if it would leave them), set up the digitizer."""
        st = self.station
        awg = st.instruments[self.awg]
        if not isinstance(awg, AWG):
            raise TypeError(f"{self.awg} is not an AWG")
        if isinstance(awg, AWG5208):  # program channels are gate names: map them
            awg.channel_map = {g: st.pulse_lines[g].channel for g in self.program.channels}
        st.limit_awg()
        st.check_pulses(self.program)  # as the gates see it, through their bias-Ts
        awg.prepare(self.program)
        st.digitizer(self.digitizer).prepare(self.acquisition, averages=self.averages)

    def acquire(self) -> npt.NDArray[np.float64]:
        """One frame: arm the digitizer, play the raster ``averages`` times, fetch, bin."""
        awg = self.station.instruments[self.awg]
        dig = self.station.digitizer(self.digitizer)
        dig.arm()
        try:
            for _ in range(self.averages):
                awg.stop()  # a sequence that reached its end still counts as running
                awg.arm()
                self._wait_done(awg)
            records = dig.fetch(timeout=self.timeout)
        except BaseException:
            dig.stop()
            awg.stop()
            raise
        return self.bin(records)

    def _wait_done(self, awg: Any) -> None:
        """Let the lab time of one raster pass (mock: the virtual clock; hardware: sleeps)."""
        self.station.sleep(self.program.n_samples / self.program.limits.sample_rate)

    def bin(self, records: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """``(rows, samples)`` records -> ``(ny, nx)`` pixels (mean over each dwell)."""
        n = int(self.acquisition.record_samples[0])
        ny, nx = self.shape
        usable = (n // nx) * nx
        played = records[:, :usable].reshape(ny, nx, -1).mean(axis=2)
        frame = np.empty_like(played)
        frame[self.rows] = played  # record r is row rows[r]
        return frame
