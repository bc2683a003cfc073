"""Software gate sweeps logged to a run store: the loop every DC experiment shares.

`gate_sweep` steps one or two gates over a grid (outer axis first, C order), reads the
readout at every point and streams each point into a `RunWriter`.  Gates move only through
their safe path (limits checked, large moves ramped from the read-back value).  Whatever ends
the sweep — completion, an error, Ctrl-C — the points acquired so far are committed, the run
is marked (completed / failed / aborted), and every swept gate is ramped back to the value it
had before the sweep.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dotstack.experiments.hardware import HardwareRaster
from dotstack.experiments.result import RunResult  # re-exported: its home was this module
from dotstack.experiments.shield import GateKeeper, GatesNotRestored, InterruptGuard
from dotstack.station import Gate, LabStation
from dotstack.store import Axis, Quantity, RunWriter

#: points between two checks that the held gates and the readout are as the run set them
VERIFY_EVERY = 32

#: Called before the run is closed with the in-memory data; returns the fit (JSON-able) or None.
Analysis = Callable[[dict[str, np.ndarray]], Mapping[str, Any] | None]


@dataclass(frozen=True)
class SweepAxis:
    """One swept gate of a `gate_sweep` and its values (V), in sweep order."""

    gate: str
    values: np.ndarray

    @classmethod
    def linspace(cls, gate: str, start: float, stop: float, points: int) -> SweepAxis:
        """``points`` evenly spaced values from ``start`` to ``stop`` V, both included.

        Raises:
            ValueError: Fewer than 2 points.
        """
        if points < 2:
            raise ValueError(f"sweep of {gate}: needs at least 2 points, got {points}")
        return cls(gate, np.linspace(float(start), float(stop), int(points)))


def gate_sweep(
    station: LabStation,
    name: str,
    axes: Sequence[SweepAxis],
    *,
    readout: str | None = None,
    quantity: str = "current",
    long_name: str = "sensor current",
    settle: float = 0.0,
    set_gates: Mapping[str, float] | None = None,
    parameters: Mapping[str, Any] | None = None,
    analysis: Analysis | None = None,
    data_dir: str | Path | None = None,
    progress: bool = True,
    mode: str = "software",
    dwell: float | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> RunResult:
    """Sweep ``axes`` (outer first), read ``readout`` at every point, log to a new run.

    ``data_dir`` is a local path or an fsspec URL (``s3://bucket/runs``) with
    ``storage_options`` for it (see `dotstack.store.location`).

    ``set_gates`` are set (safely) before the sweep; they and the swept gates are ramped back to
    their previous values when the sweep ends, however it ends.  ``mode="software"`` sets the
    gate and reads at every point (waiting ``settle`` s of lab time before each reading);
    ``mode="hardware"`` plays each row of the inner axis as a timed DAC list whose steps
    trigger the readout (``dwell`` s per point, default the shortest that fits ``settle`` plus
    one reading; see `dotstack.experiments.hardware`).

    Args:
        station: The station (real or mock).
        name: The run's name.
        axes: One or two `SweepAxis`, outer first (C order).
        readout: The readout to use (default: the one whose ``sees:`` lists the inner gate).
        quantity: Name of the measured data variable.
        long_name: Its CF ``long_name``.
        settle: Lab time to wait before each reading (s).
        set_gates: Gates set (safely) before the sweep; ramped back after it.
        parameters: More JSON-able parameters for the run's ``meta/parameters``.
        analysis: Called with the data (gate and quantity names -> arrays) before the run is
            closed; what it returns is the run's fit (``meta/fit``).
        data_dir: Folder or fsspec URL for the run (default: ``$DOTSTACK_DATA_DIR`` or ``./data``).
        progress: Show a progress bar.
        mode: ``"software"`` or ``"hardware"`` (see above).
        dwell: Time per point in hardware mode (s).
        storage_options: fsspec options of a URL ``data_dir``.

    Returns:
        The run: its store's path, run id, name, status and fit.

    Raises:
        ValueError: Not 1 or 2 axes, an unknown mode, a value outside a gate's limits (before
            anything moves), or a readout that cannot see the inner gate.
        KeyError: No such gate or readout.
    """
    if not 1 <= len(axes) <= 2:
        raise ValueError(f"gate_sweep takes 1 or 2 axes, got {len(axes)}")
    if mode not in ("software", "hardware"):
        raise ValueError(f"gate_sweep: mode must be 'software' or 'hardware', got {mode!r}")
    gates = [station.gate(a.gate) for a in axes]
    for axis, gate in zip(axes, gates, strict=True):
        values = np.asarray(axis.values, float)
        bad = values[(values < gate.limits.min_v) | (values > gate.limits.max_v) | ~np.isfinite(values)]
        if bad.size:
            raise ValueError(f"sweep of {gate.name}: {bad[0]:+g} V is outside the gate's limits "
                             f"[{gate.limits.min_v:+g}, {gate.limits.max_v:+g}] V")
    readout_name, meter = station.readout_for(axes[-1].gate, readout)
    raster = (HardwareRaster.plan(station, gates[-1], readout_name, settle=settle, dwell=dwell)
              if mode == "hardware" else None)
    shape = tuple(len(a.values) for a in axes)
    run_axes = [Axis(a.gate, "V", f"{a.gate} gate voltage", np.asarray(a.values, float)) for a in axes]
    quantities = [Quantity(quantity, meter.unit, long_name)]
    touched = [*gates, *(station.gate(n) for n in (set_gates or {}) if n not in {g.name for g in gates})]
    all_start = station.gate_values()
    keeper = GateKeeper(touched, all_start, others=list(station.gates.values()),
                        others_start=all_start)
    held = [g for g in touched if g is not gates[-1]]  # gates that stay put while a row runs
    meta = {
        "station": station.config.as_dict(),
        "snapshot": station.snapshot(),
        "parameters": {"axes": {a.gate: np.asarray(a.values).tolist() for a in axes},
                       "readout": readout_name, "settle_s": settle, "set_gates": dict(set_gates or {}),
                       "mode": mode, "dwell_s": None if raster is None else raster.dwell,
                       **(parameters or {})},
        "start_gate_values": all_start,
    }
    truth = station.ground_truth()
    if truth is not None:
        meta["ground_truth"] = truth
    data = np.full(shape, np.nan)
    # scalar points are committed by time (every ~1 s, or 10,000 points): a commit costs a few ms
    # of the storage thread, which would otherwise compete with acquisition every 100 points
    writer = RunWriter(name, run_axes, quantities, meta=_jsonable(meta),
                       data_dir=None if data_dir is None else str(data_dir),
                       storage_options=storage_options, flush_points=10_000, flush_seconds=1.0)
    status = "completed"
    fit: Mapping[str, Any] = {}
    guard = InterruptGuard(lambda: f"as far as known: {keeper.where()}; start values: "
                           + ", ".join(f"{g} {v:+.6g} V" for g, v in keeper.start.items()))

    def check() -> None:  # held gates and readout still as the run put them (e.g. no reset)
        keeper.verify(held)
        check_settings = getattr(meter, "check_settings", None)
        if check_settings is not None:
            check_settings()

    with guard, _progress(progress, name, int(np.prod(shape))) as advance:
        try:
            with writer:
                try:
                    for gate_name, volts in (set_gates or {}).items():
                        keeper.set(station.gate(gate_name), volts)
                    flat = data.reshape(-1)
                    inner_gate, inner_values = gates[-1], [float(v) for v in axes[-1].values]
                    n_inner = len(inner_values)
                    read, write = meter.read, writer.write_point
                    if raster is not None:
                        row_values = np.asarray(inner_values)
                        for r in range(flat.size // n_inner):
                            if len(axes) == 2:
                                keeper.set(gates[0], float(axes[0].values[r]))
                            check()
                            keeper.unknown(inner_gate, min(inner_values), max(inner_values))
                            for j, value in enumerate(raster.row(row_values).tolist()):
                                flat[r * n_inner + j] = value
                                write(r * n_inner + j, **{quantity: value})
                                advance()
                    for k in range(flat.size if raster is None else 0):
                        j = k % n_inner
                        if j == 0 and len(axes) == 2:  # a new row: the outer gate moves first
                            keeper.set(gates[0], float(axes[0].values[k // n_inner]))
                        if k % VERIFY_EVERY == 0:
                            check()
                        keeper.set(inner_gate, inner_values[j])
                        if settle:
                            station.sleep(settle)
                        value = read()
                        flat[k] = value
                        write(k, **{quantity: value})
                        advance()
                    check()  # the last points too
                    if analysis is not None:
                        fit = _analyse(analysis, {quantity: data,
                                                  **{a.gate: np.asarray(a.values) for a in axes}})
                        writer.add_meta("fit", _jsonable(fit))
                except BaseException as exc:  # gates made safe before the run is closed
                    guard.restoring = True
                    _make_safe(station, touched, keeper.start, writer, ended_by=exc, keeper=keeper)
                    raise
                guard.restoring = True
                _make_safe(station, touched, keeper.start, writer, keeper=keeper)
        except KeyboardInterrupt as exc:
            status = "aborted"
            raise RunInterrupted(writer.path, writer.run_id) from exc
        except Exception as exc:
            status = "failed"
            raise RunFailed(writer.path, writer.run_id, exc) from exc
    return RunResult(writer.path, writer.run_id, name, status, fit,
                     storage_options=storage_options)


def _analyse(analysis: Analysis, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Run the fit; a fit that fails is recorded as ``{"error": ...}`` (the data stay a good run)."""
    try:
        return dict(analysis(arrays) or {})
    except (ValueError, RuntimeError, FloatingPointError) as exc:
        warnings.warn(f"fit failed: {exc}", FitWarning, stacklevel=3)
        return {"error": f"{type(exc).__name__}: {exc}"}


