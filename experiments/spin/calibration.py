"""PSB readout calibration and the Rabi chevron."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from dotstack.experiments.spin.common import need, run_spin, save_plot, spin_truth, up_fraction
from dotstack.experiments.spin.fits import fit_chevron, fit_levels
from dotstack.experiments.spin.shots import Pulse, SpinConfig, SpinRunner, shot_schedule
from dotstack.experiments.sweep import RunResult
from dotstack.sequencer import Param
from dotstack.station import LabStation
from dotstack.store import Axis, Quantity, RunWriter


def _count(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def psb_readout(station: LabStation, *, levels: Sequence[float] | None = None,
                scan_shots: int = 200, shots: int = 4000, frequency: float | None = None,
                rabi_frequency: float | None = None, cfg: SpinConfig | None = None,
                data_dir: str | None = None) -> RunResult:
    """Find the readout point and the single-shot fidelity.

    Scan the plungers' readout pulse ``levels`` (AWG V) with spin 1 prepared up (a pi pulse)
    and down (a 2 pi pulse: the same timing), ``scan_shots`` each; the readout point is the
    centre of the levels whose contrast is above half its maximum.  There, ``shots`` single
    shots per preparation give the histograms, the threshold and the assignment fidelity
    (``meta/fit``: ``readout_fidelity``, ``readout_threshold_V``, ``readout_level_V``).  During
    the scan each shot starts with a pulse to the top level (deep in (0,2): the pair
    re-initialises there), so that levels that do not read do not carry their preparation over
    into the next shot."""
    cfg = cfg or SpinConfig()
    n_scan, n_shots = _count(scan_shots, "scan_shots"), _count(shots, "shots")
    lv = np.asarray(levels if levels is not None else np.linspace(0.17, 0.27, 11), dtype=float)
    if lv.ndim != 1 or lv.size < 3 or not np.all(np.isfinite(lv)):
        raise ValueError(f"levels must be >= 3 finite AWG volts, got {levels!r}")
    truth = spin_truth(station, cfg)
    f_res = need(frequency, truth, "f_resonance_Hz", "frequency")
    t_pi = 1.0 / (2.0 * need(rabi_frequency, truth, "f_rabi_Hz", "rabi_frequency"))
    runner = SpinRunner(station, cfg)
    level = Param("lvl")
    # each shot starts deep in (0,2) (the scan's top level): levels that do not read do not
    # re-initialise the pair
    shot = shot_schedule([Pulse(Param("t"), cfg.iq_amplitude)], cfg, readout_level=level,
                         init_level=float(lv.max()))
    prep = np.tile([t_pi, 2 * t_pi], lv.size)
    lvls = np.repeat(lv, 2)
    runner.compile(shot, {"t": prep, "lvl": lvls, "lvl_neg": -lvls})
    axes = [Axis("readout_level", "V", "plunger readout pulse (AWG V)", lv),
            Axis("prepared", "1", "spin 1 prepared up (1) or down (0)", np.array([1, 0]))]
    quantities = [Quantity("signal", "V", "single-shot window average", shape=(n_scan,),
                           dims=("shot",))]

    def body(writer: RunWriter) -> dict[str, Any]:
        runner.source(f_res)
        sig = runner.measure(n_scan)  # (shots, 2 * levels)
        for k in range(lv.size):
            for j in range(2):
                writer.write_point((k, j), signal=sig[:, 2 * k + j])
        contrast = sig[:, 0::2].mean(axis=0) - sig[:, 1::2].mean(axis=0)
        good = np.flatnonzero(np.abs(contrast) >= 0.5 * np.abs(contrast).max())
        best = float(0.5 * (lv[good[0]] + lv[good[-1]]))
        runner.compile(shot_schedule([Pulse(Param("t"), cfg.iq_amplitude)], cfg,
                                     readout_level=best), {"t": [t_pi, 2 * t_pi]})
        runner.source(f_res)
        single = runner.measure(n_shots)
        writer.add_meta("program_single_shot", runner.summary())
        writer.add_meta("single_shots", {"up": single[:, 0].tolist(),
                                         "down": single[:, 1].tolist()})
        fit = fit_levels(single[:, 0], single[:, 1])
        fit.update(readout_level_V=best, contrast_V=contrast.tolist())
        return fit

    def plot(writer: RunWriter, fit: dict[str, Any]) -> str:
        def draw(fig: Any) -> None:
            ax = fig.add_subplot(111)
            ax.axvline(fit["readout_threshold_V"], color="k", ls="--", label="threshold")
            ax.set_xlabel("single-shot signal (V)")
            ax.set_title(f"PSB readout: fidelity {fit['readout_fidelity']:.3f}")
            ax.legend()
        return save_plot(writer, draw)

    params = {"experiment": "psb_readout", "levels": lv.tolist(), "scan_shots": n_scan,
              "shots": n_shots, "frequency_Hz": f_res, "pi_time_s": t_pi}
    return run_spin(station, "psb_readout", runner, axes, quantities, params, truth, body, plot,
                    point_axes=[Axis("shot", "1", "shot", np.arange(n_scan))], data_dir=data_dir)


def rabi(station: LabStation, *, frequencies: Sequence[float] | None = None,
         times: Sequence[float] | None = None, shots: int = 100,
         threshold: float | None = None, cfg: SpinConfig | None = None,
         data_dir: str | None = None) -> RunResult:
    """Rabi chevron: drive frequency (the source, one compiled program) x burst time (the
    AWG sweep); spin-up fraction per point from ``shots`` single shots; lmfit of the chevron
    gives ``f_rabi_Hz`` and ``f_resonance_Hz``.  Defaults (mock): +-3 f_Rabi around the truth's
    resonance in 25 steps, bursts 4 ns .. 1 us in 50."""
    cfg = cfg or SpinConfig()
    n = _count(shots, "shots")
    truth = spin_truth(station, cfg)
    th = need(threshold, truth, "readout_threshold_V", "threshold")
    if frequencies is None:
        f0, fr = need(None, truth, "f_resonance_Hz", "frequencies"), truth["f_rabi_Hz"]  # type: ignore[index]
        frequencies = f0 + np.linspace(-3, 3, 25) * fr
    fs = np.asarray(frequencies, dtype=float)
    ts = np.asarray(times if times is not None else np.linspace(4e-9, 1e-6, 50), dtype=float)
    for name, arr in (("frequencies", fs), ("times", ts)):
        if arr.ndim != 1 or arr.size < 3 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be >= 3 finite values, got {arr!r}")
    if np.any(ts <= 0):
        raise ValueError("burst times must be > 0 s")
    runner = SpinRunner(station, cfg)
    runner.compile(shot_schedule([Pulse(Param("t"), cfg.iq_amplitude)], cfg), {"t": ts})
    axes = [Axis("frequency", "Hz", "drive frequency", fs)]
    quantities = [Quantity("p_up", "1", "spin-up fraction", shape=(ts.size,), dims=("burst",))]
    p = np.zeros((fs.size, ts.size))

    def body(writer: RunWriter) -> dict[str, Any]:
        for k, f in enumerate(fs):
            runner.source(f)
            p[k] = up_fraction(runner.measure(n), th)
            writer.write_point(k, p_up=p[k])
        mid = p.max(axis=1).argmax()
        return fit_chevron(fs, ts, p, float(fs[mid]), _rabi_guess(ts, p[mid]))

    def plot(writer: RunWriter, fit: dict[str, Any]) -> str:
        def draw(fig: Any) -> None:
            ax = fig.add_subplot(111)
            ax.pcolormesh(ts * 1e9, (fs - fs.mean()) / 1e6, p, shading="auto")
            ax.set_xlabel("burst (ns)")
            ax.set_ylabel(f"f - {fs.mean() / 1e9:.6f} GHz (MHz)")
            ax.set_title(f"Rabi {fit['f_rabi_Hz'] / 1e6:.3f} MHz")
        return save_plot(writer, draw)

    params = {"experiment": "rabi", "frequencies_Hz": fs.tolist(), "times_s": ts.tolist(),
              "shots": n, "threshold_V": th}
    return run_spin(station, "rabi", runner, axes, quantities, params, truth, body, plot,
                    point_axes=[Axis("burst", "s", "burst time", ts)], data_dir=data_dir)


def _rabi_guess(t: np.ndarray, p: np.ndarray) -> float:
    """Rabi frequency from the strongest non-zero FFT component of one trace."""
    dt = float(np.mean(np.diff(t)))
    spec = np.abs(np.fft.rfft(p - p.mean()))
    freqs = np.fft.rfftfreq(p.size, dt)
    k = int(np.argmax(spec[1:])) + 1
    return float(freqs[k]) if math.isfinite(freqs[k]) and freqs[k] > 0 else 1.0 / (4 * t[-1])
