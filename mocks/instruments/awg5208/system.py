"""Run control, triggers, clock, mode, mass memory (files) and error codes of the AWG5208 mock.

The disk is a dict of files; paths are relative to ``MMEMory:CDIRectory`` unless absolute
(``C:\\...`` or ``\\...``) and compared without case, as on Windows.  ``MMEMory:DATA`` writes a
file (at a byte offset if one is given, so a file can be sent in chunks); ``MMEMory:OPEN`` loads
a .wfmx into the waveform list (named after the file) or a .seqx into both lists, as do
``MMEMory:OPEN:SASSet[:WAVeform]`` and ``MMEMory:OPEN:SASSet:SEQuence``.
"""

from __future__ import annotations

from pathlib import PureWindowsPath

from dotstack.mocks.instruments.awg5208 import limits
from dotstack.mocks.instruments.awg5208.base import AwgBase
from dotstack.mocks.instruments.awg5208.files import FileFormatError, parse_seqx, parse_wfmx
from dotstack.mocks.instruments.awg5208.lists import name_arg
from dotstack.mocks.scpi import Call, ScpiError, command, format_block, format_float
from dotstack.mocks.scpi.handlers import short_form

_CLOCK_SOURCES = ("INTernal", "EFIXed", "EVARiable", "EXTernal")
_TRIGGERS = {"ATR": "A", "BTR": "B", "ITR": "I"}


def _file_error(detail: str) -> ScpiError:
    return ScpiError(-256, "File name not found", detail)


