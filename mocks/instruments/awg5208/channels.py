"""Channel commands of the AWG5208 mock: SOURce (levels, resolution, assets, markers, jumps),
OUTPut (states, wait and stopped values) and FGEN (stored, not played)."""

from __future__ import annotations

from dotstack.mocks.instruments.awg5208 import limits
from dotstack.mocks.instruments.awg5208.base import AwgBase
from dotstack.mocks.instruments.awg5208.lists import name_arg
from dotstack.mocks.instruments.awg5208.state import Channel
from dotstack.mocks.scpi import Call, ScpiError, command, format_float
from dotstack.mocks.scpi.handlers import format_bool, header_nodes, short_form

#: FGEN settings: *RST value of each (stored per channel, returned as set).
_FGEN = {"AMPLitude": "0.5", "OFFSet": "0", "FREQuency": "1000000", "DCLevel": "0",
         "PATH": "DCHB", "PERiod": "1E-06", "PHASe": "0", "SYMMetry": "100", "TYPE": "SINE"}


class ChannelCommands(AwgBase):
    """SOURce#, OUTPut#, FGEN:CHANnel#."""

    def _ch(self, call: Call, i: int = 0) -> Channel:
        return self.channels[call.suffix(i, min=1, max=limits.N_CHANNELS)]

    # -- levels --------------------------------------------------------------------------
    @command("SOURce#:VOLTage[:LEVel][:IMMediate][:AMPLitude]")
    def _amplitude(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        lo, hi = limits.AMPLITUDE_RANGE
        c.amplitude = call.float(0, min=lo, max=hi, unit="V")
        self.settings_changed([c.n])

    @command("SOURce#:VOLTage[:LEVel][:IMMediate][:AMPLitude]?")
    def _amplitude_q(self, call: Call) -> str:
        call.allow(0)
        return format_float(self._ch(call).amplitude)

    @command("SOURce#:VOLTage[:LEVel][:IMMediate]:OFFSet")
    def _offset(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        c.offset = call.float(0, min=limits.OFFSET_RANGE[0], max=limits.OFFSET_RANGE[1], unit="V")
        self.settings_changed([c.n])

    @command("SOURce#:VOLTage[:LEVel][:IMMediate]:OFFSet?")
    def _offset_q(self, call: Call) -> str:
        call.allow(0)
        return format_float(self._ch(call).offset)

    @command("SOURce#:VOLTage[:LEVel][:IMMediate]:HIGH?")
    def _high_q(self, call: Call) -> str:
        call.allow(0)
        c = self._ch(call)
        return format_float(c.offset + c.amplitude / 2)

    @command("SOURce#:VOLTage[:LEVel][:IMMediate]:LOW?")
    def _low_q(self, call: Call) -> str:
        call.allow(0)
        c = self._ch(call)
        return format_float(c.offset - c.amplitude / 2)

    @command("SOURce#:DAC:RESolution")
    def _resolution(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        bits = call.int(0)
        if bits not in limits.RESOLUTIONS:
            raise ScpiError(-224, "Illegal parameter value", f"resolution {bits}")
        c.resolution = bits
        self.settings_changed([c.n])

    @command("SOURce#:DAC:RESolution?")
    def _resolution_q(self, call: Call) -> str:
        call.allow(0)
        return str(self._ch(call).resolution)

    @command("SOURce#:RMODe")
    def _rmode(self, call: Call) -> None:
        call.allow(1)
        self._ch(call).fgen["RMODE"] = short_form(
            call.choice(0, ("CONTinuous", "TRIGgered", "TCONtinuous", "GATed")))

    @command("SOURce#:RMODe?")
    def _rmode_q(self, call: Call) -> str:
        call.allow(0)
        return self._ch(call).fgen.get("RMODE", "CONT")

    # -- assets --------------------------------------------------------------------------
    def _assign(self, c: Channel, asset: tuple[str, str, int] | None) -> None:
        if self.running and c.asset != asset:
            self._stop(self.t_exec())
        c.asset = asset

    @command("SOURce#:CASSet:SEQuence")
    def _assign_sequence(self, call: Call) -> None:
        call.require(2)
        call.allow(3)
        c = self._ch(call)
        name = name_arg(call, 0)
        seq = self.sequences.get(name)
        if seq is None:
            raise ScpiError(-224, "Illegal parameter value", f"no sequence {name}")
        track = call.int(1, min=1, max=seq.tracks)
        self._assign(c, ("SEQ", name, track))

    @command("SOURce#:CASSet:WAVeform")
    def _assign_waveform(self, call: Call) -> None:
        call.require(1)
        call.allow(2)
        c = self._ch(call)
        name = name_arg(call, 0)
        if name not in self.waveforms:
            raise ScpiError(-224, "Illegal parameter value", f"no waveform {name}")
        self._assign(c, ("WAV", name, 0))

    @command("SOURce#:CASSet:CLEar")
    def _assign_clear(self, call: Call) -> None:
        call.allow(0)
        self._assign(self._ch(call), None)

    @command("SOURce#:CASSet?")
    def _asset_q(self, call: Call) -> str:
        call.allow(0)
        a = self._ch(call).asset
        if a is None:
            return '""'
        return f'"{a[1]},{a[2]}"' if a[0] == "SEQ" else f'"{a[1]}"'

    @command("SOURce#:CASSet:TYPE?")
    def _asset_type_q(self, call: Call) -> str:
        call.allow(0)
        a = self._ch(call).asset
        return "NONE" if a is None else "SEQ" if a[0] == "SEQ" else "WAV"

    @command("SOURce#:JUMP:FORCe")
    def _force_jump(self, call: Call) -> None:
        call.require(1)
        call.allow(1)
        text = call.text(0).strip()
        target: int | str = call.int(0, min=1, max=limits.MAX_STEPS) if text[:1].isdigit() \
            else call.choice(0, ("FIRSt", "CURRent", "LAST", "END")).upper()
        self.force_jump(target, self.t_exec())

    # -- markers -------------------------------------------------------------------------
    @command("SOURce#:MARKer#:VOLTage[:LEVel][:IMMediate]:HIGH")
    @command("SOURce#:MARKer#:VOLTage[:LEVel][:IMMediate]:LOW")
    def _marker_level(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        k = call.suffix(1, min=1, max=limits.N_MARKERS)
        high = header_nodes(call.header)[-1].startswith("HIGH")
        lo, hi = limits.MARKER_HIGH if high else limits.MARKER_LOW
        (c.marker_high if high else c.marker_low)[k - 1] = call.float(0, min=lo, max=hi, unit="V")

    @command("SOURce#:MARKer#:VOLTage[:LEVel][:IMMediate]:HIGH?")
    @command("SOURce#:MARKer#:VOLTage[:LEVel][:IMMediate]:LOW?")
    def _marker_level_q(self, call: Call) -> str:
        call.allow(0)
        c = self._ch(call)
        k = call.suffix(1, min=1, max=limits.N_MARKERS)
        high = header_nodes(call.header)[-1].startswith("HIGH")
        return format_float((c.marker_high if high else c.marker_low)[k - 1])

    @command("SOURce#:MARKer#:DELay")
    def _marker_delay(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        c.marker_delay[call.suffix(1, min=1, max=limits.N_MARKERS) - 1] = call.float(
            0, min=0.0, max=1e-9 * 100, unit="S")
        self.settings_changed([c.n])

    @command("SOURce#:MARKer#:DELay?")
    def _marker_delay_q(self, call: Call) -> str:
        call.allow(0)
        return format_float(self._ch(call).marker_delay[call.suffix(1, max=limits.N_MARKERS) - 1])

    # -- outputs -------------------------------------------------------------------------
    @command("OUTPut#[:STATe]")
    def _state(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        c.output = call.bool(0)
        self.settings_changed([c.n])

    @command("OUTPut#[:STATe]?")
    def _state_q(self, call: Call) -> str:
        call.allow(0)
        return format_bool(self._ch(call).output)

    @command("OUTPut:OFF")
    def _all_off(self, call: Call) -> None:
        call.allow(1)
        self.all_off = call.bool(0)
        self.settings_changed()

    @command("OUTPut:OFF?")
    def _all_off_q(self, call: Call) -> str:
        call.allow(0)
        return format_bool(self.all_off)

    @command("OUTPut#:WVALue:ANALog[:STATe]")
    def _hold(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        c.hold = call.choice(0, ("FIRSt", "ZERO")).upper()
        self.settings_changed([c.n])

    @command("OUTPut#:WVALue:ANALog[:STATe]?")
    def _hold_q(self, call: Call) -> str:
        call.allow(0)
        return self._ch(call).hold

    @command("OUTPut#:WVALue:MARKer#")
    def _marker_wait(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        k = call.suffix(1, min=1, max=limits.N_MARKERS)
        c.marker_wait[k - 1] = call.choice(0, ("FIRSt", "LOW", "HIGH")).upper()
        self.settings_changed([c.n])

    @command("OUTPut#:WVALue:MARKer#?")
    def _marker_wait_q(self, call: Call) -> str:
        call.allow(0)
        return self._ch(call).marker_wait[call.suffix(1, max=limits.N_MARKERS) - 1]

    @command("OUTPut#:SVALue:MARKer#")
    def _marker_stopped(self, call: Call) -> None:
        call.allow(1)
        c = self._ch(call)
        c.marker_stopped[call.suffix(1, min=1, max=limits.N_MARKERS) - 1] = \
            call.choice(0, ("OFF", "LOW")).upper()

    @command("OUTPut#:SVALue:MARKer#?")
    def _marker_stopped_q(self, call: Call) -> str:
        call.allow(0)
        return self._ch(call).marker_stopped[call.suffix(1, max=limits.N_MARKERS) - 1]

    # -- function generator (stored only) --------------------------------------------------
    @command("FGEN[:CHANnel#]:AMPLitude")
    @command("FGEN[:CHANnel#]:OFFSet")
    @command("FGEN[:CHANnel#]:FREQuency")
    @command("FGEN[:CHANnel#]:DCLevel")
    @command("FGEN[:CHANnel#]:PATH")
    @command("FGEN[:CHANnel#]:PHASe")
    @command("FGEN[:CHANnel#]:SYMMetry")
    @command("FGEN[:CHANnel#]:TYPE")
    def _fgen(self, call: Call) -> None:
        call.require(1)
        call.allow(1)
        key = _fgen_key(call.header)
        value = call.text(0).strip()
        if key not in ("PATH", "TYPE"):
            value = format_float(call.float(0))
        self._ch(call).fgen[key] = value.upper()

    @command("FGEN[:CHANnel#]:AMPLitude?")
    @command("FGEN[:CHANnel#]:OFFSet?")
    @command("FGEN[:CHANnel#]:FREQuency?")
    @command("FGEN[:CHANnel#]:DCLevel?")
    @command("FGEN[:CHANnel#]:PATH?")
    @command("FGEN[:CHANnel#]:PERiod?")
    @command("FGEN[:CHANnel#]:PHASe?")
    @command("FGEN[:CHANnel#]:SYMMetry?")
    @command("FGEN[:CHANnel#]:TYPE?")
    def _fgen_q(self, call: Call) -> str:
        call.allow(0)
        key = _fgen_key(call.header)
        c = self._ch(call)
        if key == "PERIOD":
            return format_float(1.0 / float(c.fgen.get("FREQUENCY", _FGEN["FREQuency"])))
        default = next(v for k, v in _FGEN.items() if k.upper() == key)
        value = c.fgen.get(key, default)
        return value if key in ("PATH", "TYPE") else format_float(float(value))


def _fgen_key(header: str) -> str:
    """The long upper-case name of the FGEN setting ``header`` addresses."""
    node = header_nodes(header)[-1]
    for name in _FGEN:
        if node in (name.upper(), short_form(name)):
            return name.upper()
    raise ScpiError.undefined_header(header)
