"""Parameter parsers of the QDAC-II mock: trigger sources, lower-case words, dwell, counts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from dotstack.mocks.instruments.qdac2.limits import (
    N_EXTERNAL_INPUTS,
    N_INTERNAL_TRIGGERS,
    RANGES,
)
from dotstack.mocks.scpi import Call, ScpiError
from dotstack.mocks.scpi.handlers import is_infinity, short_choice

_SOURCE = re.compile(r"^(HOLD|IMM|IMMEDIATE|BUS|INT(\d+)|EXT(\d+))$", re.IGNORECASE)


def trigger_source(text: str, *, outputs: bool = False) -> str:
    """Canonical lower-case trigger source (``hold``, ``imm``, ``bus``, ``int3``, ``ext1``)."""
    m = _SOURCE.match(text.strip())
    if m is None:
        raise ScpiError(-224, "Illegal parameter value", f"trigger source {text!r}")
    if m.group(2) is not None:
        if not 1 <= int(m.group(2)) <= N_INTERNAL_TRIGGERS:
            raise ScpiError(-222, "Data out of range", f"internal trigger {m.group(2)}")
        return f"int{int(m.group(2))}"
    if m.group(3) is not None:
        if not 1 <= int(m.group(3)) <= N_EXTERNAL_INPUTS:
            raise ScpiError(-222, "Data out of range", f"external input {m.group(3)}")
        return f"ext{int(m.group(3))}"
    word = m.group(1).lower()
    if outputs and word.startswith("imm"):
        raise ScpiError(-224, "Illegal parameter value", "an output trigger has no IMM source")
    return "imm" if word.startswith("imm") else word


def word(call: Call, i: int, options: Sequence[str]) -> str:
    """The option parameter ``i`` names, as the QDAC-II replies it: short form, lower case."""
    return short_choice(call, i, options).lower()


def dwell(call: Call) -> float:
    """A list or sweep dwell time (s)."""
    return call.float(0, min=1e-6, max=3600.0, unit="S")


def count(call: Call) -> int:
    """A repetition count; INF is -1 (forever)."""
    return -1 if is_infinity(call, 0) else call.int(0, min=-1, max=2**31 - 1)


def direction(call: Call) -> str:
    return word(call, 0, ("UP", "DOWN"))


def sweep_volts(call: Call) -> float:
    """A sweep end point (V), checked against the high range."""
    return call.float(0, min=-RANGES["high"], max=RANGES["high"], unit="V")
