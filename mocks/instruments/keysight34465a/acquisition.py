"""`DmmAcquisition`: triggers and readings of the 34465A mock on the lab clock.

A trigger (INIT with TRIG:SOUR IMM, ``*TRG`` with BUS, a pulse on the rear Ext Trig input from
the lab's trigger wiring with EXT) fires at its lab time; after the trigger delay the meter takes
SAMP:COUN readings spaced by the sample interval (integration time, doubled by auto-zero, or
SAMP:TIM when SAMP:SOUR TIM), each the average over ``[t_k, t_k + T]`` with ``T`` = NPLC / line
frequency (or the aperture).  With IMM the TRIG:COUN triggers follow back to back.  A trigger
that arrives while the meter is still measuring is ignored (counted in ``missed_triggers``).

Nothing runs ahead of the lab clock: a reading exists only once the lab clock has passed its end
(`_collect`), and is computed then from the lab's history, so every gate change dated inside its
window is seen.  FETCh? and READ? wait in lab time until the acquisition is complete (a virtual
clock advances to it, running what other instruments scheduled on the way; a realtime clock
really waits); on a virtual clock a wait that nothing can end (no trigger will ever come) gives
-214 "Trigger deadlock" and aborts the acquisition.  DATA:POINts?, R? and DATA:REMove? see the
readings taken so far.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from dotstack.mocks.instruments.keysight34465a.base import DmmBase
from dotstack.mocks.instruments.keysight34465a.functions import OVERRANGE, RANGES, nr3
from dotstack.mocks.physics.clock import ClockDeadlock
from dotstack.mocks.physics.noise import white_normal
from dotstack.mocks.scpi import ScpiError
from dotstack.mocks.scpi.values import SCPI_INF

_SCALAR_MAX = 16  # up to this many readings at once, ask the lab point by point
_OWN_NOISE_STREAM = 101


class DmmAcquisition(DmmBase):
    """The input signal, the trigger system and the reading memory (no SCPI commands)."""

    _planned: deque[tuple[float, float, str]]  # (start, integration, function) not yet ended
    missed_triggers: int

    def reset(self) -> None:
        super().reset()
        self._planned = deque()
        self.missed_triggers = 0

    def _input(self, function: str, times: np.ndarray, integration: float) -> np.ndarray:
        """Values of ``function`` at the input, each averaged over [t, t + integration]."""
        if function == "VOLT":
            if times.size <= _SCALAR_MAX:  # the lab's scalar path is faster for a few points
                read = self.signal
                return self.gain * np.array([read(integration, float(t)) for t in times])
            return self.gain * self.signals(times, integration)
        if function in ("RES", "FRES"):
            return np.full(times.shape, math.inf)  # open input
        return np.zeros(times.shape)  # open current input, no AC signal

    # -- triggers ------------------------------------------------------------------------
    def _trigger(self, t: float) -> bool:
        """A trigger at lab time ``t``: plan one sample set (False if ignored)."""
        if not self.waiting_triggers or t < self.busy_until:
            if self.waiting_triggers:
                self.missed_triggers += 1
            return False
        dt = self.sample_interval()
        k = np.arange(self.sample_count) - self.pretrigger_count
        times = t + k * dt + np.where(k >= 0, self.trigger_delay_now(), 0.0)
        T, function = self.integration_time(), self.function
        self._planned.extend((float(tk), T, function) for tk in times)
        self.busy_until = float(times[-1]) + dt
        self.waiting_triggers -= 1
        vmc = f"{self.name}.vmc"
        if self.lab.triggers.get(vmc):  # "voltmeter complete" pulses, if something listens
            for tk in times:
                self.clock.schedule(float(tk) + T, lambda when: self.lab.pulse(vmc, when), vmc)
        self.clock.schedule(self.busy_until, lambda when: None, f"{self.name} done")
        return True

    def trigger_external(self, t: float | None = None) -> bool:
        """A pulse on the rear Ext Trig input at lab time ``t`` (default now)."""
        with self.lock:
            if self.trigger_source != "EXT":
                return False
            return self._trigger(self.clock.now() if t is None else t)

    def _initiate(self) -> None:
        """INIT: clear the memory and wait for TRIG:COUN triggers (IMM: take them at once)."""
        if self.trigger_source == "INT":
            raise ScpiError.settings_conflict("the mock has no INT level triggering")
        if self.trigger_source == "IMM" and math.isinf(self.trigger_count):
            raise ScpiError.settings_conflict("TRIG:COUN INF needs a BUS or EXT trigger")
        if self.pretrigger_count >= self.sample_count:
            raise ScpiError.settings_conflict("pretrigger count must be below the sample count")
        total = self.trigger_count * self.sample_count
        if math.isfinite(total) and total > self.memory_size:
            raise ScpiError.settings_conflict(
                f"{int(total)} readings exceed the reading memory ({self.memory_size})")
        self._collect()
        if self.waiting_triggers or self._planned:
            raise ScpiError(-213, "Init ignored")
        self.readings = []
        self.stale = True
        self.missed_triggers = 0
        self.waiting_triggers = self.trigger_count
        if self.trigger_source == "IMM":
            start = max(self.clock.now(), self.busy_until)
            while self.waiting_triggers:
                self._trigger(max(start, self.busy_until))

    def _abort(self) -> None:
        self._collect()
        self.waiting_triggers = 0
        self._planned.clear()

    # -- readings ------------------------------------------------------------------------
    def _collect(self) -> None:
        """Compute the planned readings whose window has ended by now into the memory."""
        planned, now = self._planned, self.clock.now()
        done = 0
        while done < len(planned) and planned[done][0] + planned[done][1] <= now:
            done += 1
        if not done:
            return
        batch = [planned.popleft() for _ in range(done)]
        for function in dict.fromkeys(b[2] for b in batch):
            rows = [b for b in batch if b[2] == function]
            times = np.array([b[0] for b in rows])
            self._store(function, times, rows[0][1])
        self.stale = False

    def _store(self, function: str, times: np.ndarray, integration: float) -> None:
        s = self.settings[function]
        values = self._input(function, times, integration)
        ranges = np.asarray(RANGES[function])
        if s.autorange:  # each reading on the smallest range that holds it
            idx = np.searchsorted(OVERRANGE * ranges, np.abs(values), side="left")
            used = ranges[np.minimum(idx, len(ranges) - 1)]
            s.range = float(used[-1])
        else:
            used = np.full(values.shape, s.range)
        sigma = self.own_noise * self._res_factor(s) * used
        finite = np.isfinite(values)
        if self.own_noise:
            z = white_normal(self.seed, _OWN_NOISE_STREAM, times, integration)
            values = values + np.where(finite, sigma * z, 0.0)
        if function.endswith(":AC"):  # an RMS reading: its noise floor is never negative
            values = np.abs(values)
        values = np.where(np.abs(values) > OVERRANGE * used, np.copysign(SCPI_INF, values), values)
        self.readings.extend(values.tolist())
        if len(self.readings) > self.memory_size:  # the oldest are overwritten
            del self.readings[: len(self.readings) - self.memory_size]

    def _complete(self) -> bool:
        return not self.waiting_triggers and not self._planned

    def _wait_complete(self) -> bool:
        """Wait in lab time until every trigger came and every reading ended (False: interrupted)."""
        if math.isinf(self.waiting_triggers):
            raise ScpiError(-214, "Trigger deadlock", "TRIG:COUN INF never completes")

        def done() -> bool:
            self._collect()
            return self._complete()

        try:
            return self.clock.wait_for(done, interrupt=self._interrupted)
        except ClockDeadlock:  # nothing will ever trigger it: give up the acquisition
            self._abort()
            raise ScpiError(-214, "Trigger deadlock") from None

    def _interrupted(self) -> bool:
        probe = getattr(self, "interrupted", None)
        return bool(probe()) if probe is not None else False

    def _all_readings(self) -> list[float] | None:
        if not self._wait_complete():
            return None
        if self.stale:
            raise ScpiError(-230, "Data stale")
        return self.readings

    def _fetch_text(self) -> str | None:
        """FETCh?: every reading of the finished acquisition, comma-separated."""
        readings = self._all_readings()
        return None if readings is None else ",".join(map(nr3, readings))

    def _read_text(self) -> str | None:
        """READ?: INIT, then FETCh?."""
        self._initiate()
        return self._fetch_text()

    def _available(self) -> list[float]:
        """The readings taken so far (R?, DATA:REMove?, DATA:POINts?)."""
        self._collect()
        return self.readings
