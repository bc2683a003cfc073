"""`QDacEngine`: the DC generators run in lab time, and the trigger events that drive them.

A running list/sweep generator is evaluated from ``lab.time()``, its start time and its dwell:
the model catches up (and tells the lab the present point) whenever it handles a message or
`sync` is called.  An analog sweep is handed to the lab as a ramp, and a list in ``TMODe STEP``
advances on each trigger event, so those two are exact.  Start/end markers and, for stepped
lists, step markers fire internal triggers when the event is processed; step markers of
auto-timed generators do not.
"""

from __future__ import annotations

import math

from dotstack.mocks.instruments.qdac2.base import QDacBase
from dotstack.mocks.instruments.qdac2.state import Channel
from dotstack.mocks.scpi import ScpiError

_MAX_TRIGGER_DEPTH = 8


class QDacEngine(QDacBase):
    """Generator timing and trigger distribution on top of `QDacBase` (no SCPI commands)."""

    def handle(self, message: bytes) -> bytes | None:
        with self.lock:
            self.log.append(message.decode("latin-1"))
            self.sync()
            return super().handle(message)

    def output(self, channel: int) -> float:
        """Present output of ``channel`` (V), after catching up running generators."""
        with self.lock:
            self.sync()
            return self.ch[channel].output(self.now())

    def sync(self) -> None:
        """Catch every running auto-timed generator up to the present lab time."""
        with self.lock:
            t = self.now()
            for c in self.ch.values():
                if c.running and not c.stepped:
                    self._advance_timed(c, t)

    def fire(self, source: str, t: float | None = None, _depth: int = 0) -> None:
        """Deliver a trigger event (``bus``, ``int3``, ``ext1``) to everything listening."""
        with self.lock:
            t = self.now() if t is None else t
            if _depth > _MAX_TRIGGER_DEPTH:
                raise ScpiError(-200, "Execution error", "trigger loop")
            for c in self.ch.values():
                if c.source != source:
                    continue
                if c.running and c.stepped:
                    self._step(c, t)
                elif c.armed:
                    self._begin(c, t)
                s = c.sense
                if s.armed and s.source == source:
                    c.measure(t)
            for o in self.out_triggers.values():
                if o.source == source:
                    o.pulses.append(t + o.delay)

    def external_input(self, n: int) -> None:
        """An edge on external trigger input ``n`` (1..4)."""
        self.sync()
        self.fire(f"ext{n}")

    # -- generator life cycle ------------------------------------------------------------
    def _initiate(self, c: Channel, t: float) -> None:
        """INIT: arm the generator of ``c``; with an IMM source start it at once."""
        if c.running and c.source == "imm":
            c.running = False
        c.armed = c.source != "hold" or c.armed
        if c.source == "imm":
            self._begin(c, t)
        elif c.source == "hold":
            c.armed = True

    def _abort(self, c: Channel) -> None:
        c.running = c.armed = False
        c.continuous = False

    def _begin(self, c: Channel, t: float) -> None:
        """A trigger (or INIT with IMM) starts the channel's armed generator."""
        c.armed = False
        if c.mode == "fix":
            if c.triggered is not None:
                c.level = c.triggered
                self._drive(c, c.level, t, c.slew)
            self._fire_marker(c, "start", t)
            if c.continuous:
                c.armed = True
            return
        c.running, c.cycle, c.step = True, 0, -1
        self._fire_marker(c, "start", t)
        if c.stepped:
            self._step(c, t)
        else:
            c.t_start = t + c.delay
            self._advance_timed(c, t)

    def _advance_timed(self, c: Channel, t: float) -> None:
        vals, dwell = c.values(), c.dwell
        elapsed = t - c.t_start
        if elapsed < 0:
            return
        n = len(vals)
        total = n * c.count if c.count > 0 else math.inf
        k = math.floor(elapsed / dwell) if dwell > 0 else total
        if k >= total:
            if c.analog or vals[-1] != c.output(t):
                self._drive(c, vals[-1], t, math.inf)
            self._finish(c, t)
            return
        cycle, idx = divmod(int(k), n)
        if c.analog:
            if cycle != c.cycle or c.step < 0:
                self._start_analog_cycle(c, t, vals, elapsed - cycle * n * dwell)
            c.cycle, c.step = cycle, idx
        elif (cycle, idx) != (c.cycle, c.step):
            c.cycle, c.step = cycle, idx
            self._drive(c, vals[idx], t, math.inf)

    def _start_analog_cycle(self, c: Channel, t: float, vals: list[float], into: float) -> None:
        duration = len(vals) * c.dwell
        a, b = vals[0], vals[-1]
        rate = abs(b - a) / duration if duration > 0 else math.inf
        here = a + (b - a) * min(1.0, into / duration) if duration > 0 else b
        self._drive(c, here, t, math.inf)
        if rate > 0 and here != b:
            self._drive(c, b, t, rate)

    def _step(self, c: Channel, t: float) -> None:
        vals = c.values()
        c.step += 1
        if c.step >= len(vals):
            c.step, c.cycle = 0, c.cycle + 1
            if 0 < c.count <= c.cycle:
                self._finish(c, t)
                return
        self._drive(c, vals[c.step], t, math.inf)
        self._fire_marker(c, "sst", t)

    def _finish(self, c: Channel, t: float) -> None:
        c.running = False
        self._fire_marker(c, "end", t)
        if c.continuous:
            c.armed = True
            if c.source == "imm":
                self._begin(c, t)

    def _fire_marker(self, c: Channel, which: str, t: float) -> None:
        if c.markers[which]:
            self.fire(f"int{c.markers[which]}", t)
