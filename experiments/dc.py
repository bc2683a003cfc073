"""The standard DC experiments of a quantum-dot lab, each a plain function ``(station, ...) -> run``.

- `pinch_off`: one barrier swept with the other sensor barrier open; fit: pinch-off voltage, width.
- `sensor_scan`: the sensor plunger swept over Coulomb peaks; the operating point is the steepest
  flank of the tallest peak (and the sensor is parked there).
- `charge_stability`: two plungers swept, sensor current read; the transition lines give the
  cross-capacitance ratios and a virtual-gate matrix.

Every run is streamed to a zarr store (see `dotstack.store`), fitted before it is closed (the fit
goes into the run's ``meta/fit``), and plotted to a PNG beside the store. ``data_dir`` may be an
fsspec URL (``s3://bucket/runs``) with ``storage_options`` for it: the PNG goes there too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from dotstack.experiments.fits import fit_charge_stability, fit_pinchoff, fit_sensor_peaks
from dotstack.experiments.plotting import plot_run
from dotstack.experiments.sweep import RunResult, SweepAxis, gate_sweep
from dotstack.station import LabStation


def _finish(result: RunResult, plot: bool) -> RunResult:
    if not plot:
        return result
    png = plot_run(result.path, fit=result.fit, storage_options=result.storage_options)
    return replace(result, plot=str(png))


#: the barriers in series with each barrier: opened for its pinch-off, so that only it pinches
_IN_SERIES = {"SB1": ("SB2",), "SB2": ("SB1",), "B1": ("B2", "B3"), "B2": ("B1", "B3"),
              "B3": ("B1", "B2")}
_OPEN_V = 0.3


def pinch_off(
    station: LabStation,
    gate: str = "SB1",
    start: float = -0.15,
    stop: float = 0.25,
    points: int = 201,
    *,
    set_gates: Mapping[str, float] | None = None,
    readout: str | None = None,
    data_dir: str | Path | None = None,
    storage_options: Mapping[str, Any] | None = None,
    plot: bool = True,
    progress: bool = True,
) -> RunResult:
    """Sweep one barrier gate and fit its pinch-off.

    ``set_gates`` are set first; by default the barriers in series with ``gate`` are opened.
    The readout is ``readout``, else the one that sees ``gate`` (the double dot's barriers on the
    transport current, the sensor's on the sensor current); one that cannot see it is refused.
    """
    if set_gates is None:  # open the barriers in series (those the station has)
        set_gates = {g: _OPEN_V for g in _IN_SERIES.get(gate, ()) if g in station.gates}
    def analysis(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return fit_pinchoff(arrays[gate], arrays["current"]).as_dict()

    result = gate_sweep(
        station, f"pinch_off_{gate}", [SweepAxis.linspace(gate, start, stop, points)],
        readout=readout, set_gates=set_gates, parameters={"experiment": "pinch_off", "gate": gate},
        analysis=analysis, data_dir=data_dir, storage_options=storage_options, progress=progress,
    )
    return _finish(result, plot)


def sensor_scan(
    station: LabStation,
    gate: str = "S",
    start: float = -0.025,
    stop: float = 0.025,
    points: int = 251,
    *,
    flank: str = "rising",
    park: bool = True,
    set_gates: Mapping[str, float] | None = None,
    readout: str | None = None,
    data_dir: str | Path | None = None,
    storage_options: Mapping[str, Any] | None = None,
    plot: bool = True,
    progress: bool = True,
) -> RunResult:
    """Sweep the sensor plunger over Coulomb peaks; park it on the steepest ``flank`` if ``park``."""
    def analysis(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return fit_sensor_peaks(arrays[gate], arrays["current"], prefer=flank).as_dict()

    result = gate_sweep(
        station, f"sensor_scan_{gate}", [SweepAxis.linspace(gate, start, stop, points)],
        readout=readout, set_gates=set_gates,
        parameters={"experiment": "sensor_scan", "gate": gate, "flank": flank},
        analysis=analysis, data_dir=data_dir, storage_options=storage_options, progress=progress,
    )
    if park and result.status == "completed":
        station.gate(gate).set(float(result.fit["operating_point_V"]))
    return _finish(result, plot)


def charge_stability(
    station: LabStation,
    p1: tuple[float, float, int] = (-0.2, 0.2, 81),
    p2: tuple[float, float, int] = (-0.2, 0.2, 81),
    *,
    gates: tuple[str, str] = ("P1", "P2"),
    set_gates: Mapping[str, float] | None = None,
    readout: str | None = None,
    data_dir: str | Path | None = None,
    storage_options: Mapping[str, Any] | None = None,
    plot: bool = True,
    progress: bool = True,
    mode: str = "software",
    dwell: float | None = None,
    settle: float = 0.0,
) -> RunResult:
    """Sweep two plungers (``p2`` outer, ``p1`` inner: (start, stop, points)); fit the lines.

    ``mode="hardware"``: each row is a timed DAC list whose steps trigger the readout through
    the station's trigger cabling (``dwell`` s per point); ``"software"``: point by point.
    """
    g1, g2 = gates

    def analysis(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return fit_charge_stability(arrays[g1], arrays[g2], arrays["current"]).as_dict()

    result = gate_sweep(
        station, "charge_stability",
        [SweepAxis.linspace(g2, *p2), SweepAxis.linspace(g1, *p1)],
        readout=readout, set_gates=set_gates,
        parameters={"experiment": "charge_stability", "gates": list(gates)},
        analysis=analysis, data_dir=data_dir, storage_options=storage_options, progress=progress,
        mode=mode, dwell=dwell, settle=settle,
    )
    return _finish(result, plot)


#: Experiments by the name `dotstack run` knows them.
EXPERIMENTS: dict[str, Callable[..., RunResult]] = {
    "pinch_off": pinch_off,
    "sensor_scan": sensor_scan,
    "charge_stability": charge_stability,
}
