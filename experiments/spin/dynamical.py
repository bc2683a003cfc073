"""Dynamical decoupling: CPMG (T2 vs the number of pi pulses) and AC magnetometry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from dotstack.experiments.spin.common import need, run_spin, save_plot, spin_truth, up_fraction
from dotstack.experiments.spin.fits import fit_decays, fit_power_law
from dotstack.experiments.spin.sensing import (
    TrainTiming,
    fit_ac,
    gamma_of,
    gaps,
    pulse_phases,
    train,
)
from dotstack.experiments.spin.shots import SpinConfig, SpinRunner, shot_schedule
from dotstack.experiments.sweep import RunResult
from dotstack.station import LabStation
from dotstack.store import Axis, Quantity, RunWriter


def _count(value: Any, what: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _basics(station: LabStation, cfg: SpinConfig | None, frequency: float | None,
            rabi_frequency: float | None, threshold: float | None
            ) -> tuple[SpinConfig, dict[str, Any] | None, float, float, float]:
    cfg = cfg or SpinConfig()
    truth = spin_truth(station, cfg)
    return (cfg, truth, need(frequency, truth, "f_resonance_Hz", "frequency"),
            need(rabi_frequency, truth, "f_rabi_Hz", "rabi_frequency"),
            need(threshold, truth, "readout_threshold_V", "threshold"))


def _grid(values: np.ndarray, rate: float) -> np.ndarray:
    """Pulse spacings on the AWG's grid (two samples: the half gaps stay on it)."""
    step = 2.0 / rate
    return np.asarray(np.maximum(np.rint(values / step), 1) * step)


def cpmg(station: LabStation, *, pulses: Sequence[int] = (1, 2, 4, 8, 16), points: int = 12,
         span: tuple[float, float] = (0.1, 2.5), shots: int = 150, t2_echo: float | None = None,
         frequency: float | None = None, rabi_frequency: float | None = None,
         threshold: float | None = None, cfg: SpinConfig | None = None,
         data_dir: str | None = None) -> RunResult:
    """T2 vs the number of pi pulses: for each N of ``pulses``, a CPMG (X90 - [tau/2 - Y180 -
    tau/2] x N - X90) over total free times ``span`` x ``t2_echo`` x N^0.5 in ``points``
    steps; the decays fitted together (``off + A exp(-(T/T2_N)^alpha_N)``, one readout:
    ``off`` and ``A`` shared) and ``log T2 = log T0 + gamma log N``
    (``meta/fit``: ``cpmg_exponent``, ``cpmg_t2_s`` per N with stderr)."""
    cfg, truth, f_res, f_r, th = _basics(station, cfg, frequency, rabi_frequency, threshold)
    ns = [_count(n, "pulses") for n in pulses]
    if len(ns) < 2 or len(set(ns)) != len(ns):
        raise ValueError(f"pulses needs >= 2 distinct counts, got {list(pulses)!r}")
    n_pts, n_shots = _count(points, "points", 5), _count(shots, "shots")
    lo, hi = (float(x) for x in span)
    if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
        raise ValueError(f"span must be (low, high) with 0 < low < high, got {span!r}")
    t2e = need(t2_echo, truth, "t2_echo_s", "t2_echo")
    t_pi = 1 / (2 * f_r)
    runner = SpinRunner(station, cfg)
    frees = [_grid(np.linspace(lo, hi, n_pts) * t2e * math.sqrt(n), cfg.awg_rate) for n in ns]
    for n, x in zip(ns, frees, strict=True):
        gaps(x / n, t_pi)  # every spacing longer than the pulses
    axes = [Axis("pulses", "1", "number of pi pulses", np.asarray(ns))]
    quantities = [Quantity("p_up", "1", "spin-up fraction", shape=(n_pts,), dims=("point",)),
                  Quantity("free_time", "s", "total free evolution", shape=(n_pts,),
                           dims=("point",))]
    programs: dict[str, Any] = {}

    def body(writer: RunWriter) -> dict[str, Any]:
        ps = []
        for k, (n, x) in enumerate(zip(ns, frees, strict=True)):
            runner.compile(shot_schedule(train("cpmg", n, t_pi, cfg.iq_amplitude), cfg),
                           gaps(x / n, t_pi) if n > 1 else {"h": gaps(x, t_pi)["h"]})
            programs[str(n)] = runner.summary()
            runner.source(f_res)
            ps.append(up_fraction(runner.measure(n_shots), th))
            writer.write_point(k, p_up=ps[-1], free_time=x)
        writer.add_meta("programs", programs)
        # one readout for all: offset and contrast shared, a T2 and an exponent per N
        dec = fit_decays(np.stack(frees), np.stack(ps),
                         np.array([t2e * math.sqrt(n) for n in ns]), "cpmg_t2_s")
        out = fit_power_law(np.asarray(ns, float), np.asarray(dec["cpmg_t2_s"]),
                            np.asarray(dec["cpmg_t2_s_stderr"]))
        out.update(cpmg_pulses=ns, cpmg_t2_s=dec["cpmg_t2_s"],
                   cpmg_t2_s_stderr=dec["cpmg_t2_s_stderr"],
                   decay_exponents=dec["decay_exponents"], decay_fit_quality=dec["fit_quality"])
        return out

    def plot(writer: RunWriter, fit: dict[str, Any]) -> str:
        def draw(fig: Any) -> None:
            ax = fig.add_subplot(111)
            ax.errorbar(ns, np.asarray(fit["cpmg_t2_s"]) * 1e6,
                        np.asarray(fit["cpmg_t2_s_stderr"]) * 1e6, fmt="o")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("pi pulses N")
            ax.set_ylabel("T2 (us)")
            ax.set_title(f"CPMG: T2 ~ N^{fit['cpmg_exponent']:.2f}")
        return save_plot(writer, draw)

    params = {"experiment": "cpmg", "pulses": ns, "points": n_pts, "span": [lo, hi],
              "shots": n_shots, "t2_echo_s": t2e, "frequency_Hz": f_res, "threshold_V": th}
    return run_spin(station, "cpmg", runner, axes, quantities, params, truth, body, plot,
                    point_axes=[Axis("point", "1", "free-time step", np.arange(n_pts))],
                    data_dir=data_dir)


