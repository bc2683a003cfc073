"""Trigger commands of the QDAC-II mock: *TRG, TINT and the trigger outputs."""

from __future__ import annotations

from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.limits import N_EXTERNAL_OUTPUTS, N_INTERNAL_TRIGGERS
from dotstack.mocks.instruments.qdac2.state import OutputTrigger
from dotstack.mocks.instruments.qdac2.values import trigger_source, word
from dotstack.mocks.scpi import Call, command, format_float


class TriggerCommands(QDacEngine):
    """*TRG (bus trigger), TINT (internal triggers) and OUTPut:TRIGger# (trigger outputs)."""

    @command("*TRG")
    def _trg(self, call: Call) -> None:
        call.allow(0)
        self.fire("bus")

    @command("TINT")
    def _tint(self, call: Call) -> None:
        self.fire(f"int{call.int(0, min=1, max=N_INTERNAL_TRIGGERS)}")

    def _out(self, call: Call) -> OutputTrigger:
        return self.out_triggers[call.suffix(0, min=1, max=N_EXTERNAL_OUTPUTS)]

    def _out_number(self, call: Call) -> int:
        return call.suffix(0, min=1, max=N_EXTERNAL_OUTPUTS)

    @command("OUTPut:TRIGger#:SOURce")
    def _out_source(self, call: Call) -> None:
        self._out(call).source = trigger_source(call.text(0), outputs=True)

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
        self._out(call).polarity = word(call, 0, ("NORMal", "INVerted"))

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
        self._emit(self._out_number(call), self.now() + self._out(call).delay)
