"""Trigger and sample settings of the 34465A mock (TRIGger:..., SAMPle:...)."""

from __future__ import annotations

import math

from dotstack.mocks.instruments.keysight34465a.base import DmmBase
from dotstack.mocks.instruments.keysight34465a.functions import MAX_COUNT, nr1, nr3
from dotstack.mocks.scpi import Call
from dotstack.mocks.scpi.handlers import commands, format_bool, is_infinity, short_choice


class TriggerCommands(DmmBase):
    """Trigger source, count, delay, slope and level; sample count, pretrigger, source, timer."""

    @commands(["TRIGger:SOURce", "TRIGger:SOURce?"])
    def _trigger_source(self, call: Call) -> str | None:
        if call.is_query:
            return self.trigger_source
        self.trigger_source = short_choice(call, 0, ("IMMediate", "EXTernal", "BUS", "INTernal"))
        return None

    @commands(["TRIGger:COUNt", "TRIGger:COUNt?"])
    def _trigger_count(self, call: Call) -> str | None:
        if call.is_query and not call.nargs:
            return nr3(self.trigger_count)
        infinite = is_infinity(call, 0)
        value = math.inf if infinite else float(call.int(0, min=1, max=MAX_COUNT, default=1))
        if call.is_query:
            return nr3(value)
        self.trigger_count = value
        return None

    @commands(["TRIGger:DELay", "TRIGger:DELay?"])
    def _trigger_delay(self, call: Call) -> str | None:
        if call.is_query and not call.nargs:
            return nr3(self.trigger_delay_now())
        value = round(call.float(0, min=0.0, max=3600.0, default=0.0, unit="S"), 6)
        if call.is_query:
            return nr3(value)
        self.trigger_delay, self.trigger_delay_auto = value, False
        return None

    @commands(["TRIGger:DELay:AUTO", "TRIGger:DELay:AUTO?"])
    def _trigger_delay_auto(self, call: Call) -> str | None:
        if call.is_query:
            return format_bool(self.trigger_delay_auto)
        if not call.bool(0) and self.trigger_delay_auto:
            self.trigger_delay = self.trigger_delay_now()  # keeps the delay it was using
        self.trigger_delay_auto = call.bool(0)
        return None

    @commands(["TRIGger:SLOPe", "TRIGger:SLOPe?"])
    def _slope(self, call: Call) -> str | None:
        if call.is_query:
            return self.trigger_slope
        self.trigger_slope = short_choice(call, 0, ("POSitive", "NEGative"))
        return None

    @commands(["TRIGger:LEVel", "TRIGger:LEVel?"])
    def _level(self, call: Call) -> str | None:
        if call.is_query:
            return nr3(self.trigger_level)
        self.trigger_level = call.float(0, min=-1000.0, max=1000.0, default=0.0, unit="V")
        return None

    @commands(["SAMPle:COUNt", "SAMPle:COUNt?"])
    def _sample_count(self, call: Call) -> str | None:
        if call.is_query and not call.nargs:
            return nr1(self.sample_count)
        value = call.int(0, min=1, max=MAX_COUNT, default=1)
        if call.is_query:
            return nr1(value)
        self.sample_count = value
        return None

    @commands(["SAMPle:COUNt:PRETrigger", "SAMPle:COUNt:PRETrigger?"])
    def _pretrigger(self, call: Call) -> str | None:
        if call.is_query:
            return nr1(self.pretrigger_count)
        self.pretrigger_count = call.int(0, min=0, max=self.memory_size - 1, default=0)
        return None

    @commands(["SAMPle:SOURce", "SAMPle:SOURce?"])
    def _sample_source(self, call: Call) -> str | None:
        if call.is_query:
            return self.sample_source
        self.sample_source = short_choice(call, 0, ("IMMediate", "TIMer"))
        return None

    @commands(["SAMPle:TIMer", "SAMPle:TIMer?"])
    def _sample_timer(self, call: Call) -> str | None:
        """MIN is the recommended minimum; below the integration time is -222; a timer below the
        minimum (e.g. after a longer NPLC) is stretched to it when measuring."""
        if call.is_query and not call.nargs:
            return nr3(self.sample_timer)
        if call.text(0).upper() in ("MIN", "MINIMUM"):
            value = self._timer_minimum()
        else:
            value = call.float(0, min=self.integration_time(), max=3600.0, default=1.0, unit="S")
        if call.is_query:
            return nr3(value)
        self.sample_timer = round(value, 6)
        return None
