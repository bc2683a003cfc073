"""QDevil QDAC-II gate DAC: 24 channels, safe moves with hardware slew, DC list/sweep generators.

Fills the DAC role (`dotstack.drivers.protocols.DAC`).  Every move is checked against the
channel's `ChannelLimits` before anything is sent; a move larger than ``max_step`` is ramped by
the instrument's slew (programmed and read back before the target is sent), starting from the
output read from the instrument, and `set_voltage` returns once the read-back output is there.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from qcodes.instrument import ChannelList, InstrumentChannel
from qcodes.validators import Enum, Numbers

from dotstack.drivers import safety
from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.drivers.scpi_base import ScpiInstrument
from dotstack.drivers.transport import Transport, TransportError

N_CHANNELS = 24
RANGE_V = {"low": 2.0, "high": 10.0}
MIN_SLEW, MAX_SLEW = 0.01, 2e7  # V/s, hardware slew range
MIN_DWELL = 1e-6
MAX_POINTS = 65536
TRIGGER_OUTPUTS = (1, 2, 3, 4, 5)
#: internal trigger a list's step marker uses to drive external trigger output k
_MARKER_TRIGGER = {k: 9 + k for k in TRIGGER_OUTPUTS}
Trigger = str | int  # "immediate", "bus", "ext1".."ext4", or an internal trigger number 1..14


def _num(x: float) -> str:
    """A number as SCPI text, exactly (shortest repr of the float)."""
    return repr(float(x))


def _source(trigger: Trigger) -> str:
    """SCPI trigger source of a generator trigger spec."""
    if isinstance(trigger, int) and not isinstance(trigger, bool):
        if not 1 <= trigger <= 14:
            raise ValueError(f"internal trigger must be 1..14, got {trigger}")
        return f"int{trigger}"
    spec = str(trigger).lower()
    if spec in ("immediate", "imm"):
        return "imm"
    if spec == "bus" or (spec.startswith("ext") and spec[3:] in ("1", "2", "3", "4")):
        return spec
    raise ValueError(
        f"unknown trigger {trigger!r}: use 'immediate', 'bus', 'ext1'..'ext4' or 1..14"
    )


class QDac2Channel(InstrumentChannel):
    """One output: ``voltage`` goes through the parent's safe path; range, filter, slew, mode."""

    def __init__(self, parent: QDac2, name: str, number: int) -> None:
        super().__init__(parent, name)
        self.number = number
        n = number
        self.voltage = self.add_parameter(
            "voltage",
            label=f"ch{n:02} output",
            unit="V",
            get_cmd=lambda: parent.get_voltage(n),
            set_cmd=lambda v: parent.set_voltage(n, v),
            vals=Numbers(-RANGE_V["high"], RANGE_V["high"]),
        )
        self.level = self.add_parameter(
            "level", label=f"ch{n:02} programmed level", unit="V",
            get_cmd=f"sour{n}:volt?", get_parser=float, set_cmd=False,
        )  # fmt: skip
        self.output_range = self.add_parameter(
            "output_range", label="output range",
            get_cmd=f"sour{n}:rang?", get_parser=str.strip,
            set_cmd=lambda r: parent.set_output_range(n, r), vals=Enum("low", "high"),
        )  # fmt: skip
        self.output_filter = self.add_parameter(
            "output_filter", label="output low-pass filter",
            get_cmd=f"sour{n}:filt?", get_parser=str.strip,
            set_cmd=f"sour{n}:filt {{}}", vals=Enum("dc", "med", "high"),
        )  # fmt: skip
        self.slew_rate = self.add_parameter(
            "slew_rate", label="DC slew rate", unit="V/s",
            get_cmd=f"sour{n}:volt:slew?", get_parser=float,
            set_cmd=f"sour{n}:volt:slew {{}}", vals=Numbers(MIN_SLEW, MAX_SLEW),
        )  # fmt: skip
        self.mode = self.add_parameter(
            "mode", label="DC generator mode", get_cmd=f"sour{n}:volt:mode?",
            get_parser=str.strip, set_cmd=False,
        )  # fmt: skip

    def ramp(self, volts: float, rate: float | None = None) -> None:
        self.parent_qdac.ramp(self.number, volts, rate)

    @property
    def parent_qdac(self) -> QDac2:
        parent = self.parent
        assert isinstance(parent, QDac2)
        return parent


