"""The standard DC experiments of a quantum-dot lab, each a plain function ``(station, ...) -> run``.

- `pinch_off`: one barrier swept with the other sensor barrier open; fit: pinch-off voltage, width.
- `sensor_scan`: the sensor plunger swept over Coulomb peaks; the operating point is the steepest
  flank of the tallest peak (and the sensor is parked there).
- `charge_stability`: two plungers swept, sensor current read; the transition lines give the
  cross-capacitance ratios and a virtual-gate matrix.  ``compensate=`` moves the sensor gate
  with the plungers (a virtual sensor gate measured by `sensor.sensor_compensation`).

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

from dotstack.experiments.compensation import FIT_KEY, SensorCompensation
from dotstack.experiments.fits import fit_charge_stability, fit_pinchoff, fit_sensor_peaks
from dotstack.experiments.plotting import plot_run
from dotstack.experiments.sensor import compensated_station, sensor_compensation
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

    Args:
        station: The station (real or mock).
        gate: The barrier gate to sweep.
        start: First voltage of the sweep (V).
        stop: Last voltage of the sweep (V).
        points: Number of points (at least 2).
        set_gates: Gates set (safely) before the sweep; ramped back with the swept gate after.
        readout: The readout to use (default: the one whose ``sees:`` lists the swept gate).
        data_dir: Folder or fsspec URL for the run (default: ``$DOTSTACK_DATA_DIR`` or ``./data``).
        storage_options: fsspec options of a URL ``data_dir``.
        plot: Write a PNG of the run beside its store (``RunResult.plot``).
        progress: Show a progress bar.

    Returns:
        The run: its store, status, and fit (`fit_pinchoff`: pinch-off voltage and width).

    Raises:
        ValueError: A sweep outside the gate's limits, or a readout that cannot see ``gate``.
        KeyError: No such gate or readout.
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
    """Sweep the sensor plunger over Coulomb peaks; park it on the steepest ``flank`` if ``park``.

    Args:
        station: The station (real or mock).
        gate: The sensor plunger gate.
        start: First voltage of the sweep (V).
        stop: Last voltage of the sweep (V).
        points: Number of points (at least 2).
        flank: ``"rising"`` or ``"falling"``: the flank of the tallest peak to operate on.
        park: After a completed run, set ``gate`` to the fitted operating point.
        set_gates: Gates set (safely) before the sweep; ramped back with the swept gate after.
        readout: The readout to use (default: the one whose ``sees:`` lists the swept gate).
        data_dir: Folder or fsspec URL for the run (default: ``$DOTSTACK_DATA_DIR`` or ``./data``).
        storage_options: fsspec options of a URL ``data_dir``.
        plot: Write a PNG of the run beside its store (``RunResult.plot``).
        progress: Show a progress bar.

    Returns:
        The run: its store, status, and fit (`fit_sensor_peaks`; ``operating_point_V`` is
        where the sensor is parked).
    """
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
    compensate: SensorCompensation | RunResult | Mapping[str, Any] | str | Path | None = None,
) -> RunResult:
    """Sweep two plungers (``p2`` outer, ``p1`` inner: (start, stop, points)); fit the lines.

    ``mode="hardware"``: each row is a timed DAC list whose steps trigger the readout through
    the station's trigger cabling (``dwell`` s per point); ``"software"``: point by point.

    ``compensate``: a `SensorCompensation` (or the run of `sensor_compensation` holding one: its
    result, path, URL or id) moves the sensor gate with the plungers, ``S = S0 + sum_i c_i (P_i -
    P_i0)`` from where they are now, so the sensor stays on its flank within each charge state
    (the sensor gate may not be in ``set_gates``).
    Software mode only (hardware mode would need a second DAC list on the sensor gate, stepped
    by the same trigger, and is refused).  A sweep that would take the sensor gate outside its
    limits is refused before anything moves.

    Args:
        station: The station (real or mock).
        p1: ``(start, stop, points)`` of the inner (fast) plunger, V.
        p2: ``(start, stop, points)`` of the outer (slow) plunger, V.
        gates: The two plunger gates swept by ``p1`` and ``p2``.
        set_gates: Gates set (safely) before the sweep; ramped back with the swept gate after.
        readout: The readout to use (default: the one whose ``sees:`` lists the swept gate).
        data_dir: Folder or fsspec URL for the run (default: ``$DOTSTACK_DATA_DIR`` or ``./data``).
        storage_options: fsspec options of a URL ``data_dir``.
        plot: Write a PNG of the run beside its store (``RunResult.plot``).
        progress: Show a progress bar.
        mode: ``"software"`` (point by point) or ``"hardware"`` (DAC lists triggering the
            readout through the station's trigger cabling).
        dwell: Time per point in hardware mode (s; default the shortest that fits).
        settle: Lab time to wait before each reading (s).
        compensate: Sensor compensation (see above); None: the sensor gate stays put.

    Returns:
        The run: its store, status, and fit (`fit_charge_stability`: transition-line slopes,
        cross-capacitance ratios, ``virtual_gate_matrix``).

    Raises:
        ValueError: A sweep outside a gate's limits, a readout that cannot see the plungers,
            an unknown mode, or ``compensate`` in hardware mode.
    """
    g1, g2 = gates
    axes = [SweepAxis.linspace(g2, *p2), SweepAxis.linspace(g1, *p1)]
    parameters: dict[str, Any] = {"experiment": "charge_stability", "gates": list(gates)}
    swept = station
    if compensate is not None:
        if mode != "software":
            raise ValueError("charge_stability: compensate= works in software mode only (in "
                             "hardware mode the inner row is one DAC list on "
                             f"{g1}; the sensor gate would need its own list on the same "
                             "trigger, which is not supported); use mode='software'")
        comp = _compensation(compensate, storage_options)
        swept, parameters["sensor_compensation"] = compensated_station(
            station, comp, {a.gate: a.values for a in axes}, set_gates)

    def analysis(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
        return fit_charge_stability(arrays[g1], arrays[g2], arrays["current"]).as_dict()

    result = gate_sweep(
        swept, "charge_stability", axes,
        readout=readout, set_gates=set_gates,
        parameters=parameters,
        analysis=analysis, data_dir=data_dir, storage_options=storage_options, progress=progress,
        mode=mode, dwell=dwell, settle=settle,
    )
    return _finish(result, plot)


def _compensation(value: SensorCompensation | RunResult | Mapping[str, Any] | str | Path,
                  storage_options: Mapping[str, Any] | None) -> SensorCompensation:
    """``compensate=`` as a `SensorCompensation` (a run result: its fit, else its store)."""
    if isinstance(value, RunResult):
        if FIT_KEY in value.fit:
            return SensorCompensation.from_dict(value.fit[FIT_KEY])
        return SensorCompensation.from_run(value.path, storage_options=value.storage_options)
    return SensorCompensation.resolve(value, storage_options=storage_options)


#: Experiments by the name `dotstack run` knows them.
EXPERIMENTS: dict[str, Callable[..., RunResult]] = {
    "pinch_off": pinch_off,
    "sensor_scan": sensor_scan,
    "charge_stability": charge_stability,
    "sensor_compensation": sensor_compensation,
}
