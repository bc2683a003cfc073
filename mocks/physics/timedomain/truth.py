"""Ground truth of the time-domain lab: what a time-resolved experiment should recover.

Transition lines in AWG coordinates: with ``P_g = DC_g + gain_g * a_g`` (``a_g`` the AWG output,
V, after the bias-T has removed its running mean), a dot-i line adding an electron obeys
``alpha_i1 P1 + alpha_i2 P2 = (Ec (N - e_i / 2))_i - r_i`` (see `dotstack.mocks.physics.truth`),
i.e. ``sum_g alpha_ig gain_g a_g = that - alpha_i . DC``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from dotstack.mocks.physics import model
from dotstack.mocks.physics.params import GATES
from dotstack.mocks.physics.truth import lever_arms

if TYPE_CHECKING:
    from dotstack.mocks.physics.timedomain.lab import TimeDomainLab

#: Integration times (s) at which the SNR is reported.
INTEGRATION_TIMES = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4)


def _signal(td: TimeDomainLab, gates: dict[str, float], n1: float, n2: float) -> float:
    state = model.dot_state(td.device, gates)
    occ = model.DotState(n1=np.asarray(n1), n2=np.asarray(n2), induced1=state.induced1,
                         induced2=state.induced2)
    current = model.sensor_current(td.device, gates, occ)
    return float(td.readout.volts(current / td.device.bias))


def snr(td: TimeDomainLab, gates: dict[str, float]) -> dict[str, Any]:
    """Signal of one electron on each dot at the present gates, against the amplifier noise."""
    ro = td.readout
    state = model.dot_state(td.device, gates)
    n1, n2 = float(state.n1), float(state.n2)
    base = _signal(td, gates, n1, n2)
    out: dict[str, Any] = {"signal_V": base, "conductance_S": None}
    current = model.sensor_current(td.device, gates, state)
    out["conductance_S"] = float(current) / td.device.bias
    out["reflection"] = float(ro.reflection(out["conductance_S"]))
    density = ro.noise_density
    for i, name in enumerate(("dot1", "dot2")):
        step = _signal(td, gates, n1 + (i == 0), n2 + (i == 1)) - base
        per_t = {f"{t:g}": (abs(step) * math.sqrt(2 * t) / density if density else math.inf)
                 for t in INTEGRATION_TIMES}
        out[name] = {
            "step_per_electron_V": step,
            "snr_per_sample": abs(step) / ro.sample_sigma if ro.sample_sigma else math.inf,
            "snr_per_integration_time": per_t,
            "integration_time_for_snr_1_s": density**2 / (2 * step * step) if step else math.inf,
        }
    out["noise"] = {"density_V_per_sqrtHz": density, "per_sample_V": ro.sample_sigma,
                    "over_T_V": "density / sqrt(2 T) for an average over T >> readout tau"}
    return out


def _crossings(td: TimeDomainLab, dc: dict[str, float], gate: str, span: float
               ) -> list[dict[str, Any]]:
    """Charge transitions met along AWG gate ``gate`` (others at their DAC levels) within
    +-span AWG volts: where a dot's thermal occupation crosses a half-integer."""
    gain = td.lines[gate].gain
    a = np.linspace(-span, span, 4001)

    def occ(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        st = model.dot_state(td.device, {**dc, gate: dc[gate] + gain * x})
        return np.asarray(st.n1, dtype=float), np.asarray(st.n2, dtype=float)

    n1, n2 = occ(a)
    out = []
    for dot, n in ((1, n1), (2, n2)):
        level = np.floor(n + 0.5)
        for i in np.flatnonzero(np.diff(level)).tolist():
            lo, hi = float(a[i]), float(a[i + 1])
            target = 0.5 * (level[i] + level[i + 1])
            rising = level[i + 1] > level[i]
            for _ in range(60):
                mid = 0.5 * (lo + hi)
                value = float(occ(np.array([mid]))[dot - 1][0])
                lo, hi = (mid, hi) if (value < target) == rising else (lo, mid)
            at = 0.5 * (lo + hi)
            before = [round(float(v[i])) for v in (n1, n2)]
            after = [round(float(v[i + 1])) for v in (n1, n2)]
            out.append({"awg_V": at, "gate_V": dc[gate] + gain * at, "dot": dot,
                        "from": before, "to": after})
    return sorted(out, key=lambda c: c["awg_V"])


def awg_lines(td: TimeDomainLab, dc: dict[str, float]) -> dict[str, Any]:
    """The dots' transition lines in AWG volts of the AWG-driven plungers: the equations of the
    lines bounding the present charge cell, and the transitions met along each AWG axis."""
    ec, alpha = lever_arms(td.device, dc["B2"])
    plungers = ("P1", "P2")
    gains = {g: (td.lines[g].gain if g in td.drives else 0.0) for g in plungers}
    r = alpha @ np.array([dc[g] for g in GATES]) + ec @ np.asarray(td.device.offset_charge)
    state = model.dot_state(td.device, dc)
    base = (math.floor(float(state.n1) + 0.5), math.floor(float(state.n2) + 0.5))
    lines = []
    for i in (0, 1):
        coeff = {g: float(alpha[i, GATES.index(g)] * gains[g]) for g in plungers}
        for k in (base[i], base[i] + 1):  # the electron entering below / above the cell
            n = list(base)
            n[i] = k
            n_vec = np.array(n, dtype=float)
            n_vec[i] -= 0.5
            lines.append({"dot": i + 1, "occupation_after": n, "coefficients_eV_per_awg_V": coeff,
                          "constant_eV": float(ec[i] @ n_vec - r[i])})
    addition = {g: (float(ec[j, j] / alpha[j, GATES.index(g)] / gains[g]) if gains[g] else None)
                for j, g in enumerate(plungers)}
    crossings = {g: _crossings(td, dc, g, 3.0 * a) for g, a in addition.items() if a is not None}
    return {"equation": "sum_g coefficients[g] * a_g = constant_eV (a_g: AWG volts at gate g's "
                        "line input, the other gates at their DAC levels)",
            "occupation_at_dc": list(base), "cell_lines": lines, "addition_awg_V": addition,
            "crossings_along_axis": crossings,
            "note": "the bias-T removes each AWG channel's running mean (time constant in "
                    "lines): a pattern with a non-zero mean shifts these positions"}


def time_domain_truth(td: TimeDomainLab, t: float) -> dict[str, Any]:
    dc = {g: float(v) for g, v in td.lab.gate_voltages(t).items()}
    rates = td.tunnel.rates(td.device, dc)
    return {
        "model": "time-domain lab: DAC + line(AWG) -> gates; occupations relax at the tunnel "
                 "rates toward the static model's equilibrium; sensor conductance -> matched "
                 "tank reflection -> amplifier, single-pole readout filter, white noise",
        "lab_time_s": t,
        "seed": td.seed,
        "dac_gates_V": dc,
        "lines": {g: {**line.to_dict(), "awg_channel": str(td.drives[g].channel)
                      if g in td.drives else None} for g, line in td.lines.items()},
        "tunnel_rates_Hz": {"dot1": float(rates[0]), "dot2": float(rates[1]),
                            "gamma0_Hz": td.tunnel.gamma0, "barriers": list(td.tunnel.barriers),
                            "model": "Gamma_i = gamma0 * T(barrier_i)"},
        "readout": td.readout.to_dict(),
        "snr": snr(td, dc),
        "transition_lines_awg": awg_lines(td, dc),
        "settings": {k: getattr(td.settings, k) for k in td.settings.__dataclass_fields__},
    }