class SystemCommands(AwgBase):
    """AWGControl, TRIGger, *TRG, CLOCk, INSTrument, MMEMory, SYSTem:ERRor:CODE."""

    # -- run control and triggers ----------------------------------------------------------
    @command("AWGControl:RUN[:IMMediate]")
    def _run_cmd(self, call: Call) -> None:
        call.allow(0)
        if self.mode != "AWG":
            raise ScpiError(-221, "Settings conflict", "instrument in FGEN mode")
        self._start(self.t_exec())

    @command("AWGControl:STOP[:IMMediate]")
    def _stop_cmd(self, call: Call) -> None:
        call.allow(0)
        self._stop(self.t_exec())

    @command("AWGControl:RSTate?")
    def _rstate(self, call: Call) -> str:
        call.allow(0)
        return str(self.run_state(self.t_exec()))

    @command("TRIGger[:SEQuence][:IMMediate]")
    def _trigger_cmd(self, call: Call) -> None:
        call.allow(1)
        which = short_form(call.choice(0, ("ATRigger", "BTRigger", "ITRigger"))) \
            if call.nargs else "ATR"
        self.trigger(_TRIGGERS[which], self.t_exec())

    @command("*TRG")
    def _trg(self, call: Call) -> None:
        call.allow(0)
        self.trigger("A", self.t_exec())

    # -- clock and mode --------------------------------------------------------------------
    @command("CLOCk:SRATe")
    def _srate(self, call: Call) -> None:
        call.allow(1)
        rate = call.float(0, min=limits.MIN_SAMPLE_RATE, max=limits.MAX_SAMPLE_RATE,
                          default=limits.MAX_SAMPLE_RATE)
        if rate != self.sample_rate and self.running:
            self._stop(self.t_exec())
        self.sample_rate = rate

    @command("CLOCk:SRATe?")
    def _srate_q(self, call: Call) -> str:
        call.allow(0)
        return format_float(self.sample_rate)

    @command("CLOCk:SOURce")
    def _clock_source(self, call: Call) -> None:
        call.allow(1)
        self.clock_source = short_form(call.choice(0, _CLOCK_SOURCES))

    @command("CLOCk:SOURce?")
    def _clock_source_q(self, call: Call) -> str:
        call.allow(0)
        return self.clock_source

    @command("CLOCk:ECLock:FREQuency")
    def _ext_clock(self, call: Call) -> None:
        call.allow(1)
        self.ext_clock = call.float(0, min=6.25e9, max=12.5e9, unit="HZ")

    @command("CLOCk:ECLock:FREQuency?")
    def _ext_clock_q(self, call: Call) -> str:
        call.allow(0)
        return format_float(self.ext_clock)

    @command("INSTrument:MODE")
    def _mode(self, call: Call) -> None:
        call.allow(1)
        mode = call.choice(0, ("AWG", "FGEN"))
        if mode != self.mode:
            self._stop(self.t_exec())
        self.mode = mode

    @command("INSTrument:MODE?")
    def _mode_q(self, call: Call) -> str:
        call.allow(0)
        return self.mode

    @command("SYSTem:ERRor:CODE[:NEXT]?")
    def _error_code(self, call: Call) -> str:
        call.allow(0)
        return str(self.pop_error()[0])

    # -- mass memory -----------------------------------------------------------------------
    def _path(self, name: str) -> tuple[str, str]:
        """(key, display path) of a file name relative to the current directory."""
        p = PureWindowsPath(name)
        if not p.root:  # relative: below the current directory
            p = PureWindowsPath(self.cwd) / p
        if not p.root:
            p = PureWindowsPath("\\") / p
        shown = str(PureWindowsPath(p.root, *p.parts[1:]))
        return shown.lower(), shown

    def _read(self, name: str) -> tuple[str, bytes]:
        key, shown = self._path(name)
        if key not in self.files:
            raise _file_error(shown)
        return self.files[key]

    @command("MMEMory:CDIRectory")
    def _cdir(self, call: Call) -> None:
        call.allow(1)
        self.cwd = name_arg(call, 0) if call.nargs else limits.DEFAULT_DIRECTORY

    @command("MMEMory:CDIRectory?")
    def _cdir_q(self, call: Call) -> str:
        call.allow(0)
        return f'"{self.cwd}"'

    @command("MMEMory:DATA")
    def _mmem_data(self, call: Call) -> None:
        call.require(2)
        call.allow(3)
        key, shown = self._path(name_arg(call, 0))
        data = call.block(call.nargs - 1)
        if call.nargs == 3:
            offset = call.int(1, min=0)
            old = bytearray(self.files.get(key, (shown, b""))[1])
            old[len(old):offset] = bytes(max(0, offset - len(old)))
            old[offset:offset + len(data)] = data
            data = bytes(old)
        self.files[key] = (shown, data)

    @command("MMEMory:DATA?")
    def _mmem_data_q(self, call: Call) -> bytes:
        call.require(1)
        call.allow(3)
        _, data = self._read(name_arg(call, 0))
        start = call.int(1, min=0, max=len(data)) if call.nargs > 1 else 0
        size = call.int(2, min=0, max=len(data) - start) if call.nargs > 2 else len(data) - start
        return format_block(data[start:start + size])

    @command("MMEMory:DATA:SIZE?")
    def _mmem_size(self, call: Call) -> str:
        call.allow(1)
        return str(len(self._read(name_arg(call, 0))[1]))

    @command("MMEMory:DELete")
    def _mmem_delete(self, call: Call) -> None:
        call.require(1)
        call.allow(2)
        key, shown = self._path(name_arg(call, 0))
        if self.files.pop(key, None) is None:
            raise _file_error(shown)

    @command("MMEMory:CATalog?")
    def _catalog(self, call: Call) -> str:
        call.allow(1)
        here = self._path("x")[0][:-1]
        items = [(shown, len(data)) for key, (shown, data) in self.files.items()
                 if key.startswith(here) and "\\" not in key[len(here):]]
        used = sum(n for _, n in items)
        listed = ",".join(f'"{PureWindowsPath(s).name},,{n}"' for s, n in items)
        return f"{used},{2**40 - used}" + ("," + listed if listed else "")

    def _load(self, call: Call, what: str) -> None:
        call.require(1)
        call.allow(2)
        path, data = self._read(name_arg(call, 0))
        wanted = name_arg(call, 1) if call.nargs > 1 else None
        stem, suffix = PureWindowsPath(path).stem, PureWindowsPath(path).suffix.lower()
        try:
            if suffix == ".wfmx":
                if what == "sequence":
                    raise FileFormatError(f"{path}: not a sequence file")
                wave = parse_wfmx(data, stem)
                self.editing(wave.name)
                self.waveforms[wave.name] = wave
                return
            if suffix != ".seqx":
                raise FileFormatError(f"{path}: unsupported file type {suffix}")
            contents = parse_seqx(data, path)
        except FileFormatError as exc:
            raise ScpiError(-250, "Mass storage error", str(exc)) from None
        sequences = [s for s in contents.sequences if wanted is None or s.name == wanted]
        if what == "sequence":
            if not sequences:
                raise ScpiError(-224, "Illegal parameter value", f"no sequence {wanted}")
            used = {a for s in sequences for step in s.steps for a in step.assets if a}
            waves = {k: w for k, w in contents.waveforms.items() if k in used}
        else:
            waves = {k: w for k, w in contents.waveforms.items() if wanted in (None, k)}
            sequences = []
        for name, wave in waves.items():
            self.editing(name)
            self.waveforms[name] = wave
        for seq in sequences:
            self.editing(seq.name)
            self.sequences[seq.name] = seq
            self.last_opened_sequence = seq.name

    @command("MMEMory:OPEN")
    def _open(self, call: Call) -> None:
        path = name_arg(call, 0) if call.nargs else ""
        self._load(call, "sequence" if path.lower().endswith(".seqx") else "waveform")

    @command("MMEMory:OPEN:SASSet[:WAVeform]")
    def _open_waveforms(self, call: Call) -> None:
        self._load(call, "waveform")

    @command("MMEMory:OPEN:SASSet:SEQuence")
    def _open_sequences(self, call: Call) -> None:
        self._load(call, "sequence")

    @command("MMEMory:OPEN:SASSet:SEQuence:MROPened?")
    def _most_recent(self, call: Call) -> str:
        call.allow(0)
        return f'"{self.last_opened_sequence}"'
