"""`sensor_compensation`: measure the virtual sensor gate (dS/dP per plunger).

For each plunger, a 2-D run sweeps the plunger (outer, around its present value, its values
measured in a spread order: see `_spread_order`) and the sensor gate (inner, a short window
around its present value, which should be near a Coulomb peak, e.g. where `sensor_scan` parked
it).  The sensor peak is tracked row by row and its position fitted
against the plunger with one common slope between the jumps that charge transitions cause
(`dotstack.experiments.fits.peakshift`).  The slopes are the coefficients of a
`SensorCompensation`; the last run's ``meta/fit`` holds it under ``"compensation"`` (with the
other runs' paths), so ``charge_stability(..., compensate=<that run>)`` can use it.  In mock mode
the fit also records the simulator's true coefficients and the relative errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from dotstack.experiments.compensation import FIT_KEY, SensorCompensation
from dotstack.experiments.fits import fit_peak_shift, track_peak
from dotstack.experiments.sweep import RunResult, SweepAxis, gate_sweep
from dotstack.station import Gate, LabStation


def sensor_compensation(
    station: LabStation,
    plungers: Sequence[str] = ("P1", "P2"),
    span: float = 0.15,
    steps: int = 121,
    *,
    sensor: str = "S",
    s_window: tuple[float, float] = (-0.0015, 0.0015),
    s_points: int = 51,
    set_gates: Mapping[str, float] | None = None,
    readout: str | None = None,
    data_dir: str | Path | None = None,
    storage_options: Mapping[str, Any] | None = None,
    plot: bool = True,
    progress: bool = True,
) -> RunResult:
    """Measure ``dS/dP`` for each of ``plungers``: each swept over present ± ``span`` V in
    ``steps`` values, the sensor gate over present + ``s_window`` V in ``s_points`` values.

    Returns the last plunger's run; its fit holds the `SensorCompensation` (``"compensation"``),
    every plunger's slope fit (``"plungers"``) and the other plungers' runs (``"other_runs"``).
    The plungers' ranges should hold a few charge transitions at most; ``steps`` should put
    several points between two transitions (the slope is fitted between them).
    """
    names = _plunger_names(plungers, sensor, station)
    span = _positive(span, "span")
    steps, s_points = _count(steps, "steps", 5), _count(s_points, "s_points", 7)
    lo, hi = (_finite(x, "s_window") for x in s_window)
    if not lo < hi:
        raise ValueError(f"sensor_compensation: s_window must be (low, high) with low < high, "
                         f"got {s_window!r}")
    start = station.gate_values()
    s0 = float((set_gates or {}).get(sensor, start[sensor]))
    s_values = s0 + np.linspace(lo, hi, s_points)
    truth = (station.ground_truth() or {}).get("sensor_compensation")
    fits: dict[str, dict[str, Any]] = {}
    runs: dict[str, str] = {}
    result: RunResult | None = None
    for n, gate in enumerate(names):
        p0 = float((set_gates or {}).get(gate, start[gate]))
        p_values = p0 + np.linspace(-span, span, steps)[_spread_order(steps)]
        last = n == len(names) - 1

        def analysis(arrays: dict[str, np.ndarray], gate: str = gate, last: bool = last,
                     ) -> dict[str, Any]:
            order = np.argsort(arrays[gate])  # rows in plunger order (measured spread)
            peaks = np.empty(order.size)
            peaks[order] = track_peak(arrays[sensor], arrays["current"][order], start=s0)
            fit = {"plunger": gate, "sensor": sensor,
                   **fit_peak_shift(arrays[gate], peaks).as_dict(),
                   "peaks_V": [None if np.isnan(x) else float(x) for x in peaks]}
            if not last:
                return fit
            return _combine(sensor, {**fits, gate: fit}, runs, truth)

        result = gate_sweep(
            station, f"sensor_compensation_{gate}",
            [SweepAxis(gate, p_values), SweepAxis(sensor, s_values)],
            readout=readout, set_gates=set_gates,
            parameters={"experiment": "sensor_compensation", "plunger": gate, "sensor": sensor,
                        "plungers": list(names), "span_V": span, "s_window_V": [lo, hi],
                        "previous_runs": dict(runs)},
            analysis=analysis, data_dir=data_dir, storage_options=storage_options,
            progress=progress,
        )
        fits[gate], runs[gate] = dict(result.fit), result.path
        if plot:
            result = replace(result, plot=str(plot_peak_shift(result)))
    assert result is not None
    return result


def _spread_order(n: int) -> np.ndarray:
    """A measuring order of ``n`` ascending plunger values that spreads every stretch of them
    over the whole run (golden-ratio sequence): the sensor's slow charge noise then scatters the
    peak track instead of tilting it (measured in plunger order, 1/f drift within a charge state
    biased the slope by ~10 %)."""
    return np.argsort(np.mod(np.arange(n) * 0.6180339887498949, 1.0), kind="stable")


def _combine(sensor: str, fits: Mapping[str, Mapping[str, Any]], runs: Mapping[str, str],
             truth: Mapping[str, Any] | None) -> dict[str, Any]:
    """The last run's fit: the compensation of every plunger (refused if one fit failed)."""
    failed = {g: f["error"] for g, f in fits.items() if "error" in f}
    if failed:
        raise ValueError(f"no compensation: the peak-shift fit failed for {failed}")
    comp = SensorCompensation(sensor, {g: float(f["slope"]) for g, f in fits.items()})
    last = list(fits)[-1]
    out: dict[str, Any] = {**fits[last], FIT_KEY: comp.as_dict(),
                           "coefficients": dict(comp.coefficients),
                           "plungers": {g: {k: v for k, v in f.items() if k != "peaks_V"}
                                        for g, f in fits.items()},
                           "other_runs": dict(runs)}
    if truth and truth.get("sensor") == sensor:
        true = {g: float(truth["all_gates"][g]) for g in comp.coefficients
                if g in truth.get("all_gates", {})}
        out["vs_ground_truth"] = {
            "coefficients": true,
            "relative_error": {g: (comp.coefficients[g] - t) / t for g, t in true.items() if t},
        }
    return out


