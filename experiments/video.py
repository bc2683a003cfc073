"""Video mode: a fast 2D raster on the AWG, read by the digitizer, shown live and logged to zarr.

`video_mode` compiles the raster once (`PulsedRaster`: a sawtooth on ``x`` per row, a staircase
on ``y``), uploads it once, and then per frame only re-arms: arm the digitizer, play the
raster (``averages`` times), fetch, bin into pixels.  Each frame is appended to a zarr run
(append mode: a ``frame`` coordinate, the frame's lab time, the ``(y, x)`` image) and shown
(`LiveImage`).  Ctrl-C stops it cleanly: AWG stopped, DC gates ramped back, the run ``aborted``
with every frame taken so far (`RunInterrupted`).

Axes are ``(name, start, stop, points)`` in volts **at the gate**, around the gates' DC levels.
The name is a gate with a pulse line (``station.pulse_lines``: which AWG channel through how
much attenuation) or a virtual gate of ``virtual_gates``.  The AWG program is built in gate
volts through a stack of linear maps (`sequencer.VirtualGates`): the caller's virtual gates,
then the sensor compensation (``compensation``: the sensor gate follows the plungers so the
sensor stays on its flank), then each line's attenuation (gate volts -> AWG volts).  Each
channel is narrowed to its gate's limits around its DC level (`LabStation.limit_awg`): a raster
that would leave them is refused before anything is uploaded.

`virtual_plungers` turns a charge-stability fit's virtual-gate matrix into such a layer.
`fast_charge_stability` (module `dotstack.experiments.fast`) fits transition lines from averaged
video frames.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.experiments.compensation import SensorCompensation
from dotstack.experiments.live import LiveImage
from dotstack.experiments.pulsed import PulsedRaster, RasterAxis
from dotstack.experiments.shield import InterruptGuard
from dotstack.experiments.sweep import FitWarning, RunInterrupted, RunResult, _jsonable, _make_safe
from dotstack.sequencer import VirtualGateLayer, VirtualGates
from dotstack.station import LabStation
from dotstack.store import Axis, Quantity, RunWriter

#: Called after each frame with (frame index, image): e.g. to stop early by raising StopIteration.
FrameHook = Callable[[int, npt.NDArray[np.float64]], None]
#: Called before the run is closed with the mean image and the axes' coordinates (name ->
#: values); returns fitted values (JSON-able) for the run's ``meta/fit``.
FrameAnalysis = Callable[[npt.NDArray[np.float64], dict[str, npt.NDArray[np.float64]]],
                         Mapping[str, Any]]


def virtual_plungers(matrix: npt.ArrayLike, gates: Sequence[str] = ("P1", "P2"),
                     names: Sequence[str] | None = None) -> VirtualGateLayer:
    """The layer of virtual plungers from a virtual-gate matrix ``M`` (``virtual = M @ real``, as
    `fit_charge_stability` gives it): ``real = M^-1 @ virtual``.  ``names`` default ``v<gate>``."""
    m = np.asarray(matrix, dtype=float)
    if m.shape != (len(gates), len(gates)):
        raise ValueError(f"virtual-gate matrix must be {len(gates)}x{len(gates)} for gates "
                         f"{list(gates)}, got shape {m.shape}")
    if not np.isfinite(m).all():
        raise ValueError("virtual-gate matrix has non-finite entries")
    virtual = tuple(names) if names is not None else tuple(f"v{g}" for g in gates)
    return VirtualGateLayer.from_capacitance(tuple(gates), virtual, m)


def compensation_layer(compensation: Any) -> VirtualGateLayer:
    """The sensor compensation as a layer: ``sensor += sum_i c_i * plunger_i`` (gate volts).
    ``compensation``: a `SensorCompensation`, its dict, or a run (path, URL, id) holding one
    (`SensorCompensation.resolve`)."""
    comp = SensorCompensation.resolve(compensation)
    sensor = str(comp.sensor)
    coefficients = {str(k): float(v) for k, v in dict(comp.coefficients).items()}
    bad = [k for k, v in coefficients.items() if not math.isfinite(v)]
    if bad or sensor in coefficients:
        raise ValueError(f"sensor compensation: coefficients must be finite and not of the "
                         f"sensor itself, got {coefficients}")
    names = (*coefficients, sensor)
    matrix = np.eye(len(names))
    matrix[-1, :-1] = list(coefficients.values())
    return VirtualGateLayer(names, names, _rows(matrix))


def line_layer(station: LabStation, gates: Sequence[str]) -> VirtualGateLayer:
    """Gate volts -> AWG volts for ``gates`` (each divided by its pulse line's voltage gain)."""
    lines = station.pulse_lines
    missing = [g for g in gates if g not in lines]
    if missing:
        raise ValueError(f"gate(s) {missing} have no pulse line (AWG channel); pulse lines: "
                         f"{sorted(lines)}")
    gains = [lines[g].gain for g in gates]
    return VirtualGateLayer(tuple(gates), tuple(gates), _rows(np.diag([1.0 / g for g in gains])))


def _rows(matrix: npt.NDArray[np.float64]) -> tuple[tuple[float, ...], ...]:
    return tuple(tuple(float(v) for v in row) for row in matrix)


def gate_to_awg(station: LabStation, x: str, y: str, virtual_gates: VirtualGates | None = None,
                compensation: Any = None) -> VirtualGates:
    """The whole stack from the axes' names to AWG volts (see the module docstring)."""
    layers = list(virtual_gates.layers) if virtual_gates is not None else []
    if compensation is not None:
        layers.append(compensation_layer(compensation))
    names, matrix = VirtualGates(tuple(layers)).compose((x, y))
    driven = tuple(n for n, row in zip(names, matrix, strict=True) if np.any(row != 0))
    layers.append(line_layer(station, driven))
    return VirtualGates(tuple(layers))


def _axis(axis: Sequence[Any], what: str) -> RasterAxis:
    if len(axis) != 4:
        raise ValueError(f"{what} axis must be (name, start, stop, points), got {axis!r}")
    name, start, stop, points = axis
    lo, hi = float(start), float(stop)
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
        raise ValueError(f"{what} axis {name!r}: start and stop must be finite and differ, "
                         f"got {start!r}, {stop!r}")
    if isinstance(points, bool) or float(points) != int(points) or int(points) < 2:
        raise ValueError(f"{what} axis {name!r}: points must be an integer >= 2, got {points!r}")
    return str(name), lo, hi, int(points)


def video_mode(
    station: LabStation,
    x: Sequence[Any] = ("P1", -0.05, 0.05, 100),
    y: Sequence[Any] = ("P2", -0.05, 0.05, 100),
    *,
    frames: int | None = 100,
    dwell: float = 1e-6,
    settle: float = 10e-6,
    averages: int = 1,
    virtual_gates: VirtualGates | None = None,
    compensation: Any = None,
    set_gates: Mapping[str, float] | None = None,
    display: str = "auto",
    awg: str = "awg",
    digitizer: str = "ats",
    awg_rate: float | None = None,
    digitizer_rate: float = 10e6,
    on_frame: FrameHook | None = None,
    analysis: FrameAnalysis | None = None,
    data_dir: str | Path | None = None,
    storage_options: Mapping[str, Any] | None = None,
    name: str = "video_mode",
) -> RunResult:
    """Video mode over ``x`` (fast, sawtooth) and ``y`` (slow, staircase); see the module docs.

    Args:
        station: The station, with pulse lines on the rastered gates and a digitizer.
        x: The fast axis ``(name, start, stop, points)``, V at the gate around its DC level.
        y: The slow axis, likewise.
        frames: How many frames (None: until Ctrl-C or ``on_frame`` raises StopIteration).
        dwell: Time per pixel (s).
        settle: Time per row before its ramp (flyback, s).
        averages: Plays averaged per frame.
        virtual_gates: Layers defining virtual gates that ``x`` and ``y`` may name.
        compensation: A sensor compensation (the sensor gate follows the plungers).
        set_gates: DC levels set first (ramped back at the end).
        display: ``"auto"``, ``"window"``, ``"notebook"``, ``"offscreen"`` or ``"none"``
            (see `dotstack.experiments.live`).
        awg: The AWG instrument's name.
        digitizer: The digitizer's name (`LabStation.digitizer`).
        awg_rate: AWG samples/s (default one sample per pixel: the fast axis is a staircase
            of pixels).
        digitizer_rate: Samples/s of the records.
        on_frame: Called as ``on_frame(i, image)`` after each frame.
        analysis: Called as ``analysis(mean image, coordinates)`` at the end; its result
            goes into the fit.
        data_dir: Folder or fsspec URL for the run (default: ``$DOTSTACK_DATA_DIR`` or ``./data``).
        storage_options: fsspec options of a URL ``data_dir``.
        name: The run's name.

    Returns:
        The run (``fit``: ``frames``, the measured ``frames_per_second`` and what ``analysis``
        returned; a failing analysis is recorded as ``{"error": ...}``).
    """
    xa, ya = _axis(x, "x"), _axis(y, "y")
    if frames is not None and (isinstance(frames, bool) or int(frames) != frames or frames < 1):
        raise ValueError(f"frames must be an integer >= 1 or None, got {frames!r}")
    if not (dwell > 0 and math.isfinite(dwell)):
        raise ValueError(f"dwell must be a finite time > 0 s, got {dwell!r}")
    rate = float(awg_rate) if awg_rate is not None else 1.0 / float(dwell)
    stack = gate_to_awg(station, xa[0], ya[0], virtual_gates, compensation)
    touched = [station.gate(g) for g in (set_gates or {})]
    start_values = {g.name: g.get() for g in touched}
    for gate_name, volts in (set_gates or {}).items():
        station.gate(gate_name).set(volts)
    try:
        raster = PulsedRaster(station, xa, ya, dwell=float(dwell), settle=float(settle),
                              averages=int(averages), awg=awg, digitizer=digitizer,
                              awg_rate=rate, digitizer_rate=float(digitizer_rate),
                              virtual_gates=stack)
        raster.prepare()  # compile once (above), upload once
    except BaseException:
        _restore_now(touched, start_values)
        raise
    coords = raster.coordinates()
    writer = RunWriter(
        name, [Axis("frame", "1", "frame number")],
        [Quantity("signal", "V", "demodulated sensor signal", shape=raster.shape,
                  dims=(ya[0], xa[0])),
         Quantity("lab_time", "s", "lab time at the frame's start")],
        point_axes=[Axis(ya[0], "V", f"{ya[0]} offset at the gate", coords[ya[0]]),
                    Axis(xa[0], "V", f"{xa[0]} offset at the gate", coords[xa[0]])],
        meta=_jsonable(_meta(station, raster, xa, ya, stack, set_gates, frames, averages)),
        data_dir=None if data_dir is None else str(data_dir), storage_options=storage_options,
        flush_points=1_000_000, flush_seconds=1.0)
    awg_instrument = station.instruments[awg]
    live = LiveImage(coords[xa[0]], coords[ya[0]], xlabel=xa[0], ylabel=ya[0], title=name,
                     mode=display)
    guard = InterruptGuard(lambda: ", ".join(f"{g.name} restoring to {start_values[g.name]:+.6g} V"
                                             for g in touched) or "no DC gates moved")
    status, count, t_start = "completed", 0, time.perf_counter()
    total = np.zeros(raster.shape)
    try:
        with guard, writer:
            try:
                while frames is None or count < frames:
                    t_lab = station.time()
                    image = raster.acquire()
                    writer.append(frame=count, signal=image, lab_time=t_lab)
                    total += image
                    count += 1
                    elapsed = time.perf_counter() - t_start
                    live.update(image, f"frame {count}  {count / elapsed:.1f} fps")
                    if on_frame is not None:
                        on_frame(count - 1, image)
            except StopIteration:
                pass
            except BaseException as exc:
                guard.restoring = True
                _stop(awg_instrument)
                _make_safe(station, touched, start_values, writer, ended_by=exc)
                raise
            guard.restoring = True
            _stop(awg_instrument)
            elapsed = time.perf_counter() - t_start
            fit: dict[str, Any] = {"frames": count,
                                   "frames_per_second": count / elapsed if elapsed > 0 else 0.0}
            if analysis is not None and count:
                fit.update(_analyse(analysis, total / count, coords))
            writer.add_meta("fit", _jsonable(fit))
            _make_safe(station, touched, start_values, writer)
    except KeyboardInterrupt as exc:
        raise RunInterrupted(writer.path, writer.run_id) from exc
    finally:
        live.close()
    return RunResult(writer.path, writer.run_id, name, status, fit,
                     storage_options=storage_options)


def _analyse(analysis: FrameAnalysis, image: npt.NDArray[np.float64],
             coords: dict[str, npt.NDArray[np.float64]]) -> dict[str, Any]:
    try:
        return dict(analysis(image, coords))
    except (ValueError, RuntimeError, FloatingPointError, np.linalg.LinAlgError) as exc:
        warnings.warn(f"fit failed: {exc}", FitWarning, stacklevel=3)
        return {"error": f"{type(exc).__name__}: {exc}"}


def _stop(awg: Any) -> None:
    """Stop the AWG (its outputs return to their idle level); errors are for the caller."""
    awg.stop()


def _restore_now(gates: Sequence[Any], values: Mapping[str, float]) -> None:
    for gate in gates:
        gate.set(values[gate.name])


def _meta(station: LabStation, raster: PulsedRaster, x: RasterAxis, y: RasterAxis,
          stack: VirtualGates, set_gates: Mapping[str, float] | None, frames: int | None,
          averages: int) -> dict[str, Any]:
    program = raster.program
    meta: dict[str, Any] = {
        "station": station.config.as_dict(),
        "snapshot": station.snapshot(),
        "parameters": {
            "experiment": "video_mode", "x": list(x), "y": list(y), "frames": frames,
            "dwell_s": raster.dwell, "settle_s": raster.settle, "averages": averages,
            "awg": raster.awg, "digitizer": raster.digitizer, "awg_rate": raster.awg_rate,
            "digitizer_rate": raster.digitizer_rate, "set_gates": dict(set_gates or {}),
        },
        "virtual_gates": [{"inputs": list(layer.inputs), "outputs": list(layer.outputs),
                           "matrix": [list(r) for r in layer.matrix]} for layer in stack.layers],
        "program": {"channels": list(program.channels), "samples": int(program.n_samples),
                    "sample_rate": float(program.limits.sample_rate),
                    "waveforms": int(program.n_waveforms),
                    "frame_s": program.n_samples / program.limits.sample_rate},
        "start_gate_values": station.gate_values(),
    }
    truth = station.ground_truth()
    if truth is not None:
        meta["ground_truth"] = truth
    return meta
