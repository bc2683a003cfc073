"""Parameters of the time-domain lab (frozen dataclasses, SI units).

- `LineModel`: an AWG channel's coax to its gate: attenuation, bias-T high pass, delay.
- `TunnelRates`: the dots' lead tunnel rates ``Gamma_i = gamma0 * T(barrier_i)``.
- `Reflectometry`: the sensor's matched LC tank, the amplifier chain and the readout filter.
- `Settings`: numerical choices (history folded into a window's initial state, step limits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics.params import DeviceParams

#: Boltzmann constant (J/K).
K_B = 1.380649e-23


def _check(owner: object, **values: float) -> None:
    for name, value in values.items():
        if not value > 0:  # NaN fails too
            raise ValueError(f"{type(owner).__name__}.{name} must be > 0, got {value}")


@dataclass(frozen=True)
class LineModel:
    """AWG channel output -> gate: ``gate(t) = DAC level(t) + gain * HP(awg)(t - delay)``.

    ``attenuation_db`` (dB, power; 20 dB = x0.1 in volts) of the line and its attenuators;
    ``bias_tee_time_constant`` (s): the bias-T's AC port is a first-order high pass with this
    time constant (``math.inf``: DC-coupled, no high pass); its DC port carries the DAC level,
    taken as is (the DC port's low pass on DAC steps is not modelled, as for the DC readings);
    ``delay`` (s): cable and group delay, AWG output to gate.
    """

    attenuation_db: float = 20.0
    bias_tee_time_constant: float = 10e-3
    delay: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.attenuation_db):
            raise ValueError(f"LineModel.attenuation_db must be finite, got {self.attenuation_db}")
        _check(self, bias_tee_time_constant=self.bias_tee_time_constant)
        if not (self.delay >= 0 and math.isfinite(self.delay)):
            raise ValueError(f"LineModel.delay must be finite and >= 0 s, got {self.delay}")

    @property
    def gain(self) -> float:
        """Voltage transmission of the line, ``10**(-attenuation_db / 20)``."""
        return float(10.0 ** (-self.attenuation_db / 20.0))

    def to_dict(self) -> dict[str, Any]:
        return {"attenuation_dB": self.attenuation_db, "voltage_gain": self.gain,
                "bias_tee_time_constant_s": self.bias_tee_time_constant, "delay_s": self.delay,
                "model": "gate = DAC level + voltage_gain * highpass(AWG(t - delay))"}


@dataclass(frozen=True)
class TunnelRates:
    """Dot-lead tunnel rates: dot i exchanges electrons with its lead at
    ``Gamma_i = gamma0 * T(V_barrier_i)`` (Hz), T the barrier's logistic transmission.

    The default ``gamma0 = 10 MHz`` gives ~9 and ~7 MHz with every gate at 0 V and ~60 Hz six
    widths below a barrier's pinch-off: Hz to MHz across the barriers' range.
    """

    gamma0: float = 1e7
    barriers: tuple[str, str] = ("B1", "B3")

    def __post_init__(self) -> None:
        _check(self, gamma0=self.gamma0)

    def rates(self, device: DeviceParams, gates: Mapping[str, ArrayLike]
              ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(Gamma_1, Gamma_2) in Hz at the given gate voltages (missing gates at 0 V)."""
        out = []
        for barrier in self.barriers:
            t = device.barriers[barrier].transmission(gates.get(barrier, 0.0))
            out.append(np.asarray(self.gamma0 * t, dtype=float))
        return out[0], out[1]


@dataclass(frozen=True)
class Reflectometry:
    """RF reflectometry of the sensor: a matched LC tank, an amplifier chain, a readout filter.

    The sensor (conductance G = I / bias from the sensor model) in parallel with the tank's loss
    ``loss_resistance`` sits behind an L-match (series L, shunt C) resonant at
    ``resonance_frequency``; at resonance it presents ``Z = Z0 * R_match * G_t`` with
    ``G_t = G + 1 / loss_resistance`` and ``R_match = L / (C Z0)`` (``matching_resistance``), so
    the reflection coefficient ``Gamma = (Z - Z0) / (Z + Z0) = (R_match G_t - 1) / (R_match G_t + 1)``
    is real and monotonic in G (0 when matched).  The demodulated in-phase output at the
    digitizer is ``gain * carrier_amplitude * Gamma + offset`` (V).  Noise: the amplifier's
    noise temperature gives ``gain * sqrt(k_B T_N Z0)`` (V/sqrt(Hz)) white at the digitizer
    input, band-limited with the signal by a single-pole low pass of 3 dB ``bandwidth`` (Hz).
    """

    z0: float = 50.0
    resonance_frequency: float = 200e6
    matching_resistance: float = 500e3
    loss_resistance: float = 5e6
    carrier_amplitude: float = 1e-6
    gain_db: float = 90.0
    noise_temperature: float = 4.0
    bandwidth: float = 5e6
    offset: float = 0.0

    def __post_init__(self) -> None:
        _check(self, z0=self.z0, resonance_frequency=self.resonance_frequency,
               matching_resistance=self.matching_resistance, loss_resistance=self.loss_resistance,
               carrier_amplitude=self.carrier_amplitude, bandwidth=self.bandwidth)
        if not (self.noise_temperature >= 0 and math.isfinite(self.noise_temperature)):
            raise ValueError(f"Reflectometry.noise_temperature must be >= 0 K, "
                             f"got {self.noise_temperature}")
        if not (math.isfinite(self.gain_db) and math.isfinite(self.offset)):
            raise ValueError("Reflectometry.gain_db and offset must be finite")

    @property
    def voltage_gain(self) -> float:
        return float(10.0 ** (self.gain_db / 20.0))

    @property
    def inductance(self) -> float:
        """L (H) of the L-match: ``sqrt(R_match Z0) / omega0``."""
        return math.sqrt(self.matching_resistance * self.z0) / (2 * math.pi * self.resonance_frequency)

    @property
    def capacitance(self) -> float:
        """C (F) of the L-match: ``1 / (omega0 sqrt(R_match Z0))``."""
        return 1.0 / (2 * math.pi * self.resonance_frequency * math.sqrt(self.matching_resistance * self.z0))

    @property
    def time_constant(self) -> float:
        """Readout filter time constant ``1 / (2 pi bandwidth)`` (s)."""
        return 1.0 / (2.0 * math.pi * self.bandwidth)

    @property
    def noise_density(self) -> float:
        """White noise at the digitizer input (V/sqrt(Hz), one-sided), before the filter."""
        return self.voltage_gain * math.sqrt(K_B * self.noise_temperature * self.z0)

    @property
    def sample_sigma(self) -> float:
        """Standard deviation (V) of one point sample: ``density * sqrt(pi / 2 * bandwidth)``."""
        return self.noise_density * math.sqrt(0.5 * math.pi * self.bandwidth)

    def reflection(self, conductance: ArrayLike) -> NDArray[np.float64]:
        """Reflection coefficient at resonance for sensor conductance G (S)."""
        zr = self.matching_resistance * (np.asarray(conductance, dtype=float) + 1.0 / self.loss_resistance)
        return np.asarray((zr - 1.0) / (zr + 1.0))

    def volts(self, conductance: ArrayLike) -> NDArray[np.float64]:
        """Demodulated signal (V at the digitizer input) for sensor conductance G (S)."""
        scale = self.voltage_gain * self.carrier_amplitude
        return np.asarray(scale * self.reflection(conductance) + self.offset)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = asdict(self)
        out.update(inductance_H=self.inductance, capacitance_F=self.capacitance,
                   voltage_gain=self.voltage_gain, readout_time_constant_s=self.time_constant,
                   noise_density_V_per_sqrtHz=self.noise_density,
                   sample_sigma_V=self.sample_sigma,
                   model="Gamma = (R_match G_t - 1)/(R_match G_t + 1), G_t = G + 1/loss_resistance; "
                         "V = voltage_gain * carrier_amplitude * Gamma + offset; single-pole "
                         "readout low pass; white amplifier noise of density "
                         "voltage_gain * sqrt(k_B T_N Z0)")
        return out


@dataclass(frozen=True)
class Settings:
    """Numerical choices of the time-domain simulation.

    ``bias_tee_history``: bias-T time constants of AWG history folded into a window's initial
    high-pass state (the AWG is taken as holding its value before that); ``charge_history``:
    tunnel times (1 / Gamma) of history simulated before a window to set its initial charge
    state, at most ``max_charge_history`` (s; before it the dots are in equilibrium);
    ``max_step`` (s): gates are evaluated at least this often (DAC ramps, bias-T droop);
    ``noise_step`` (s): grid of the dots' 1/f charge noise (interpolated in between);
    ``transient_tolerance`` (V): readout-filter transients are summed exactly until they fall
    below this (1/20 of a 12-bit LSB at +-400 mV, ~1/500 of the default noise per sample);
    ``max_flips``: most charge jumps a single-shot record draws per dot before it falls back to
    the ensemble-mean occupation.
    """

    bias_tee_history: float = 10.0
    charge_history: float = 10.0
    max_charge_history: float = 1e-3
    max_step: float = 1e-4
    noise_step: float = 1e-4
    transient_tolerance: float = 1e-5
    max_flips: int = 2_000_000

    def __post_init__(self) -> None:
        _check(self, bias_tee_history=self.bias_tee_history, charge_history=self.charge_history,
               max_step=self.max_step, noise_step=self.noise_step,
               transient_tolerance=self.transient_tolerance)
        if not self.max_charge_history >= 0:
            raise ValueError("Settings.max_charge_history must be >= 0 s")
        if self.max_flips < 0:
            raise ValueError("Settings.max_flips must be >= 0")
