"""`Call`: one parsed command as a handler receives it, with typed parameter accessors."""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence
from dataclasses import dataclass

from dotstack.mocks.scpi.errors import ScpiError
from dotstack.mocks.scpi.values import (
    match_choice,
    parse_bool,
    parse_channels,
    parse_number,
    unquote,
)

_MIN = ("MINimum",)
_MAX = ("MAXimum",)
_DEF = ("DEFault",)


@dataclass(frozen=True)
class Call:
    """One program message unit: the header as sent, its numeric suffixes and its parameters.

    ``args`` holds the parameters split at top-level commas, as text (whitespace stripped,
    quotes kept) or, for a binary block, as bytes.
    """

    header: str
    suffixes: tuple[builtins.int, ...] = ()
    args: tuple[str | bytes, ...] = ()

    @property
    def nargs(self) -> builtins.int:
        return len(self.args)

    @property
    def is_query(self) -> builtins.bool:
        return self.header.endswith("?")

    def require(self, n: builtins.int) -> None:
        """At least ``n`` parameters, else -109 Missing parameter."""
        if self.nargs < n:
            raise ScpiError.missing_parameter(f"{self.header} needs {n}, got {self.nargs}")

    def allow(self, n: builtins.int) -> None:
        """At most ``n`` parameters, else -108 Parameter not allowed."""
        if self.nargs > n:
            raise ScpiError.parameter_not_allowed(
                f"{self.header} takes at most {n}, got {self.nargs}"
            )

    def suffix(
        self, i: builtins.int = 0, *, min: builtins.int = 1, max: builtins.int | None = None
    ) -> builtins.int:
        """Numeric suffix ``i``, checked against [min, max] (-114 Header suffix out of range)."""
        value = self.suffixes[i]
        if value < min or (max is not None and value > max):
            raise ScpiError.suffix_out_of_range(f"{self.header}: {value} not in [{min}, {max}]")
        return value

    def text(self, i: builtins.int) -> str:
        """Parameter ``i`` as text (-109 if missing, -104 if it is a binary block)."""
        if i >= self.nargs:
            raise ScpiError.missing_parameter(f"{self.header}: parameter {i + 1}")
        arg = self.args[i]
        if isinstance(arg, bytes):
            raise ScpiError.data_type_error(f"{self.header}: parameter {i + 1} is a block")
        if not arg:
            raise ScpiError.missing_parameter(f"{self.header}: parameter {i + 1} is empty")
        return arg

    def string(self, i: builtins.int) -> str:
        """Parameter ``i`` as a quoted SCPI string, unquoted (-151 if not quoted)."""
        return unquote(self.text(i))

    def float(
        self,
        i: builtins.int,
        *,
        min: builtins.float | None = None,
        max: builtins.float | None = None,
        default: builtins.float | None = None,
        unit: str | None = None,
    ) -> builtins.float:
        """Parameter ``i`` as a number; MIN/MAX/DEF allowed when that bound or default is given.

        Suffix multipliers/units are applied (``100mV`` -> 0.1); ``unit`` restricts the unit.
        Out of [min, max] -> -222 Data out of range.
        """
        text = self.text(i)
        keyword = _keyword(text, min, max, default)
        if keyword is not None:
            return keyword
        value = parse_number(text, unit=unit)
        if value != value:  # NaN
            raise ScpiError.illegal_value(f"{self.header}: {text!r}")
        if (min is not None and value < min) or (max is not None and value > max):
            raise ScpiError.out_of_range(f"{self.header}: {text} not in [{min}, {max}]")
        return value

    def int(
        self,
        i: builtins.int,
        *,
        min: builtins.int | None = None,
        max: builtins.int | None = None,
        default: builtins.int | None = None,
    ) -> builtins.int:
        """Parameter ``i`` rounded to an integer (``#H1F`` accepted); bounds as in `float`."""
        text = self.text(i)
        keyword = _keyword(text, min, max, default)
        if keyword is not None:
            return int(keyword)
        number = parse_number(text)
        if not math.isfinite(number):
            raise ScpiError.illegal_value(f"{self.header}: {text!r}")
        value = round(number)
        if (min is not None and value < min) or (max is not None and value > max):
            raise ScpiError.out_of_range(f"{self.header}: {text} not in [{min}, {max}]")
        return value

    def choice(self, i: builtins.int, options: Sequence[str]) -> str:
        """The option (as written in ``options``) that parameter ``i`` names; else -224."""
        text = self.text(i)
        found = match_choice(text, options)
        if found is None:
            raise ScpiError.illegal_value(f"{self.header}: {text!r} not one of {list(options)}")
        return found

    def bool(self, i: builtins.int) -> builtins.bool:
        """ON/OFF/1/0 (-224 otherwise)."""
        return parse_bool(self.text(i))

    def block(self, i: builtins.int) -> bytes:
        """The binary-block parameter ``i`` (-104 if it is not a block)."""
        if i >= self.nargs:
            raise ScpiError.missing_parameter(f"{self.header}: parameter {i + 1}")
        arg = self.args[i]
        if not isinstance(arg, bytes):
            raise ScpiError.data_type_error(f"{self.header}: parameter {i + 1} is not a block")
        return arg

    def channels(self, i: builtins.int) -> list[builtins.int]:
        """Parameter ``i`` as a channel list ``(@1,2,5:7)`` -> [1, 2, 5, 6, 7]."""
        return parse_channels(self.text(i))

    def floats(self, i: builtins.int = 0) -> list[builtins.float]:
        """All parameters from ``i`` on as numbers."""
        return [self.float(k) for k in range(i, self.nargs)]


def _keyword(text: str, low: float | None, high: float | None, default: float | None) -> float | None:
    """The value MIN, MAX or DEF stands for, where that bound or default is given; else None."""
    for word, value in ((_MIN, low), (_MAX, high), (_DEF, default)):
        if value is not None and match_choice(text, word):
            return value
    return None
