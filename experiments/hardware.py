"""Hardware-timed DC rasters: the DAC steps a list, each step's marker triggers the readout.

The standard fast DC scan of a dot lab.  Per row of a 2-D scan the outer gate is set (safely),
the inner gate's DAC gets a timed list of the row's voltages whose step-start marker pulses a
trigger output cabled to the readout's external trigger input (the station's
``dotstack.triggers``); the readout takes one reading per pulse, ``settle`` after it.  The row
costs the list's time on the instrument instead of one software round trip per point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from dotstack.station import Gate, LabStation

#: lab time kept free between a reading's end and the next step (s)
_MARGIN = 0.5e-3


@dataclass(frozen=True)
class HardwareRaster:
    """What a hardware-timed row needs: the inner gate's DAC, its trigger output, the readout."""

    gate: Gate
    readout: Any  # a readout with arm_external / fetch_armed / sample_time
    trigger_output: int
    settle: float
    dwell: float

    @classmethod
    def plan(cls, station: LabStation, gate: Gate, readout_name: str, *, settle: float,
             dwell: float | None) -> HardwareRaster:
        """Check the station can run a hardware raster of ``gate`` read by ``readout_name``."""
        readout: Any = station.readout(readout_name)
        for method in ("arm_external", "fetch_armed", "sample_time"):
            if not hasattr(readout, method):
                raise ValueError(f"hardware mode: readout {readout_name!r} cannot take "
                                 f"externally triggered readings (no {method})")
        if not hasattr(gate.dac, "dc_list"):
            raise ValueError(f"hardware mode: the DAC of gate {gate.name} has no DC lists")
        meter = station.config.readouts[readout_name].instrument
        source = station.config.trigger_source(f"{meter}.ext")
        dac_name = station.config.gates[gate.name].instrument
        if source is None or not source.startswith(f"{dac_name}.trig"):
            raise ValueError(
                f"hardware mode: no trigger cable from {dac_name} to {meter}.ext in the station's "
                f"dotstack.triggers (found {source!r}); add e.g. `{dac_name}.trig1: {meter}.ext`")
        output = int(source.split(".trig", 1)[1])
        if not (math.isfinite(settle) and settle >= 0):
            raise ValueError(f"hardware mode: settle must be >= 0 s, got {settle!r}")
        minimum = settle + readout.sample_time() + _MARGIN
        step = minimum if dwell is None else float(dwell)
        if not step >= minimum:
            raise ValueError(f"hardware mode: dwell {step} s is shorter than settle + one reading "
                             f"+ margin = {minimum:.6g} s")
        return cls(gate, readout, output, settle, step)

    def row(self, values: np.ndarray) -> np.ndarray:
        """Play ``values`` on the gate (timed list) and return one reading per point (A)."""
        dac, channel = self.gate.dac, self.gate.channel
        generator = dac.dc_list(channel, values, self.dwell,  # type: ignore[attr-defined]
                                step_trigger_output=self.trigger_output)
        self.readout.arm_external(len(values), delay=self.settle)
        generator.start()
        try:
            row = np.asarray(self.readout.fetch_armed(timeout=self.timeout(len(values))))
        except BaseException as exc:
            try:
                generator.abort()
            except Exception as abort_exc:  # the DAC itself failing: keep the first error
                exc.add_note(f"stopping the DAC list failed too: {abort_exc}")
            raise
        generator.abort()
        return row

    def timeout(self, n: int) -> float:
        """Wall-clock bound for one row (s): its lab time, generously, plus a margin."""
        return 2.0 * n * self.dwell + 5.0

