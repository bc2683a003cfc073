"""`WaveEngine`: the QDAC-II waveform generators (sine, triangle, square, AWG) played in lab time.

Each channel has the four generators beside its DC generator; they run in parallel and their
outputs add up (the DC level plus every playing waveform).  A trigger (or INIT with an IMM
source) starts a generator at lab time ``t``: its start marker fires at ``t``, the waveform
plays from ``t + delay`` for ``count`` periods (``-1``: until aborted), and the lab is told the
whole window at once (`VirtualLab.set_waveform`), so the physics sees it without any polling.
Clock events are scheduled only where something happens: every period boundary while a period
marker (``pstart``/``pend``) is set, otherwise only the end.  At the end the end marker fires
and a generator with INIT:CONTinuous ON re-arms (an IMM one starts again at once).  ABORt cuts
the waveform at the abort time.

Settings changed while a generator plays take effect at its next start.  Traces for the AWG
live in ``self.traces`` (name -> values); a playing AWG keeps its copy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.instruments.qdac2 import shapes
from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.limits import SAMPLE_RATE
from dotstack.mocks.instruments.qdac2.state import Channel, Wave
from dotstack.mocks.scpi import ScpiError


def _periods(elapsed: float, period: float) -> int:
    """Whole periods in ``elapsed`` (a boundary reached up to rounding counts as reached)."""
    return math.floor(elapsed / period + 1e-9)


class WaveEngine(QDacEngine):
    """Waveform-generator playback and its clock events on top of `QDacEngine` (no commands)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        #: AWG traces, name -> values (V before scale/offset); *RST keeps them
        self.traces: dict[str, NDArray[np.float64]] = {}

    # -- hooks of QDacEngine -------------------------------------------------------------
    def _fire_waves(self, source: str, t: float) -> None:
        for c in self.ch.values():
            for w in c.waves.values():
                if w.armed and w.source == source:
                    self._wave_begin(c, w, t)

    def _abort_waves(self, c: Channel, t: float) -> None:
        for w in c.waves.values():
            self._wave_abort(c, w, t)

    def reset(self) -> None:
        with self.lock:
            t = self.now()
            for c in self.ch.values():
                self._abort_waves(c, t)
            super().reset()

    # -- life cycle ----------------------------------------------------------------------
    def _wave_initiate(self, c: Channel, w: Wave, t: float) -> None:
        """INIT: arm the generator; with an IMM source start it at once (restarting it)."""
        if w.running and w.source == "imm":
            self._wave_stop(c, w, t)
        w.armed = True
        if w.source == "imm":
            self._wave_begin(c, w, t)

    def _wave_shape(self, w: Wave) -> shapes.Shape:
        inverted = w.polarity == "inv"
        if w.kind == "sine":
            return shapes.sine(w.period, w.span, w.offset, inverted)
        if w.kind == "tri":
            return shapes.triangle(w.period, w.span, w.offset, w.dcycle, inverted)
        if w.kind == "squ":
            return shapes.square(w.period, w.span, w.offset, w.dcycle, w.type, inverted)
        trace = self.traces.get(w.trace)
        if trace is None or not len(trace):
            raise ScpiError(-221, "Settings conflict", f"AWG trace {w.trace!r} is not defined")
        w.period = len(trace) / SAMPLE_RATE
        return shapes.awg(trace.copy(), w.scale, w.offset)

    def _wave_begin(self, c: Channel, w: Wave, t: float) -> None:
        """A trigger starts the armed generator ``w`` of ``c`` at lab time ``t``."""
        w.armed = False
        try:
            shape = self._wave_shape(w)
        except ScpiError as err:
            self._push(err)
            return
        self._wave_stop(c, w, t)
        w.running, w.shape = True, shape
        w.t_start = t + w.delay
        w.t_end = w.t_start + w.count * w.period if w.count > 0 else math.inf
        if self.lab is not None:
            self.lab.set_waveform(self.name, c.n, w.t_start, w.t_end, shape, key=w.kind)
        self._wave_marker(w, "start", t)
        if w.running:  # the start marker may have stopped it again
            self._wave_schedule(c, w, 0)

    def _wave_schedule(self, c: Channel, w: Wave, k: int) -> None:
        """Schedule period boundary ``k`` (or, without period markers, the end)."""
        if not (w.markers["pstart"] or w.markers["pend"]):
            if w.count <= 0:
                w.event = None
                return
            k = max(k, w.count)
        w.k = k
        w.event = self.clock.schedule(
            w.t_start + k * w.period, lambda t: self._wave_boundary(c, w, k, t),
            f"{self.name} ch{c.n} {w.kind}")

    def _wave_boundary(self, c: Channel, w: Wave, k: int, t: float) -> None:
        """Period ``k`` of ``w`` starts (and period ``k - 1`` ends) at ``t``."""
        w.event = None
        if not w.running:
            return
        if k > 0:
            self._wave_marker(w, "pend", t)
        if 0 < w.count <= k:
            self._wave_finish(c, w, t)
            return
        self._wave_marker(w, "pstart", t)
        if w.running and w.event is None:
            self._wave_schedule(c, w, k + 1)

    def _wave_finish(self, c: Channel, w: Wave, t: float) -> None:
        w.running, w.event = False, None
        self._wave_marker(w, "end", t)
        if w.continuous and not w.running:
            w.armed = True
            if w.source == "imm":
                self._wave_begin(c, w, t)

    def _wave_stop(self, c: Channel, w: Wave, t: float) -> None:
        """Stop a playing generator at ``t`` (its waveform ends there; nothing fires)."""
        if w.event is not None:
            w.event.cancel()
            w.event = None
        if w.running:
            w.running = False
            w.t_end = min(w.t_end, t)
            if self.lab is not None:
                self.lab.clear_waveform(self.name, c.n, t, key=w.kind)

    def _wave_abort(self, c: Channel, w: Wave, t: float) -> None:
        self._wave_stop(c, w, t)
        w.armed = w.continuous = False

    def _wave_markers_changed(self, c: Channel, w: Wave) -> None:
        """A marker was set while ``w`` plays: reschedule from the next period boundary."""
        if not w.running:
            return
        if w.event is not None:
            w.event.cancel()
            w.event = None
        now = self.now()
        k = 0 if now < w.t_start else _periods(now - w.t_start, w.period) + 1
        self._wave_schedule(c, w, k)

    def _wave_marker(self, w: Wave, which: str, t: float) -> None:
        if w.markers[which]:
            self.fire(f"int{w.markers[which]}", t)

    def _wave_cycles_left(self, w: Wave, t: float) -> int:
        """NCLeft?: periods still to play (-1 forever; 0 when idle)."""
        if w.count < 0:
            return -1 if (w.running or w.armed) else 0
        if w.running:
            if t < w.t_start:
                return w.count
            return max(w.count - _periods(t - w.t_start, w.period), 0)
        return w.count if w.armed else 0
