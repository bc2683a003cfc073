"""Dynamical-decoupling pulse trains and the phase an AC field imprints on them.

`train` builds the manipulation of a CPMG or XY8 sequence of ``n`` pi pulses: X90, then
``tau / 2`` - pi - ``tau`` - pi - ... - pi - ``tau / 2`` (pulse centres ``tau`` apart, gaps
measured between pulse edges), then the closing pi/2 pulse at a chosen phase.  CPMG pulses
are about Y (the axis the first X90 leaves the spin on); XY8 cycles X Y X Y Y X Y X.

`ac_phase` is the phase ``2 pi integral y(t) gamma B cos(2 pi f t + theta) dt`` that a field
``B cos(2 pi f t + theta)`` along the static field gives the spin over one shot, t from the
shot's start, ``y(t)`` the toggling-frame sensitivity of the train: 0 before the first pulse,
``sin(pi u / 2)`` through the opening pi/2 pulse (u: fraction of the pulse), +-1 between pulses,
``+-cos(pi u)`` through a pi pulse (the sign flips), ``+-cos(pi u / 2)`` through the closing
pulse.  Integrals by Gauss-Legendre per segment (exact to rounding for the segments' few
oscillations).  `fit_ac` fits that model to the spin-up fractions of a tau sweep taken at two
sequence delays (two phases of the field) and two phases of the closing pulse, which separates
the amplitude from the field's phase.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import lmfit
import numpy as np
import numpy.typing as npt

from dotstack.experiments.spin.shots import Pulse
from dotstack.mocks.physics.spin.params import MU_B_OVER_H
from dotstack.sequencer import Param

Array = npt.NDArray[np.float64]
KINDS = ("cpmg", "xy8")
_XY8 = (0.0, 0.5 * math.pi, 0.0, 0.5 * math.pi, 0.5 * math.pi, 0.0, 0.5 * math.pi, 0.0)
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)  # per pulse (<< a field period)


def pulse_phases(kind: str, n: int) -> list[float]:
    """Phases (rad) of the ``n`` pi pulses of a ``kind`` train."""
    if kind not in KINDS:
        raise ValueError(f"sequence must be one of {KINDS}, got {kind!r}")
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"pulses must be an integer >= 1, got {n!r}")
    if kind == "xy8" and n % 8:
        raise ValueError(f"an XY8 train has a multiple of 8 pulses, got {n}")
    return [0.5 * math.pi] * int(n) if kind == "cpmg" else [_XY8[k % 8] for k in range(int(n))]


def train(kind: str, n: int, t_pi: float, amplitude: float, final_phase: float = 0.0
          ) -> list[Pulse]:
    """X90, ``n`` pi pulses separated by the swept gaps ``Param('h')`` (first and last, half
    spacing) and ``Param('g')`` (between pulses), the closing pi/2 pulse at ``final_phase``."""
    half = Pulse(t_pi / 2, amplitude)
    out: list[Pulse] = [half, Pulse(Param("h"))]
    for k, ph in enumerate(pulse_phases(kind, n)):
        out.append(Pulse(t_pi, amplitude, ph))
        out.append(Pulse(Param("h") if k == n - 1 else Param("g")))
    out.append(Pulse(t_pi / 2, amplitude, final_phase))
    return out


def gaps(tau: Array, t_pi: float) -> dict[str, Array]:
    """The swept gaps of `train` for pulse spacings ``tau`` (s); refuses overlapping pulses."""
    h, g = tau / 2 - t_pi / 2, tau - t_pi
    if np.any(h <= 0):
        raise ValueError(f"pulse spacings must exceed the pi pulse ({t_pi:.3g} s), got "
                         f"{float(tau.min()):.3g} s")
    return {"h": h, "g": g}


@dataclass(frozen=True)
class TrainTiming:
    """Segment layout of one shot's train: ``delay`` (s) before it, pulse lengths, ``n``."""

    delay: float
    t_pi: float
    n: int

    def layout(self, taus: Array) -> tuple[Array, Array, Array]:
        """(starts, durations) of each tau's segments, shape (taus, segments), and the kind
        codes of the segments: 0 delay, 1 opening pulse, 2 free, 3 pi pulse, 4 closing pulse."""
        tau = np.asarray(taus, dtype=float).reshape(-1, 1)
        t90, tp, n = self.t_pi / 2, self.t_pi, self.n
        kinds = np.array([0, 1, 2, *([3, 2] * n), 4])
        dur = np.empty((tau.shape[0], kinds.size))
        dur[:, 0], dur[:, 1], dur[:, -1] = self.delay, t90, t90
        dur[:, 2] = dur[:, -2] = (tau / 2 - tp / 2)[:, 0]
        dur[:, 3:-2:2] = tp
        dur[:, 4:-2:2] = tau - tp
        starts = np.concatenate([np.zeros((tau.shape[0], 1)), np.cumsum(dur, axis=1)[:, :-1]],
                                axis=1)
        return starts, dur, kinds


