"""DC generator control of the QDAC-II mock: trigger source, INIT, ABORt, delay and markers."""

from __future__ import annotations

from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.limits import N_INTERNAL_TRIGGERS
from dotstack.mocks.instruments.qdac2.values import trigger_source
from dotstack.mocks.scpi import Call, command, format_float
from dotstack.mocks.scpi.handlers import commands, format_bool, header_nodes

_MARKERS = ("STARt", "END", "SSTart", "SENd")
#: Last header node of a marker command -> key of `Channel.markers` (anything else: "send").
_MARKER_KEYS = {"STAR": "start", "START": "start", "END": "end", "SST": "sst", "SSTART": "sst"}


def _marker_key(call: Call) -> str:
    return _MARKER_KEYS.get(header_nodes(call.header)[-1], "send")


class GeneratorCommands(QDacEngine):
    """[SOURce#]:DC:... (trigger, INITiate, ABORt, DELay, MARKer) and the global ABORt."""

    @command("[SOURce#]:DC:TRIGger[:SEQuence]:SOURce")
    def _dc_source(self, call: Call) -> None:
        self._chan(call).source = trigger_source(call.text(0))

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
        return format_bool(self._chan(call).continuous)

    @command("[SOURce#]:DC:ABORt")
    def _dc_abort(self, call: Call) -> None:
        self._abort(self._chan(call))

    @command("[SOURce#]:ALL:ABORt")
    def _all_abort(self, call: Call) -> None:
        """Every generator of the channel: DC and waveforms."""
        c = self._chan(call)
        self._abort(c)
        self._abort_waves(c, self.now())

    @command("ABORt")
    def _abort_all(self, call: Call) -> None:
        t = self.now()
        for c in self.ch.values():
            self._abort(c)
            self._abort_waves(c, t)
            c.sense.armed = False

    @command("[SOURce#]:DC:DELay")
    def _dc_delay(self, call: Call) -> None:
        self._chan(call).delay = call.float(0, min=0.0, max=3600.0, unit="S")

    @command("[SOURce#]:DC:DELay?")
    def _dc_delay_q(self, call: Call) -> str:
        return format_float(self._chan(call).delay)

    @commands(f"[SOURce#]:DC:MARKer:{m}" for m in reversed(_MARKERS))
    def _dc_marker(self, call: Call) -> None:
        self._chan(call).markers[_marker_key(call)] = call.int(0, min=0, max=N_INTERNAL_TRIGGERS)

    @commands(f"[SOURce#]:DC:MARKer:{m}?" for m in reversed(_MARKERS))
    def _dc_marker_q(self, call: Call) -> str:
        return str(self._chan(call).markers[_marker_key(call)])