class FitWarning(UserWarning):
    """An experiment's fit failed; its run was kept and marked completed."""


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C ended a run: its data and gates were saved first.  Carries the run's path."""

    def __init__(self, path: str, run_id: str) -> None:
        super().__init__(f"run {run_id} aborted; data kept in {path}")
        self.path, self.run_id, self.status = path, run_id, "aborted"


class RunFailed(RuntimeError):
    """An error ended a run: its points were committed, the run marked ``failed`` and the gates
    made safe (or the message says which are where) first.  ``__cause__`` is the error."""

    def __init__(self, path: str, run_id: str, cause: BaseException) -> None:
        super().__init__(f"run {run_id} failed: {cause}; data kept in {path}")
        self.path, self.run_id, self.status, self.cause = path, run_id, "failed", cause


def _make_safe(station: LabStation, gates: Sequence[Gate], values: Mapping[str, float],
               writer: RunWriter, ended_by: BaseException | None = None,
               keeper: GateKeeper | None = None) -> None:
    """Ramp the touched gates back to ``values`` and record where every gate is (the caller's
    `InterruptGuard` is in restoring mode: Ctrl-C is deferred meanwhile).  If restoring fails,
    `GatesNotRestored` says which gates are where (as far as known), chained to ``ended_by``."""
    keeper = keeper or GateKeeper(gates, values)
    if ended_by is not None and gates:
        print(f"run {writer.run_id} ended by {type(ended_by).__name__}: ramping "
              f"{', '.join(g.name for g in gates)} back to where they were", file=sys.stderr,
              flush=True)
    error: GatesNotRestored | None = None
    try:
        keeper.restore()
    except GatesNotRestored as exc:  # recorded below, raised after the final values are written
        error = exc
        if ended_by is not None:
            error = GatesNotRestored(f"{exc} (the run had ended by: {ended_by})")
        print(f"run {writer.run_id}: {error}", file=sys.stderr, flush=True)
    final: dict[str, Any]
    try:
        final = dict(station.gate_values())
    except Exception as exc:  # the DAC does not answer: what the run knows
        final = {**keeper.final_values(), "error": f"{type(exc).__name__}: {exc}"}
    writer.add_meta("final_gate_values", _jsonable(final))
    if error is not None:
        raise error from ended_by


class _progress:
    """A rich progress bar (or nothing) as a context manager yielding an `advance()`."""

    def __init__(self, enabled: bool, name: str, total: int) -> None:
        self.enabled, self.name, self.total = enabled, name, total
        self._bar: Any = None

    def __enter__(self) -> Callable[[], None]:
        if not self.enabled:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        task = self._bar.add_task(self.name, total=self.total)
        last = [0.0, 0]

        def advance() -> None:
            last[1] += 1
            now = time.monotonic()
            if now - last[0] > 0.1:
                self._bar.update(task, completed=last[1])
                last[0] = now

        return advance

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _jsonable(obj: Any) -> Any:
    """Round-trip through JSON with numpy values converted (and inf/NaN as strings)."""

    def default(o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        return repr(o)

    return json.loads(json.dumps(obj, default=default))