@dataclass
class DcGenerator:
    """A DC list or sweep set up on one channel; `start` arms it (or runs it, if immediate)."""

    qdac: QDac2
    channel: int
    kind: str  # "list" or "swe"
    values: np.ndarray  # the points in the order they are played
    dwell_s: float
    repetitions: int
    source: str
    #: sends this generator's whole set-up (points, timing, trigger) to the instrument
    configure: Callable[[], None] = lambda: None
    #: the requested points (float64, played order) its steps were checked on; the played
    #: ``values`` are their float32 images
    nominal: np.ndarray | None = None

    def start(self) -> None:
        """Arm the generator (run it now for an immediate trigger), moving safely to point 0.

        Whatever happened since it was set up, what plays is checked now: the channel's
        generator is stopped first (no race with a run still going), the points are checked
        against the channel's present limits, and the set-up is sent again (another generator
        may have replaced it on the instrument)."""
        q, n = self.qdac, self.channel
        q.write_synced(f"sour{n}:dc:abor")
        lim, what = q.limits(n), q._what(n)
        steps = self.values if self.nominal is None else self.nominal
        safety.validate_list(lim, steps, cyclic=self.repetitions != 1, what=what)
        safety.validate_list(ChannelLimits(lim.min_v, lim.max_v), self.values, what=what)
        first = float(self.values[0])
        if abs(q.get_voltage(n) - first) > q.limits(n).max_step:
            q.set_voltage(n, first)
        self.configure()
        q.write_synced(f"sour{n}:dc:init")

    def abort(self) -> None:
        self.qdac.write_synced(f"sour{self.channel}:dc:abor")

    def fire(self) -> None:
        """Send the software trigger this generator waits for (bus or internal)."""
        if self.source == "bus":
            self.qdac.trigger_bus()
        elif self.source.startswith("int"):
            self.qdac.fire_internal(int(self.source[3:]))
        else:
            raise ValueError(f"a generator on {self.source!r} cannot be fired by software")

    def remaining_cycles(self) -> int:
        return self.qdac.ask_parsed(f"sour{self.channel}:{self.kind}:ncl?", int)

    @property
    def duration_s(self) -> float:
        return len(self.values) * self.dwell_s * max(self.repetitions, 1)


