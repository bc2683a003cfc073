"""WLISt (waveform list) and SLISt (sequence list) commands of the AWG5208 mock.

Names are SCPI strings (quoted); unquoted names are accepted too (QCoDeS sends some bare).
Waveform data are little-endian float32 blocks (normalised, -1..1), marker data one byte per
sample (bit k-1: marker k).  Changing an asset a run uses stops the run; deleting it also
switches off the channels that play it.
"""

from __future__ import annotations

import numpy as np

from dotstack.mocks.instruments.awg5208 import limits
from dotstack.mocks.instruments.awg5208.base import AwgBase
from dotstack.mocks.instruments.awg5208.state import Sequence, Step, Target, Waveform
from dotstack.mocks.scpi import Call, ScpiError, command, format_block
from dotstack.mocks.scpi.handlers import short_form
from dotstack.mocks.scpi.values import unquote

_INPUTS = ("ATRigger", "BTRigger", "ITRigger", "OFF")
_TARGETS = ("NEXT", "FIRSt", "LAST", "END")


def name_arg(call: Call, i: int) -> str:
    """Parameter ``i`` as a name: an SCPI string, or bare text."""
    text = call.text(i)
    return unquote(text) if text[:1] in "\"'" else text.strip()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _input(call: Call, i: int) -> str:
    """A trigger-input parameter as "A", "B", "I" or "OFF"."""
    return {"ATR": "A", "BTR": "B", "ITR": "I", "OFF": "OFF"}[short_form(call.choice(i, _INPUTS))]


def _input_text(value: str) -> str:
    return {"A": "ATR", "B": "BTR", "I": "ITR"}.get(value, "OFF")


def _target(call: Call, i: int, steps: int) -> Target:
    text = call.text(i)
    if text.strip()[:1].isdigit():
        n = call.int(i, min=1, max=steps)
        return n
    return call.choice(i, _TARGETS).upper()


def _target_text(value: Target) -> str:
    return str(value) if isinstance(value, int) else short_form(
        {"NEXT": "NEXT", "FIRST": "FIRSt", "LAST": "LAST", "END": "END"}[value])


