"""Measurement commands of the 34465A mock: INIT, READ?, FETCh?, *TRG, ABORt and the memory."""

from __future__ import annotations

import math

from dotstack.mocks.instruments.keysight34465a.acquisition import DmmAcquisition
from dotstack.mocks.instruments.keysight34465a.functions import UNITS, nr1, nr3
from dotstack.mocks.scpi import Call, ScpiError, command, format_block
from dotstack.mocks.scpi.handlers import commands, header_nodes


class ReadingCommands(DmmAcquisition):
    """Starting acquisitions and taking readings out of the reading memory."""

    @command("INITiate[:IMMediate]")
    def _init(self, call: Call) -> None:
        call.allow(0)
        self._initiate()

    @command("READ?")
    def _read(self, call: Call) -> str | None:
        call.allow(0)
        return self._read_text()

    @command("FETCh?")
    def _fetch(self, call: Call) -> str | None:
        call.allow(0)
        return self._fetch_text()

    @command("*TRG")
    def _trg(self, call: Call) -> None:
        call.allow(0)
        if self.trigger_source != "BUS" or not self._trigger(self.clock.now()):
            raise ScpiError(-211, "Trigger ignored")

    @command("*OPC?")
    def _opc_q(self, call: Call) -> str | None:
        """INIT is overlapped: *OPC? answers once the acquisition is complete."""
        call.allow(0)
        return "1" if self._wait_complete() else None

    @command("ABORt")
    def _abort_cmd(self, call: Call) -> None:
        self._abort()

    @command("DATA:POINts?")
    def _points(self, call: Call) -> str:
        return nr1(len(self._available()))

    @commands(["R?", "DATA:REMove?"])
    def _remove(self, call: Call) -> str | bytes:
        """R? [max]: up to max readings as a block; DATA:REMove? n: exactly n, as a list."""
        block = header_nodes(call.header) == ["R"]
        self._available()
        if block and not call.nargs:
            n = len(self.readings)
        else:
            n = call.int(0, min=1, max=self.memory_size)
            if not block and n > len(self.readings):
                raise ScpiError.out_of_range(f"{n} readings requested, {len(self.readings)} held")
        taken, self.readings = self.readings[:n], self.readings[n:]
        text = ",".join(map(nr3, taken))
        return format_block(text.encode("ascii")) if block else text

    @command("DATA:LAST?")
    def _last(self, call: Call) -> str:
        readings = self._available()
        value = readings[-1] if readings else math.nan
        return f"{nr3(value)} {UNITS[self.function]}"
