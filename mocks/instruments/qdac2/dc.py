"""Fixed DC output of the QDAC-II mock: level, triggered level, mode, slew, range and filter.

A fixed-mode change slews at the programmed rate; the lab is told the rate, so it sees the
ramp exactly.
"""

from __future__ import annotations

import math

from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.limits import MAX_SLEW, MIN_SLEW, RANGES
from dotstack.mocks.instruments.qdac2.values import word
from dotstack.mocks.scpi import Call, ScpiError, command, format_float
from dotstack.mocks.scpi.handlers import commands, header_nodes, is_infinity


class DcOutputCommands(QDacEngine):
    """[SOURce#]:VOLTage..., :RANGe and :FILTer."""

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
        mode = word(call, 0, ("FIXed", "SWEep", "LIST"))
        if mode != c.mode:
            t = self.now()
            self._cancel(c)
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
        infinite = is_infinity(call, 0)
        c.slew = math.inf if infinite else call.float(0, min=MIN_SLEW, max=MAX_SLEW)

    @command("[SOURce#]:VOLTage:SLEW?")
    def _slew_q(self, call: Call) -> str:
        return format_float(self._chan(call).slew)

    @command("[SOURce#]:RANGe")
    def _range(self, call: Call) -> None:
        choice = word(call, 0, ("LOW", "HIGH"))
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

    @commands(
        f"[SOURce#]:RANGe:{which}:{limit}?"
        for which in ("HIGH", "LOW")
        for limit in ("MAXimum", "MINimum")
    )
    def _range_limit_q(self, call: Call) -> str:
        self._chan(call)
        *_, which, limit = header_nodes(call.header)
        volts = RANGES["low" if which == "LOW" else "high"]
        return format_float(-volts if limit.startswith("MIN") else volts)

    @command("[SOURce#]:FILTer")
    def _filter(self, call: Call) -> None:
        choice = word(call, 0, ("DC", "MEDium", "HIGH"))
        for c in self._targets(call, 1):
            c.filter = choice

    @command("[SOURce#]:FILTer?")
    def _filter_q(self, call: Call) -> str:
        return ",".join(c.filter for c in self._targets(call, 0))
