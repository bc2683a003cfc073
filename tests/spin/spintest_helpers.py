"""Shared helpers of the spin-engine tests (imported by name; the folder is not a package):
sequence builders for the standard pulsed experiments and the fits that read them."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.optimize import curve_fit

from dotstack.mocks.physics.spin import SpinSegment, SpinSequence, SpinSimulator

AMP = 1e-3  # V at the dot: f_Rabi = 5 MHz on spin 1 with the default parameters


@functools.lru_cache(maxsize=16)
def resonance(sim: SpinSimulator) -> float:
    return float(sim.ground_truth(drive_amplitude=AMP)["f_resonance_Hz"])


def pulse(sim: SpinSimulator, angle: float, phase: float = 0.0, amp: float = AMP,
          frequency: float | None = None) -> SpinSegment:
    """A square burst rotating spin 1 by ``angle`` about the axis at ``phase`` (rad)."""
    f_rabi = sim.params.rabi_per_volt[0] * amp
    f = resonance(sim) if frequency is None else frequency
    return SpinSegment(angle / (2 * math.pi * f_rabi), drive_i=amp * math.cos(phase),
                       drive_q=amp * math.sin(phase), frequency=f)


def ramsey(sim: SpinSimulator, tau: float) -> SpinSequence:
    half = pulse(sim, math.pi / 2)
    return SpinSequence.of([half, SpinSegment(tau), half])


def cpmg(sim: SpinSimulator, total: float, n: int, amp: float = AMP,
         final_phase: float = 0.0) -> SpinSequence:
    """X90 - (tau/2 - Y180 - tau/2) x n - X90 at ``final_phase``, free time ``total`` in all
    (pi pulses centred at (k - 1/2) total / n after the first X90's end)."""
    half = pulse(sim, math.pi / 2, amp=amp)
    pi_y = pulse(sim, math.pi, math.pi / 2, amp=amp)
    tau = total / n
    segs = [half, SpinSegment(tau / 2 - pi_y.duration / 2)]
    for k in range(n):
        segs.append(pi_y)
        segs.append(SpinSegment((tau if k < n - 1 else tau / 2) - pi_y.duration
                                * (1.0 if k < n - 1 else 0.5)))
    segs.append(pulse(sim, math.pi / 2, final_phase, amp=amp))
    return SpinSequence.of(segs)


def up_fraction(sim: SpinSimulator, seq: SpinSequence, shots: int, key: int) -> float:
    """Fraction of shots with spin 1 projected up."""
    return float(sim.run(seq, shots, key=key).up[:, 0].mean())


def decay_fit(t: np.ndarray, p: np.ndarray, guess: float) -> tuple[float, float]:
    """(1/e time, exponent) of ``p = offset + amplitude exp(-(t / T)^alpha)``."""
    def model(x: np.ndarray, off: float, a: float, tt: float, alpha: float) -> np.ndarray:
        return off + a * np.exp(-(x / tt) ** alpha)

    popt, _ = curve_fit(model, t, p, p0=(0.5, 0.5, guess, 1.5),
                        bounds=([0.0, 0.0, guess / 10, 0.5], [1.0, 1.0, guess * 10, 4.0]))
    return float(popt[2]), float(popt[3])
