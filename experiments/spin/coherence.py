"""Coherence and relaxation: Ramsey (T2*), Hahn echo (T2), T1."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from dotstack.experiments.spin.common import need, run_spin, save_plot, spin_truth, up_fraction
from dotstack.experiments.spin.fits import fit_decay
from dotstack.experiments.spin.shots import Pulse, SpinConfig, SpinRunner, shot_schedule
from dotstack.experiments.sweep import RunResult
from dotstack.sequencer import Param
from dotstack.station import LabStation
from dotstack.store import Axis, Quantity, RunWriter


def _scan(station: LabStation, name: str, pulses: list[Pulse], sweep: dict[str, np.ndarray],
          x: np.ndarray, x_name: str, key: str, guess: float, shots: int, frequency: float,
          threshold: float, cfg: SpinConfig, truth: dict[str, Any] | None,
          params: dict[str, Any], data_dir: str | None, *, oscillation: float | None = None,
          stretched: bool = True) -> RunResult:
    if isinstance(shots, bool) or not isinstance(shots, int | np.integer) or shots < 1:
        raise ValueError(f"shots must be an integer >= 1, got {shots!r}")
    if x.ndim != 1 or x.size < 5 or not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError(f"{x_name}: need >= 5 finite times > 0 s, got {x!r}")
    runner = SpinRunner(station, cfg)
    runner.compile(shot_schedule(pulses, cfg), sweep)
    axes = [Axis(x_name, "s", x_name.replace("_", " "), x)]
    quantities = [Quantity("p_up", "1", "spin-up fraction")]
    p = np.zeros(x.size)

    def body(writer: RunWriter) -> dict[str, Any]:
        runner.source(frequency)
        p[:] = up_fraction(runner.measure(int(shots)), threshold)
        for k in range(x.size):
            writer.write_point(k, p_up=float(p[k]))
        return fit_decay(x, p, guess, key, stretched=stretched, oscillation=oscillation)

    def plot(writer: RunWriter, fit: dict[str, Any]) -> str:
        def draw(fig: Any) -> None:
            ax = fig.add_subplot(111)
            ax.plot(x * 1e6, p, "o")
            ax.set_xlabel(f"{x_name} (us)")
            ax.set_ylabel("P(up)")
            ax.set_title(f"{name}: {key} = {fit[key] * 1e6:.2f} us")
        return save_plot(writer, draw)

    params.update(shots=int(shots), frequency_Hz=frequency, threshold_V=threshold)
    return run_spin(station, name, runner, axes, quantities, params, truth, body, plot,
                    data_dir=data_dir)


def _basics(station: LabStation, cfg: SpinConfig | None, frequency: float | None,
            rabi_frequency: float | None, threshold: float | None
            ) -> tuple[SpinConfig, dict[str, Any] | None, float, float, float]:
    cfg = cfg or SpinConfig()
    truth = spin_truth(station, cfg)
    return (cfg, truth, need(frequency, truth, "f_resonance_Hz", "frequency"),
            need(rabi_frequency, truth, "f_rabi_Hz", "rabi_frequency"),
            need(threshold, truth, "readout_threshold_V", "threshold"))


def ramsey(station: LabStation, *, waits: Sequence[float] | None = None, shots: int = 400,
           detuning: float = 0.3e6, frequency: float | None = None,
           rabi_frequency: float | None = None, threshold: float | None = None,
           cfg: SpinConfig | None = None, data_dir: str | None = None) -> RunResult:
    """X90 - wait - X90 with the source ``detuning`` Hz above resonance: fringes decaying as
    ``exp(-(t / T2*)^alpha)``; ``t2star_s`` in ``meta/fit``."""
    cfg, truth, f_res, f_r, th = _basics(station, cfg, frequency, rabi_frequency, threshold)
    guess = float(truth["t2star_s"]) if truth else 10e-6
    x = np.asarray(waits if waits is not None else np.linspace(0.05, 3.0, 40) * guess, float)
    half = Pulse(1 / (4 * f_r), cfg.iq_amplitude)
    return _scan(station, "ramsey", [half, Pulse(Param("w")), half], {"w": x}, x, "wait",
                 "t2star_s", guess, shots, f_res + detuning, th, cfg, truth,
                 {"experiment": "ramsey", "detuning_Hz": detuning}, data_dir,
                 oscillation=detuning)


def hahn_echo(station: LabStation, *, waits: Sequence[float] | None = None, shots: int = 400,
              frequency: float | None = None, rabi_frequency: float | None = None,
              threshold: float | None = None, cfg: SpinConfig | None = None,
              data_dir: str | None = None) -> RunResult:
    """X90 - T/2 - Y180 - T/2 - X90 (free time T, pulses centred): ``t2_echo_s``."""
    cfg, truth, f_res, f_r, th = _basics(station, cfg, frequency, rabi_frequency, threshold)
    guess = float(truth["t2_echo_s"]) if truth else 50e-6
    x = np.asarray(waits if waits is not None else np.linspace(0.05, 3.0, 30) * guess, float)
    t_pi = 1 / (2 * f_r)
    half = Pulse(t_pi / 2, cfg.iq_amplitude)
    pi_y = Pulse(t_pi, cfg.iq_amplitude, math.pi / 2)
    gap = x / 2 - t_pi / 2
    if np.any(gap <= 0):
        raise ValueError(f"waits must exceed the pi pulse ({t_pi:.3g} s)")
    return _scan(station, "hahn_echo", [half, Pulse(Param("g")), pi_y, Pulse(Param("g")), half],
                 {"g": gap}, x, "free_time", "t2_echo_s", guess, shots, f_res, th, cfg, truth,
                 {"experiment": "hahn_echo"}, data_dir)


def t1(station: LabStation, *, waits: Sequence[float] | None = None, shots: int = 300,
       frequency: float | None = None, rabi_frequency: float | None = None,
       threshold: float | None = None, cfg: SpinConfig | None = None,
       data_dir: str | None = None) -> RunResult:
    """Pi pulse - wait - readout: ``exp(-t / T1)``; ``t1_s``.  The AWG runs at 25 MS/s by
    default here (waits of milliseconds)."""
    cfg = cfg or SpinConfig(awg_rate=25e6, iq_amplitude=0.0625)
    cfg, truth, f_res, f_r, th = _basics(station, cfg, frequency, rabi_frequency, threshold)
    guess = float(truth["t1_s"]) if truth else 1e-3
    x = np.asarray(waits if waits is not None else np.linspace(0.02, 3.0, 16) * guess, float)
    pi = Pulse(1 / (2 * f_r), cfg.iq_amplitude)
    return _scan(station, "t1", [pi, Pulse(Param("w"))], {"w": x}, x, "wait", "t1_s", guess,
                 shots, f_res, th, cfg, truth, {"experiment": "t1"}, data_dir, stretched=False)
