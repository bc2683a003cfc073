"""Closed-form evolution of the two spins' density matrices, per segment, vectorised over shots.

Each spin q is followed in the frame rotating at its Zeeman frequency f_q.  On a segment its
frequency offset is ``delta = noise_coupling_q * dmu_q + J <S_z partner> / h + g mu_B B_ac / h``
(the charge noise and AC field averaged over the segment, per shot; exchange J(eps) and its
slope times the detuning noise, with the partner's <S_z> of that shot at the segment's start:
mean field, exact while the partner is an eigenstate).  The drive ``Re[(I + iQ) e^{i(2 pi f_c t
+ phase)}]`` gives, in the rotating-wave approximation, a Rabi frequency ``Omega =
rabi_per_volt_q |I + iQ|`` and phase ``psi(t) = 2 pi (f_c - f_q) t + phase + arg(I + iQ)``.  In a
frame that also turns at f_c - f_q the segment's Hamiltonian is constant,
``H/h = (Delta sigma_z + Omega (cos psi0 sigma_x + sin psi0 sigma_y)) / 2`` with
``Delta = delta - (f_c - f_q)``, so the propagator is the SU(2) matrix
``U = R_z(2 pi (f_c - f_q) d) [cos(pi W d) - i sin(pi W d) n.sigma]``, W = sqrt(Delta^2 +
Omega^2): a pair (a, b) per shot.  A free segment is ``R_z(2 pi delta d)``.

The density matrix ``[[p, c], [c*, 1 - p]]`` (p the spin-up population) becomes
``p' = |a|^2 p + |b|^2 (1 - p) + 2 Re(a b* c)``, ``c' = a b (1 - 2p) + a^2 c - b^2 c*``.  T1
(relaxation to spin down) multiplies p by exp(-d/T1) and c by exp(-d/2T1): after a free segment
(it commutes with R_z: exact), split in halves around a driven one.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics.spin.params import HZ_PER_EV, MU_B_OVER_H, AcField, SpinParams
from dotstack.mocks.physics.spin.segments import SpinSequence

Array = NDArray[np.float64]
Complex = NDArray[np.complex128]
TWO_PI = 2.0 * math.pi


def ac_means(params: SpinParams, ac: AcField | None, seq: SpinSequence) -> Array:
    """Mean frequency offset (Hz) of each spin from the AC field over each segment: (S, 2)."""
    if ac is None or ac.amplitude == 0:
        return np.zeros((seq.size, 2))
    w = TWO_PI * ac.frequency
    t0, t1 = seq.start, seq.start + seq.duration
    mean_b = ac.amplitude * (np.sin(w * t1 + ac.phase) - np.sin(w * t0 + ac.phase)) / (
        w * seq.duration)
    gamma = np.array(params.g_factor) * MU_B_OVER_H
    return np.asarray(mean_b[:, None] * gamma[None, :])


def evolve(params: SpinParams, seq: SpinSequence, noise: Array, ac: Array) -> tuple[Array, Complex]:
    """(p, c) of both spins after the sequence, each (2, shots), from spin down.

    ``noise``: each dot's potential noise averaged over each segment, (S, 2, shots) eV;
    ``ac``: AC-field frequency offsets (S, 2) Hz."""
    shots = noise.shape[2]
    p = np.zeros((2, shots))
    c = np.zeros((2, shots), dtype=complex)
    f_q = np.array(params.zeeman_frequencies)[:, None]
    coupling = np.array(params.noise_coupling)[:, None]
    kappa = np.array(params.rabi_per_volt)[:, None]
    j_hz = params.exchange_ev(seq.detuning_ev) * HZ_PER_EV
    j_slope = params.exchange_slope(seq.detuning_ev) * HZ_PER_EV  # Hz per eV of detuning
    amp = seq.amplitude
    iq_phase = np.arctan2(seq.drive_q, seq.drive_i)
    t1 = params.t1
    for j in range(seq.size):
        d = float(seq.duration[j])
        m = noise[j]
        s_partner = (2.0 * p[::-1] - 1.0) * 0.5  # <S_z> of the other spin, per shot
        delta = coupling * m + (j_hz[j] + j_slope[j] * (m[0] - m[1])) * s_partner
        delta += ac[j][:, None]
        if amp[j] == 0.0:
            c *= np.exp(-1j * TWO_PI * d * delta)
            _relax(p, c, d, t1)
            continue
        _relax(p, c, 0.5 * d, t1)
        offset = float(seq.frequency[j]) - f_q  # (2, 1)
        omega = kappa * float(amp[j])  # (2, 1)
        psi0 = TWO_PI * offset * float(seq.start[j]) + float(seq.phase[j]) + float(iq_phase[j])
        big_delta = delta - offset
        w = np.sqrt(big_delta * big_delta + omega * omega)
        angle = math.pi * d * w
        sin_w = np.sin(angle) / np.where(w > 0, w, 1.0)
        frame = np.exp(-0.5j * TWO_PI * offset * d)
        a = (np.cos(angle) - 1j * sin_w * big_delta) * frame
        b = (-1j * sin_w * omega * np.exp(-1j * psi0)) * frame
        abc = a * np.conj(b) * c
        p_new = (a.real**2 + a.imag**2) * p + (b.real**2 + b.imag**2) * (1.0 - p) \
            + 2.0 * abc.real
        c = a * b * (1.0 - 2.0 * p) + a * a * c - b * b * np.conj(c)
        p = p_new
        _relax(p, c, 0.5 * d, t1)
    return p, c


def _relax(p: Array, c: Complex, d: float, t1: float) -> None:
    """Amplitude damping toward spin down over d seconds, in place."""
    decay = math.exp(-d / t1)
    p *= decay
    c *= math.sqrt(decay)
