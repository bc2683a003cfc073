"""Measurement functions of the 34465A: ranges, integration times, per-function settings.

Also the meter's number formats (`nr3`, `nr1`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dotstack.mocks.scpi import ScpiError, format_float
from dotstack.mocks.scpi.handlers import header_nodes
from dotstack.mocks.scpi.values import SCPI_INF

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
#: Header nodes before the function name (``SENS:VOLT:RANG``, ``CONF:VOLT``, ``MEAS:VOLT?``).
_LEADING = ("SENS", "SENSE", "CONF", "CONFIGURE", "MEAS", "MEASURE")
AUTO_DELAY_DC = 1.5e-3  # s, automatic trigger delay for DC functions
AUTO_DELAY_AC = 0.5  # s, for AC functions (slow filter)
OVERRANGE = 1.2  # readings up to 120 % of range are valid
DC = ("VOLT", "CURR", "RES", "FRES")
MAX_COUNT = 1_000_000_000


@dataclass
class FunctionSettings:
    """Per-function measurement settings (mutable instrument state)."""

    range: float
    autorange: bool = True
    nplc: float = 10.0
    aperture: float = 0.1
    aperture_enabled: bool = False
    autozero: bool = True


def function_of(header: str, previous: str) -> str:
    """The measurement function a header addresses (``SENS:VOLT:AC:RANG`` -> ``VOLT:AC``).

    A relative header of a compound message (``SENS:VOLT:NPLC 1;RANG 10``) names no function:
    it continues the path of the previous unit, whose function is ``previous``.
    """
    parts = header_nodes(header)
    while parts and parts[0] in _LEADING:
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


def fit_range(function: str, value: float) -> float:
    """The smallest range of ``function`` that holds ``value`` (the largest if none does)."""
    ranges = RANGES[function]
    return next((r for r in ranges if abs(value) <= OVERRANGE * r), ranges[-1])


def nr3(x: float) -> str:
    """A reading as the 34465A prints it: ``+1.23456789E-03``; overload +-9.9E+37, NaN 9.91E+37."""
    return format_float(math.copysign(math.inf, x) if abs(x) >= SCPI_INF else x)


def nr1(n: int) -> str:
    """An integer reply with its sign: ``+5``."""
    return f"{n:+d}"
