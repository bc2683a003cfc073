"""Function and configuration commands of the 34465A mock: FUNCtion, CONFigure, MEASure?,
and the per-function range, integration time, auto-zero and resolution settings."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dotstack.mocks.instruments.keysight34465a.acquisition import DmmAcquisition
from dotstack.mocks.instruments.keysight34465a.functions import (
    DC,
    DEFAULT_RANGE,
    RANGES,
    FunctionSettings,
    fit_range,
    nr3,
)
from dotstack.mocks.scpi import Call, ScpiError, command
from dotstack.mocks.scpi.handlers import commands, format_bool

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


class SenseCommands(DmmAcquisition):
    """Measurement function selection and its settings."""

    @commands(["[SENSe:]FUNCtion[:ON]", "[SENSe:]FUNCtion[:ON]?"])
    def _function(self, call: Call) -> str | None:
        if call.is_query:
            return f'"{self.function}"'
        text = call.string(0).upper().replace("VOLTAGE", "VOLT").replace("CURRENT", "CURR")
        text = text.replace("RESISTANCE", "RES").removesuffix(":DC")
        if text not in RANGES:
            raise ScpiError.illegal_value(f"unknown function {call.args[0]!s}")
        self.function, self.stale = text, True
        return None

    @commands(_each("", _CONF))
    def _configure(self, call: Call) -> None:
        function = self._function_of(call)
        s = self.settings[function]
        s.autorange = not call.nargs or str(call.args[0]).upper() == "AUTO"
        if not s.autorange:
            s.range = self._pick_range(function, call, 0)
        if call.nargs > 1 and function in DC:
            self._apply_resolution(s, call, 1)
        self.function = function
        self.trigger_count, self.sample_count, self.trigger_source = 1.0, 1, "IMM"
        self.trigger_delay_auto, self.sample_source, self.stale = True, "IMM", True

    @command("CONFigure?")
    def _get_configure(self, call: Call) -> str:
        s = self.current
        return f'"{self.function} {nr3(s.range)},{nr3(self._res_factor(s) * s.range)}"'

    @commands(c.replace("CONFigure", "MEASure") + "?" for c in _CONF)
    def _measure_query(self, call: Call) -> str | None:
        self._configure(Call(call.header.rstrip("?"), call.suffixes, call.args))
        return self._read_text()

    def _pick_range(self, function: str, call: Call, i: int) -> float:
        ranges = RANGES[function]
        value = abs(call.float(i, min=ranges[0], max=ranges[-1], default=DEFAULT_RANGE[function]))
        return next(r for r in ranges if value <= r * (1 + 1e-9))

    @commands(_both(":RANGe", _ALL))
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

    @commands(_both(":RANGe:AUTO", _ALL))
    def _autorange(self, call: Call) -> str | None:
        function = self._function_of(call)
        s = self.settings[function]
        if call.is_query:
            return format_bool(s.autorange)
        if call.text(0).upper() == "ONCE":
            t = np.array([self.next_start()])
            s.range = fit_range(function, float(self._input(function, t, 0.02)[0]))
            s.autorange = False
        else:
            s.autorange = call.bool(0)
        return None

    @commands(_both(":NPLCycles", _DC_SENSE))
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

    @commands(_both(":APERture", _DC_SENSE))
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

    @commands(_both(":APERture:ENABled", _DC_SENSE))
    def _aperture_enabled(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query:
            return format_bool(s.aperture_enabled)
        s.aperture_enabled = call.bool(0)
        return None

    @commands(_both(":ZERO:AUTO", _DC_SENSE))
    def _autozero(self, call: Call) -> str | None:
        s = self.settings[self._function_of(call)]
        if call.is_query:
            return format_bool(s.autozero)
        s.autozero = False if call.text(0).upper() == "ONCE" else call.bool(0)
        return None

    @commands(_both(":RESolution", _DC_SENSE))
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