def plot_peak_shift(result: RunResult) -> Path | str:
    """The run's map (sensor current vs plunger and sensor gate) with the tracked peak and the
    fitted slope drawn over it; a PNG beside the store (``<store>.png``), returned."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from dotstack.store.location import is_url

    ds = result.load()
    fit = result.fit
    da = ds["current"]
    p_name, s_name = da.dims
    order = np.argsort(ds[p_name].values)  # rows were measured in a spread order
    p, s = ds[p_name].values[order], ds[s_name].values
    fig, ax = plt.subplots(figsize=(6.4, 4.8), layout="constrained")
    mesh = ax.pcolormesh(s, p, np.asarray(da.values)[order], shading="nearest")
    fig.colorbar(mesh, ax=ax, label=f"{da.attrs.get('long_name', 'current')} "
                                    f"({da.attrs.get('units', 'A')})")
    if "peaks_V" in fit:
        peaks = np.array([np.nan if x is None else x for x in fit["peaks_V"]], float)[order]
        ax.plot(peaks, p, "w.", ms=4, label="tracked peak")
        ok = np.isfinite(peaks)
        if ok.any() and "slope" in fit:
            mid = int(np.flatnonzero(ok)[ok.sum() // 2])
            ax.plot(peaks[mid] + fit["slope"] * (p - p[mid]), p, "r--", lw=1,
                    label=f"dS/d{p_name} = {fit['slope']:+.4g}")
        ax.legend(fontsize="small", loc="upper right")
    elif "error" in fit:
        ax.text(0.02, 0.98, f"fit failed: {fit['error']}"[:120], transform=ax.transAxes,
                va="top", fontsize="small", color="w")
    ax.set_xlabel(f"{s_name} gate voltage (V)")
    ax.set_ylabel(f"{p_name} gate voltage (V)")
    ax.set_title(f"{result.name}  [{result.status}]  {result.run_id[:8]}", fontsize="small")
    target = result.path.rstrip("/") + ".png"
    if is_url(target):
        import fsspec

        with fsspec.open(target, "wb", **dict(result.storage_options or {})) as f:
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)
        return target
    fig.savefig(target, dpi=110)
    plt.close(fig)
    return Path(target)


# ---------------------------------------------------------------- compensated sweeps
class _Compensator:
    """Moves the sensor gate along with the compensated plungers: after each plunger move the
    sensor goes to ``s0 + sum_i c_i (P_i - P_i0)`` (P_i: the plungers' last set values)."""

    def __init__(self, comp: SensorCompensation, sensor: Gate, s0: float,
                 reference: Mapping[str, float]) -> None:
        self.comp, self.sensor, self.s0 = comp, sensor, float(s0)
        self.reference = {g: float(reference[g]) for g in comp.coefficients}
        self.targets = dict(self.reference)

    def sensor_target(self) -> float:
        return self.comp.sensor_value(self.s0, self.targets, self.reference)

    def move(self, gate: Gate, volts: float) -> None:
        gate.set(volts)
        self.targets[gate.name] = float(volts)
        self.sensor.set(self.sensor_target())


class _CompensatedGate(Gate):
    """A plunger whose every move also moves the sensor gate (through the `_Compensator`)."""

    def __init__(self, base: Gate, compensator: _Compensator) -> None:
        super().__init__(base.name, base.dac, base.channel, base.unit)
        self._base, self._compensator = base, compensator

    def set(self, volts: float) -> None:
        self._compensator.move(self._base, volts)


class _CompensatedStation(LabStation):
    """The station as a sweep sees it with compensation: the compensated plungers are
    `_CompensatedGate` s; everything else is the station's own (this view owns nothing)."""

    def __init__(self, base: LabStation, gates: Mapping[str, Gate]) -> None:  # no super(): a view
        self._base = base
        self._compensated = dict(gates)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in ("_base", "_compensated"):
            raise AttributeError(name)
        return getattr(self._base, name)

    def gate(self, name: str) -> Gate:
        return self._compensated.get(name) or self._base.gate(name)

    def close(self) -> None:
        """Nothing to close: the instruments belong to the station."""


def compensated_station(
    station: LabStation, compensation: SensorCompensation, grid: Mapping[str, np.ndarray],
    set_gates: Mapping[str, float] | None = None,
) -> tuple[LabStation, dict[str, Any]]:
    """Prepare a sweep over ``grid`` (swept gate -> every value it takes) with the sensor gate
    compensated: the station view to sweep with (its compensated plungers move the sensor too)
    and a description for the run's parameters.

    The compensation's origin is where the sensor was tuned: the plungers' and the sensor gate's
    present values (the sensor gate may not be in ``set_gates``: tune it first, e.g. with
    `sensor_scan`).  The sensor gate is moved only with the plungers, so the sweep's ramping
    them back puts it back too.  Every sensor voltage the sweep would take (each swept gate over
    its whole range, the others at ``set_gates`` or present) is checked against the sensor
    gate's limits first: a sweep that would leave them is refused before anything moves.
    """
    sensor_name = compensation.sensor
    sensor = station.gate(sensor_name)
    if sensor_name in grid:
        raise ValueError(f"compensation: the sensor gate {sensor_name} is swept; it cannot also "
                         "follow the plungers")
    if sensor_name in (set_gates or {}):
        raise ValueError(f"compensation: set_gates sets the sensor gate {sensor_name}, but the "
                         "compensation starts from where the sensor is; tune it there first "
                         "(e.g. sensor_scan parks it)")
    present = {g: station.gate(g).get() for g in compensation.coefficients}
    s0 = sensor.get()
    held = {g: float((set_gates or {}).get(g, present[g])) for g in compensation.coefficients}
    shape = [len(np.asarray(v)) for v in grid.values()]
    dx: dict[str, np.ndarray] = {}
    for axis, (gate, values) in enumerate(grid.items()):
        if gate in compensation.coefficients:
            index = [1] * len(shape)
            index[axis] = shape[axis]
            dx[gate] = np.asarray(values, float).reshape(index) - present[gate]
    for gate in compensation.coefficients:
        if gate not in dx:
            dx[gate] = np.asarray(held[gate] - present[gate])
    s_all = s0 + compensation.offsets(dx)
    lim = sensor.limits
    bad = ~np.isfinite(s_all) | (s_all < lim.min_v) | (s_all > lim.max_v)
    if np.any(bad):
        worst = float(s_all.reshape(-1)[int(np.argmax(bad.reshape(-1)))])
        raise ValueError(
            f"compensation: the sweep would take the sensor gate {sensor_name} to {worst:+.6g} V "
            f"(range {float(np.min(s_all)):+.6g} .. {float(np.max(s_all)):+.6g} V), outside its "
            f"limits [{lim.min_v:+g}, {lim.max_v:+g}] V; nothing was moved")
    compensator = _Compensator(compensation, sensor, s0, present)
    view = _CompensatedStation(station, {g: _CompensatedGate(station.gate(g), compensator)
                                         for g in compensation.coefficients})
    description = {"compensation": compensation.as_dict(), "reference_V": present,
                   "sensor_at_reference_V": s0,
                   "sensor_range_V": [float(np.min(s_all)), float(np.max(s_all))]}
    return view, description


def _plunger_names(plungers: Sequence[str], sensor: str, station: LabStation) -> tuple[str, ...]:
    if isinstance(plungers, str):
        plungers = (plungers,)
    names = tuple(plungers)
    if not names:
        raise ValueError("sensor_compensation: give at least one plunger")
    for g in (*names, sensor):
        if not isinstance(g, str):
            raise ValueError(f"sensor_compensation: gate names must be strings, got {g!r}")
        station.gate(g)  # KeyError naming the station's gates
    dup = sorted({g for g in names if names.count(g) > 1})
    if dup:
        raise ValueError(f"sensor_compensation: plunger(s) {dup} given twice")
    if sensor in names:
        raise ValueError(f"sensor_compensation: the sensor gate {sensor} cannot be a plunger")
    return names


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"sensor_compensation: {what} must be numbers, got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"sensor_compensation: {what} must be finite, got {x}")
    return x


def _positive(value: object, what: str) -> float:
    x = _finite(value, what)
    if not x > 0:
        raise ValueError(f"sensor_compensation: {what} must be > 0 V, got {x}")
    return x


def _count(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"sensor_compensation: {what} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"sensor_compensation: {what} must be >= {minimum}, got {value}")
    return int(value)
