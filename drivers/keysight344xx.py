"""DC readout through a Keysight 344xxA DMM behind a transimpedance amplifier.

`DmmReadout` lets the upstream QCoDeS driver (``qcodes.instrument_drivers.Keysight``
``Keysight34465A`` and its 344xxA siblings) fill the `Readout` role: it keeps the meter in DC
voltage, immediate triggering and one trigger per acquisition, and converts volts to the
amplifier's input current (``volts / gain``).  Settings are sent only when the driver's cached
value differs, so a point in a scan costs one ``READ?``.  An overload reading (+-9.9E+37) comes
back as +-inf, as the upstream driver returns it.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from typing import Any, Literal

import numpy as np
from qcodes.instrument_drivers.Keysight import Keysight344xxA
from qcodes.parameters import Parameter

_TIMEOUT_MARGIN = 1.25  # acquisition time x margin + 1 s is the minimum VISA timeout used


class DmmReadout:
    """Sensor current (A) read by a Keysight 344xxA DMM through an amplifier of ``gain`` V/A."""

    def __init__(self, dmm: Keysight344xxA, *, gain: float, unit: str = "A") -> None:
        if not (math.isfinite(gain) and gain > 0):
            raise ValueError(f"{dmm.name}: amplifier gain must be finite and > 0 V/A, got {gain}")
        self.dmm = dmm
        self.gain = float(gain)
        self.unit = unit

    # -- Readout role --------------------------------------------------------------------
    def read(self) -> float:
        """One reading of the amplifier's input current (A)."""
        return float(self._acquire(1, None)[0])

    def read_many(self, n: int, *, interval: float | None = None) -> np.ndarray:
        """``n`` readings (A) of one trigger, back to back or every ``interval`` seconds."""
        if n < 1:
            raise ValueError(f"{self.dmm.name}: read_many needs n >= 1, got {n}")
        if interval is not None and not interval > 0:
            raise ValueError(f"{self.dmm.name}: interval must be > 0 s, got {interval}")
        return self._acquire(int(n), interval)

    # -- externally triggered readings (hardware-timed rasters) --------------------------
    def arm_external(self, n: int, *, delay: float = 0.0) -> None:
        """Wait for ``n`` pulses on the rear Ext Trig input, one reading each, ``delay`` s after
        its pulse; returns once the meter is armed (`fetch_armed` collects the readings)."""
        if isinstance(n, bool) or int(n) != n or n < 1:
            raise ValueError(f"{self.dmm.name}: arm_external needs an integer n >= 1, got {n!r}")
        if not (math.isfinite(delay) and delay >= 0):
            raise ValueError(f"{self.dmm.name}: trigger delay must be >= 0 s, got {delay!r}")
        dmm = self.dmm
        _ensure(dmm.sense_function, "DC Voltage")
        _ensure(dmm.sample.count, 1)
        _ensure(dmm.trigger.source, "EXT")
        _ensure(dmm.trigger.count, int(n))
        _ensure(dmm.trigger.delay, float(delay))
        dmm.write("INIT")
        # a query answered in order: the meter has taken INIT and waits for triggers (not *OPC?,
        # which would wait for the acquisition to complete)
        dmm.ask("TRIG:SOUR?")
        self._armed = int(n)

    def fetch_armed(self, timeout: float) -> np.ndarray:
        """The readings (A) of the last `arm_external`, waiting up to ``timeout`` s for them."""
        n = getattr(self, "_armed", 0)
        if not n:
            raise RuntimeError(f"{self.dmm.name}: fetch_armed without arm_external")
        dmm = self.dmm
        with ExitStack() as stack:
            visa_timeout = dmm.timeout.get()
            if visa_timeout is not None and timeout > visa_timeout:
                stack.enter_context(dmm.timeout.set_to(timeout))
            volts = np.asarray(dmm.fetch(), dtype=float)
        self._armed = 0
        if volts.shape != (n,):
            raise RuntimeError(f"{dmm.name}: expected {n} triggered readings, got {volts.shape}")
        return volts / self.gain

    def sample_time(self) -> float:
        """Lab time one reading occupies the meter (s): integration, doubled by auto-zero."""
        return self.integration_time * (2 if self.dmm.autozero.cache.get() == "ON" else 1)

    # -- configuration -------------------------------------------------------------------
    def configure(
        self,
        *,
        nplc: float | None = None,
        range: float | Literal["auto"] | None = None,
        autozero: bool | None = None,
    ) -> None:
        """Integration time in power-line cycles, the expected largest current (A) or "auto".

        ``range`` (A) selects the smallest voltage range holding ``range * gain``.
        """
        dmm = self.dmm
        if nplc is not None:
            allowed = list(dmm.NPLC_list)
            match = [p for p in allowed if math.isclose(p, nplc, rel_tol=1e-9)]
            if not match:
                raise ValueError(f"{dmm.name}: NPLC {nplc} is not one of {allowed}")
            dmm.NPLC(match[0])
        if range == "auto":
            dmm.autorange("ON")
        elif range is not None:
            volts = abs(range) * self.gain
            fitting = [r for r in dmm.ranges if volts <= r * (1 + 1e-9)]
            if not fitting:
                raise ValueError(
                    f"{dmm.name}: {range} A x gain {self.gain} V/A = {volts} V exceeds the "
                    f"largest range {max(dmm.ranges)} V"
                )
            dmm.range(min(fitting))
        if autozero is not None:
            dmm.autozero("ON" if autozero else "OFF")

    @property
    def integration_time(self) -> float:
        """Integration time of one reading (s), from the driver's cached settings."""
        dmm = self.dmm
        aperture = getattr(dmm, "aperture_mode", None)
        if aperture is not None and aperture.cache.get() == "ON":
            return float(dmm.aperture_time.cache.get())
        return float(dmm.NPLC.cache.get()) / float(dmm.line_frequency.cache.get())

    # -- internals -----------------------------------------------------------------------
    def _acquire(self, n: int, interval: float | None) -> np.ndarray:
        dmm = self.dmm
        _ensure(dmm.sense_function, "DC Voltage")
        _ensure(dmm.trigger.source, "IMM")
        _ensure(dmm.trigger.count, 1)
        _ensure(dmm.sample.count, n)
        step = self.sample_time()
        if hasattr(dmm.sample, "source"):
            _ensure(dmm.sample.source, "IMM" if interval is None else "TIM")
        elif interval is not None:
            raise ValueError(f"{dmm.name}: model {dmm.model} has no timed sampling")
        if interval is not None:
            _ensure(dmm.sample.timer, interval)
            step = max(step, interval)
        expected = n * step + 0.1
        with ExitStack() as stack:
            timeout = dmm.timeout.get()
            if timeout is not None and expected * _TIMEOUT_MARGIN + 1 > timeout:
                stack.enter_context(dmm.timeout.set_to(expected * _TIMEOUT_MARGIN + 1))
            volts = dmm.read()  # READ? = INIT + FETCh?: one round trip
        if volts.shape != (n,):
            raise RuntimeError(f"{dmm.name}: expected {n} readings, got {volts.shape[0]}")
        return volts / self.gain


def _ensure(param: Parameter, value: Any) -> None:
    """Set ``param`` unless the driver's cache already holds ``value``."""
    cached = param.cache.get()
    if isinstance(value, float | int) and isinstance(cached, float | int):
        if math.isclose(float(cached), float(value), rel_tol=1e-9):
            return
    elif cached == value:
        return
    param.set(value)
