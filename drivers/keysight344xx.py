"""DC readout through a Keysight 344xxA DMM behind a transimpedance amplifier.

`DmmReadout` lets the upstream QCoDeS driver (``qcodes.instrument_drivers.Keysight``
``Keysight34465A`` and its 344xxA siblings) fill the `Readout` role: it keeps the meter in DC
voltage, immediate triggering and one trigger per acquisition, and converts volts to the
amplifier's input current (``volts / gain``).  Settings are sent only when the driver's cached
value differs, so a point in a scan costs one ``READ?``.  An overload reading (+-9.9E+37) comes
back as +-inf, as the upstream driver returns it.

Every failure of a reading (timeout, closed connection, a reply that does not parse, settings
the meter no longer has, e.g. after a reset) raises `TransportError` naming the meter and the
command, as ``dmm: 'READ?' -> timeout after 1.13 s``.
"""

from __future__ import annotations

import ast
import functools
import math
import numbers
import re
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Literal, ParamSpec, TypeVar

import numpy as np
import pyvisa
from qcodes.instrument_drivers.Keysight import Keysight344xxA
from qcodes.parameters import Parameter

from dotstack.drivers.transport import TransportError, enable_nodelay, resource_closed

P = ParamSpec("P")
R = TypeVar("R")
_CONTEXT = re.compile(r"(?:asking|writing) (.+?) to <")

_TIMEOUT_MARGIN = 1.25  # acquisition time x margin + 1 s is the minimum VISA timeout used


class ArgumentError(ValueError):
    """A bad argument of a readout method: the caller's mistake, reported as it is (never
    as an instrument failure)."""


