"""AWG trace memory of the QDAC-II mock: TRACe:DEFine|DATA|POINts?|CATalog?|REMove.

A trace is named (a quoted string of at most `MAX_TRACE_NAME` characters) and defined with its
length in points before data is loaded (one point per sample, 1 / `SAMPLE_RATE`).  All traces
share `TRACE_MEMORY` points (-225 Out of memory beyond it); at most `MAX_TRACES` exist.
Defining an existing name is refused (-221).  TRACe:DATA takes exactly the defined number of
values, as text or as a binary block of little-endian float32 (what the upstream driver
sends): more is refused with -223 before any value is converted, fewer with -109.
"""

from __future__ import annotations

import numpy as np

from dotstack.mocks.instruments.qdac2.limits import MAX_TRACE_NAME, MAX_TRACES, TRACE_MEMORY
from dotstack.mocks.instruments.qdac2.wavegen import WaveEngine
from dotstack.mocks.scpi import Call, ScpiError, command, format_float


class TraceCommands(WaveEngine):
    """TRACe:... (the AWG traces live in ``self.traces``; *RST keeps them)."""

    def _trace_name(self, call: Call, i: int = 0) -> str:
        name = call.string(i)
        if not name or len(name) > MAX_TRACE_NAME or any(ch in name for ch in ',"\''):
            raise ScpiError(-224, "Illegal parameter value", f"trace name {name!r}")
        return name

    def _trace(self, call: Call) -> tuple[str, np.ndarray]:
        name = self._trace_name(call)
        if name not in self.traces:
            raise ScpiError(-224, "Illegal parameter value", f"no trace {name!r}")
        return name, self.traces[name]

    @command("TRACe:DEFine")
    def _trace_define(self, call: Call) -> None:
        call.require(2)
        call.allow(2)
        name = self._trace_name(call)
        length = call.int(1, min=1, max=TRACE_MEMORY)
        if name in self.traces:
            raise ScpiError(-221, "Settings conflict", f"trace {name!r} exists")
        if len(self.traces) >= MAX_TRACES:
            raise ScpiError(-225, "Out of memory", f"{MAX_TRACES} traces defined")
        used = sum(len(v) for v in self.traces.values())
        if used + length > TRACE_MEMORY:
            raise ScpiError(-225, "Out of memory", f"{TRACE_MEMORY - used} points free")
        self.traces[name] = np.zeros(length)

    @command("TRACe:DATA")
    def _trace_data(self, call: Call) -> None:
        call.require(2)
        name, trace = self._trace(call)
        n = len(trace)
        arg = call.args[1]
        if isinstance(arg, bytes):
            call.allow(2)
            given = len(arg) // 4
            if given > n:
                raise ScpiError(-223, "Too much data", f"{given} values for {n} points")
            if len(arg) % 4:
                raise ScpiError(-104, "Data type error", "block length is not a multiple of 4")
            values = np.frombuffer(arg, dtype="<f4").astype(float)
        else:
            given = call.nargs - 1
            if given > n:
                raise ScpiError(-223, "Too much data", f"{given} values for {n} points")
            values = np.array(call.floats(1), dtype=float)
        if len(values) < n:
            raise ScpiError(-109, "Missing parameter", f"{len(values)} values for {n} points")
        if not np.all(np.isfinite(values)):
            raise ScpiError(-222, "Data out of range", "trace values must be finite")
        self.traces[name] = values

    @command("TRACe:DATA?")
    def _trace_data_q(self, call: Call) -> str:
        _, trace = self._trace(call)
        return ",".join(format_float(float(v)) for v in trace)

    @command("TRACe:POINts?")
    def _trace_points_q(self, call: Call) -> str:
        return str(len(self._trace(call)[1]))

    @command("TRACe:CATalog?")
    def _trace_catalog_q(self, call: Call) -> str:
        return ",".join(self.traces)

    @command("TRACe:REMove")
    def _trace_remove(self, call: Call) -> None:
        del self.traces[self._trace(call)[0]]

    @command("TRACe:REMove:ALL")
    def _trace_remove_all(self, call: Call) -> None:
        self.traces.clear()
