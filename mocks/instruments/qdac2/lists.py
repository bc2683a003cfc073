"""List and sweep settings of the QDAC-II DC generators ([SOURce#]:LIST:..., :SWEep:...)."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from dotstack.mocks.instruments.qdac2.engine import QDacEngine
from dotstack.mocks.instruments.qdac2.limits import MAX_LIST_POINTS, RANGES
from dotstack.mocks.instruments.qdac2.state import Channel
from dotstack.mocks.instruments.qdac2.values import count, direction, dwell, sweep_volts, word
from dotstack.mocks.scpi import Call, ScpiError, command, format_float


def _setting(pattern: str, attr: str, parse: Callable[[Call], Any]) -> tuple[Any, Any]:
    """A (setter, query) handler pair storing ``attr`` of the addressed channel."""

    @command(pattern)
    def setter(self: ListCommands, call: Call) -> None:
        setattr(self._chan(call), attr, parse(call))

    @command(pattern + "?")
    def query(self: ListCommands, call: Call) -> str:
        value = getattr(self._chan(call), attr)
        return format_float(value) if isinstance(value, float) else str(value)

    return setter, query


class ListCommands(QDacEngine):
    """List points (text or a binary block of float32), dwell, count, direction; sweeps."""

    def _checked_list(self, call: Call, c: Channel) -> list[float]:
        call.require(1)
        arg = call.args[0]
        if isinstance(arg, bytes):
            if len(arg) % 4:
                raise ScpiError(-104, "Data type error", "block length is not a multiple of 4")
            values = [float(v) for v in struct.unpack(f"<{len(arg) // 4}f", arg)]
        else:
            values = call.floats(0)
        lim = RANGES[c.range]
        bad = [v for v in values if not -lim <= v <= lim or v != v]
        if bad:
            raise ScpiError(-222, "Data out of range", f"list value {bad[0]} outside +-{lim} V")
        return values

    @command("[SOURce#]:LIST:VOLTage[:LEVel]")
    def _list_volt(self, call: Call) -> None:
        c = self._chan(call)
        values = self._checked_list(call, c)
        if not values or len(values) > MAX_LIST_POINTS:
            raise ScpiError(-223, "Too much data", f"{len(values)} list points")
        c.list_v = values

    @command("[SOURce#]:LIST:VOLTage:APPend")
    def _list_append(self, call: Call) -> None:
        c = self._chan(call)
        values = self._checked_list(call, c)
        if len(c.list_v) + len(values) > MAX_LIST_POINTS:
            raise ScpiError(-223, "Too much data", "list full")
        c.list_v = c.list_v + values

    @command("[SOURce#]:LIST:VOLTage[:LEVel]?")
    def _list_volt_q(self, call: Call) -> str:
        return ",".join(format_float(v) for v in self._chan(call).list_v)

    @command("[SOURce#]:LIST:POINts?")
    def _list_points_q(self, call: Call) -> str:
        return str(len(self._chan(call).list_v))

    @command("[SOURce#]:LIST:NCLeft?")
    @command("[SOURce#]:SWEep:NCLeft?")
    def _ncl_q(self, call: Call) -> str:
        c = self._chan(call)
        if c.count < 0:
            return "-1" if (c.running or c.armed) else "0"
        if c.running:
            return str(c.count - c.cycle)
        return str(c.count if c.armed else 0)

    @command("[SOURce#]:SWEep:TIME?")
    def _swe_time_q(self, call: Call) -> str:
        c = self._chan(call)
        return format_float(c.swe_points * c.swe_dwell)

    _list_dwell, _list_dwell_q = _setting("[SOURce#]:LIST:DWELl", "list_dwell", dwell)
    _list_dir, _list_dir_q = _setting("[SOURce#]:LIST:DIRection", "list_dir", direction)
    _list_count, _list_count_q = _setting("[SOURce#]:LIST:COUNt", "list_count", count)
    _list_tmode, _list_tmode_q = _setting(
        "[SOURce#]:LIST:TMODe", "list_tmode", lambda c: word(c, 0, ("AUTO", "STEP"))
    )
    _swe_start, _swe_start_q = _setting("[SOURce#]:SWEep:STARt", "swe_start", sweep_volts)
    _swe_stop, _swe_stop_q = _setting("[SOURce#]:SWEep:STOP", "swe_stop", sweep_volts)
    _swe_points, _swe_points_q = _setting(
        "[SOURce#]:SWEep:POINts", "swe_points", lambda c: c.int(0, min=2, max=MAX_LIST_POINTS)
    )
    _swe_dwell, _swe_dwell_q = _setting("[SOURce#]:SWEep:DWELl", "swe_dwell", dwell)
    _swe_dir, _swe_dir_q = _setting("[SOURce#]:SWEep:DIRection", "swe_dir", direction)
    _swe_count, _swe_count_q = _setting("[SOURce#]:SWEep:COUNt", "swe_count", count)
    _swe_gen, _swe_gen_q = _setting(
        "[SOURce#]:SWEep:GENeration", "swe_gen", lambda c: word(c, 0, ("STEP", "ANALog"))
    )
