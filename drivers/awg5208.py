"""Tektronix AWG5208: plays compiled sequencer programs (fills the AWG role).

`prepare` uploads a `dotstack.sequencer.Program` over SCPI: each unique waveform
(``WLISt:WAVeform:NEW``/``:DATA`` float32 blocks, ``:MARKer:DATA``), the sequence
(``SLISt:SEQuence:*``: a step per table row, a track per channel), the channel assignment and
levels (``SOURce#:CASSet:SEQuence``, ``SOURce#:VOLTage``, ``SOURce#:DAC:RESolution``,
``OUTPut#:STATe``).  Only what changed is sent: waveforms are named after their content
(`awg5208_plan.upload_name`) and the driver keeps what the instrument holds (read back with
``WLISt:SIZE?``/``WLISt:LIST?`` on connect and after `reset`), the sequence is edited step by
step when its shape is unchanged, settings are sent when they differ.  Safety: before any byte
is sent, every waveform's extremes on every channel (after the channel's amplitude/offset and
DAC resolution) are checked against the instrument's range and the channel's limits
(`set_channel_limits`); NaN or infinite samples are refused.  The error queue is read (after
``*OPC?``) after each part of an upload; an error raises `UploadError` naming the command.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dotstack.drivers.awg5208_plan import (
    N_CHANNELS,
    NAME,
    Plan,
    Scaling,
    Upload,
    make_plan,
    waveform_bytes,
)
from dotstack.drivers.awg5208_sequence import TableState, batches, commands
from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.drivers.scpi_base import InstrumentError, ScpiInstrument
from dotstack.drivers.transport import Transport
from dotstack.sequencer import AWG5208 as AWG5208_LIMITS
from dotstack.sequencer import AwgLimits, Program

RUN_STATES = {0: "stopped", 1: "waiting", 2: "running"}


class UploadError(InstrumentError):
    """The instrument reported errors after ``command`` (what was sent since the last check)."""

    def __init__(self, instrument: str, command: str, errors: list[tuple[int, str]]) -> None:
        super().__init__(instrument, errors)
        self.command = command
        self.args = (f"{self.args[0]} after {command}",)


@dataclass
class UploadStats:
    """What uploads sent: waveforms, data blocks, commands and bytes."""

    waveforms: int = 0
    commands: int = 0
    bytes: int = 0
    names: list[str] = field(default_factory=list)


class AWG5208(ScpiInstrument):
    """Tektronix AWG5208 (``TCPIP0::host::INSTR`` or a raw socket); see the module docstring.

    ``channel_map`` maps program channel names (gate names) to AWG channels 1..8 (default: a
    name ``"3"``/``"ch3"`` is channel 3, else the program's channel order).  ``limits`` is what
    programs are compiled against.  Steps that wait for a trigger wait on ``trigger_input``,
    event jumps listen on ``jump_input``.  Waveforms no program uses any more are deleted once
    they exceed ``cache_samples``.  ``sleep`` is how `arm` waits while polling.
    """

    sequence = "dotstack"
    # what the instrument holds, as far as this driver knows (see `sync`)
    _held: dict[str, int]  # our waveform names -> samples, least recently used first
    _has_sequence: bool
    _table: TableState | None  # our sequence's content (None: unknown)
    _sent: dict[tuple[str, int], str]  # settings commands in effect
    _armed: bool
    _stale: bool  # an upload failed half way: read back before the next one

    def __init__(self, name: str, address: str | None = None, *,
                 transport: Transport | None = None, timeout: float = 10.0,
                 visa_library: str = "@py", limits: AwgLimits = AWG5208_LIMITS,
                 channel_map: Mapping[str, int] | None = None,
                 trigger_input: str = "ATRigger", jump_input: str = "BTRigger",
                 cache_samples: int = 2**28, batch_bytes: int = 1 << 16,
                 check_bytes: int = 1 << 22, sleep: Callable[[float], None] = time.sleep,
                 **kwargs: Any) -> None:
        super().__init__(name, address, transport=transport, timeout=timeout,
                         visa_library=visa_library, **kwargs)
        idn = self.ask("*IDN?").split(",")
        if len(idn) < 2 or "AWG5208" not in idn[1].upper():
            self.close()
            raise ValueError(f"{name}: not an AWG5208: *IDN? said {','.join(idn)!r}")
        self._limits = limits
        self.channel_map = dict(channel_map or {})
        self.trigger_input, self.jump_input = trigger_input, jump_input
        self.cache_samples, self.batch_bytes, self.check_bytes = cache_samples, batch_bytes, check_bytes
        self._sleep = sleep
        lo, hi = limits.amplitude_range
        self._instrument_limits = ChannelLimits(lo, hi)
        self._channel_limits = {n: self._instrument_limits for n in self.channels}
        self._scalings: dict[int, Scaling] = {}
        self.stats = UploadStats()
        self.last_upload = UploadStats()
        self.sample_rate = self.add_parameter(
            "sample_rate", label="sample rate", unit="Sa/s", get_cmd="CLOCk:SRATe?",
            get_parser=float, set_cmd=False)
        self.sync()

    # ---------------------------------------------------------------- role
    @property
    def limits(self) -> AwgLimits:
        return self._limits

    @property
    def channels(self) -> tuple[int, ...]:
        return tuple(range(1, N_CHANNELS + 1))

    def channel_limits(self, channel: int) -> ChannelLimits:
        return self._channel_limits[self._channel(channel)]

    def set_channel_limits(self, channel: int, min_v: float, max_v: float) -> None:
        """Narrow the voltages ``channel`` may output (wider than the instrument: `LimitError`)."""
        n = self._channel(channel)
        self._channel_limits[n] = self._instrument_limits.narrowed(
            ChannelLimits(min_v, max_v), f"{self.name} channel {n}")

    def set_channel_scaling(self, channel: int, amplitude: float | None,
                            offset: float = 0.0) -> None:
        """Play ``channel`` at ``amplitude`` Vpp around ``offset`` V (None: from the program)."""
        n = self._channel(channel)
        if amplitude is None:
            self._scalings.pop(n, None)
        else:
            self._scalings[n] = Scaling(float(amplitude), float(offset))

    def _channel(self, channel: int) -> int:
        if isinstance(channel, bool) or channel not in self.channels:
            raise LimitError(f"{self.name}: no channel {channel!r} (1..{N_CHANNELS})")
        return int(channel)

    def prepare(self, program: Program) -> None:
        """Upload ``program`` (only what the instrument does not hold yet); stops a run.

        If the instrument reports errors (e.g. it was reset behind the driver's back), the
        driver reads back what it holds and tries once more before it raises `UploadError`.
        """
        plan = make_plan(program, self.channel_map, self._scalings, self._channel_limits,
                         self._limits.min_length, self.name)
        try:
            self._prepare(program, plan)
        except UploadError:
            self.sync()
            self._prepare(program, plan)

    def _prepare(self, program: Program, plan: Plan) -> None:
        if self._stale:
            self.sync()
        table = TableState.of(program.table, plan.names)
        missing = [u for u in plan.uploads.values() if u.name not in self._held]
        rate = program.limits.sample_rate
        settings = self._settings(plan, rate)
        self.last_upload = UploadStats()
        if not missing and table == self._table and not settings:
            return
        self._stale = True  # until the upload went through
        if self._armed:
            self.stop()
        if ("rate", 0) in settings:
            self._send(settings[("rate", 0)])
            self._sent[("rate", 0)] = settings[("rate", 0)]
        self._upload(program, missing)
        self._upload_sequence(table)
        self._apply(self._settings(plan, rate))  # a new sequence needs assigning again
        for u in plan.uploads.values():  # recently used last
            self._held[u.name] = self._held.pop(u.name, u.length)
        self._collect(set(plan.uploads))
        self._stale = False

    def arm(self, timeout: float = 10.0) -> None:
        """Start the sequence (``AWGControl:RUN``); returns once it runs or waits for a trigger."""
        self.write("AWGControl:RUN")
        self._armed = True
        self._check("AWGControl:RUN")
        waited = 0.0
        while self.run_state() == "stopped":
            if waited > timeout:
                raise TimeoutError(f"{self.name}: not running {timeout} s after AWGControl:RUN")
            self._sleep(0.01)
            waited += 0.01

    def stop(self) -> None:
        """Stop playing (``AWGControl:STOP``)."""
        self.write("AWGControl:STOP")
        self._armed = False
        self._check("AWGControl:STOP")

    def trigger(self, which: str = "A") -> None:
        """Software trigger on input A or B (``TRIGger:IMMediate ATRigger``)."""
        source = {"A": "ATRigger", "B": "BTRigger"}[which.upper()]
        self.write(f"TRIGger:IMMediate {source}")
        self.ask("*OPC?")

    def run_state(self) -> str:
        """"stopped", "waiting" (for a trigger) or "running" (``AWGControl:RSTate?``)."""
        return RUN_STATES[int(self.ask("AWGControl:RSTate?"))]

    # ---------------------------------------------------------------- state kept
    def sync(self) -> None:
        """Read back which of our waveforms and whether our sequence are on the instrument."""
        size = int(self.ask("WLISt:SIZE?"))
        names = [n for n in self.ask("WLISt:LIST?").strip().strip('"').split(",") if n]
        if len(names) != size:  # a name with a comma in it: ask one by one
            names = [self.ask(f"WLISt:NAME? {i}").strip().strip('"') for i in range(1, size + 1)]
        self._held = {n: self._limits.min_length for n in names if NAME.fullmatch(n)}
        seqs = [self.ask(f"SLISt:NAME? {i}").strip().strip('"')
                for i in range(1, int(self.ask("SLISt:SIZE?")) + 1)]
        self._has_sequence = self.sequence in seqs
        self._table = None
        self._sent = {}
        self._armed = self.ask("AWGControl:RSTate?").strip() != "0"
        self._stale = False

    def reset(self) -> None:
        """``*RST``, then read back what the instrument holds."""
        self.write("*RST")
        self.ask("*OPC?")
        self.sync()

    # ---------------------------------------------------------------- sending
    def _send(self, command: str) -> None:
        self.write(command)
        self.last_upload.commands += 1
        self.last_upload.bytes += len(command) + 1
        self.stats.commands += 1
        self.stats.bytes += len(command) + 1

    def _send_block(self, header: str, data: bytes) -> None:
        self.write_block(header, data)
        n = len(header) + len(data) + len(str(len(data))) + 3
        for s in (self.last_upload, self.stats):
            s.commands += 1
            s.bytes += n

    def _check(self, command: str) -> None:
        """``*OPC?`` then the error queue: `UploadError` naming ``command`` if it holds any."""
        self.ask("*OPC?")
        errors = self.read_errors()
        if errors:
            raise UploadError(self.name, command, errors)

    def _upload(self, program: Program, missing: list[Upload]) -> None:
        pending, first = 0, ""
        for u, data, marks in waveform_bytes(program, missing):
            q = f'"{u.name}"'
            self._send(f"WLISt:WAVeform:NEW {q},{u.length}")
            self._send_block(f"WLISt:WAVeform:DATA {q},", data)
            if marks is not None:
                self._send_block(f"WLISt:WAVeform:MARKer:DATA {q},", marks)
            for s in (self.last_upload, self.stats):
                s.waveforms += 1
                s.names.append(u.name)
            first = first or f"WLISt:WAVeform:DATA {q}"
            pending += len(data)
            if pending >= self.check_bytes:
                self._check(f"{first} .. {q}")
                pending, first = 0, ""
        if first:
            self._check(f"{first} .. (waveform uploads)")

    def _upload_sequence(self, table: TableState) -> None:
        old = self._table
        cmds: list[str] = []
        if old is None or old.shape != table.shape:
            if self._has_sequence:
                cmds.append(f'SLISt:SEQuence:DELete "{self.sequence}"')
                self._sent = {k: v for k, v in self._sent.items() if k[0] != "assign"}
            steps, tracks = table.shape
            cmds.append(f'SLISt:SEQuence:NEW "{self.sequence}",{steps},{tracks}')
            old = TableState.blank(steps, tracks)
        cmds += commands(table, old, self.sequence, self.trigger_input, self.jump_input)
        if not cmds:
            return
        for message in batches(cmds, self.batch_bytes):
            self._send(message)
        self._has_sequence = True
        self._check(f"SLISt:SEQuence:* ({len(cmds)} commands)")
        self._table = table

    def _settings(self, plan: Plan, rate: float) -> dict[tuple[str, int], str]:
        """Settings commands whose value differs from what was sent (key -> command)."""
        want: dict[tuple[str, int], str] = {("rate", 0): f"CLOCk:SRATe {rate!r}"}
        for track, n in enumerate(plan.channels.values(), start=1):
            sc = plan.scalings[n]
            want[("assign", n)] = f'SOURce{n}:CASSet:SEQuence "{self.sequence}",{track}'
            want[("amplitude", n)] = f"SOURce{n}:VOLTage {sc.amplitude!r}"
            if sc.offset or ("offset", n) in self._sent:
                want[("offset", n)] = f"SOURce{n}:VOLTage:OFFSet {sc.offset!r}"
            want[("resolution", n)] = f"SOURce{n}:DAC:RESolution {plan.resolutions[n]}"
            for k in plan.markers[n]:
                want[("marker_wait", n * 10 + k)] = f"OUTPut{n}:WVALue:MARKer{k} LOW"
            want[("output", n)] = f"OUTPut{n}:STATe 1"
        for key, cmd in self._sent.items():
            if key[0] == "output" and cmd.endswith(" 1") and ("output", key[1]) not in want:
                want[key] = f"OUTPut{key[1]}:STATe 0"
        return {k: v for k, v in want.items() if self._sent.get(k) != v}

    def _apply(self, settings: dict[tuple[str, int], str]) -> None:
        order = ("assign", "amplitude", "offset", "resolution", "marker_wait", "output")
        cmds = sorted(settings.items(), key=lambda kv: (order.index(kv[0][0]), kv[0][1]))
        if not cmds:
            return
        for message in batches([c for _, c in cmds], self.batch_bytes):
            self._send(message)
        self._check(f"channel settings ({'; '.join(c for _, c in cmds[:3])} ..)")
        self._sent.update(settings)

    def _collect(self, keep: set[str]) -> None:
        """Delete our waveforms no program needs, oldest first, above ``cache_samples``."""
        total = sum(self._held.values())
        doomed = []
        for name, length in self._held.items():
            if total <= self.cache_samples:
                break
            if name not in keep:
                doomed.append(name)
                total -= length
        for name in doomed:
            self._send(f'WLISt:WAVeform:DELete "{name}"')
            del self._held[name]
        if doomed:
            self._check(f"WLISt:WAVeform:DELete ({len(doomed)} waveforms)")