def _pulse_shapes(kinds: Array) -> Array:
    """y(t) at the Gauss-Legendre nodes of each segment (segments, nodes); free segments are
    integrated in closed form (their rows are unused)."""
    u = 0.5 * (_NODES + 1.0)
    flips = np.cumsum(kinds == 3) - (kinds == 3)  # pi pulses before each segment
    sign = np.where(flips % 2 == 0, 1.0, -1.0)[:, None]
    shape = np.ones((kinds.size, u.size))
    shape[kinds == 0] = 0.0
    shape[kinds == 1] = np.sin(0.5 * math.pi * u)
    shape[kinds == 3] = np.cos(math.pi * u)
    shape[kinds == 4] = np.cos(0.5 * math.pi * u)
    return np.asarray(sign * shape)


def sensitivity_integral(timing: TrainTiming, taus: Array, frequency: float) -> npt.NDArray[
        np.complex128]:
    """``integral y(t) exp(i 2 pi f t) dt`` (s) of each tau's train (module docstring): free
    stretches in closed form, pulses by Gauss-Legendre."""
    starts, dur, kinds = timing.layout(taus)
    y = _pulse_shapes(kinds)
    w_ang = 2.0 * math.pi * float(frequency)
    free = kinds == 2
    a, d = starts[:, free], dur[:, free]
    sign = y[free, 0][None, :]
    ex = (np.exp(1j * w_ang * a) * np.expm1(1j * w_ang * d) / (1j * w_ang) if w_ang > 0
          else d.astype(complex))
    total = np.sum(sign * ex, axis=1)
    pulse = (kinds == 1) | (kinds == 3) | (kinds == 4)
    u = 0.5 * (_NODES + 1.0)
    t = starts[:, pulse, None] + dur[:, pulse, None] * u[None, None, :]
    w = 0.5 * dur[:, pulse, None] * _WEIGHTS[None, None, :]
    total = total + np.sum(w * y[None, pulse, :] * np.exp(1j * w_ang * t), axis=(1, 2))
    return np.asarray(total)


def ac_phase(timing: TrainTiming, taus: Array, amplitude: float, frequency: float,
             theta: float, gamma: float) -> Array:
    """Phase (rad) of each tau's shot from ``amplitude cos(2 pi frequency t + theta)`` (T),
    ``gamma`` Hz/T."""
    f_int = sensitivity_integral(timing, taus, frequency)
    return np.asarray(2.0 * math.pi * gamma * amplitude * np.real(np.exp(1j * theta) * f_int))


def gamma_of(g_factor: float) -> float:
    """Hz per tesla of a spin with ``g_factor``."""
    return float(g_factor) * MU_B_OVER_H