def _named(command: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Turn any failure of the wrapped readout method into `TransportError` naming the meter
    and the command (taken from QCoDeS' context when it gives one, else ``command``); bad
    arguments (`ArgumentError`) pass through unchanged."""

    def wrap(method: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(method)
        def named(*args: P.args, **kwargs: P.kwargs) -> R:
            readout: Any = args[0]
            try:
                if readout._reconnect:
                    readout.reopen()
                return method(*args, **kwargs)
            except KeyboardInterrupt:  # a reply may still be on its way: never read it later
                readout._reconnect = True
                raise
            except (TransportError, ArgumentError):
                raise
            except Exception as exc:
                failure = _failure(readout.dmm, exc, command)
                if failure.reason.startswith(("timeout", "connection closed")):
                    readout._reconnect = True  # the next call starts on a fresh session
                raise failure from exc

        return named

    return wrap


def _failure(dmm: Keysight344xxA, exc: Exception, command: str) -> TransportError:
    """What went wrong, as `TransportError` naming the meter and the command."""
    for arg in exc.args[1:]:
        m = _CONTEXT.match(arg) if isinstance(arg, str) else None
        if m is not None:
            try:
                command = str(ast.literal_eval(m.group(1)))
            except (ValueError, SyntaxError):
                command = m.group(1)
    handle = getattr(dmm, "visa_handle", None)
    if isinstance(exc, ConnectionError) or (handle is not None and resource_closed(handle)):
        reason = "connection closed by the instrument"
    elif isinstance(exc, pyvisa.errors.VisaIOError):
        if exc.error_code == pyvisa.constants.StatusCode.error_timeout:
            timeout = getattr(handle, "timeout", None)
            reason = "timeout" if timeout is None else f"timeout after {timeout / 1000:g} s"
        else:
            reason = f"I/O error {exc.abbreviation}"
    elif isinstance(exc, ValueError | IndexError):
        first = exc.args[0] if exc.args else ""
        reason = f"garbled reply ({str(first)[:80]})"
    else:
        reason = f"{type(exc).__name__}: {exc.args[0] if exc.args else ''}"
    return TransportError(dmm.name, command, reason)


def _count(n: object) -> bool:
    """Whether ``n`` is a whole number >= 1 (ints and integral numpy/float values; no bools)."""
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        return False
    x = float(n)
    return math.isfinite(x) and x.is_integer() and x >= 1


class DmmReadout:
    """Sensor current (A) read by a Keysight 344xxA DMM through an amplifier of ``gain`` V/A."""

    def __init__(self, dmm: Keysight344xxA, *, gain: float, unit: str = "A") -> None:
        if not (math.isfinite(gain) and gain > 0):
            raise ValueError(f"{dmm.name}: amplifier gain must be finite and > 0 V/A, got {gain}")
        self.dmm = dmm
        self.gain = float(gain)
        self.unit = unit
        #: set after a timeout, a dropped connection or an interrupted call: the next call
        #: reopens the VISA session first (a late reply must not answer the next query)
        self._reconnect = False

    def reopen(self) -> None:
        """Close the meter's VISA session and open a new one (same address, backend, timeout
        and terminations); `TransportError` if the meter cannot be reached."""
        dmm = self.dmm
        old = dmm.visa_handle
        timeout, read_term, write_term = old.timeout, old.read_termination, old.write_termination
        lib = str(old.visalib.library_path)
        visalib = f"@{lib}" if lib in ("py", "sim", "ivi") else lib
        try:
            dmm.set_address(old.resource_name, visalib)
        except Exception as exc:
            raise TransportError(dmm.name, "(reconnect)", f"reconnecting failed: {exc}") from exc
        new = dmm.visa_handle
        new.timeout, new.read_termination, new.write_termination = timeout, read_term, write_term
        enable_nodelay(new)
        self._reconnect = False

    # -- Readout role --------------------------------------------------------------------
    @_named("READ?")
    def read(self) -> float:
        """One reading of the amplifier's input current (A)."""
        return float(self._acquire(1, None)[0])

    @_named("READ?")
    def read_many(self, n: int, *, interval: float | None = None) -> np.ndarray:
        """``n`` readings (A) of one trigger, back to back or every ``interval`` seconds."""
        if not _count(n):
            raise ArgumentError(f"{self.dmm.name}: read_many needs an integer n >= 1, got {n!r}")
        if interval is not None and not (interval > 0 and math.isfinite(interval)):
            raise ArgumentError(f"{self.dmm.name}: interval must be > 0 s, got {interval}")
        return self._acquire(int(n), interval)

    # -- externally triggered readings (hardware-timed rasters) --------------------------
    @_named("INIT")
    def arm_external(self, n: int, *, delay: float = 0.0) -> None:
        """Wait for ``n`` pulses on the rear Ext Trig input, one reading each, ``delay`` s after
        its pulse; returns once the meter is armed (`fetch_armed` collects the readings)."""
        if not _count(n):
            raise ArgumentError(f"{self.dmm.name}: arm_external needs an integer n >= 1, got {n!r}")
        if not (math.isfinite(delay) and delay >= 0):
            raise ArgumentError(f"{self.dmm.name}: trigger delay must be >= 0 s, got {delay!r}")
        dmm = self.dmm
        _ensure(dmm.sense_function, "DC Voltage")
        _ensure(dmm.sample.count, 1)
        _ensure(dmm.trigger.source, "EXT")
        _ensure(dmm.trigger.count, int(n))
        _ensure(dmm.trigger.delay, float(delay))
        dmm.write("INIT")
        # a query answered in order: the meter has taken INIT and waits for triggers (not *OPC?,
        # which would wait for the acquisition to complete); and it still triggers externally
        source = dmm.ask("TRIG:SOUR?").strip().upper()
        if not source.startswith("EXT"):
            raise TransportError(dmm.name, "TRIG:SOUR?", f"trigger source is {source[:40]!r}, "
                                 "not EXT: the meter lost its settings (reset?)")
        self._armed = int(n)

    @_named("FETCH?")
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

    @_named("VOLT:DC:NPLC?;:TRIG:SOUR?")
    def check_settings(self) -> None:
        """Raise `TransportError` if the meter no longer has the integration time and trigger
        source this readout set (e.g. it was reset): its readings would not be what the run
        records."""
        dmm = self.dmm
        command = "VOLT:DC:NPLC?;:TRIG:SOUR?"
        nplc, source = dmm.ask(command).split(";")
        want_nplc, want_source = dmm.NPLC.cache.get(), dmm.trigger.source.cache.get()
        if want_nplc is not None and not math.isclose(float(nplc), float(want_nplc),
                                                      rel_tol=1e-6):
            raise TransportError(dmm.name, command, f"NPLC is {float(nplc):g}, not "
                                 f"{float(want_nplc):g}: the meter lost its settings (reset?)")
        if want_source is not None and source.strip().upper()[:3] != str(want_source).upper()[:3]:
            raise TransportError(dmm.name, command, f"trigger source is {source.strip()!r}, not "
                                 f"{want_source!r}: the meter lost its settings (reset?)")

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
