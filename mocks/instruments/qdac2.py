"""Mock QDevil QDAC-II: 24 DC channels with slew, range, filter, DC list/sweep generators, triggers.

The command set is the one the QDAC-II manual documents and the qcodes_contrib_drivers
``QDevil.QDAC2`` driver sends (lower-case short forms in replies, as that driver's tests show).
Every change of a channel's output is reported to the `VirtualLab` with
``lab.set_output(name, channel, volts, slew=...)``.

Timing: the model is software-timed in lab time.  A fixed-mode change slews at the programmed
rate (the lab is told the rate, so it sees the ramp exactly).  A running list/sweep generator
is evaluated from ``lab.time()``, its start time and its dwell: the model catches up (and tells
the lab the present point) whenever it handles a message or `sync` is called; an analog sweep
is handed to the lab as a ramp, and a list in ``TMODe STEP`` advances on each trigger event, so
those two are exact.  Markers: start/end markers and, for stepped lists, step markers fire
internal triggers when the event is processed; step markers of auto-timed generators do not.
"""

from __future__ import annotations

import math
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dotstack.mocks.scpi import Call, ScpiError, ScpiModel, command, format_float

if TYPE_CHECKING:
    from dotstack.mocks.physics import VirtualLab

N_INTERNAL_TRIGGERS = 14
N_EXTERNAL_INPUTS = 4
N_EXTERNAL_OUTPUTS = 5
RANGES = {"low": 2.0, "high": 10.0}  # V, symmetric
MAX_SLEW = 2e7  # V/s
MIN_SLEW = 0.01
MAX_LIST_POINTS = 65536
LEAKAGE_OHM = 1e11  # per-channel leakage seen by the current sensor

_SOURCE = re.compile(r"^(HOLD|IMM|IMMEDIATE|BUS|INT(\d+)|EXT(\d+))$", re.IGNORECASE)


def _trigger_source(text: str, *, outputs: bool = False) -> str:
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


@dataclass
class _Sense:
    range: str = "high"
    aperture: float = 0.02
    nplc: int = 1
    delay: float = 0.0
    count: int = 1
    source: str = "imm"
    continuous: bool = False
    armed: bool = False
    data: list[float] = field(default_factory=list)


@dataclass
class _Channel:
    """State of one output.  The present output is a ramp: v0 at t0 moving to v1 at ``rate``."""

    n: int
    level: float = 0.0
    triggered: float | None = None
    slew: float = math.inf
    mode: str = "fix"
    range: str = "high"
    filter: str = "high"
    t0: float = 0.0
    v0: float = 0.0
    v1: float = 0.0
    rate: float = math.inf
    # DC generator
    source: str = "imm"
    continuous: bool = False
    armed: bool = False
    running: bool = False
    delay: float = 0.0
    markers: dict[str, int] = field(
        default_factory=lambda: {"start": 0, "end": 0, "sst": 0, "send": 0}
    )
    t_start: float = 0.0
    step: int = -1  # index of the point output now (in the cycle)
    cycle: int = 0
    list_v: list[float] = field(default_factory=lambda: [0.0])
    list_dwell: float = 1e-3
    list_dir: str = "up"
    list_count: int = 1
    list_tmode: str = "auto"
    swe_start: float = 0.0
    swe_stop: float = 0.0
    swe_points: int = 2
    swe_dwell: float = 1e-3
    swe_dir: str = "up"
    swe_count: int = 1
    swe_gen: str = "step"
    sense: _Sense = field(default_factory=_Sense)

    def output(self, t: float) -> float:
        if self.rate == math.inf or t <= self.t0:
            return self.v1 if self.rate == math.inf or t > self.t0 else self.v0
        span = self.v1 - self.v0
        moved = self.rate * (t - self.t0)
        return self.v1 if moved >= abs(span) else self.v0 + math.copysign(moved, span)

    def values(self) -> list[float]:
        if self.mode == "list":
            vals = list(self.list_v)
            return vals[::-1] if self.list_dir == "down" else vals
        n = self.swe_points
        a, b = self.swe_start, self.swe_stop
        vals = [a + (b - a) * i / (n - 1) for i in range(n)] if n > 1 else [a]
        return vals[::-1] if self.swe_dir == "down" else vals

    @property
    def dwell(self) -> float:
        return self.list_dwell if self.mode == "list" else self.swe_dwell

    @property
    def count(self) -> int:
        return self.list_count if self.mode == "list" else self.swe_count

    @property
    def stepped(self) -> bool:
        return self.mode == "list" and self.list_tmode == "step"

    @property
    def analog(self) -> bool:
        return self.mode == "swe" and self.swe_gen == "anal"


