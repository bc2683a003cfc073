"""Mock Keysight 34465A digital multimeter reading the charge sensor through a current amplifier.

The DMM's voltage input sits behind a transimpedance amplifier of ``gain`` V/A fed by the
sensor current, so a DC-voltage reading is ``gain * lab.sensor_current(T, t)`` plus the DMM's
own noise (rms = the manual's resolution figure for the integration time and range, scaled by
``own_noise``).  The other inputs are open: DC/AC current and AC voltage read noise around 0,
resistance reads overload (+9.9E+37).

Timing model (lab time, never real sleeps): the meter keeps its own timeline.  A trigger
(INIT with TRIG:SOUR IMM, ``*TRG`` with BUS, `trigger_external` with EXT) fires at
``max(lab.time(), end of the previous acquisition)``; after the trigger delay it takes
SAMP:COUN readings spaced by the sample interval (integration time, doubled by auto-zero, or
SAMP:TIM when SAMP:SOUR TIM), each the average over ``[t_k, t_k + T]`` with ``T`` = NPLC / line
frequency (or the aperture).  The readings are computed when the trigger fires, from the lab's
state at that moment, and the meter is then busy until the last one ends; so back-to-back
READ? calls never overlap in lab time, as on the real instrument, which would block meanwhile.
FETCh? of an acquisition still waiting for a trigger, and READ? with BUS/EXT triggering, give
-214 "Trigger deadlock" instead of hanging.  Trigger count INF and INT (level) triggering are
accepted as settings but INIT with them gives -221 (the eager timeline cannot stream).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.scpi import Call, ScpiError, ScpiModel, command, format_block

#: Integration times in power-line cycles and the resolution factor (x range) of each.
NPLCS = (0.001, 0.002, 0.006, 0.02, 0.06, 0.2, 1.0, 10.0, 100.0)
RES_FACTORS = (30e-6, 15e-6, 6e-6, 3e-6, 1.5e-6, 0.7e-6, 0.3e-6, 0.1e-6, 0.03e-6)

RANGES: dict[str, tuple[float, ...]] = {
    "VOLT": (0.1, 1.0, 10.0, 100.0, 1000.0),
    "VOLT:AC": (0.1, 1.0, 10.0, 100.0, 750.0),
    "CURR": (1e-6, 10e-6, 100e-6, 1e-3, 10e-3, 100e-3, 1.0, 3.0),
    "CURR:AC": (100e-6, 1e-3, 10e-3, 100e-3, 1.0, 3.0),
    "RES": (100.0, 1e3, 10e3, 100e3, 1e6, 10e6, 100e6, 1e9),
    "FRES": (100.0, 1e3, 10e3, 100e3, 1e6, 10e6, 100e6, 1e9),
}
DEFAULT_RANGE = {"VOLT": 10.0, "VOLT:AC": 10.0, "CURR": 1.0, "CURR:AC": 1.0, "RES": 1e3,
                 "FRES": 1e3}  # fmt: skip
UNITS = {"VOLT": "VDC", "VOLT:AC": "VAC", "CURR": "ADC", "CURR:AC": "AAC", "RES": "OHM",
         "FRES": "OHM"}  # fmt: skip
_FUNC_WORDS = {"VOLT": "VOLT", "VOLTAGE": "VOLT", "CURR": "CURR", "CURRENT": "CURR", "RES": "RES",
               "RESISTANCE": "RES", "FRES": "FRES", "FRESISTANCE": "FRES"}  # fmt: skip
F = TypeVar("F", bound=Callable[..., Any])
OVERLOAD = 9.9e37
AUTO_DELAY_DC = 1.5e-3  # s, automatic trigger delay for DC functions
AUTO_DELAY_AC = 0.5  # s, for AC functions (slow filter)
OVERRANGE = 1.2  # readings up to 120 % of range are valid
_DC = ("VOLT", "CURR", "RES", "FRES")

MAX_COUNT = 1_000_000_000
_SCALAR_MAX = 16  # up to this many samples per trigger, ask the lab point by point

# Header prefixes of the per-function settings (DC-like functions, then the AC ones).
_DC_SENSE = ("[SENSe:]VOLTage[:DC]", "[SENSe:]CURRent[:DC]", "[SENSe:]RESistance",
             "[SENSe:]FRESistance")  # fmt: skip
_ALL = (*_DC_SENSE, "[SENSe:]VOLTage:AC", "[SENSe:]CURRent:AC")
_CONF = tuple(p.replace("[SENSe:]", "CONFigure:") for p in _ALL)


def _each(suffix: str, prefixes: Sequence[str]) -> list[str]:
    return [p + suffix for p in prefixes]


def _both(suffix: str, prefixes: Sequence[str]) -> list[str]:
    """Setter and query patterns of ``suffix`` under every prefix."""
    return _each(suffix, prefixes) + _each(suffix + "?", prefixes)


def _commands(patterns: Sequence[str]) -> Callable[[F], F]:
    """Apply `command` for every pattern of ``patterns`` (one handler, several headers)."""

    def decorate(func: F) -> F:
        for pattern in patterns:
            func = command(pattern)(func)
        return func

    return decorate


def nr3(x: float) -> str:
    """A reading as the 34465A prints it: ``+1.23456789E-03``; overload +-9.9E+37."""
    if math.isnan(x):
        return "+9.91000000E+37"
    if abs(x) >= OVERLOAD:
        return "+9.90000000E+37" if x > 0 else "-9.90000000E+37"
    return f"{x:+.8E}"


def _nr1(n: int) -> str:
    return f"{n:+d}"


def _function_of(header: str, previous: str) -> str:
    """The measurement function a header addresses (``SENS:VOLT:AC:RANG`` -> ``VOLT:AC``).

    A relative header of a compound message (``SENS:VOLT:NPLC 1;RANG 10``) names no function:
    it continues the path of the previous unit, whose function is ``previous``.
    """
    parts = header.upper().rstrip("?").lstrip(":").split(":")
    while parts and parts[0] in ("SENS", "SENSE", "CONF", "CONFIGURE", "MEAS", "MEASURE"):
        parts.pop(0)
    base = _FUNC_WORDS.get(parts[0]) if parts else None
    if base is None:
        if header.startswith(":") or not previous:
            raise ScpiError.undefined_header(header)
        base = previous.split(":")[0]
        parts = [base, *parts]
    if base in ("VOLT", "CURR") and len(parts) > 1 and parts[1] == "AC":
        base += ":AC"
    return base


@dataclass
class FunctionSettings:
    """Per-function measurement settings (mutable instrument state)."""

    range: float
    autorange: bool = True
    nplc: float = 10.0
    aperture: float = 0.1
    aperture_enabled: bool = False
    autozero: bool = True


class Keysight34465AModel(ScpiModel):
    """SCPI model of a Keysight 34465A (firmware A.03) whose DC-volt input reads a TIA.

    ``options`` is what *OPT? and SYST:LIC:CAT? report (MEM sets the reading memory to 2 M
    readings, else 50 k); firmware A.03 has the digitizing features (NPLC down to 0.001,
    20 us aperture) either way, as the upstream driver assumes.  ``own_noise`` scales the
    meter's own noise (0: none); ``seed`` seeds it.  Without ``lab`` the model makes its own.
    """

    idn = ("Keysight Technologies", "34465A", "MY60000465", "A.03.01-03.15-03.01-00.52-04-03")

    def __init__(
        self,
        lab: VirtualLab | None = None,
        *,
        name: str = "dmm",
        gain: float = 1e8,
        options: Sequence[str] = ("DIG", "MEM"),
        line_frequency: float = 50.0,
        own_noise: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not gain > 0:
            raise ValueError(f"{name}: amplifier gain must be > 0 V/A, got {gain}")
        if line_frequency not in (50.0, 60.0):
            raise ValueError(f"{name}: line frequency must be 50 or 60 Hz, got {line_frequency}")
        self.lab = lab if lab is not None else VirtualLab()
        self.name = name
        self.gain = float(gain)
        self.installed_options = tuple(options)
        self.line_frequency = float(line_frequency)
        self.own_noise = float(own_noise)
        self._rng = np.random.default_rng(seed)
        self.memory_size = 2_000_000 if "MEM" in self.installed_options else 50_000
        # firmware A.03 ships the digitizing features whether or not DIG was bought
        self.nplcs = NPLCS
        self.res_factors = RES_FACTORS
        self.min_aperture = 20e-6
        self.busy_until = -math.inf  # lab time the last acquisition ends (kept across *RST)
        super().__init__()
        self.reset()

    # ---- state ---------------------------------------------------------------------------
    def reset(self) -> None:
        """*RST: the factory defaults of the manual."""
        super().reset()
        self.function = "VOLT"
        self._last_function = ""
        self.settings = {f: FunctionSettings(range=DEFAULT_RANGE[f]) for f in RANGES}
        self.trigger_source = "IMM"
        self.trigger_count: float = 1.0
        self.trigger_delay = AUTO_DELAY_DC
        self.trigger_delay_auto = True
        self.trigger_slope = "NEG"
        self.trigger_level = 0.0
        self.sample_count = 1
        self.pretrigger_count = 0
        self.sample_source = "IMM"
        self.sample_timer = 1.0
        self.display_on = True
        self.display_text = ""
        self.readings: list[float] = []
        self.waiting_triggers = 0  # triggers still expected by the running INIT
        self.stale = True  # no valid readings (-230 on FETCh?)

    def _function_of(self, call: Call) -> str:
        self._last_function = _function_of(call.header, self._last_function)
        return self._last_function

    @property
    def current(self) -> FunctionSettings:
        return self.settings[self.function]

    def integration_time(self, function: str | None = None) -> float:
        """Integration time (s) of ``function`` (default: the present one)."""
        s = self.settings[function or self.function]
        if (function or self.function) not in _DC:
            return 0.1
        return s.aperture if s.aperture_enabled else s.nplc / self.line_frequency

    def _res_factor(self, s: FunctionSettings) -> float:
        nplc = s.aperture * self.line_frequency if s.aperture_enabled else s.nplc
        k = max((i for i, p in enumerate(self.nplcs) if p <= nplc * (1 + 1e-9)), default=0)
        return self.res_factors[k]

    def sample_interval(self) -> float:
        """Spacing of the readings of one trigger in lab time (s)."""
        s = self.current
        back_to_back = self.integration_time() * (2 if s.autozero and self.function in _DC else 1)
        if self.sample_source == "TIM":
            return max(self.sample_timer, back_to_back)
        return back_to_back

    def _timer_minimum(self) -> float:
        s = self.current
        return math.ceil(self.integration_time() * (2 if s.autozero else 1) * 1e6 - 1e-6) / 1e6

    # ---- acquisition -----------------------------------------------------------------------
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
        values = np.where(np.abs(values) > OVERRANGE * used, np.copysign(OVERLOAD, values), values)
        self.readings.extend(values.tolist())
        self.busy_until = float(times[-1]) + dt
        self.stale = False

    def trigger_delay_now(self) -> float:
        if not self.trigger_delay_auto:
            return self.trigger_delay
        return AUTO_DELAY_DC if self.function in _DC else AUTO_DELAY_AC

    def _fire(self) -> None:
        self._measure(max(self.lab.time(), self.busy_until))
        self.waiting_triggers -= 1

    def _initiate(self) -> None:
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

    # ---- measurement commands ---------------------------------------------------------------
    @command("INITiate[:IMMediate]")
    def _init(self, call: Call) -> None:
        call.allow(0)
        self._initiate()

    @command("READ?")
    def _read(self, call: Call) -> str:
        call.allow(0)
        if self.trigger_source in ("BUS", "EXT"):
            raise ScpiError(-214, "Trigger deadlock")
        self._initiate()
        return ",".join(map(nr3, self._all_readings()))

    @command("FETCh?")
    def _fetch(self, call: Call) -> str:
        call.allow(0)
        return ",".join(map(nr3, self._all_readings()))

    @command("*TRG")
    def _trg(self, call: Call) -> None:
        if self.trigger_source != "BUS" or not self.waiting_triggers:
            raise ScpiError(-211, "Trigger ignored")
        self._fire()

    @command("ABORt")
    def _abort(self, call: Call) -> None:
        self.waiting_triggers = 0

    @command("DATA:POINts?")
    def _points(self, call: Call) -> str:
        return _nr1(len(self.readings))

    @_commands(["R?", "DATA:REMove?"])
    def _remove(self, call: Call) -> str | bytes:
        """R? [max]: up to max readings as a block; DATA:REMove? n: exactly n, as a list."""
        block = call.header.upper().lstrip(":") == "R?"
        if block and not call.nargs:
            n = len(self.readings)
        else:
            n = call.int(0, min=1, max=self.memory_size)
            if not block and n > len(self.readings):
                raise ScpiError.out_of_range(f"{n} readings requested, {len(self.readings)} held")
        taken, self.readings = self.readings[:n], self.readings[n:]
        text = ",".join(map(nr3, taken))
        return format_block(text.encode("ascii")) if block else text

    @command("DATA:LAST?")
    def _last(self, call: Call) -> str:
        value = self.readings[-1] if self.readings else math.nan
        return f"{nr3(value)} {UNITS[self.function]}"

    # ---- function and configuration ---------------------------------------------------------
    @_commands(["[SENSe:]FUNCtion[:ON]", "[SENSe:]FUNCtion[:ON]?"])
    def _function(self, call: Call) -> str | None:
        if call.is_query:
            return f'"{self.function}"'
        text = call.string(0).upper().replace("VOLTAGE", "VOLT").replace("CURRENT", "CURR")
        text = text.replace("RESISTANCE", "RES").removesuffix(":DC")
        if text not in RANGES:
            raise ScpiError.illegal_value(f"unknown function {call.args[0]!s}")
        self.function, self.stale = text, True
        return None

    @_commands(_each("", _CONF))
    def _configure(self, call: Call) -> None:
        function = self._function_of(call)
        s = self.settings[function]
        s.autorange = not call.nargs or str(call.args[0]).upper() == "AUTO"
        if not s.autorange:
            s.range = self._pick_range(function, call, 0)
        if call.nargs > 1 and function in _DC:
            self._apply_resolution(s, call, 1)
        self.function = function
        self.trigger_count, self.sample_count, self.trigger_source = 1.0, 1, "IMM"
        self.trigger_delay_auto, self.sample_source, self.stale = True, "IMM", True

    @command("CONFigure?")
    def _get_configure(self, call: Call) -> str:
        s = self.current
        return f'"{self.function} {nr3(s.range)},{nr3(self._res_factor(s) * s.range)}"'

    @_commands([c.replace("CONFigure", "MEASure") + "?" for c in _CONF])
    def _measure_query(self, call: Call) -> str:
        self._configure(Call(call.header.rstrip("?"), call.suffixes, call.args))
        return self._read(Call("READ?"))

    def _pick_range(self, function: str, call: Call, i: int) -> float:
        ranges = RANGES[function]
        value = abs(call.float(i, min=ranges[0], max=ranges[-1], default=DEFAULT_RANGE[function]))
        return next(r for r in ranges if value <= r * (1 + 1e-9))

    @_commands(_both(":RANGe", _ALL))
    def _range(self, call: Call) -> str | None:
        function = self._function_of(call)
        s = self.settings[function]
        if call.is_query:
            return nr3(self._pick_range(function, call, 0) if call.nargs else s.range)
        if call.text(0).upper() == "AUTO":
            s.autorange = True
        else:
            s.range, s.autorange, self.stale = self._pick_range(function, call, 0), False, True
        return None

    @_commands(_both(":RANGe:AUTO", _ALL))
    def _autorange(self, call: Call) -> str | None:
        function = self._function_of(call)
        s = self.settings[function]
        if call.is_query:
            return _bit(s.autorange)
        if call.text(0).upper() == "ONCE":
            t = np.array([max(self.lab.time(), self.busy_until)])
            s.range = _fit_range(function, float(self._input(function, t, 0.02)[0]))
            s.autorange = False
        else:
            s.autorange = call.bool(0)
        return None

    @_commands(_both(":NPLCycles", _DC_SENSE))
    def _nplc(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query and not call.nargs:
            return nr3(s.nplc)
        value = call.float(0, min=self.nplcs[0], max=self.nplcs[-1], default=10.0)
        nplc = next(p for p in self.nplcs if value <= p * (1 + 1e-9))  # rounds up, as the DMM
        if call.is_query:
            return nr3(nplc)
        s.nplc, s.aperture_enabled, self.stale = nplc, False, True
        return None

    @_commands(_both(":APERture", _DC_SENSE))
    def _aperture(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query and not call.nargs:
            return nr3(s.aperture)
        top = 100.0 / self.line_frequency
        value = call.float(0, min=self.min_aperture, max=top, default=0.1, unit="S")
        value = round(value / 2e-6) * 2e-6  # 2 us resolution
        if call.is_query:
            return nr3(value)
        s.aperture, s.aperture_enabled, self.stale = value, True, True
        return None

    @_commands(_both(":APERture:ENABled", _DC_SENSE))
    def _aperture_enabled(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query:
            return _bit(s.aperture_enabled)
        s.aperture_enabled = call.bool(0)
        return None

    @_commands(_both(":ZERO:AUTO", _DC_SENSE))
    def _autozero(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query:
            return _bit(s.autozero)
        s.autozero = False if call.text(0).upper() == "ONCE" else call.bool(0)
        return None

    @_commands(_both(":RESolution", _DC_SENSE))
    def _resolution(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query:
            return nr3(self._res_factor(s) * s.range)
        self._apply_resolution(s, call, 0)
        return None

    def _apply_resolution(self, s: FunctionSettings, call: Call, i: int) -> None:
        """Select the fastest NPLC whose resolution at the present range is <= argument ``i``."""
        options = [f * s.range for f in self.res_factors]
        value = call.float(i, min=options[-1], max=options[0], default=options[-2])
        s.nplc = next(p for p, r in zip(self.nplcs, options, strict=True)
                      if r <= value * (1 + 1e-6))  # fmt: skip
        s.aperture_enabled, self.stale = False, True

    # ---- trigger and sample ----------------------------------------------------------------
    @_commands(["TRIGger:SOURce", "TRIGger:SOURce?"])
    def _trigger_source(self, call: Call) -> str | None:
        if call.is_query:
            return self.trigger_source
        self.trigger_source = _short(call.choice(0, ("IMMediate", "EXTernal", "BUS", "INTernal")))
        return None

    @_commands(["TRIGger:COUNt", "TRIGger:COUNt?"])
    def _trigger_count(self, call: Call) -> str | None:
        if call.is_query and not call.nargs:
            return nr3(self.trigger_count)
        infinite = call.text(0).upper() in ("INF", "INFINITY")
        value = math.inf if infinite else float(call.int(0, min=1, max=MAX_COUNT, default=1))
        if call.is_query:
            return nr3(value)
        self.trigger_count = value
        return None

    @_commands(["TRIGger:DELay", "TRIGger:DELay?"])
    def _trigger_delay(self, call: Call) -> str | None:
        if call.is_query and not call.nargs:
            return nr3(self.trigger_delay_now())
        value = round(call.float(0, min=0.0, max=3600.0, default=0.0, unit="S"), 6)
        if call.is_query:
            return nr3(value)
        self.trigger_delay, self.trigger_delay_auto = value, False
        return None

    @_commands(["TRIGger:DELay:AUTO", "TRIGger:DELay:AUTO?"])
    def _trigger_delay_auto(self, call: Call) -> str | None:
        if call.is_query:
            return _bit(self.trigger_delay_auto)
        if not call.bool(0) and self.trigger_delay_auto:
            self.trigger_delay = self.trigger_delay_now()  # keeps the delay it was using
        self.trigger_delay_auto = call.bool(0)
        return None

    @_commands(["TRIGger:SLOPe", "TRIGger:SLOPe?"])
    def _slope(self, call: Call) -> str | None:
        if call.is_query:
            return self.trigger_slope
        self.trigger_slope = _short(call.choice(0, ("POSitive", "NEGative")))
        return None

    @_commands(["TRIGger:LEVel", "TRIGger:LEVel?"])
    def _level(self, call: Call) -> str | None:
        if call.is_query:
            return nr3(self.trigger_level)
        self.trigger_level = call.float(0, min=-1000.0, max=1000.0, default=0.0, unit="V")
        return None

    @_commands(["SAMPle:COUNt", "SAMPle:COUNt?"])
    def _sample_count(self, call: Call) -> str | None:
        if call.is_query and not call.nargs:
            return _nr1(self.sample_count)
        value = call.int(0, min=1, max=MAX_COUNT, default=1)
        if call.is_query:
            return _nr1(value)
        self.sample_count = value
        return None

    @_commands(["SAMPle:COUNt:PRETrigger", "SAMPle:COUNt:PRETrigger?"])
    def _pretrigger(self, call: Call) -> str | None:
        if call.is_query:
            return _nr1(self.pretrigger_count)
        self.pretrigger_count = call.int(0, min=0, max=self.memory_size - 1, default=0)
        return None

    @_commands(["SAMPle:SOURce", "SAMPle:SOURce?"])
    def _sample_source(self, call: Call) -> str | None:
        if call.is_query:
            return self.sample_source
        self.sample_source = _short(call.choice(0, ("IMMediate", "TIMer")))
        return None

    @_commands(["SAMPle:TIMer", "SAMPle:TIMer?"])
    def _sample_timer(self, call: Call) -> str | None:
        """MIN is the recommended minimum; below the integration time is -222; a timer below the
        minimum (e.g. after a longer NPLC) is stretched to it when measuring."""
        if call.is_query and not call.nargs:
            return nr3(self.sample_timer)
        if call.text(0).upper() in ("MIN", "MINIMUM"):
            value = self._timer_minimum()
        else:
            value = call.float(0, min=self.integration_time(), max=3600.0, default=1.0, unit="S")
        if call.is_query:
            return nr3(value)
        self.sample_timer = round(value, 6)
        return None

    # ---- display and system -----------------------------------------------------------------
    @_commands(["DISPlay[:STATe]", "DISPlay[:STATe]?"])
    def _display(self, call: Call) -> str | None:
        if call.is_query:
            return _bit(self.display_on)
        self.display_on = call.bool(0)
        return None

    @_commands(["DISPlay:TEXT[:DATA]", "DISPlay:TEXT[:DATA]?"])
    def _text(self, call: Call) -> str | None:
        if call.is_query:
            return '"' + self.display_text.replace('"', '""') + '"'
        text = call.string(0)
        if len(text) > 40:
            raise ScpiError.too_much_data(f"display text of {len(text)} characters (max 40)")
        self.display_text = text
        return None

    @command("DISPlay:TEXT:CLEar")
    def _clear_text(self, call: Call) -> None:
        self.display_text = ""

    @command("SYSTem:LFRequency?")
    def _get_lfr(self, call: Call) -> str:
        return _nr1(round(self.line_frequency))

    @command("*OPT?")
    def _get_options(self, call: Call) -> str:
        return ",".join(self.installed_options) or "0"

    @command("SYSTem:LICense:CATalog?")
    def _get_licenses(self, call: Call) -> str:
        return ",".join(f'"{o}"' for o in self.installed_options) or '""'


def _short(option: str) -> str:
    """The short form of a mnemonic in manual notation (``IMMediate`` -> ``IMM``)."""
    return "".join(c for c in option if c.isupper()) or option


def _bit(flag: bool) -> str:
    return "1" if flag else "0"


def _fit_range(function: str, value: float) -> float:
    """The smallest range of ``function`` that holds ``value`` (the largest if none does)."""
    ranges = RANGES[function]
    return next((r for r in ranges if abs(value) <= OVERRANGE * r), ranges[-1])