class ListCommands(AwgBase):
    """WLISt and SLISt."""

    # -- waveform list -------------------------------------------------------------------
    def _wave(self, call: Call, i: int = 0) -> Waveform:
        name = name_arg(call, i)
        try:
            return self.waveforms[name]
        except KeyError:
            raise ScpiError(-224, "Illegal parameter value", f"no waveform {name}") from None

    @command("WLISt:WAVeform:NEW")
    def _wlist_new(self, call: Call) -> None:
        call.require(2)
        call.allow(3)
        name = name_arg(call, 0)
        size = call.int(1, min=1, max=2_000_000_000)
        if name in self.waveforms:
            raise ScpiError(-224, "Illegal parameter value", f"waveform {name} exists")
        self.waveforms[name] = Waveform.empty(name, size)

    def _range(self, call: Call, wave: Waveform, nargs: int, count: int | None) -> slice:
        start = call.int(1, min=0, max=len(wave)) if nargs > 1 else 0
        size = call.int(2, min=0, max=len(wave)) if nargs > 2 else (
            count if count is not None else len(wave) - start)
        if count is not None and size != count:
            raise ScpiError(-161, "Invalid block data", f"{count} points, size {size}")
        if start + size > len(wave):
            raise ScpiError(-222, "Data out of range", f"{start}+{size} > {len(wave)}")
        return slice(start, start + size)

    @command("WLISt:WAVeform:DATA")
    def _wlist_data(self, call: Call) -> None:
        call.require(2)
        call.allow(4)
        block = call.block(call.nargs - 1)
        if len(block) % 4:
            raise ScpiError(-161, "Invalid block data", "not a float32 array")
        wave = self._wave(call)
        values = np.frombuffer(block, "<f4")
        if not np.all(np.isfinite(values)):
            raise ScpiError(-224, "Illegal parameter value", "samples not finite")
        self.editing(wave.name)
        wave.samples[self._range(call, wave, call.nargs - 1, len(values))] = values

    @command("WLISt:WAVeform:DATA?")
    def _wlist_data_q(self, call: Call) -> bytes:
        call.require(1)
        call.allow(3)
        wave = self._wave(call)
        return format_block(wave.samples[self._range(call, wave, call.nargs, None)]
                            .astype("<f4").tobytes())

    @command("WLISt:WAVeform:MARKer:DATA")
    def _wlist_marker(self, call: Call) -> None:
        call.require(2)
        call.allow(4)
        block = call.block(call.nargs - 1)
        wave = self._wave(call)
        self.editing(wave.name)
        wave.markers[self._range(call, wave, call.nargs - 1, len(block))] = \
            np.frombuffer(block, np.uint8)

    @command("WLISt:WAVeform:MARKer:DATA?")
    def _wlist_marker_q(self, call: Call) -> bytes:
        call.require(1)
        call.allow(3)
        wave = self._wave(call)
        return format_block(wave.markers[self._range(call, wave, call.nargs, None)].tobytes())

    @command("WLISt:WAVeform:DELete")
    def _wlist_delete(self, call: Call) -> None:
        call.require(1)
        call.allow(1)
        names = list(self.waveforms) if call.text(0).strip().upper() == "ALL" else [self._wave(call).name]
        for name in names:
            if self.in_use(name):
                self._stop(self.t_exec())
                for c in self.channels.values():
                    if c.asset and c.asset[0] == "WAV" and c.asset[1] == name:
                        c.output = False
                self.settings_changed()
            del self.waveforms[name]
        for c in self.channels.values():
            if c.asset and c.asset[0] == "WAV" and c.asset[1] in names:
                c.asset = None

    @command("WLISt:LIST?")
    def _wlist_list(self, call: Call) -> str:
        call.allow(0)
        return _quote(",".join(self.waveforms))

    @command("WLISt:SIZE?")
    def _wlist_size(self, call: Call) -> str:
        call.allow(0)
        return str(len(self.waveforms))

    @command("WLISt:NAME?")
    def _wlist_name(self, call: Call) -> str:
        call.allow(1)
        i = call.int(0, min=1, max=max(len(self.waveforms), 1))
        if i > len(self.waveforms):
            raise ScpiError(-222, "Data out of range", "waveform list is empty")
        return _quote(list(self.waveforms)[i - 1])

    @command("WLISt:WAVeform:LENGth?")
    def _wlist_length(self, call: Call) -> str:
        call.allow(1)
        return str(len(self._wave(call)))

    @command("WLISt:WAVeform:GRANularity?")
    def _wlist_granularity(self, call: Call) -> str:
        call.allow(0)
        return "1"

    # -- sequence list -------------------------------------------------------------------
    def _seq(self, call: Call, i: int = 0) -> Sequence:
        name = name_arg(call, i)
        try:
            return self.sequences[name]
        except KeyError:
            raise ScpiError(-224, "Illegal parameter value", f"no sequence {name}") from None

    def _step(self, call: Call, seq: Sequence) -> Step:
        return seq.steps[call.suffix(0, min=1, max=len(seq.steps)) - 1]

    @command("SLISt:SIZE?")
    def _slist_size(self, call: Call) -> str:
        call.allow(0)
        return str(len(self.sequences))

    @command("SLISt:NAME?")
    def _slist_name(self, call: Call) -> str:
        call.allow(1)
        i = call.int(0, min=1, max=max(len(self.sequences), 1))
        if i > len(self.sequences):
            raise ScpiError(-222, "Data out of range", "sequence list is empty")
        return _quote(list(self.sequences)[i - 1])

    @command("SLISt:SEQuence:NEW")
    def _slist_new(self, call: Call) -> None:
        call.require(2)
        call.allow(3)
        name = name_arg(call, 0)
        steps = call.int(1, min=1, max=limits.MAX_STEPS)
        tracks = call.int(2, min=1, max=limits.MAX_TRACKS) if call.nargs > 2 else 1
        if name in self.sequences:
            raise ScpiError(-224, "Illegal parameter value", f"sequence {name} exists")
        self.sequences[name] = Sequence.new(name, steps, tracks)

    @command("SLISt:SEQuence:DELete")
    def _slist_delete(self, call: Call) -> None:
        call.require(1)
        call.allow(1)
        names = list(self.sequences) if call.text(0).strip().upper() == "ALL" \
            else [self._seq(call).name]
        for name in names:
            self.editing(name)
            del self.sequences[name]
        for c in self.channels.values():
            if c.asset and c.asset[0] == "SEQ" and c.asset[1] in names:
                c.asset = None

    @command("SLISt:SEQuence:LENGth?")
    def _slist_length(self, call: Call) -> str:
        call.allow(1)
        return str(len(self._seq(call).steps))

    @command("SLISt:SEQuence:TRACk?")
    def _slist_tracks(self, call: Call) -> str:
        call.allow(1)
        return str(self._seq(call).tracks)

    @command("SLISt:SEQuence:TRACk:MAX?")
    def _slist_track_max(self, call: Call) -> str:
        call.allow(0)
        return str(limits.MAX_TRACKS)

    @command("SLISt:SEQuence:STEP:MAX?")
    def _slist_step_max(self, call: Call) -> str:
        call.allow(0)
        return str(limits.MAX_STEPS)

    @command("SLISt:SEQuence:STEP:RCOunt:MAX?")
    def _slist_rcount_max(self, call: Call) -> str:
        call.allow(0)
        return str(limits.MAX_REPEAT)

    @command("SLISt:SEQuence:EVENt:JTIMing")
    def _slist_jtiming(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        self.editing(seq.name)
        seq.jump_timing = short_form(call.choice(1, ("END", "IMMediate")))

    @command("SLISt:SEQuence:EVENt:JTIMing?")
    def _slist_jtiming_q(self, call: Call) -> str:
        call.allow(1)
        return self._seq(call).jump_timing

    @command("SLISt:SEQuence:STEP#:TASSet#:WAVeform")
    def _step_asset(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        step = self._step(call, seq)
        track = call.suffix(1, min=1, max=seq.tracks)
        wave = self._wave(call, 1)
        self.editing(seq.name)
        step.assets[track - 1], step.kinds[track - 1] = wave.name, "WAV"

    @command("SLISt:SEQuence:STEP#:TASSet#?")
    def _step_asset_q(self, call: Call) -> str:
        call.allow(1)
        seq = self._seq(call)
        return _quote(self._step(call, seq).assets[call.suffix(1, max=seq.tracks) - 1] or "")

    @command("SLISt:SEQuence:STEP#:TASSet#:TYPE?")
    def _step_asset_type(self, call: Call) -> str:
        call.allow(1)
        seq = self._seq(call)
        track = call.suffix(1, max=seq.tracks) - 1
        step = self._step(call, seq)
        return step.kinds[track] if step.assets[track] else "NONE"

    @command("SLISt:SEQuence:STEP#:RCOunt")
    def _step_repeat(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        step = self._step(call, seq)
        text = call.text(1).strip().upper()
        self.editing(seq.name)
        if text in ("ONCE",):
            step.repeat = 1
        elif text in ("INF", "INFINITE"):
            step.repeat = 0
        else:
            step.repeat = call.int(1, min=1, max=limits.MAX_REPEAT)

    @command("SLISt:SEQuence:STEP#:RCOunt?")
    def _step_repeat_q(self, call: Call) -> str:
        call.allow(1)
        r = self._step(call, self._seq(call)).repeat
        return "INF" if r == 0 else "ONCE" if r == 1 else str(r)

    @command("SLISt:SEQuence:STEP#:WINPut")
    def _step_wait(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        self.editing(seq.name)
        self._step(call, seq).wait = _input(call, 1)

    @command("SLISt:SEQuence:STEP#:WINPut?")
    def _step_wait_q(self, call: Call) -> str:
        call.allow(1)
        return _input_text(self._step(call, self._seq(call)).wait)

    @command("SLISt:SEQuence:STEP#:EJINput")
    def _step_ejinput(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        self.editing(seq.name)
        self._step(call, seq).jump_input = _input(call, 1)

    @command("SLISt:SEQuence:STEP#:EJINput?")
    def _step_ejinput_q(self, call: Call) -> str:
        call.allow(1)
        return _input_text(self._step(call, self._seq(call)).jump_input)

    @command("SLISt:SEQuence:STEP#:EJUMp")
    def _step_ejump(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        self.editing(seq.name)
        self._step(call, seq).jump_to = _target(call, 1, len(seq.steps))

    @command("SLISt:SEQuence:STEP#:EJUMp?")
    def _step_ejump_q(self, call: Call) -> str:
        call.allow(1)
        return _target_text(self._step(call, self._seq(call)).jump_to)

    @command("SLISt:SEQuence:STEP#:GOTO")
    def _step_goto(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        seq = self._seq(call)
        self.editing(seq.name)
        self._step(call, seq).goto = _target(call, 1, len(seq.steps))

    @command("SLISt:SEQuence:STEP#:GOTO?")
    def _step_goto_q(self, call: Call) -> str:
        call.allow(1)
        return _target_text(self._step(call, self._seq(call)).goto)
