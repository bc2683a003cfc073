"""lmfit models of the spin experiments; each returns values with ``<key>_stderr``."""

from __future__ import annotations

import math
from typing import Any

import lmfit
import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


def _value(res: Any, name: str) -> tuple[float, float]:
    p = res.params[name]
    err = p.stderr if p.stderr is not None and math.isfinite(p.stderr) else float("nan")
    return float(p.value), float(err)


def _quality(res: Any) -> dict[str, float]:
    return {"reduced_chi_square": float(res.redchi), "n_points": int(res.ndata),
            "success": bool(res.success)}


def fit_chevron(freqs: Array, times: Array, p: Array, f0: float, f_rabi: float
                ) -> dict[str, Any]:
    """``p[freq, time]`` = off + A (R/W)^2 sin^2(pi W t), W^2 = (f - f0)^2 + R^2."""
    ff, tt = np.meshgrid(freqs, times, indexing="ij")

    def chevron(f: Array, t: Array, f_res: float, f_r: float, amp: float, off: float) -> Array:
        w = np.sqrt((f - f_res) ** 2 + f_r**2)
        return off + amp * (f_r / w) ** 2 * np.sin(np.pi * w * t) ** 2

    model = lmfit.Model(chevron, independent_vars=["f", "t"])
    params = model.make_params(f_res=f0, f_r=f_rabi, amp=0.9, off=0.03)
    params["f_r"].set(min=0.2 * f_rabi, max=5 * f_rabi)
    res = model.fit(p.ravel(), params, f=ff.ravel(), t=tt.ravel())
    (fr, fr_e), (f_r, f_r_e) = _value(res, "f_res"), _value(res, "f_r")
    return {"f_resonance_Hz": fr, "f_resonance_Hz_stderr": fr_e, "f_rabi_Hz": f_r,
            "f_rabi_Hz_stderr": f_r_e, "contrast": _value(res, "amp")[0],
            "fit_quality": _quality(res)}


def fit_decay(x: Array, p: Array, guess: float, key: str, *, stretched: bool = True,
              oscillation: float | None = None) -> dict[str, Any]:
    """``off + A exp(-(x / T)^alpha) [cos(2 pi f x + phi)]``: T under ``key``."""

    def decay(x: Array, off: float, amp: float, tau: float, alpha: float) -> Array:
        return off + amp * np.exp(-((x / tau) ** alpha))

    def ramsey(x: Array, off: float, amp: float, tau: float, alpha: float, f: float,
               phi: float) -> Array:
        return off + amp * np.exp(-((x / tau) ** alpha)) * np.cos(2 * np.pi * f * x + phi)

    model = lmfit.Model(ramsey if oscillation is not None else decay)
    params = model.make_params(off=0.5, amp=0.45 if oscillation is not None else
                               float(p[0] - p[-1]), tau=guess, alpha=1.5 if stretched else 1.0)
    params["tau"].set(min=guess / 20, max=guess * 20)
    params["alpha"].set(min=0.5, max=4.0, vary=stretched)
    if oscillation is not None:
        params["f"].set(value=oscillation, min=0.5 * oscillation, max=1.5 * oscillation)
        params["phi"].set(value=0.0, min=-math.pi, max=math.pi)
    res = model.fit(p, params, x=x)
    tau, tau_e = _value(res, "tau")
    out: dict[str, Any] = {key: tau, f"{key}_stderr": tau_e,
                           "decay_exponent": _value(res, "alpha")[0], "fit_quality": _quality(res)}
    if oscillation is not None:
        out["oscillation_Hz"] = _value(res, "f")[0]
    return out


def fit_power_law(n: Array, t2: Array, t2_err: Array) -> dict[str, Any]:
    """log T2 = log T0 + gamma log N."""
    model = lmfit.models.LinearModel()
    weights = np.where(np.isfinite(t2_err) & (t2_err > 0), t2 / np.where(t2_err > 0, t2_err, 1.0),
                       1.0)
    res = model.fit(np.log(t2), model.make_params(slope=0.5, intercept=float(np.log(t2[0]))),
                    x=np.log(n), weights=weights)
    g, g_e = _value(res, "slope")
    return {"cpmg_exponent": g, "cpmg_exponent_stderr": g_e, "fit_quality": _quality(res)}


def fit_levels(signals_up: Array, signals_down: Array) -> dict[str, Any]:
    """Two Gaussian levels (lmfit on the histograms) and the counted fidelity at the best
    threshold: ``readout_fidelity`` = 1 - (P(down|up) + P(up|down)) / 2."""
    both = np.concatenate([signals_up, signals_down])
    grid = np.linspace(both.min(), both.max(), 401)
    up_hi = np.median(signals_up) > np.median(signals_down)
    err = []
    for th in grid:
        miss = np.mean(signals_up <= th) if up_hi else np.mean(signals_up >= th)
        false = np.mean(signals_down > th) if up_hi else np.mean(signals_down < th)
        err.append(0.5 * (miss + false))
    k = int(np.argmin(err))
    fid = 1.0 - float(err[k])
    n = min(signals_up.size, signals_down.size)
    out: dict[str, Any] = {"readout_fidelity": fid,
                           "readout_fidelity_stderr": math.sqrt(max(fid * (1 - fid), 1e-12) / n),
                           "readout_threshold_V": float(grid[k])}
    for name, data in (("up", signals_up), ("down", signals_down)):
        hist, edges = np.histogram(data, bins=60)
        centres = 0.5 * (edges[:-1] + edges[1:])
        g = lmfit.models.GaussianModel()
        res = g.fit(hist, g.guess(hist, x=centres), x=centres)
        out[f"level_{name}_V"], out[f"level_{name}_V_stderr"] = _value(res, "center")
        out[f"noise_{name}_V"] = _value(res, "sigma")[0]
    return out


def fit_decays(x: Array, p: Array, guesses: Array, key: str) -> dict[str, Any]:
    """Decays ``p[k] = off + A exp(-(x[k] / T_k)^alpha_k)`` fitted together: one readout
    (``off``, ``A`` shared: the same preparation and readout), a T and an exponent per row.
    Returns ``key`` (list of T_k), ``<key>_stderr`` and ``decay_exponents``."""
    rows = p.shape[0]
    if x.shape != p.shape or len(guesses) != rows:
        raise ValueError(f"fit_decays: x {x.shape}, p {p.shape} and {len(guesses)} guesses differ")
    params = lmfit.Parameters()
    params.add("off", value=0.5)
    params.add("amp", value=float(np.mean(p[:, 0]) - 0.5))
    for k, g in enumerate(guesses):
        params.add(f"tau{k}", value=float(g), min=float(g) / 20, max=float(g) * 20)
        params.add(f"alpha{k}", value=1.5, min=0.5, max=4.0)

    def residual(pr: lmfit.Parameters) -> Array:
        v = pr.valuesdict()
        taus = np.array([v[f"tau{k}"] for k in range(rows)])[:, None]
        alphas = np.array([v[f"alpha{k}"] for k in range(rows)])[:, None]
        return np.asarray((v["off"] + v["amp"] * np.exp(-((x / taus) ** alphas)) - p).ravel())

    res = lmfit.minimize(residual, params)
    t, e = zip(*(_value(res, f"tau{k}") for k in range(rows)), strict=True)
    return {key: list(t), f"{key}_stderr": list(e),
            "decay_exponents": [_value(res, f"alpha{k}")[0] for k in range(rows)],
            "offset": _value(res, "off")[0], "amplitude": _value(res, "amp")[0],
            "fit_quality": {"reduced_chi_square": float(res.redchi), "n_points": int(res.ndata),
                            "success": bool(res.success)}}