def fit_ac(taus: Array, p: Array, timings: Sequence[TrainTiming], final_phases: Sequence[float],
           gamma: float) -> dict[str, Any]:
    """Fit ``p[config, tau]`` (config c: ``timings[c]``, closing phase ``final_phases[c]``) with
    ``off + A cos(phi_c + psi_c + phi_ac(tau))``: ``ac_field_T``, ``ac_frequency_Hz``,
    ``ac_phase_rad`` (the field's phase at the shot's start) with stderr.  The sign with which
    the closing pulse's phase enters the readout is a wiring convention; flipping it is the
    same as ``theta -> theta + pi`` (and ``phi_c -> -phi_c``), so ``ac_phase_rad`` is known
    modulo pi.

    A grid over (B, f, theta), linear least squares for (off, A, phi_c) at each node, starts
    the lmfit refinement of all six."""
    n_cfg = len(timings)
    if p.shape != (n_cfg, taus.size):
        raise ValueError(f"expected p of shape {(n_cfg, taus.size)}, got {p.shape}")
    psi = np.asarray(final_phases, dtype=float)
    t_total = float(timings[0].n * np.median(taus))
    b_max = 3.0 / (4.0 * gamma * t_total)  # ~3 rad at resonance
    f_lo, f_hi = 1 / (2 * float(taus.max())), 1 / (2 * float(taus.min()))

    def phases(b: float, f: float, th: float) -> Array:
        return np.stack([ac_phase(tm, taus, b, f, th, gamma) for tm in timings])

    best: tuple[float, float, float, float, Array] | None = None
    for f in np.linspace(f_lo, f_hi, 13):
        ints = np.stack([sensitivity_integral(tm, taus, f) for tm in timings])
        for th in np.linspace(-math.pi, math.pi, 12, endpoint=False):
            base = 2 * math.pi * gamma * np.real(np.exp(1j * th) * ints)
            for b in b_max * np.geomspace(0.03, 1.0, 10):
                arg = base * b + psi[:, None]
                design = np.stack([np.ones(p.size), np.cos(arg).ravel(),
                                   -np.sin(arg).ravel()], axis=1)
                coef, *_ = np.linalg.lstsq(design, p.ravel(), rcond=None)
                chi = float(np.sum((design @ coef - p.ravel()) ** 2))
                if best is None or chi < best[0]:
                    best = (chi, float(b), float(f), float(th), coef)
    assert best is not None
    res = _refine(p, phases, psi, best)
    out: dict[str, Any] = {}
    for key, name in (("ac_field_T", "b"), ("ac_frequency_Hz", "f"), ("ac_phase_rad", "theta"),
                      ("contrast", "amp")):
        par = res.params[name]
        out[key] = float(par.value)
        err = par.stderr if par.stderr is not None and math.isfinite(par.stderr) else math.nan
        out[f"{key}_stderr"] = float(err)
    out["contrast"] *= 2.0
    out["contrast_stderr"] *= 2.0
    out["fit_quality"] = {"reduced_chi_square": float(res.redchi), "n_points": int(res.ndata),
                          "success": bool(res.success)}
    return out


def _refine(p: Array, phases: Any, psi: Array,
            start: tuple[float, float, float, float, Array]) -> Any:
    _, b0, f0, th0, coef = start
    off, a, b_ = (float(x) for x in coef)
    params = lmfit.Parameters()
    params.add("off", value=off)
    params.add("amp", value=max(math.hypot(a, b_), 1e-3), min=0.0)
    params.add("phi", value=math.atan2(b_, a))
    params.add("b", value=b0, min=0.0)
    params.add("f", value=f0, min=0.5 * f0, max=1.5 * f0)
    params.add("theta", value=th0)

    def residual(pr: lmfit.Parameters) -> Array:
        v = pr.valuesdict()
        arg = v["phi"] + psi[:, None] + phases(v["b"], v["f"], v["theta"])
        return np.asarray((v["off"] + v["amp"] * np.cos(arg) - p).ravel())

    return lmfit.minimize(residual, params, max_nfev=3000)