def ac_magnetometry(station: LabStation, *, taus: Sequence[float] | None = None,
                    pulses: int = 64, sequence: str = "xy8", shots: int = 300,
                    ac_frequency: float | None = None, g_factor: float | None = None,
                    frequency: float | None = None, rabi_frequency: float | None = None,
                    threshold: float | None = None, cfg: SpinConfig | None = None,
                    data_dir: str | None = None) -> RunResult:
    """Sense an AC magnetic field with a CPMG or XY8 train of ``pulses`` pi pulses.

    The pulse spacing ``taus`` is swept (default: +-5 % around ``1 / (2 ac_frequency)``, the
    expected field's half period, in 25 steps); the train responds where the spacing matches
    the field's half period.  Four sweeps: the train starting at two delays a quarter period
    apart (two phases of the field) times two phases of the closing pi/2 pulse (0, 90 deg),
    fitted together with the train's exact sensitivity (`sensing.fit_ac`): ``ac_field_T``,
    ``ac_frequency_Hz`` (with stderr), the field's phase, and the sensitivity
    ``sensitivity_T_per_sqrtHz`` = ``sqrt(t_shot) / (4 gamma C T)`` (C the fitted contrast,
    T = N tau at the resonance, t_shot one shot's length with its readout)."""
    cfg, truth, f_res, f_r, th = _basics(station, cfg, frequency, rabi_frequency, threshold)
    n = _count(pulses, "pulses")
    pulse_phases(sequence, n)  # checks the kind and the count
    n_shots = _count(shots, "shots")
    g = need(g_factor, {"g": truth["params"]["g_factor"][0]} if truth else None, "g",
             "g_factor")
    gamma = gamma_of(g)
    if taus is None:
        f_ac = need(ac_frequency, truth, "ac_frequency_Hz", "ac_frequency")
        if not f_ac > 0:
            raise ValueError("the mock lab has no AC field to sense (ac_frequency_Hz is 0)")
        spacing = np.linspace(0.95, 1.05, 25) / (2 * f_ac)
    else:
        spacing = np.asarray(taus, dtype=float)
    tau = _grid(spacing, cfg.awg_rate)
    if tau.ndim != 1 or tau.size < 5 or not np.all(np.isfinite(tau)):
        raise ValueError(f"taus must be >= 5 finite spacings (s), got {taus!r}")
    t_pi = 1 / (2 * f_r)
    sweep = gaps(tau, t_pi)
    quarter = 0.5 * float(np.median(tau))  # a quarter of the expected field period
    delays = [cfg.pre, cfg.pre + _grid(np.array([quarter]), cfg.awg_rate)[0]]
    finals = [0.0, 0.5 * math.pi]
    configs = [(d, ph) for d in delays for ph in finals]
    runner = SpinRunner(station, cfg)
    axes = [Axis("config", "1", "train delay x closing-pulse phase", np.arange(len(configs)))]
    quantities = [Quantity("p_up", "1", "spin-up fraction", shape=(tau.size,), dims=("tau",))]
    p = np.zeros((len(configs), tau.size))
    shot_s: list[float] = []
    programs: dict[str, Any] = {}

    def body(writer: RunWriter) -> dict[str, Any]:
        for c, (delay, final) in enumerate(configs):
            c_cfg = replace(cfg, pre=float(delay))
            runner.cfg = c_cfg
            runner.compile(shot_schedule(train(sequence, n, t_pi, cfg.iq_amplitude, final),
                                         c_cfg), sweep)
            programs[str(c)] = runner.summary()
            shot_s.append(programs[str(c)]["pass_s"] / tau.size)
            runner.source(f_res)
            p[c] = up_fraction(runner.measure(n_shots), th)
            writer.write_point(c, p_up=p[c])
        writer.add_meta("programs", programs)
        timings = [TrainTiming(float(d), t_pi, n) for d, _ in configs]
        fit = fit_ac(tau, p, timings, [ph for _, ph in configs], gamma)
        t_sense = n / (2 * fit["ac_frequency_Hz"])
        fit["sensitivity_T_per_sqrtHz"] = math.sqrt(float(np.mean(shot_s))) / (
            4 * gamma * abs(fit["contrast"]) * t_sense)
        fit.update(configs=[{"delay_s": float(d), "final_phase_rad": ph} for d, ph in configs],
                   g_factor=g)
        return fit

    def plot(writer: RunWriter, fit: dict[str, Any]) -> str:
        def draw(fig: Any) -> None:
            ax = fig.add_subplot(111)
            for c, (d, ph) in enumerate(configs):
                ax.plot(tau * 1e6, p[c], "o-", ms=3,
                        label=f"delay {d * 1e9:.0f} ns, {math.degrees(ph):.0f} deg")
            ax.set_xlabel("pulse spacing tau (us)")
            ax.set_ylabel("P(up)")
            ax.set_title(f"AC field {fit['ac_field_T'] * 1e9:.1f} nT at "
                         f"{fit['ac_frequency_Hz'] / 1e3:.2f} kHz")
            ax.legend(fontsize=7)
        return save_plot(writer, draw)

    params = {"experiment": "ac_magnetometry", "taus_s": tau.tolist(), "pulses": n,
              "sequence": sequence, "shots": n_shots, "frequency_Hz": f_res, "threshold_V": th,
              "g_factor": g}
    return run_spin(station, "ac_magnetometry", runner, axes, quantities, params, truth, body,
                    plot, point_axes=[Axis("tau", "s", "pulse spacing", tau)],
                    data_dir=data_dir)
