"""`SGS100AModel`: SCPI model of a Rohde & Schwarz SGS100A SGMA RF source.

Commands (short or long form, ``SOURce`` optional): ``FREQuency[:CW]``, ``POWer[:LEVel]``,
``PHASe``, ``OUTPut[:STATe]``, ``IQ:STATe`` and the I/Q impairments (``IQ:IMPairment[:STATe]``,
``:LEAKage:I|Q`` in %, ``:IQRatio`` in dB, ``:QUADrature[:ANGLe]`` in degrees), pulse
modulation ``PULM:...`` (state, source, mode, period, width, delay, double pulse, polarity,
trigger; option SGS-K22), reference and LO (``ROSCillator:SOURce``, ``:OUTPut:FREQuency``,
``:EXTernal:FREQuency``, ``LOSCillator:SOURce`` and ``CONNector:REFLo:OUTPut`` LO: option
SGS-K90), ``CONNector:TRIGger:OMODe``, ``OPMode``, the IEEE 488.2 commands and the error queue.
Values outside the instrument's ranges are refused with -222 (the setting is kept); a command
of a missing option gives -241.

Everything that shapes the RF output is logged with its lab time (`CarrierLog`): the physics
asks `SGS100AModel.carrier_at(t)`.  A frequency or level change settles after
``settling_time`` s of lab time (the instrument's setting time; a model value).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from dotstack.mocks.instruments.clocked import ClockedModel
from dotstack.mocks.instruments.sgs100a.state import Carrier, CarrierLog
from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.physics.clock import LabClock, VirtualClock
from dotstack.mocks.scpi import Call, ScpiError, command
from dotstack.mocks.scpi.handlers import commands, format_bool, short_form

#: Frequency ranges (Hz) of the frequency options.
FREQUENCY_OPTIONS = {"SGS-B106": (1e6, 6e9), "SGS-B112": (1e6, 12.75e9)}
POWER_RANGE = (-120.0, 25.0)  # dBm
_REF_FREQS = ("10MHZ", "100MHZ", "1000MHZ")
_S = "[SOURce:]"


def _fmt(x: float) -> str:
    """A number as the instrument replies (plain decimal, no trailing zeros)."""
    return f"{x:.12g}"


class SGS100AModel(ClockedModel):
    """The SGS100A mock (see the module docstring).

    ``lab``: the lab whose clock stamps the settings (without one, a clock of its own);
    ``options``: installed options (a frequency option, SGS-K22 pulse modulation, SGS-K90
    LO coupling); ``settling_time`` (s): frequency/level setting time."""

    idn = ("Rohde&Schwarz", "SGS100A", "1416.0505k02/114403", "4.2.76.0-4.30.046.295")

    def __init__(self, lab: VirtualLab | None = None, *, name: str = "mw",
                 options: Sequence[str] = ("SGS-B112", "SGS-K22", "SGS-K90"),
                 settling_time: float = 1e-3) -> None:
        super().__init__()
        self.lab = lab
        self.name = name
        self.clock: LabClock = lab.clock if lab is not None else VirtualClock()
        self.lock = self.clock.lock
        self.installed = tuple(options)
        freq_opts = [o for o in self.installed if o in FREQUENCY_OPTIONS]
        if len(freq_opts) != 1:
            raise ValueError(f"{name}: need exactly one frequency option of "
                             f"{sorted(FREQUENCY_OPTIONS)}, got {list(self.installed)}")
        self.frequency_range = FREQUENCY_OPTIONS[freq_opts[0]]
        if not (settling_time >= 0 and math.isfinite(settling_time)):
            raise ValueError(f"{name}: settling_time must be finite and >= 0 s, "
                             f"got {settling_time}")
        self.settling_time = float(settling_time)
        self.command_time = 0.0
        self.log = CarrierLog(Carrier())
        self.settings: dict[str, Any] = {}
        self.reset()

    # ---------------------------------------------------------------- physics hook
    def carrier_at(self, t: float | None = None) -> Carrier:
        """The RF output's settings at lab time ``t`` (default now)."""
        return self.log.at(self.clock.now() if t is None else t)

    @property
    def carrier(self) -> Carrier:
        return self.log.current

    def reset(self) -> None:
        """*RST: 1 GHz, -30 dBm, output, I/Q and pulse modulation off, internal reference."""
        super().reset()
        self._change(settle=True, **{k: getattr(Carrier(), k) for k in (
            "frequency", "power_dbm", "output_on", "iq_on", "phase", "pulse_modulation",
            "pulse_source", "iq_impairments_on", "i_offset_pct", "q_offset_pct",
            "iq_gain_imbalance_db", "iq_quadrature_offset")})
        self.settings = {
            "ROSC:SOUR": "INT", "ROSC:OUTP:FREQ": "10MHZ", "ROSC:EXT:FREQ": "10MHZ",
            "LOSC:SOUR": "INT", "CONN:REFL:OUTP": "REF", "CONN:TRIG:OMOD": "SVAL",
            "OPM": "NORM", "PULM:MODE": "SING", "PULM:PER": 10e-6, "PULM:WIDT": 2e-6,
            "PULM:DEL": 0.0, "PULM:DOUB:DEL": 3e-6, "PULM:DOUB:WIDT": 2e-6, "PULM:POL": "NORM",
            "PULM:TRIG:MODE": "AUTO", "PULM:TRIG:EXT:SLOP": "POS",
            "PULM:TRIG:EXT:GATE:POL": "NORM", "PULM:TRIG:EXT:IMP": "G50",
        }

    def _change(self, settle: bool = False, **fields: Any) -> None:
        self.log.change(self.clock.now(), self.settling_time if settle else 0.0, **fields)

    def _require(self, option: str, what: str) -> None:
        if option not in self.installed:
            raise ScpiError(-241, "Hardware missing", f"{what} needs option {option}")

    # ---------------------------------------------------------------- RF
    @commands([f"{_S}FREQuency[:CW]", f"{_S}FREQuency[:CW]?", f"{_S}FREQuency:FIXed",
               f"{_S}FREQuency:FIXed?"])
    def _frequency(self, call: Call) -> str | None:
        if call.is_query:
            return _fmt(self.carrier.frequency)
        lo, hi = self.frequency_range
        call.allow(1)
        self._change(settle=True, frequency=call.float(0, min=lo, max=hi, unit="HZ"))
        return None

    @commands([f"{_S}POWer[:LEVel][:IMMediate][:AMPLitude]",
               f"{_S}POWer[:LEVel][:IMMediate][:AMPLitude]?"])
    def _power(self, call: Call) -> str | None:
        if call.is_query:
            return _fmt(self.carrier.power_dbm)
        call.allow(1)
        self._change(settle=True, power_dbm=call.float(0, min=POWER_RANGE[0],
                                                       max=POWER_RANGE[1], unit="DBM"))
        return None

    @commands([f"{_S}PHASe", f"{_S}PHASe?"])
    def _phase(self, call: Call) -> str | None:
        if call.is_query:
            return _fmt(round(math.degrees(self.carrier.phase), 6))
        call.allow(1)
        self._change(phase=math.radians(call.float(0, min=-360.0, max=360.0)))
        return None

    @commands(["OUTPut[:STATe]", "OUTPut[:STATe]?"])
    def _output(self, call: Call) -> str | None:
        return self._flag(call, "output_on")

    @commands([f"{_S}IQ:STATe", f"{_S}IQ:STATe?"])
    def _iq(self, call: Call) -> str | None:
        return self._flag(call, "iq_on")

    @commands([f"{_S}IQ:IMPairment[:STATe]", f"{_S}IQ:IMPairment[:STATe]?"])
    def _iq_impairments(self, call: Call) -> str | None:
        return self._flag(call, "iq_impairments_on")

    @commands([f"{_S}IQ:IMPairment:LEAKage:I", f"{_S}IQ:IMPairment:LEAKage:I?"])
    def _leak_i(self, call: Call) -> str | None:
        return self._carrier_number(call, "i_offset_pct", -10.0, 10.0)

    @commands([f"{_S}IQ:IMPairment:LEAKage:Q", f"{_S}IQ:IMPairment:LEAKage:Q?"])
    def _leak_q(self, call: Call) -> str | None:
        return self._carrier_number(call, "q_offset_pct", -10.0, 10.0)

    @commands([f"{_S}IQ:IMPairment:IQRatio[:MAGNitude]",
               f"{_S}IQ:IMPairment:IQRatio[:MAGNitude]?"])
    def _iq_ratio(self, call: Call) -> str | None:
        return self._carrier_number(call, "iq_gain_imbalance_db", -1.0, 1.0)

    @commands([f"{_S}IQ:IMPairment:QUADrature[:ANGLe]",
               f"{_S}IQ:IMPairment:QUADrature[:ANGLe]?"])
    def _quadrature(self, call: Call) -> str | None:
        if call.is_query:
            return _fmt(round(math.degrees(self.carrier.iq_quadrature_offset), 6))
        call.allow(1)
        self._change(iq_quadrature_offset=math.radians(call.float(0, min=-8.0, max=8.0)))
        return None

    # ---------------------------------------------------------------- pulse modulation
    @commands([f"{_S}PULM:STATe", f"{_S}PULM:STATe?"])
    def _pulm_state(self, call: Call) -> str | None:
        self._require("SGS-K22", "pulse modulation")
        return self._flag(call, "pulse_modulation")

    @commands([f"{_S}PULM:SOURce", f"{_S}PULM:SOURce?"])
    def _pulm_source(self, call: Call) -> str | None:
        self._require("SGS-K22", "pulse modulation")
        if call.is_query:
            return self.carrier.pulse_source
        call.allow(1)
        self._change(pulse_source=short_form(call.choice(0, ("INTernal", "EXTernal"))))
        return None

    @commands([f"{_S}PULM:MODE", f"{_S}PULM:MODE?"])
    def _pulm_mode(self, call: Call) -> str | None:
        return self._pulse_choice(call, "PULM:MODE", ("SINGle", "DOUBle"))

    @commands([f"{_S}PULM:POLarity", f"{_S}PULM:POLarity?"])
    def _pulm_polarity(self, call: Call) -> str | None:
        return self._pulse_choice(call, "PULM:POL", ("NORMal", "INVerted"))

    @commands([f"{_S}PULM:TRIGger:MODE", f"{_S}PULM:TRIGger:MODE?"])
    def _pulm_trigger_mode(self, call: Call) -> str | None:
        return self._pulse_choice(call, "PULM:TRIG:MODE", ("AUTO", "EXTernal", "EGATe"))

    @commands([f"{_S}PULM:TRIGger:EXTernal:SLOPe", f"{_S}PULM:TRIGger:EXTernal:SLOPe?"])
    def _pulm_slope(self, call: Call) -> str | None:
        return self._pulse_choice(call, "PULM:TRIG:EXT:SLOP", ("NEGative", "POSitive"))

    @commands([f"{_S}PULM:TRIGger:EXTernal:GATE:POLarity",
               f"{_S}PULM:TRIGger:EXTernal:GATE:POLarity?"])
    def _pulm_gate_polarity(self, call: Call) -> str | None:
        return self._pulse_choice(call, "PULM:TRIG:EXT:GATE:POL", ("NORMal", "INVerted"))

    @commands([f"{_S}PULM:TRIGger:EXTernal:IMPedance",
               f"{_S}PULM:TRIGger:EXTernal:IMPedance?"])
    def _pulm_impedance(self, call: Call) -> str | None:
        return self._pulse_choice(call, "PULM:TRIG:EXT:IMP", ("G50", "G10K"))

    @commands([f"{_S}PULM:PERiod", f"{_S}PULM:PERiod?"])
    def _pulm_period(self, call: Call) -> str | None:
        return self._pulse_number(call, "PULM:PER", 100e-9, 100.0)

    @commands([f"{_S}PULM:WIDTh", f"{_S}PULM:WIDTh?"])
    def _pulm_width(self, call: Call) -> str | None:
        return self._pulse_number(call, "PULM:WIDT", 20e-9, 100.0)

    @commands([f"{_S}PULM:DELay", f"{_S}PULM:DELay?"])
    def _pulm_delay(self, call: Call) -> str | None:
        return self._pulse_number(call, "PULM:DEL", 0.0, 100.0)

    @commands([f"{_S}PULM:DOUBle:DELay", f"{_S}PULM:DOUBle:DELay?"])
    def _pulm_double_delay(self, call: Call) -> str | None:
        return self._pulse_number(call, "PULM:DOUB:DEL", 40e-9, 100.0)

    @commands([f"{_S}PULM:DOUBle:WIDTh", f"{_S}PULM:DOUBle:WIDTh?"])
    def _pulm_double_width(self, call: Call) -> str | None:
        return self._pulse_number(call, "PULM:DOUB:WIDT", 20e-9, 100.0)

    # ---------------------------------------------------------------- reference, LO, system
    @commands([f"{_S}ROSCillator:SOURce", f"{_S}ROSCillator:SOURce?"])
    def _ref_source(self, call: Call) -> str | None:
        return self._choice(call, "ROSC:SOUR", ("INTernal", "EXTernal"))

    @commands([f"{_S}ROSCillator:OUTPut:FREQuency", f"{_S}ROSCillator:OUTPut:FREQuency?"])
    def _ref_out_freq(self, call: Call) -> str | None:
        return self._choice(call, "ROSC:OUTP:FREQ", _REF_FREQS)

    @commands([f"{_S}ROSCillator:EXTernal:FREQuency", f"{_S}ROSCillator:EXTernal:FREQuency?"])
    def _ref_ext_freq(self, call: Call) -> str | None:
        return self._choice(call, "ROSC:EXT:FREQ", _REF_FREQS)

    @commands([f"{_S}LOSCillator:SOURce", f"{_S}LOSCillator:SOURce?"])
    def _lo_source(self, call: Call) -> str | None:
        self._require("SGS-K90", "LO coupling")
        return self._choice(call, "LOSC:SOUR", ("INTernal", "EXTernal"))

    @commands(["CONNector:REFLo:OUTPut", "CONNector:REFLo:OUTPut?"])
    def _ref_lo_out(self, call: Call) -> str | None:
        if not call.is_query and call.nargs and call.choice(0, ("REF", "LO", "OFF")) == "LO":
            self._require("SGS-K90", "LO output")
        return self._choice(call, "CONN:REFL:OUTP", ("REF", "LO", "OFF"))

    @commands(["CONNector:TRIGger:OMODe", "CONNector:TRIGger:OMODe?"])
    def _trigger_mode(self, call: Call) -> str | None:
        options = ("SVALid", "SNVALid", "PVOut", "PETrigger", "PEMSource")
        if not call.is_query and call.nargs and call.choice(0, options) in options[2:]:
            self._require("SGS-K22", "pulse trigger connector modes")
        return self._choice(call, "CONN:TRIG:OMOD", options)

    @commands([f"{_S}OPMode", f"{_S}OPMode?"])
    def _opmode(self, call: Call) -> str | None:
        return self._choice(call, "OPM", ("NORMal", "BBBYpass"))

    # ---------------------------------------------------------------- helpers
    def _flag(self, call: Call, field: str) -> str | None:
        if call.is_query:
            return format_bool(bool(getattr(self.carrier, field)))
        call.allow(1)
        self._change(**{field: call.bool(0)})
        return None

    def _carrier_number(self, call: Call, field: str, lo: float, hi: float) -> str | None:
        if call.is_query:
            return _fmt(float(getattr(self.carrier, field)))
        call.allow(1)
        value: Any = call.float(0, min=lo, max=hi)
        self._change(**{field: value})
        return None

    def _choice(self, call: Call, key: str, options: Sequence[str]) -> str | None:
        if call.is_query:
            return str(self.settings[key])
        call.allow(1)
        self.settings[key] = short_form(call.choice(0, options))
        return None

    def _pulse_choice(self, call: Call, key: str, options: Sequence[str]) -> str | None:
        self._require("SGS-K22", "pulse modulation")
        return self._choice(call, key, options)

    def _pulse_number(self, call: Call, key: str, lo: float, hi: float) -> str | None:
        self._require("SGS-K22", "pulse modulation")
        if call.is_query:
            return _fmt(float(self.settings[key]))
        call.allow(1)
        self.settings[key] = call.float(0, min=lo, max=hi, unit="S")
        return None

    @command("*OPT?")
    def _options_query(self, call: Call) -> str:
        call.allow(0)
        return ",".join(self.installed) or "0"
