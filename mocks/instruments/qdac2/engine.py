"""`QDacEngine`: the DC generators run on the lab clock, and the trigger events that drive them.

Everything the QDAC-II does by itself happens at its lab time, whether or not anyone polls:
a running list or sweep schedules its next step on the lab clock (``t_start + n * dwell``),
and each step tells the lab its new level dated at that time.  Markers fire internal triggers
at ``start`` (the generator starts), ``sst`` (a step starts), ``send`` (a step ends) and ``end``
(the last step ends); a trigger output whose source is an internal trigger emits a pulse at the
event time plus its delay, which the lab's trigger wiring carries to other instruments
(`VirtualLab.pulse`).  External trigger inputs (``ext1``..``ext4``) arrive from the wiring.
A list in ``TMODe STEP`` advances on each trigger; an analog sweep is one ramp per cycle.
"""

from __future__ import annotations

import math
from collections import deque

from dotstack.mocks.instruments.qdac2.base import QDacBase
from dotstack.mocks.instruments.qdac2.limits import N_EXTERNAL_INPUTS, N_EXTERNAL_OUTPUTS
from dotstack.mocks.instruments.qdac2.state import Channel
from dotstack.mocks.scpi import ScpiError

_MAX_TRIGGER_DEPTH = 8


class QDacEngine(QDacBase):
    """Generator timing and trigger distribution on top of `QDacBase` (no SCPI commands)."""

    _fire_depth = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: lab times of the pulses each trigger output emitted (the last 1000)
        self.pulses: dict[int, deque[float]] = {
            n: deque(maxlen=1000) for n in range(1, N_EXTERNAL_OUTPUTS + 1)}
        if self.lab is not None:
            for n in range(1, N_EXTERNAL_INPUTS + 1):
                self.lab.add_trigger_input(f"{self.name}.ext{n}", self._external_at(n))

    def _external_at(self, n: int):  # type: ignore[no-untyped-def]
        def deliver(t: float) -> None:
            self.fire(f"ext{n}", t)
        return deliver

    def handle(self, message: bytes) -> bytes | None:
        self.log.append(message.decode("latin-1"))
        return super().handle(message)  # on the lab clock: see `ClockedModel`

    def output(self, channel: int) -> float:
        """Present output of ``channel`` (V): the DC generator plus the waveform generators."""
        with self.lock:
            self.clock.catch_up()
            return self.ch[channel].total(self.now())

    def sync(self) -> None:
        """Run whatever is due on the lab clock (kept for callers of the polled model)."""
        self.clock.catch_up()

    def reset(self) -> None:
        with self.lock:
            for c in self.ch.values():
                self._cancel(c)
            super().reset()

    def fire(self, source: str, t: float | None = None) -> None:
        """Deliver a trigger event (``bus``, ``int3``, ``ext1``) at lab time ``t`` (default now)."""
        with self.lock:
            t = self.now() if t is None else t
            if self._fire_depth >= _MAX_TRIGGER_DEPTH:
                raise ScpiError(-200, "Execution error", f"trigger loop at {source}")
            self._fire_depth += 1
            try:
                for c in self.ch.values():
                    if c.source == source:
                        if c.running and c.stepped:
                            self._step(c, t)
                        elif c.armed:
                            self._begin(c, t)
                    s = c.sense
                    if s.armed and s.source == source:
                        c.measure(t)
                self._fire_waves(source, t)
                for n, o in self.out_triggers.items():
                    if o.source == source:
                        self._emit(n, t + o.delay)
            finally:
                self._fire_depth -= 1

    def _fire_waves(self, source: str, t: float) -> None:
        """Hook: the trigger ``source`` reaches the waveform generators (see `WaveEngine`)."""

    def _abort_waves(self, c: Channel, t: float) -> None:
        """Hook: abort the waveform generators of ``c`` at ``t`` (see `WaveEngine`)."""

    def external_input(self, n: int) -> None:
        """An edge on external trigger input ``n`` (1..4), now."""
        self.fire(f"ext{n}")

    def _emit(self, n: int, t: float) -> None:
        """Trigger output ``n`` pulses at lab time ``t`` (scheduled if ``t`` is ahead)."""
        if t > self.now():
            self.clock.schedule(t, lambda when: self._pulse(n, when), f"{self.name} trig{n}")
        else:
            self._pulse(n, t)

    def _pulse(self, n: int, t: float) -> None:
        self.pulses[n].append(t)
        if self.lab is not None:
            self.lab.pulse(f"{self.name}.trig{n}", t)

    # -- generator life cycle ------------------------------------------------------------
    def _cancel(self, c: Channel) -> None:
        if c.event is not None:
            c.event.cancel()
            c.event = None

    def _initiate(self, c: Channel, t: float) -> None:
        """INIT: arm the generator of ``c``; with an IMM source start it at once."""
        if c.running and c.source == "imm":
            self._cancel(c)
            c.running = False
        c.armed = True
        if c.source == "imm":
            self._begin(c, t)

    def _abort(self, c: Channel) -> None:
        self._cancel(c)
        c.running = c.armed = False
        c.continuous = False

    def _begin(self, c: Channel, t: float) -> None:
        """A trigger (or INIT with IMM) starts the channel's armed generator at ``t``."""
        c.armed = False
        if c.mode == "fix":
            if c.triggered is not None:
                c.level = c.triggered
                self._drive(c, c.level, t, c.slew)
            self._fire_marker(c, "start", t)
            if c.continuous:
                c.armed = True
            return
        self._cancel(c)
        c.running, c.cycle, c.step = True, 0, -1
        self._fire_marker(c, "start", t)
        if c.stepped:
            self._step(c, t)
            return
        c.t_start = t + c.delay
        self._schedule_timed(c, 0)

    def _schedule_timed(self, c: Channel, k: int) -> None:
        """Schedule step ``k`` (or cycle ``k`` of an analog sweep) of a timed generator."""
        period = c.dwell * (len(c.values()) if c.analog else 1)
        when = c.t_start + k * period
        c.event = self.clock.schedule(when, lambda t: self._timed(c, k, t), f"{self.name} ch{c.n}")

    def _timed(self, c: Channel, k: int, t: float) -> None:
        """Step ``k`` of a timed generator is due at ``t``."""
        c.event = None
        if not c.running:
            return
        vals = c.values()
        n = 1 if c.analog else len(vals)
        if k > 0 and not c.analog:
            self._fire_marker(c, "send", t)
        total = n * c.count if c.count > 0 else math.inf
        if k >= total:
            self._finish(c, t)
            return
        c.cycle, c.step = divmod(k, n)
        if c.analog:
            duration = len(vals) * c.dwell
            self._drive(c, vals[0], t, math.inf)
            rate = abs(vals[-1] - vals[0]) / duration
            if rate > 0:
                self._drive(c, vals[-1], t, rate)
        else:
            self._drive(c, vals[c.step], t, math.inf)
            self._fire_marker(c, "sst", t)
        self._schedule_timed(c, k + 1)

    def _step(self, c: Channel, t: float) -> None:
        """A trigger advances a stepped list by one point."""
        vals = c.values()
        if c.step >= 0:
            self._fire_marker(c, "send", t)
        c.step += 1
        if c.step >= len(vals):
            c.step, c.cycle = 0, c.cycle + 1
            if 0 < c.count <= c.cycle:
                c.step = len(vals) - 1
                self._finish(c, t)
                return
        self._drive(c, vals[c.step], t, math.inf)
        self._fire_marker(c, "sst", t)

    def _finish(self, c: Channel, t: float) -> None:
        c.running = False
        c.event = None
        self._fire_marker(c, "end", t)
        if c.continuous:
            c.armed = True
            if c.source == "imm":
                self._begin(c, t)

    def _fire_marker(self, c: Channel, which: str, t: float) -> None:
        if c.markers[which]:
            self.fire(f"int{c.markers[which]}", t)
