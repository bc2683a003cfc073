"""SCPI commands of the QDAC-II waveform generators: [SOURce#]:SINE|TRIangle|SQUare|AWG:...

Per generator (``SIN`` is accepted for ``SINE``, as the upstream driver sends it): FREQuency
and PERiod (sine, triangle, square), POLarity NORM|INV, [VOLTage:]SPAN and [VOLTage:]OFFSet (V),
SLEW (V/s or INF; stored, not applied to the shape), DELay (s), COUNt (periods, -1 or INF:
forever), DCYCle (% high for the square, % rising for the triangle), TYPe SYMM|POS|NEG
(square), DEFine "trace" and SCALe (AWG), TRIGger[:SEQuence]:SOURce, INITiate[:IMMediate],
INITiate:CONTinuous, ABORt, MARKer:STARt|END|PSTart|PEND (internal trigger 0..14) and NCLeft?.
Replies are lower-case short forms and NR3 numbers, as for the DC generator.  See `wavegen`
for how they play and `shapes` for their definitions.

The handlers are generated per generator (`_handlers`) so that each knows its generator even
when the header arrives relative to an earlier one (``SOUR1:SQU:SPAN 1;OFFS 0``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from dotstack.mocks.instruments.qdac2.limits import (
    MAX_SLEW,
    MAX_WAVE_PERIOD,
    MIN_SLEW,
    MIN_WAVE_PERIOD,
    N_INTERNAL_TRIGGERS,
    RANGES,
)
from dotstack.mocks.instruments.qdac2.state import Wave
from dotstack.mocks.instruments.qdac2.values import count, trigger_source, word
from dotstack.mocks.instruments.qdac2.wavegen import WaveEngine
from dotstack.mocks.scpi import Call, command, format_float
from dotstack.mocks.scpi.handlers import format_bool, is_infinity
from dotstack.mocks.scpi.values import unquote

Parse = Callable[["WaveformCommands", Call, Wave], Any]
Show = Callable[[Wave], str]

_MNEMONICS = {"sine": "SINe", "tri": "TRIangle", "squ": "SQUare", "awg": "AWG"}
_MARKERS = {"start": "STARt", "end": "END", "pstart": "PSTart", "pend": "PENd"}


def _limit(self: WaveformCommands, call: Call) -> float:
    return RANGES[self._chan(call).range]


def _period(self: WaveformCommands, call: Call, w: Wave) -> float:
    return call.float(0, min=MIN_WAVE_PERIOD, max=MAX_WAVE_PERIOD, unit="S")


def _frequency(self: WaveformCommands, call: Call, w: Wave) -> float:
    return 1.0 / call.float(0, min=1.0 / MAX_WAVE_PERIOD, max=1.0 / MIN_WAVE_PERIOD, unit="HZ")


def _span(self: WaveformCommands, call: Call, w: Wave) -> float:
    return call.float(0, min=0.0, max=2 * _limit(self, call), unit="V")


def _offset(self: WaveformCommands, call: Call, w: Wave) -> float:
    lim = _limit(self, call)
    return call.float(0, min=-lim, max=lim, unit="V")


def _slew(self: WaveformCommands, call: Call, w: Wave) -> float:
    return math.inf if is_infinity(call, 0) else call.float(0, min=MIN_SLEW, max=MAX_SLEW)


def _trace_name(self: WaveformCommands, call: Call, w: Wave) -> str:
    text = call.text(0)
    return unquote(text) if text[:1] in "\"'" else text


#: node -> (Wave attribute, parser, reply formatter, generators that have it)
_SETTINGS: dict[str, tuple[str, Parse, Show, tuple[str, ...]]] = {
    ":FREQuency": ("period", _frequency, lambda w: format_float(1.0 / w.period),
                  ("sine", "tri", "squ")),
    ":PERiod": ("period", _period, lambda w: format_float(w.period), ("sine", "tri", "squ")),
    ":POLarity": ("polarity", lambda s, c, w: word(c, 0, ("NORMal", "INVerted")),
                 lambda w: w.polarity, ("sine", "tri", "squ")),
    "[:VOLTage]:SPAN": ("span", _span, lambda w: format_float(w.span), ("sine", "tri", "squ")),
    "[:VOLTage]:OFFSet": ("offset", _offset, lambda w: format_float(w.offset),
                         ("sine", "tri", "squ", "awg")),
    ":SLEW": ("slew", _slew, lambda w: format_float(w.slew), ("sine", "tri", "squ", "awg")),
    ":DELay": ("delay", lambda s, c, w: c.float(0, min=0.0, max=3600.0, unit="S"),
              lambda w: format_float(w.delay), ("sine", "tri", "squ", "awg")),
    ":COUNt": ("count", lambda s, c, w: count(c), lambda w: str(w.count),
              ("sine", "tri", "squ", "awg")),
    ":DCYCle": ("dcycle", lambda s, c, w: c.float(0, min=0.0, max=100.0),
               lambda w: format_float(w.dcycle), ("tri", "squ")),
    ":TYPe": ("type", lambda s, c, w: word(c, 0, ("SYMMetric", "POSitive", "NEGative")),
             lambda w: w.type, ("squ",)),
    ":DEFine": ("trace", _trace_name, lambda w: f'"{w.trace}"', ("awg",)),
    ":SCALe": ("scale", lambda s, c, w: c.float(0, min=-1e6, max=1e6),
              lambda w: format_float(w.scale), ("awg",)),
}


def _handlers(kind: str) -> dict[str, Any]:
    """Every handler of generator ``kind``, under method names unique to it."""
    base = f"[SOURce#]:{_MNEMONICS[kind]}"
    out: dict[str, Any] = {}

    def wave(self: WaveformCommands, call: Call) -> Wave:
        return self._chan(call).waves[kind]

    for node, (attr, parse, show, kinds) in _SETTINGS.items():
        if kind not in kinds:
            continue
        name = attr if node != ":FREQuency" else "frequency"

        def setter(self: WaveformCommands, call: Call,
                   attr: str = attr, parse: Parse = parse) -> None:
            w = wave(self, call)
            setattr(w, attr, parse(self, call, w))

        def query(self: WaveformCommands, call: Call, show: Show = show) -> str:
            return show(wave(self, call))

        out[f"_{kind}_{name}"] = command(base + node)(setter)
        out[f"_{kind}_{name}_q"] = command(base + node + "?")(query)

    def source(self: WaveformCommands, call: Call) -> None:
        wave(self, call).source = trigger_source(call.text(0))

    def source_q(self: WaveformCommands, call: Call) -> str:
        return wave(self, call).source

    def init(self: WaveformCommands, call: Call) -> None:
        self._wave_initiate(self._chan(call), wave(self, call), self.now())

    def cont(self: WaveformCommands, call: Call) -> None:
        w = wave(self, call)
        w.continuous = call.bool(0)
        if w.continuous and not w.running:
            self._wave_initiate(self._chan(call), w, self.now())

    def cont_q(self: WaveformCommands, call: Call) -> str:
        return format_bool(wave(self, call).continuous)

    def abort(self: WaveformCommands, call: Call) -> None:
        self._wave_abort(self._chan(call), wave(self, call), self.now())

    def ncl_q(self: WaveformCommands, call: Call) -> str:
        return str(self._wave_cycles_left(wave(self, call), self.now()))

    out[f"_{kind}_source"] = command(f"{base}:TRIGger[:SEQuence]:SOURce")(source)
    out[f"_{kind}_source_q"] = command(f"{base}:TRIGger[:SEQuence]:SOURce?")(source_q)
    out[f"_{kind}_init"] = command(f"{base}:INITiate[:IMMediate]")(init)
    out[f"_{kind}_cont"] = command(f"{base}:INITiate:CONTinuous")(cont)
    out[f"_{kind}_cont_q"] = command(f"{base}:INITiate:CONTinuous?")(cont_q)
    out[f"_{kind}_abort"] = command(f"{base}:ABORt")(abort)
    out[f"_{kind}_ncl_q"] = command(f"{base}:NCLeft?")(ncl_q)

    for key, node in _MARKERS.items():

        def marker(self: WaveformCommands, call: Call, key: str = key) -> None:
            c = self._chan(call)
            w = c.waves[kind]
            w.markers[key] = call.int(0, min=0, max=N_INTERNAL_TRIGGERS)
            self._wave_markers_changed(c, w)

        def marker_q(self: WaveformCommands, call: Call, key: str = key) -> str:
            return str(wave(self, call).markers[key])

        out[f"_{kind}_mark_{key}"] = command(f"{base}:MARKer:{node}")(marker)
        out[f"_{kind}_mark_{key}_q"] = command(f"{base}:MARKer:{node}?")(marker_q)
    return out


class WaveformCommands(WaveEngine):
    """[SOURce#]:SINE|TRIangle|SQUare|AWG:... (settings, triggering, markers, NCLeft?)."""

    # generated handlers, one set per generator (the router collects them from the class dict)
    locals().update(_handlers("sine"))
    locals().update(_handlers("tri"))
    locals().update(_handlers("squ"))
    locals().update(_handlers("awg"))
