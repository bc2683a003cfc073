"""Current sensors of the QDAC-II mock (SENSe#:..., FETCh#?, READ#?).

Each channel's sensor sees the output across `LEAKAGE_OHM`; see `Channel.current`.
"""

from __future__ import annotations

from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.values import trigger_source, word
from dotstack.mocks.scpi import Call, command, format_float


class SensorCommands(QDacEngine):
    """Range, integration time, count, triggering and data of the per-channel current sensors."""

    @command("SENSe#:RANGe")
    def _sens_range(self, call: Call) -> None:
        choice = word(call, 0, ("LOW", "HIGH"))
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
        self._chan(call).sense.source = trigger_source(call.text(0))

    @command("SENSe#:INITiate[:IMMediate]")
    def _sens_init(self, call: Call) -> None:
        c = self._chan(call)
        if c.sense.source == "imm":
            c.measure(self.now())
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
        return ",".join(format_float(c.current(t)) for c in self._targets(call, 0))