class QDac2(ScpiInstrument):
    """QDevil QDAC-II (SCPI over LAN, ``TCPIP0::host::5025::SOCKET``).

    ``sleep`` is how the driver waits while polling a ramp (inject a lab clock's advance in
    tests); ``settle_tolerance`` (V) is how close the read-back must get to the target.
    """

    def __init__(
        self,
        name: str,
        address: str | None = None,
        *,
        transport: Transport | None = None,
        timeout: float = 5.0,
        visa_library: str = "@py",
        sleep: Callable[[float], None] = time.sleep,
        settle_tolerance: float = 1e-5,
        poll_interval: float = 0.02,
        ramp_timeout_margin: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            name, address, transport=transport, timeout=timeout, visa_library=visa_library, **kwargs
        )
        self._sleep = sleep
        self.settle_tolerance = settle_tolerance
        self.poll_interval = poll_interval
        self.ramp_timeout_margin = ramp_timeout_margin
        model = self.ask("*IDN?").split(",")
        if len(model) < 2 or model[1].strip() != "QDAC-II":
            self.close()
            raise ValueError(f"{name}: not a QDAC-II: *IDN? said {','.join(model)!r}")
        outputs = ChannelList(self, "outputs", QDac2Channel)
        for n in self.channels:
            ch = QDac2Channel(self, f"ch{n:02}", n)
            self.add_submodule(f"ch{n:02}", ch)
            outputs.append(ch)
        outputs.lock()
        self.add_submodule("outputs", outputs)
        ranges = self.ask(f"sour:rang? (@1:{N_CHANNELS})").split(",")
        self._range = {n: r.strip().lower() for n, r in zip(self.channels, ranges, strict=True)}
        self._limits = {n: self.instrument_limits(n) for n in self.channels}

    # ---------------------------------------------------------------- limits
    @property
    def channels(self) -> Sequence[int]:
        return tuple(range(1, N_CHANNELS + 1))

    def _what(self, channel: int) -> str:
        if isinstance(channel, bool) or channel not in self.channels:
            raise LimitError(f"{self.name}: no channel {channel!r} (1..{N_CHANNELS})")
        return f"{self.name} ch{channel:02}"

    def instrument_limits(self, channel: int) -> ChannelLimits:
        """The envelope of the channel's present output range (no ramp or step limit)."""
        r = RANGE_V[self._range[channel]]
        return ChannelLimits(-r, r)

    def limits(self, channel: int) -> ChannelLimits:
        self._what(channel)
        return self._limits[channel]

    def set_limits(self, channel: int, limits: ChannelLimits) -> None:
        """Narrow the channel's present limits; anything wider raises `LimitError`."""
        self._limits[channel] = self.limits(channel).narrowed(limits, self._what(channel))

    def reset_limits(self, channel: int) -> None:
        """Back to the envelope of the present output range (an explicit, deliberate widening)."""
        self._what(channel)
        self._limits[channel] = self.instrument_limits(channel)

    def set_output_range(self, channel: int, output_range: str) -> None:
        """Switch range (``low`` +-2 V, ``high`` +-10 V); the limits are clipped to it."""
        what = self._what(channel)
        r = str(output_range).lower()
        if r not in RANGE_V:
            raise ValueError(f"{what}: output range must be 'low' or 'high', got {output_range!r}")
        present = self.get_voltage(channel)
        if abs(present) > RANGE_V[r]:
            raise LimitError(f"{what}: output {present:+.6g} V does not fit the {r} range")
        clipped = safety.intersect(self._limits[channel], -RANGE_V[r], RANGE_V[r], what)
        self.write(f"sour{channel}:rang {r}")
        self._range[channel] = r
        self._limits[channel] = clipped

    # ---------------------------------------------------------------- DC output
    def get_voltage(self, channel: int) -> float:
        """The present output, read from the instrument (``VOLT:LAST?``)."""
        self._what(channel)
        return self.ask_float(f"sour{channel}:volt:last?")

    def set_voltage(self, channel: int, volts: float) -> None:
        """Move safely to ``volts``: step if within ``max_step``, else ramp; return when there."""
        self._move(channel, volts, None)

    def ramp(self, channel: int, volts: float, rate: float | None = None) -> None:
        """Ramp to ``volts`` at ``rate`` V/s (default and maximum: ``max_ramp_rate``)."""
        lim = self.limits(channel)
        rate = safety.check_rate(lim, rate, self._what(channel))
        self._move(channel, volts, rate if math.isfinite(rate) else MAX_SLEW)

    def _move(self, channel: int, volts: float, rate: float | None) -> None:
        what = self._what(channel)
        lim = self._limits[channel]
        target = safety.check_request(lim, volts, what)
        start = self.get_voltage(channel)
        plan = safety.plan_move(lim, start, target, rate=rate, what=what, fastest=MAX_SLEW)
        n = channel
        if not plan.ramped:
            command = f"sour{n}:volt:mode fix;:sour{n}:volt:slew inf;:sour{n}:volt {_num(target)}"
            self.write(command)
        elif plan.rate < MIN_SLEW:
            self._software_ramp(channel, lim, start, target, plan.rate, what)
            return
        else:
            slew = min(plan.rate, MAX_SLEW)
            got = self.ask_float(f"sour{n}:volt:mode fix;:sour{n}:volt:slew {_num(slew)};slew?")
            if not got <= slew * (1 + 1e-9):
                raise LimitError(f"{what}: slew read back as {got} V/s, wanted <= {slew} V/s")
            command = f"sour{n}:volt {_num(target)}"
            self.write(command)
        self._wait_for(channel, target, abs(target - start) / min(plan.rate, MAX_SLEW), command)

    def _software_ramp(
        self, channel: int, lim: ChannelLimits, start: float, target: float, rate: float, what: str
    ) -> None:
        ramp = safety.plan_software_ramp(lim, start, target, rate=rate, what=what)
        self.write(f"sour{channel}:volt:mode fix;:sour{channel}:volt:slew inf")
        command = ""
        for v in ramp.setpoints:
            command = f"sour{channel}:volt {_num(v)}"
            self.write(command)
            self._sleep(ramp.dwell_s)
        self._wait_for(channel, target, 0.0, command)

    def _wait_for(self, channel: int, target: float, expected_s: float, command: str) -> None:
        """Poll the output until it is at ``target`` (sent by ``command``); on timeout the error
        names the command and what the error queue holds."""
        timeout = 1.5 * expected_s + self.ramp_timeout_margin
        interval = min(self.poll_interval, max(expected_s / 50, 1e-3))
        waited = 0.0
        while True:
            present = self.get_voltage(channel)
            if abs(present - target) <= self.settle_tolerance:
                return
            if waited >= timeout:
                queue = self._error_queue_text()
                raise TimeoutError(
                    f"{self.name}: {command!r} -> ch{channel:02} output still {present:+.6g} V, "
                    f"not {target:+.6g} V, after {waited:.3g} s; error queue: {queue or 'empty'}")
            self._sleep(interval)
            waited += interval

    # ---------------------------------------------------------------- triggers and generators
    def write_synced(self, command: str) -> None:
        """Write ``command`` and return once the instrument has executed it (``*OPC?``)."""
        reply = self.ask(f"{command};*OPC?")
        if reply.strip() != "1":
            raise TransportError(self.name, f"{command};*OPC?", f"garbled reply {reply[:60]!r}")

    def trigger_bus(self) -> None:
        """``*TRG``: starts generators waiting on the bus trigger."""
        self.write_synced("*TRG")

    def fire_internal(self, number: int) -> None:
        """Fire internal trigger ``number`` (1..14)."""
        self.write_synced(f"tint {_source(number)[3:]}")

    def abort_all(self) -> None:
        self.write_synced("abor")

    def dc_list(
        self,
        channel: int,
        voltages: Sequence[float] | np.ndarray,
        dwell_s: float,
        *,
        repetitions: int = 1,
        trigger: Trigger = "immediate",
        stepped: bool = False,
        backwards: bool = False,
        step_trigger_output: int | None = None,
    ) -> DcGenerator:
        """Upload a DC list (binary, float32) after checking every point and every step.

        ``stepped``: each trigger advances one point (else points advance every ``dwell_s``).
        ``step_trigger_output``: external trigger output (1..5) that pulses as each point starts
        (e.g. cabled to a DMM's trigger input: one reading per point, a hardware-timed raster).
        """
        what, lim = self._what(channel), self.limits(channel)
        source = _source(trigger)
        if step_trigger_output is not None and (isinstance(step_trigger_output, bool)
                                                or step_trigger_output not in TRIGGER_OUTPUTS):
            raise ValueError(f"{what}: trigger output must be one of {list(TRIGGER_OUTPUTS)}, "
                             f"got {step_trigger_output!r}")
        self._check_timing(what, dwell_s, repetitions, len(voltages))
        points = safety.validate_list(lim, voltages, cyclic=repetitions != 1, what=what)
        data = points.astype("<f4")
        data = np.where(data > lim.max_v, np.nextafter(data, np.float32(-np.inf)), data)
        data = np.where(data < lim.min_v, np.nextafter(data, np.float32(np.inf)), data)
        # float32 rounding may not cross a limit (steps change by < 1e-7 V: checked above)
        safety.validate_list(ChannelLimits(lim.min_v, lim.max_v), data.astype(float), what=what)
        played = data.astype(float)[::-1] if backwards else data.astype(float)
        n = channel
        self.set_voltage(n, float(played[0]))

        def configure() -> None:
            self.write(f"sour{n}:dc:trig:sour hold;:sour{n}:volt:mode list")
            self.write_block(f"sour{n}:list:volt ", data.tobytes())
            self.write(
                f"sour{n}:list:tmod {'step' if stepped else 'auto'};:sour{n}:list:dwel "
                f"{_num(dwell_s)};:sour{n}:list:dir {'down' if backwards else 'up'};"
                f":sour{n}:list:coun {repetitions};:sour{n}:dc:trig:sour {source};"
                f":sour{n}:dc:init:cont off"
            )
            if step_trigger_output is not None:
                out = int(step_trigger_output)
                internal = _MARKER_TRIGGER[out]
                self.write(f"sour{n}:dc:mark:sst {internal};:outp:trig{out}:sour "
                           f"int{internal};:outp:trig{out}:widt 1e-06")
            self.check_errors()

        configure()
        nominal = points[::-1] if backwards else points
        return DcGenerator(self, n, "list", played, dwell_s, repetitions, source, configure,
                           nominal)

    def dc_sweep(
        self,
        channel: int,
        start: float,
        stop: float,
        points: int,
        dwell_s: float,
        *,
        repetitions: int = 1,
        trigger: Trigger = "immediate",
        backwards: bool = False,
    ) -> DcGenerator:
        """Set up a stepped linear DC sweep after checking its ends and its step size."""
        what, lim = self._what(channel), self.limits(channel)
        source = _source(trigger)
        self._check_timing(what, dwell_s, repetitions, points)
        values = safety.validate_sweep(lim, start, stop, points, cyclic=repetitions != 1, what=what)
        played = values[::-1] if backwards else values
        n = channel
        self.set_voltage(n, float(played[0]))

        def configure() -> None:
            self.write(
                f"sour{n}:dc:trig:sour hold;:sour{n}:volt:mode swe;:sour{n}:swe:star {_num(start)};"
                f":sour{n}:swe:stop {_num(stop)};:sour{n}:swe:poin {int(points)};"
                f":sour{n}:swe:gen step;:sour{n}:swe:dwel {_num(dwell_s)};"
                f":sour{n}:swe:dir {'down' if backwards else 'up'};:sour{n}:swe:coun {repetitions};"
                f":sour{n}:dc:trig:sour {source};:sour{n}:dc:init:cont off"
            )
            self.check_errors()

        configure()
        return DcGenerator(self, n, "swe", played, dwell_s, repetitions, source, configure)

    @staticmethod
    def _check_timing(what: str, dwell_s: float, repetitions: int, npoints: int) -> None:
        if not (math.isfinite(dwell_s) and dwell_s >= MIN_DWELL):
            raise ValueError(f"{what}: dwell must be >= {MIN_DWELL} s, got {dwell_s}")
        if repetitions == 0 or repetitions < -1:
            raise ValueError(f"{what}: repetitions must be >= 1 or -1 (forever), got {repetitions}")
        if not 1 <= npoints <= MAX_POINTS:
            raise ValueError(f"{what}: {npoints} points (1..{MAX_POINTS} allowed)")
