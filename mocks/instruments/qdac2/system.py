"""System commands of the QDAC-II mock: error queue and *IDN? in the real instrument's format,
the MAC address, and the clock / synchronisation of several units.

The real QDAC-II puts a space after the comma: ``0, "No error"``, ``-113, "Undefined header"``
and ``QDevil, QDAC-II, 00042, 13-1.57`` (these handlers take precedence over the shared ones
of `ScpiModel`, whose format other mock instruments keep).

Synchronisation (as ``QDac2_Array.sync`` of the upstream driver does it): the controller sends
its clock (``SYSTem:CLOCk:SEND ON``), listeners take it (``SYSTem:CLOCk:SOURce EXT``), every unit
arms with ``SYSTem:CLOCk:SYNChronize`` and the controller's ``OUTPut:SYNC:SIGNal`` pulses its
sync output: the controller and every armed unit whose sync input is wired to it (lab trigger
lines ``<name>.sync_out`` -> ``<other>.sync_in``) record the lab time in ``synced_at``.  A pulse
and a SYNChronize at the same lab time count as simultaneous, whichever connection's thread
handles its message first (the units are different servers).  In the mock all units share the
lab clock, so the clock settings are stored and answered only.
"""

from __future__ import annotations

import math

from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.values import word
from dotstack.mocks.scpi import Call, command
from dotstack.mocks.scpi.handlers import format_bool


def _entry(code: int, message: str) -> str:
    return f'{code}, "{message}"'


class SystemCommands(QDacEngine):
    """SYSTem:ERRor, *IDN?, SYSTem:COMMunicate:LAN:MAC?, SYSTem:CLOCk:..., OUTPut:SYNC:..."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        #: clock source ("int" or "ext") and whether the clock goes out (kept over *RST)
        self.clock_source = "int"
        self.clock_send = False
        #: armed by SYSTem:CLOCk:SYNChronize; lab time of the last synchronisation
        self.sync_armed = False
        self.synced_at = -math.inf
        self._sync_pulse_at = -math.inf  # the last sync pulse that found the unit unarmed
        if self.lab is not None:
            self.lab.add_trigger_input(f"{self.name}.sync_in", self._sync_in)

    # -- identity and errors, as the real instrument formats them -----------------------
    @command("*IDN?")
    def _idn_q(self, call: Call) -> str:
        call.allow(0)
        return ", ".join(self.idn)

    @command("SYSTem:ERRor[:NEXT]?")
    def _err_q(self, call: Call) -> str:
        return _entry(*self.pop_error())

    @command("SYSTem:ERRor:ALL?")
    def _err_all_q(self, call: Call) -> str:
        with self.lock:
            if not self._errors:
                return _entry(0, "No error")
            items = [_entry(code, message) for code, message in self._errors]
            self._errors.clear()
            return ", ".join(items)

    @command("SYSTem:COMMunicate:LAN:MAC?")
    def _mac_q(self, call: Call) -> str:
        return '"049162C0' + f"{int(self.idn[2]) & 0xFFFF:04X}" + '"'

    # -- clock and synchronisation -------------------------------------------------------
    @command("SYSTem:CLOCk:SOURce")
    def _clock_source(self, call: Call) -> None:
        self.clock_source = word(call, 0, ("INTernal", "EXTernal"))

    @command("SYSTem:CLOCk:SOURce?")
    def _clock_source_q(self, call: Call) -> str:
        return self.clock_source

    @command("SYSTem:CLOCk:SEND")
    def _clock_send(self, call: Call) -> None:
        self.clock_send = call.bool(0)

    @command("SYSTem:CLOCk:SEND?")
    def _clock_send_q(self, call: Call) -> str:
        return format_bool(self.clock_send)

    @command("SYSTem:CLOCk:SYNChronize")
    def _clock_sync(self, call: Call) -> None:
        if self._sync_pulse_at == self.now():  # the pulse came at this very lab time
            self.synced_at = self._sync_pulse_at
            self._sync_pulse_at = -math.inf
        else:
            self.sync_armed = True

    @command("OUTPut:SYNC:SIGNal")
    def _sync_signal(self, call: Call) -> None:
        t = self.now()
        self._sync_in(t)
        if self.lab is not None:
            self.lab.pulse(f"{self.name}.sync_out", t)

    def _sync_in(self, t: float) -> None:
        """A sync pulse arrives at lab time ``t``."""
        with self.lock:
            if self.sync_armed:
                self.sync_armed = False
                self.synced_at = t
            else:
                self._sync_pulse_at = t
