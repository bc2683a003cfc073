"""What every spin experiment shares: ground truth for its settings, the run, safe ending."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from dotstack.experiments.spin.shots import SpinConfig, SpinRunner
from dotstack.experiments.sweep import RunFailed, RunInterrupted, RunResult, _jsonable
from dotstack.station import LabStation
from dotstack.store import Axis, Quantity, RunWriter


def spin_truth(station: LabStation, cfg: SpinConfig) -> dict[str, Any] | None:
    """The lab's spin ground truth with ``f_rabi_Hz`` for this configuration's drive (None on
    hardware)."""
    truth = station.ground_truth()
    if not truth or "spin" not in truth:
        return None
    spin = dict(truth["spin"])
    spin["f_rabi_Hz"] = (spin["rabi_Hz_per_dot_V"][0] * spin["mw_gain"] * cfg.carrier_amplitude
                         * cfg.iq_amplitude / spin["iq_full_scale_V"])
    spin["drive_amplitude_V"] = spin["f_rabi_Hz"] / spin["rabi_Hz_per_dot_V"][0]
    return spin


def need(value: float | None, truth: Mapping[str, Any] | None, key: str, what: str) -> float:
    """``value``, or in mock mode the ground truth's ``key``; hardware needs it given."""
    if value is not None:
        if isinstance(value, bool) or not math.isfinite(float(value)):
            raise ValueError(f"{what} must be a finite number, got {value!r}")
        return float(value)
    if truth is None:
        raise ValueError(f"{what} is needed (from your calibration runs) on hardware")
    return float(truth[key])


def run_spin(station: LabStation, name: str, runner: SpinRunner, axes: Sequence[Axis],
             quantities: Sequence[Quantity], parameters: Mapping[str, Any],
             truth: Mapping[str, Any] | None,
             body: Callable[[RunWriter], Mapping[str, Any]],
             plot: Callable[[RunWriter, dict[str, Any]], str] | None = None,
             point_axes: Sequence[Axis] = (), data_dir: str | None = None) -> RunResult:
    """Stream one run: ``body(writer)`` measures, writes points and returns the fit (stored in
    ``meta/fit``); the AWG is stopped and the source's output switched off however it ends."""
    meta: dict[str, Any] = {"station": station.config.as_dict(), "parameters": dict(parameters),
                            "program": runner.summary() if runner.program is not None else {}}
    if truth is not None:
        meta["ground_truth"] = truth
    writer = RunWriter(name, axes, quantities, point_axes=point_axes, meta=_jsonable(meta),
                       data_dir=data_dir, flush_points=10_000, flush_seconds=1.0)
    status, fit, png = "completed", {}, ""
    try:
        with writer:
            try:
                fit = dict(body(writer))
                writer.add_meta("fit", _jsonable(fit))
                if plot is not None:
                    png = plot(writer, fit)
            finally:
                _quiet(station, runner.cfg)
    except KeyboardInterrupt as exc:
        raise RunInterrupted(writer.path, writer.run_id) from exc
    except Exception as exc:
        raise RunFailed(writer.path, writer.run_id, exc) from exc
    return RunResult(writer.path, writer.run_id, name, status, fit, plot=png)


def _quiet(station: LabStation, cfg: SpinConfig) -> None:
    with contextlib.suppress(Exception):
        station.instruments[cfg.awg].stop()
    with contextlib.suppress(Exception):
        station.instruments[cfg.mw].status(False)


def up_fraction(signals: np.ndarray, threshold: float, up_high: bool = True) -> np.ndarray:
    """Fraction of shots read as spin up per point (``signals``: (shots, points))."""
    up = signals > threshold if up_high else signals < threshold
    return np.asarray(up.mean(axis=0), dtype=float)


def save_plot(writer: RunWriter, draw: Callable[[Any], None]) -> str:
    """Draw with ``draw(fig)`` and save the PNG beside the store."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(6, 4))
    try:
        draw(fig)
        path = str(writer.path).rstrip("/") + ".png"
        fig.savefig(path, dpi=80)
    finally:
        plt.close(fig)
    return path
