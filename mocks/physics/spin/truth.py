"""Ground truth of the spin model: what pulsed experiments should recover, from the parameters.

Key names (also those of an experiment's ``meta/fit``):

- ``f_rabi_Hz``: Rabi frequency at the given drive amplitude, ``rabi_per_volt * amplitude``.
- ``f_resonance_Hz``: the spin's resonance at the operating detuning, ``f_q - J(eps) / 2h``
  (partner spin down).
- ``t2star_s``: 1/e time of the Ramsey coherence ``exp(-<phi^2>/2 - t / 2 T1)``, the phase
  variance exact for the OU sum of the charge noise (quasi-static part included) times the
  spin's couplings (own dot's ``noise_coupling``; exchange slope times detuning noise).
- ``t2_echo_s``: the same for a Hahn echo (ideal pi pulse at the middle).
- ``cpmg_exponent``: slope of log T2 vs log N over ``cpmg_pulses`` (CPMG, ideal pulses), with
  ``cpmg_pulses`` and ``cpmg_t2_s`` reported beside it.
- ``t1_s``: the spin's T1.
- ``readout_fidelity``: the readout model's assignment fidelity at its best threshold
  (``readout_threshold_V``), from its distributions (no sampling).
- ``ac_field_T``, ``ac_frequency_Hz``: the AC field's amplitude and frequency (0 without one).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.optimize import brentq

from dotstack.mocks.physics.spin.dephasing import coherence, cpmg_flips
from dotstack.mocks.physics.spin.params import HZ_PER_EV, AcField, SpinNoise, SpinParams
from dotstack.mocks.physics.spin.readout import Readout, fidelity

KEYS = ("f_rabi_Hz", "f_resonance_Hz", "t2star_s", "t2_echo_s", "cpmg_exponent", "t1_s",
        "readout_fidelity", "ac_field_T", "ac_frequency_Hz")


def couplings(params: SpinParams, spin: int, detuning_ev: float) -> tuple[float, float]:
    """Hz per eV of each dot's potential noise for ``spin`` (partner down) at the detuning."""
    half_slope = 0.5 * float(params.exchange_slope(detuning_ev)) * HZ_PER_EV
    own = params.noise_coupling[spin - 1]
    # delta = own * dmu_q + J'(eps) (dmu_1 - dmu_2) <S_z partner>,  <S_z partner> = -1/2
    if spin == 1:
        return own - half_slope, half_slope
    return -half_slope, own + half_slope


def decay_time(params: SpinParams, noise: SpinNoise, spin: int, detuning_ev: float,
               pulses: int) -> float:
    """1/e time (s) of the coherence under an ideal CPMG of ``pulses`` pi pulses (0: Ramsey)."""
    a = couplings(params, spin, detuning_ev)

    def log_c(total: float) -> float:
        flips = cpmg_flips(total, pulses) if pulses else np.zeros(0)
        return math.log(coherence(noise, a, params.t1, total, flips)) + 1.0

    hi = 1e-9
    while log_c(hi) > 0:
        hi *= 2.0
        if hi > 1e3:
            raise ValueError("coherence does not decay within 1000 s")
    return float(brentq(log_c, hi / 2.0 if hi > 1e-9 else 0.0, hi, xtol=1e-15, rtol=1e-10))


def spin_truth(params: SpinParams, noise: SpinNoise, readout: Readout, ac: AcField | None, *,
               drive_amplitude: float, spin: int = 1, detuning_ev: float | None = None,
               cpmg_pulses: Sequence[int] = (1, 2, 4, 8, 16)) -> dict[str, Any]:
    """JSON-able ground truth for ``spin`` (1 or 2) driven at ``drive_amplitude`` (V at the dot)
    at ``detuning_ev`` (default: the operating point); see the module docstring for the keys."""
    if spin not in (1, 2) or isinstance(spin, bool):
        raise ValueError(f"spin must be 1 or 2, got {spin!r}")
    pulses = [int(n) for n in cpmg_pulses]
    if len(pulses) < 2 or min(pulses) < 1 or len(set(pulses)) != len(pulses):
        raise ValueError(f"cpmg_pulses needs >= 2 distinct pulse counts >= 1, got {cpmg_pulses}")
    if not (math.isfinite(drive_amplitude) and drive_amplitude >= 0):
        raise ValueError(f"drive_amplitude must be finite and >= 0 V, got {drive_amplitude}")
    eps = params.idle_detuning_ev if detuning_ev is None else float(detuning_ev)
    q = spin - 1
    j_hz = float(params.exchange_ev(eps)) * HZ_PER_EV
    t2_cpmg = [decay_time(params, noise, spin, eps, n) for n in pulses]
    slope = float(np.polyfit(np.log(pulses), np.log(t2_cpmg), 1)[0])
    fid, threshold = fidelity(readout, params.t1)
    return {
        "spin": spin,
        "drive_amplitude_V": float(drive_amplitude),
        "detuning_eV": eps,
        "f_rabi_Hz": params.rabi_per_volt[q] * float(drive_amplitude),
        "f_resonance_Hz": params.zeeman_frequencies[q] - 0.5 * j_hz,
        "exchange_Hz": j_hz,
        "t2star_s": decay_time(params, noise, spin, eps, 0),
        "t2_echo_s": decay_time(params, noise, spin, eps, 1),
        "cpmg_exponent": slope,
        "cpmg_pulses": pulses,
        "cpmg_t2_s": t2_cpmg,
        "t1_s": params.t1,
        "readout_fidelity": fid,
        "readout_threshold_V": threshold,
        "readout_up_level_V": readout.up_level,
        "readout_down_level_V": readout.down_level,
        "ac_field_T": 0.0 if ac is None else ac.amplitude,
        "ac_frequency_Hz": 0.0 if ac is None else ac.frequency,
        "ac_phase_rad": 0.0 if ac is None else ac.phase,
        "noise_couplings_Hz_per_eV": list(couplings(params, spin, eps)),
        "params": params.to_dict(),
        "noise": noise.to_dict(),
        "readout": readout.to_dict(),
    }
