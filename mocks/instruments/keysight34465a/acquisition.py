"""`DmmAcquisition`: triggers and readings of the 34465A mock, in lab time (never real sleeps).

The meter keeps its own timeline.  A trigger (INIT with TRIG:SOUR IMM, ``*TRG`` with BUS,
`trigger_external` with EXT) fires at ``max(lab.time(), end of the previous acquisition)``;
after the trigger delay it takes SAMP:COUN readings spaced by the sample interval (integration
time, doubled by auto-zero, or SAMP:TIM when SAMP:SOUR TIM), each the average over
``[t_k, t_k + T]`` with ``T`` = NPLC / line frequency (or the aperture).  The readings are
computed when the trigger fires, from the lab's state at that moment, and the meter is then
busy until the last one ends; so back-to-back READ? calls never overlap in lab time, as on the
real instrument, which would block meanwhile.  FETCh? of an acquisition still waiting for a
trigger, and READ? with BUS/EXT triggering, give -214 "Trigger deadlock" instead of hanging.
Trigger count INF and INT (level) triggering are accepted as settings but INIT with them gives
-221 (the eager timeline cannot stream).
"""

from __future__ import annotations

import math

import numpy as np

from dotstack.mocks.instruments.keysight34465a.base import DmmBase
from dotstack.mocks.instruments.keysight34465a.functions import OVERRANGE, RANGES, nr3
from dotstack.mocks.scpi import ScpiError
from dotstack.mocks.scpi.values import SCPI_INF

_SCALAR_MAX = 16  # up to this many samples per trigger, ask the lab point by point


class DmmAcquisition(DmmBase):
    """The input signal, the trigger system and the reading memory (no SCPI commands)."""

    def _input(self, function: str, times: np.ndarray, integration: float) -> np.ndarray:
        """Values of ``function`` at the input, each averaged over [t, t + integration]."""
        if function == "VOLT":
            if times.size <= _SCALAR_MAX:  # the lab's scalar path is faster for a few points
                lab = self.lab
                return self.gain * np.array([lab.sensor_current(integration, t) for t in times])
            return self.gain * self.lab.sensor_currents(times, integration)
        if function in ("RES", "FRES"):
            return np.full(times.shape, math.inf)  # open input
        return np.zeros(times.shape)  # open current input, no AC signal

    def _measure(self, t_trigger: float) -> None:
        """Take one trigger's readings into memory; the meter is busy until they end."""
        s, function = self.current, self.function
        dt = self.sample_interval()
        k = np.arange(self.sample_count) - self.pretrigger_count
        times = t_trigger + k * dt + np.where(k >= 0, self.trigger_delay_now(), 0.0)
        values = self._input(function, times, self.integration_time())
        ranges = np.asarray(RANGES[function])
        if s.autorange:  # each reading on the smallest range that holds it
            idx = np.searchsorted(OVERRANGE * ranges, np.abs(values), side="left")
            used = ranges[np.minimum(idx, len(ranges) - 1)]
            s.range = float(used[-1])
        else:
            used = np.full(values.shape, s.range)
        sigma = self.own_noise * self._res_factor(s) * used
        finite = np.isfinite(values)
        values = values + np.where(finite, sigma * self._rng.standard_normal(values.shape), 0.0)
        values = np.where(np.abs(values) > OVERRANGE * used, np.copysign(SCPI_INF, values), values)
        self.readings.extend(values.tolist())
        self.busy_until = float(times[-1]) + dt
        self.stale = False

    def _fire(self) -> None:
        self._measure(self.next_start())
        self.waiting_triggers -= 1

    def _initiate(self) -> None:
        """INIT: clear the memory and wait for TRIG:COUN triggers (IMM: take them at once)."""
        if self.waiting_triggers:
            raise ScpiError(-213, "Init ignored")
        if math.isinf(self.trigger_count) or self.trigger_source == "INT":
            raise ScpiError.settings_conflict(
                "the mock cannot run INF trigger counts or INT level triggering")
        if self.pretrigger_count >= self.sample_count:
            raise ScpiError.settings_conflict("pretrigger count must be below the sample count")
        total = int(self.trigger_count) * self.sample_count
        if total > self.memory_size:
            raise ScpiError.settings_conflict(
                f"{total} readings exceed the reading memory ({self.memory_size})")
        self.readings = []
        self.stale = True
        self.waiting_triggers = int(self.trigger_count)
        if self.trigger_source == "IMM":
            while self.waiting_triggers:
                self._fire()

    def trigger_external(self) -> bool:
        """A pulse on the rear Ext Trig input; True if it started a measurement."""
        with self.lock:
            if self.trigger_source != "EXT" or not self.waiting_triggers:
                return False
            self._fire()
            return True

    def _all_readings(self) -> list[float]:
        if self.waiting_triggers:
            raise ScpiError(-214, "Trigger deadlock")
        if self.stale:
            raise ScpiError(-230, "Data stale")
        return self.readings

    def _fetch_text(self) -> str:
        """FETCh?: every reading of the finished acquisition, comma-separated."""
        return ",".join(map(nr3, self._all_readings()))

    def _read_text(self) -> str:
        """READ?: INIT, then FETCh? (-214 if the triggers would have to come from outside)."""
        if self.trigger_source in ("BUS", "EXT"):
            raise ScpiError(-214, "Trigger deadlock")
        self._initiate()
        return self._fetch_text()