def _dwell(call: Call) -> float:
    return call.float(0, min=1e-6, max=3600.0, unit="S")


def _count(call: Call) -> int:
    text = call.text(0).strip().upper()
    return -1 if text in ("INF", "INFINITY") else call.int(0, min=-1, max=2**31 - 1)


def _direction(call: Call) -> str:
    return call.choice(0, ("UP", "DOWN")).lower()


def _sweep_volts(call: Call) -> float:
    return call.float(0, min=-RANGES["high"], max=RANGES["high"], unit="V")


def _setting(pattern: str, attr: str, parse: Callable[[Call], Any]) -> tuple[Any, Any]:
    """A (setter, query) handler pair storing ``attr`` of the addressed channel."""

    @command(pattern)
    def setter(self: QDac2Model, call: Call) -> None:
        self._set(call, attr, parse)

    @command(pattern + "?")
    def query(self: QDac2Model, call: Call) -> str:
        return self._get(call, attr)

    return setter, query


@dataclass
class _OutputTrigger:
    source: str = "hold"
    width: float = 1e-6
    polarity: str = "norm"
    delay: float = 0.0
    pulses: list[float] = field(default_factory=list)  # lab times of emitted pulses


class QDac2Model(ScpiModel):
    """SCPI model of a QDevil QDAC-II; ``lab=None`` keeps state only (own monotonic clock)."""

    idn = ("QDevil", "QDAC-II", "00042", "13-1.57")

    def __init__(
        self, lab: VirtualLab | None = None, *, name: str = "qdac", channels: int = 24
    ) -> None:
        super().__init__()
        self.lab = lab
        self.name = name
        self.n_channels = channels
        self.log: list[str] = []
        self._t_origin = time.monotonic()
        self.ch: dict[int, _Channel] = {}
        self.out_triggers: dict[int, _OutputTrigger] = {}
        self._init_state()

    # ------------------------------------------------------------------ plumbing
    def _init_state(self) -> None:
        self.ch = {n: _Channel(n) for n in range(1, self.n_channels + 1)}
        self.out_triggers = {n: _OutputTrigger() for n in range(1, N_EXTERNAL_OUTPUTS + 1)}

    def now(self) -> float:
        """Lab time (s), or seconds since creation without a lab."""
        return float(self.lab.time()) if self.lab is not None else time.monotonic() - self._t_origin

    def handle(self, message: bytes) -> bytes | None:
        with self.lock:
            self.log.append(message.decode("latin-1"))
            self.sync()
            return super().handle(message)

    def reset(self) -> None:
        with self.lock:
            t = self.now()
            moved = [c for c in self.ch.values() if c.output(t) != 0.0]
            self._init_state()
            for c in self.ch.values():
                c.t0 = t
            for c in moved:
                self._drive(self.ch[c.n], 0.0, t, math.inf)
            super().reset()

    def output(self, channel: int) -> float:
        """Present output of ``channel`` (V), after catching up running generators."""
        with self.lock:
            self.sync()
            return self.ch[channel].output(self.now())

    def _drive(self, c: _Channel, volts: float, t: float, slew: float) -> None:
        """Move ``c`` from its present output to ``volts`` at ``slew`` and tell the lab."""
        c.v0, c.t0, c.v1, c.rate = c.output(t), t, volts, slew
        if self.lab is not None:
            self.lab.set_output(self.name, c.n, volts, slew=slew)

    def _chan(self, call: Call, i: int = 0) -> _Channel:
        return self.ch[call.suffix(i, min=1, max=self.n_channels)]

    def _targets(self, call: Call, arg: int) -> list[_Channel]:
        """Channels a command addresses: an explicit channel list argument, else the suffix."""
        if call.nargs > arg and isinstance(call.args[arg], str) and "(@" in str(call.args[arg]):
            chans = call.channels(arg)
            bad = [n for n in chans if n not in self.ch]
            if bad:
                raise ScpiError(-222, "Data out of range", f"channel(s) {bad}")
            return [self.ch[n] for n in chans]
        return [self._chan(call)]

    def _volts(self, call: Call, i: int, c: _Channel) -> float:
        lim = RANGES[c.range]
        return call.float(i, min=-lim, max=lim, unit="V")

    # ------------------------------------------------------------------ generator engine
    def sync(self) -> None:
        """Catch every running auto-timed generator up to the present lab time."""
        with self.lock:
            t = self.now()
            for c in self.ch.values():
                if c.running and not c.stepped:
                    self._advance_timed(c, t)

    def _advance_timed(self, c: _Channel, t: float) -> None:
        vals, dwell = c.values(), c.dwell
        elapsed = t - c.t_start
        if elapsed < 0:
            return
        n = len(vals)
        total = n * c.count if c.count > 0 else math.inf
        k = math.floor(elapsed / dwell) if dwell > 0 else total
        if k >= total:
            if c.analog or vals[-1] != c.output(t):
                self._drive(c, vals[-1], t, math.inf)
            self._finish(c, t)
            return
        cycle, idx = divmod(int(k), n)
        if c.analog:
            if cycle != c.cycle or c.step < 0:
                self._start_analog_cycle(c, t, vals, elapsed - cycle * n * dwell)
            c.cycle, c.step = cycle, idx
        elif (cycle, idx) != (c.cycle, c.step):
            c.cycle, c.step = cycle, idx
            self._drive(c, vals[idx], t, math.inf)

    def _start_analog_cycle(self, c: _Channel, t: float, vals: list[float], into: float) -> None:
        duration = len(vals) * c.dwell
        a, b = vals[0], vals[-1]
        rate = abs(b - a) / duration if duration > 0 else math.inf
        here = a + (b - a) * min(1.0, into / duration) if duration > 0 else b
        self._drive(c, here, t, math.inf)
        if rate > 0 and here != b:
            self._drive(c, b, t, rate)

    def _begin(self, c: _Channel, t: float) -> None:
        """A trigger (or INIT with IMM) starts the channel's armed generator."""
        c.armed = False
        if c.mode == "fix":
            if c.triggered is not None:
                c.level = c.triggered
                self._drive(c, c.level, t, c.slew)
            self._fire_marker(c, "start", t)
            if c.continuous:
                c.armed = True
            return
        c.running, c.cycle, c.step = True, 0, -1
        self._fire_marker(c, "start", t)
        if c.stepped:
            self._step(c, t)
        else:
            c.t_start = t + c.delay
            self._advance_timed(c, t)

    def _step(self, c: _Channel, t: float) -> None:
        vals = c.values()
        c.step += 1
        if c.step >= len(vals):
            c.step, c.cycle = 0, c.cycle + 1
            if 0 < c.count <= c.cycle:
                self._finish(c, t)
                return
        self._drive(c, vals[c.step], t, math.inf)
        self._fire_marker(c, "sst", t)

    def _finish(self, c: _Channel, t: float) -> None:
        c.running = False
        self._fire_marker(c, "end", t)
        if c.continuous:
            c.armed = True
            if c.source == "imm":
                self._begin(c, t)

    def _fire_marker(self, c: _Channel, which: str, t: float) -> None:
        if c.markers[which]:
            self.fire(f"int{c.markers[which]}", t)

    def fire(self, source: str, t: float | None = None, _depth: int = 0) -> None:
        """Deliver a trigger event (``bus``, ``int3``, ``ext1``) to everything listening."""
        with self.lock:
            t = self.now() if t is None else t
            if _depth > 8:
                raise ScpiError(-200, "Execution error", "trigger loop")
            for c in self.ch.values():
                if c.source != source:
                    continue
                if c.running and c.stepped:
                    self._step(c, t)
                elif c.armed:
                    self._begin(c, t)
                s = c.sense
                if s.armed and s.source == source:
                    self._measure(c, t)
            for o in self.out_triggers.values():
                if o.source == source:
                    o.pulses.append(t + o.delay)

    def external_input(self, n: int) -> None:
        """An edge on external trigger input ``n`` (1..4)."""
        self.sync()
        self.fire(f"ext{n}")

    def _initiate(self, c: _Channel, t: float) -> None:
        if c.running and c.source == "imm":
            c.running = False
        c.armed = c.source != "hold" or c.armed
        if c.source == "imm":
            self._begin(c, t)
        elif c.source == "hold":
            c.armed = True

    def _abort(self, c: _Channel) -> None:
        c.running = c.armed = False
        c.continuous = False

    # ------------------------------------------------------------------ fixed DC output
    @command("[SOURce#]:VOLTage[:LEVel][:IMMediate][:AMPLitude]")
    def _volt(self, call: Call) -> None:
        call.require(1)
        targets = self._targets(call, 1)
        values = [self._volts(call, 0, c) for c in targets]
        t = self.now()
        for c, v in zip(targets, values, strict=True):
            c.level = v
            if c.mode == "fix":
                self._drive(c, v, t, c.slew)

    @command("[SOURce#]:VOLTage[:LEVel][:IMMediate][:AMPLitude]?")
    def _volt_q(self, call: Call) -> str:
        return ",".join(format_float(c.level) for c in self._targets(call, 0))

    @command("[SOURce#]:VOLTage:LAST?")
    def _volt_last_q(self, call: Call) -> str:
        t = self.now()
        return ",".join(format_float(c.output(t)) for c in self._targets(call, 0))

    @command("[SOURce#]:VOLTage[:LEVel]:TRIGgered[:AMPLitude]")
    def _volt_trig(self, call: Call) -> None:
        c = self._chan(call)
        c.triggered = self._volts(call, 0, c)

    @command("[SOURce#]:VOLTage[:LEVel]:TRIGgered[:AMPLitude]?")
    def _volt_trig_q(self, call: Call) -> str:
        c = self._chan(call)
        return format_float(c.level if c.triggered is None else c.triggered)

    @command("[SOURce#]:VOLTage:MODE")
    def _mode(self, call: Call) -> None:
        c = self._chan(call)
        mode = {"FIXed": "fix", "SWEep": "swe", "LIST": "list"}[
            call.choice(0, ("FIXed", "SWEep", "LIST"))
        ]
        if mode != c.mode:
            t = self.now()
            c.running = c.armed = False
            c.mode = mode
            if mode == "fix":
                c.level = c.output(t)

    @command("[SOURce#]:VOLTage:MODE?")
    def _mode_q(self, call: Call) -> str:
        return self._chan(call).mode

    @command("[SOURce#]:VOLTage:SLEW")
    def _slew(self, call: Call) -> None:
        c = self._chan(call)
        text = call.text(0).strip().upper()
        infinite = text in ("INF", "INFINITY")
        c.slew = math.inf if infinite else call.float(0, min=MIN_SLEW, max=MAX_SLEW)

    @command("[SOURce#]:VOLTage:SLEW?")
    def _slew_q(self, call: Call) -> str:
        return format_float(self._chan(call).slew)

    @command("[SOURce#]:RANGe")
    def _range(self, call: Call) -> None:
        choice = call.choice(0, ("LOW", "HIGH")).lower()
        t = self.now()
        targets = self._targets(call, 1)
        for c in targets:
            if abs(c.output(t)) > RANGES[choice] or abs(c.level) > RANGES[choice]:
                raise ScpiError(-221, "Settings conflict", f"ch{c.n} output exceeds {choice} range")
        for c in targets:
            c.range = choice

    @command("[SOURce#]:RANGe?")
    def _range_q(self, call: Call) -> str:
        return ",".join(c.range for c in self._targets(call, 0))

    @command("[SOURce#]:RANGe:LOW:MINimum?")
    @command("[SOURce#]:RANGe:LOW:MAXimum?")
    @command("[SOURce#]:RANGe:HIGH:MINimum?")
    @command("[SOURce#]:RANGe:HIGH:MAXimum?")
    def _range_limit_q(self, call: Call) -> str:
        self._chan(call)
        parts = call.header.upper().rstrip("?").split(":")
        which = "low" if parts[-2] == "LOW" else "high"
        return format_float(RANGES[which] * (-1 if parts[-1].startswith("MIN") else 1))

    @command("[SOURce#]:FILTer")
    def _filter(self, call: Call) -> None:
        choice = call.choice(0, ("DC", "MEDium", "HIGH"))
        for c in self._targets(call, 1):
            c.filter = {"DC": "dc", "MEDium": "med", "HIGH": "high"}[choice]

    @command("[SOURce#]:FILTer?")
    def _filter_q(self, call: Call) -> str:
        return ",".join(c.filter for c in self._targets(call, 0))

    # ------------------------------------------------------------------ DC generator control
    @command("[SOURce#]:DC:TRIGger[:SEQuence]:SOURce")
    def _dc_source(self, call: Call) -> None:
        self._chan(call).source = _trigger_source(call.text(0))

    @command("[SOURce#]:DC:TRIGger[:SEQuence]:SOURce?")
    def _dc_source_q(self, call: Call) -> str:
        return self._chan(call).source

    @command("[SOURce#]:DC:INITiate[:IMMediate]")
    def _dc_init(self, call: Call) -> None:
        self._initiate(self._chan(call), self.now())

    @command("[SOURce#]:DC:INITiate:CONTinuous")
    def _dc_cont(self, call: Call) -> None:
        c = self._chan(call)
        c.continuous = call.bool(0)
        if c.continuous and not c.running:
            self._initiate(c, self.now())

    @command("[SOURce#]:DC:INITiate:CONTinuous?")
    def _dc_cont_q(self, call: Call) -> str:
        return "1" if self._chan(call).continuous else "0"

    @command("[SOURce#]:DC:ABORt")
    @command("[SOURce#]:ALL:ABORt")
    def _dc_abort(self, call: Call) -> None:
        self._abort(self._chan(call))

    @command("ABORt")
    def _abort_all(self, call: Call) -> None:
        for c in self.ch.values():
            self._abort(c)
            c.sense.armed = False

    @command("[SOURce#]:DC:DELay")
    def _dc_delay(self, call: Call) -> None:
        self._chan(call).delay = call.float(0, min=0.0, max=3600.0, unit="S")

    @command("[SOURce#]:DC:DELay?")
    def _dc_delay_q(self, call: Call) -> str:
        return format_float(self._chan(call).delay)

    @command("[SOURce#]:DC:MARKer:STARt")
    @command("[SOURce#]:DC:MARKer:END")
    @command("[SOURce#]:DC:MARKer:SSTart")
    @command("[SOURce#]:DC:MARKer:SENd")
    def _dc_marker(self, call: Call) -> None:
        self._chan(call).markers[self._marker_key(call)] = call.int(
            0, min=0, max=N_INTERNAL_TRIGGERS
        )

    @command("[SOURce#]:DC:MARKer:STARt?")
    @command("[SOURce#]:DC:MARKer:END?")
    @command("[SOURce#]:DC:MARKer:SSTart?")
    @command("[SOURce#]:DC:MARKer:SENd?")
    def _dc_marker_q(self, call: Call) -> str:
        return str(self._chan(call).markers[self._marker_key(call)])

    @staticmethod
    def _marker_key(call: Call) -> str:
        last = call.header.upper().rstrip("?").split(":")[-1]
        return {"STAR": "start", "START": "start", "END": "end", "SST": "sst", "SSTART": "sst"}.get(
            last, "send"
        )

    # ------------------------------------------------------------------ list and sweep settings
    def _checked_list(self, call: Call, c: _Channel) -> list[float]:
        call.require(1)
        arg = call.args[0]
        if isinstance(arg, bytes):
            if len(arg) % 4:
                raise ScpiError(-104, "Data type error", "block length is not a multiple of 4")
            values = [float(v) for v in struct.unpack(f"<{len(arg) // 4}f", arg)]
        else:
            values = call.floats(0)
        lim = RANGES[c.range]
        bad = [v for v in values if not -lim <= v <= lim or v != v]
        if bad:
            raise ScpiError(-222, "Data out of range", f"list value {bad[0]} outside +-{lim} V")
        return values

    @command("[SOURce#]:LIST:VOLTage[:LEVel]")
    def _list_volt(self, call: Call) -> None:
        c = self._chan(call)
        values = self._checked_list(call, c)
        if not values or len(values) > MAX_LIST_POINTS:
            raise ScpiError(-223, "Too much data", f"{len(values)} list points")
        c.list_v = values

    @command("[SOURce#]:LIST:VOLTage:APPend")
    def _list_append(self, call: Call) -> None:
        c = self._chan(call)
        values = self._checked_list(call, c)
        if len(c.list_v) + len(values) > MAX_LIST_POINTS:
            raise ScpiError(-223, "Too much data", "list full")
        c.list_v = c.list_v + values

    @command("[SOURce#]:LIST:VOLTage[:LEVel]?")
    def _list_volt_q(self, call: Call) -> str:
        return ",".join(format_float(v) for v in self._chan(call).list_v)

    @command("[SOURce#]:LIST:POINts?")
    def _list_points_q(self, call: Call) -> str:
        return str(len(self._chan(call).list_v))

    @command("[SOURce#]:LIST:NCLeft?")
    @command("[SOURce#]:SWEep:NCLeft?")
    def _ncl_q(self, call: Call) -> str:
        c = self._chan(call)
        if c.count < 0:
            return "-1" if (c.running or c.armed) else "0"
        if c.running:
            return str(c.count - c.cycle)
        return str(c.count if c.armed else 0)

    @command("[SOURce#]:SWEep:TIME?")
    def _swe_time_q(self, call: Call) -> str:
        c = self._chan(call)
        return format_float(c.swe_points * c.swe_dwell)

    def _set(self, call: Call, attr: str, parse: Callable[[Call], Any]) -> None:
        setattr(self._chan(call), attr, parse(call))

    def _get(self, call: Call, attr: str) -> str:
        value = getattr(self._chan(call), attr)
        return format_float(value) if isinstance(value, float) else str(value)

    _list_dwell, _list_dwell_q = _setting("[SOURce#]:LIST:DWELl", "list_dwell", _dwell)
    _list_dir, _list_dir_q = _setting("[SOURce#]:LIST:DIRection", "list_dir", _direction)
    _list_count, _list_count_q = _setting("[SOURce#]:LIST:COUNt", "list_count", _count)
    _list_tmode, _list_tmode_q = _setting(
        "[SOURce#]:LIST:TMODe", "list_tmode", lambda c: c.choice(0, ("AUTO", "STEP")).lower()
    )
    _swe_start, _swe_start_q = _setting("[SOURce#]:SWEep:STARt", "swe_start", _sweep_volts)
    _swe_stop, _swe_stop_q = _setting("[SOURce#]:SWEep:STOP", "swe_stop", _sweep_volts)
    _swe_points, _swe_points_q = _setting(
        "[SOURce#]:SWEep:POINts", "swe_points", lambda c: c.int(0, min=2, max=MAX_LIST_POINTS)
    )
    _swe_dwell, _swe_dwell_q = _setting("[SOURce#]:SWEep:DWELl", "swe_dwell", _dwell)
    _swe_dir, _swe_dir_q = _setting("[SOURce#]:SWEep:DIRection", "swe_dir", _direction)
    _swe_count, _swe_count_q = _setting("[SOURce#]:SWEep:COUNt", "swe_count", _count)
    _swe_gen, _swe_gen_q = _setting(
        "[SOURce#]:SWEep:GENeration",
        "swe_gen",
        lambda c: "anal" if c.choice(0, ("STEP", "ANALog")) == "ANALog" else "step",
    )

    # ------------------------------------------------------------------ triggers
    @command("*TRG")
    def _trg(self, call: Call) -> None:
        self.fire("bus")

    @command("TINT")
    def _tint(self, call: Call) -> None:
        self.fire(f"int{call.int(0, min=1, max=N_INTERNAL_TRIGGERS)}")

    def _out(self, call: Call) -> _OutputTrigger:
        return self.out_triggers[call.suffix(0, min=1, max=N_EXTERNAL_OUTPUTS)]

    @command("OUTPut:TRIGger#:SOURce")
    def _out_source(self, call: Call) -> None:
        self._out(call).source = _trigger_source(call.text(0), outputs=True)

    @command("OUTPut:TRIGger#:SOURce?")
    def _out_source_q(self, call: Call) -> str:
        return self._out(call).source

    @command("OUTPut:TRIGger#:WIDTh")
    def _out_width(self, call: Call) -> None:
        self._out(call).width = call.float(0, min=1e-7, max=1.0, unit="S")

    @command("OUTPut:TRIGger#:WIDTh?")
    def _out_width_q(self, call: Call) -> str:
        return format_float(self._out(call).width)

    @command("OUTPut:TRIGger#:POLarity")
    def _out_pol(self, call: Call) -> None:
        choice = call.choice(0, ("NORMal", "INVerted"))
        self._out(call).polarity = "norm" if choice == "NORMal" else "inv"

    @command("OUTPut:TRIGger#:POLarity?")
    def _out_pol_q(self, call: Call) -> str:
        return self._out(call).polarity

    @command("OUTPut:TRIGger#:DELay")
    def _out_delay(self, call: Call) -> None:
        self._out(call).delay = call.float(0, min=0.0, max=10.0, unit="S")

    @command("OUTPut:TRIGger#:DELay?")
    def _out_delay_q(self, call: Call) -> str:
        return format_float(self._out(call).delay)

    @command("OUTPut:TRIGger#:SIGNal")
    def _out_signal(self, call: Call) -> None:
        o = self._out(call)
        o.pulses.append(self.now() + o.delay)

    # ------------------------------------------------------------------ current sensors
    def _current(self, c: _Channel, t: float) -> float:
        return c.output(t) / LEAKAGE_OHM

    def _measure(self, c: _Channel, t: float) -> None:
        s = c.sense
        s.armed = s.continuous
        s.data.extend(self._current(c, t) for _ in range(s.count))

    @command("SENSe#:RANGe")
    def _sens_range(self, call: Call) -> None:
        choice = call.choice(0, ("LOW", "HIGH")).lower()
        for c in self._targets(call, 1):
            c.sense.range = choice

    @command("SENSe#:RANGe?")
    def _sens_range_q(self, call: Call) -> str:
        return ",".join(c.sense.range for c in self._targets(call, 0))

    @command("SENSe#:NPLCycles")
    def _sens_nplc(self, call: Call) -> None:
        nplc = call.int(0, min=1, max=100)
        for c in self._targets(call, 1):
            c.sense.nplc, c.sense.aperture = nplc, nplc / 50.0

    @command("SENSe#:NPLCycles?")
    def _sens_nplc_q(self, call: Call) -> str:
        return str(self._chan(call).sense.nplc)

    @command("SENSe#:APERture")
    def _sens_aper(self, call: Call) -> None:
        s = self._chan(call).sense
        s.aperture = call.float(0, min=3e-4, max=1.0, unit="S")
        s.nplc = max(1, round(s.aperture * 50))

    @command("SENSe#:APERture?")
    def _sens_aper_q(self, call: Call) -> str:
        return format_float(self._chan(call).sense.aperture)

    @command("SENSe#:DELay")
    def _sens_delay(self, call: Call) -> None:
        self._chan(call).sense.delay = call.float(0, min=0.0, max=3600.0, unit="S")

    @command("SENSe#:DELay?")
    def _sens_delay_q(self, call: Call) -> str:
        return format_float(self._chan(call).sense.delay)

    @command("SENSe#:COUNt")
    def _sens_count(self, call: Call) -> None:
        self._chan(call).sense.count = call.int(0, min=1, max=2**20)

    @command("SENSe#:COUNt?")
    def _sens_count_q(self, call: Call) -> str:
        return str(self._chan(call).sense.count)

    @command("SENSe#:TRIGger[:SEQuence]:SOURce")
    def _sens_source(self, call: Call) -> None:
        self._chan(call).sense.source = _trigger_source(call.text(0))

    @command("SENSe#:INITiate[:IMMediate]")
    def _sens_init(self, call: Call) -> None:
        c = self._chan(call)
        if c.sense.source == "imm":
            self._measure(c, self.now())
        else:
            c.sense.armed = True

    @command("SENSe#:INITiate:CONTinuous")
    def _sens_cont(self, call: Call) -> None:
        s = self._chan(call).sense
        s.continuous = call.bool(0)
        s.armed = s.continuous or s.armed

    @command("SENSe#:ABORt")
    def _sens_abort(self, call: Call) -> None:
        self._chan(call).sense.armed = False

    @command("SENSe#:NCLeft?")
    def _sens_ncl_q(self, call: Call) -> str:
        s = self._chan(call).sense
        return str(s.count if s.armed else 0)

    @command("SENSe#:DATA:POINts?")
    def _sens_points_q(self, call: Call) -> str:
        return str(len(self._chan(call).sense.data))

    @command("SENSe#:DATA:LAST?")
    def _sens_last_q(self, call: Call) -> str:
        s = self._chan(call).sense
        return format_float(s.data[-1] if s.data else 0.0)

    @command("SENSe#:DATA:REMove?")
    @command("FETCh#?")
    def _sens_remove_q(self, call: Call) -> str:
        s = self._chan(call).sense
        data, s.data = s.data, []
        return ",".join(format_float(v) for v in data)

    @command("READ#?")
    def _read_q(self, call: Call) -> str:
        t = self.now()
        return ",".join(format_float(self._current(c, t)) for c in self._targets(call, 0))

    # ------------------------------------------------------------------ system
    @command("SYSTem:COMMunicate:LAN:MAC?")
    def _mac_q(self, call: Call) -> str:
        return '"049162C0' + f"{int(self.idn[2]) & 0xFFFF:04X}" + '"'
