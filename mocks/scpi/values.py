"""SCPI parameter values: numbers with suffix units, booleans, mnemonics, channel lists, blocks."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from dotstack.mocks.scpi.errors import ScpiError

_NUMBER = re.compile(
    r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:\s*E\s*[+-]?\d+)?)\s*([A-Z%]*)\s*", re.IGNORECASE
)
_NONDECIMAL = re.compile(r"\s*#([HQB])([0-9A-F]+)\s*", re.IGNORECASE)
_BASES = {"H": 16, "Q": 8, "B": 2}

#: SCPI suffix multipliers (SCPI-99 7.7.3; note M = milli, MA = mega).
_MULTIPLIERS = {
    "EX": 1e18, "PE": 1e15, "T": 1e12, "G": 1e9, "MA": 1e6, "K": 1e3,
    "M": 1e-3, "U": 1e-6, "N": 1e-9, "P": 1e-12, "F": 1e-15, "A": 1e-18,
}  # fmt: skip
#: Units accepted after a number (longest first so "MV" is milli-volt).
_UNITS = ("OHM", "DBM", "PCT", "HZ", "DB", "V", "A", "S", "W", "%")
#: Exceptions to the prefix rule: MHZ is megahertz and MOHM megaohm.
_SPECIAL = {"MHZ": ("HZ", 1e6), "MOHM": ("OHM", 1e6)}

#: SCPI reply for "not a number" and for infinity.
SCPI_NAN = 9.91e37
SCPI_INF = 9.9e37


def _suffix_scale(suffix: str, unit: str | None, text: str) -> float:
    suffix = suffix.upper()
    if not suffix:
        return 1.0
    if suffix in _SPECIAL:
        base, scale = _SPECIAL[suffix]
    else:
        for base in _UNITS:
            if suffix.endswith(base) and suffix[: -len(base)] in ("", *_MULTIPLIERS):
                prefix = suffix[: -len(base)]
                scale = _MULTIPLIERS[prefix] if prefix else 1.0
                break
        else:
            if suffix in _MULTIPLIERS:
                return _MULTIPLIERS[suffix]
            raise ScpiError.invalid_suffix(f"{text!r}")
    if unit is not None and base != unit.upper():
        raise ScpiError.invalid_suffix(f"{text!r}: expected unit {unit}")
    return scale


def parse_number(text: str, *, unit: str | None = None) -> float:
    """Parse an SCPI decimal number with an optional suffix (``100 mV``, ``1e-3``, ``#H1F``).

    Raises ScpiError -109 if empty, -131 for an unknown suffix, -104/-120 if not a number.
    """
    if not text.strip():
        raise ScpiError.missing_parameter()
    m = _NUMBER.fullmatch(text)
    if m is None:
        nd = _NONDECIMAL.fullmatch(text)
        if nd is not None:
            try:
                return float(int(nd.group(2), _BASES[nd.group(1).upper()]))
            except ValueError:
                raise ScpiError.numeric_data_error(f"{text.strip()!r}") from None
        if text.strip()[:1] in "+-.0123456789":
            raise ScpiError.numeric_data_error(f"{text.strip()!r}")
        raise ScpiError.data_type_error(f"{text.strip()!r} is not a number")
    value = float(m.group(1).replace(" ", ""))
    return value * _suffix_scale(m.group(2), unit, text.strip())


def is_mnemonic(text: str, mnemonic: str) -> bool:
    """True if ``text`` is the long or the short form of ``mnemonic`` (case-insensitive).

    ``mnemonic`` is in manual notation: the short form is its upper-case letters and digits.
    """
    upper = text.strip().upper()
    short = "".join(c for c in mnemonic if c.isupper() or c.isdigit()) or mnemonic.upper()
    return upper in (mnemonic.upper(), short.upper())


def match_choice(text: str, options: Sequence[str]) -> str | None:
    """The option of ``options`` that ``text`` names (long or short form), or None."""
    for option in options:
        if is_mnemonic(text, option):
            return option
    return None


def parse_bool(text: str) -> bool:
    """ON/OFF or a number (non-zero after rounding is true)."""
    upper = text.strip().upper()
    if upper == "ON":
        return True
    if upper == "OFF":
        return False
    if not upper:
        raise ScpiError.missing_parameter()
    try:
        return round(parse_number(text)) != 0
    except ScpiError:
        raise ScpiError.illegal_value(f"{text.strip()!r} is not ON, OFF, 1 or 0") from None


def parse_channels(text: str) -> list[int]:
    """Expand a channel list ``(@1,3:5)`` to ``[1, 3, 4, 5]`` (a range may run downwards)."""
    s = text.strip()
    if not s:
        raise ScpiError.missing_parameter()
    if not (s.startswith("(@") and s.endswith(")")):
        raise ScpiError.data_type_error(f"{s!r} is not a channel list (@...)")
    out: list[int] = []
    for item in s[2:-1].split(","):
        lo, sep, hi = item.partition(":")
        try:
            a = int(lo.strip())
            b = int(hi.strip()) if sep else a
        except ValueError:
            raise ScpiError.data_type_error(f"bad channel list entry {item.strip()!r}") from None
        step = 1 if b >= a else -1
        out.extend(range(a, b + step, step))
    return out


def format_float(x: float) -> str:
    """SCPI NR3 reply with 9 significant digits, e.g. ``+1.00000000E-01``; NaN as 9.91E+37."""
    if math.isnan(x):
        return "+9.91000000E+37"
    if math.isinf(x):
        return f"{'+' if x > 0 else '-'}9.90000000E+37"
    return f"{x:+.8E}"


def unquote(text: str) -> str:
    """The content of an SCPI string ``"..."`` or ``'...'`` (doubled quotes unescaped)."""
    s = text.strip()
    if len(s) >= 2 and s[0] in "\"'" and s[-1] == s[0]:
        q = s[0]
        return s[1:-1].replace(q + q, q)
    raise ScpiError.invalid_string(f"{s!r} is not a quoted string")
