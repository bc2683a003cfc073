"""Device and noise parameters of the simulated double quantum dot with its charge sensor.

Units: capacitances in F, voltages in V, temperatures in K, rates and frequencies in Hz,
currents in A.  Energies (charging energies, sensor couplings, charge-noise amplitudes) are in
eV and their names say so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Elementary charge (C).
E_CHARGE = 1.602176634e-19
#: Boltzmann constant (eV/K).
K_B_EV = 8.617333262e-5
#: Conductance quantum 2e^2/h (S).
G0 = 7.748091729e-5

#: Every gate of the device: plungers P1, P2; barriers B1 (lead-dot 1), B2 (inter-dot),
#: B3 (dot 2-lead); sensor plunger S and sensor barriers SB1, SB2.
GATES: tuple[str, ...] = ("P1", "P2", "B1", "B2", "B3", "S", "SB1", "SB2")
BARRIERS: tuple[str, ...] = ("B1", "B2", "B3", "SB1", "SB2")
SENSOR_GATES: tuple[str, ...] = ("S", "SB1", "SB2")

aF = 1e-18


@dataclass(frozen=True)
class Barrier:
    """A tunnel barrier whose transmission is logistic in its gate voltage.

    ``T(V) = 1 / (1 + exp(-(V - pinch_off) / width))``: closed below ``pinch_off`` (V),
    half open at it, open above; ``width`` (V) sets the steepness.
    """

    pinch_off: float
    width: float

    def __post_init__(self) -> None:
        if not (math.isfinite(self.pinch_off) and self.width > 0 and math.isfinite(self.width)):
            raise ValueError(f"Barrier needs a finite pinch_off and width > 0, got {self}")

    def transmission(self, volts: ArrayLike) -> NDArray[np.float64]:
        x = (np.asarray(volts, dtype=float) - self.pinch_off) / (2.0 * self.width)
        return np.asarray(0.5 * (1.0 + np.tanh(x)), dtype=float)


def _frozen(mapping: Mapping[str, float], owner: str) -> Mapping[str, float]:
    unknown = sorted(set(mapping) - set(GATES))
    if unknown:
        raise ValueError(f"{owner}: unknown gate(s) {unknown}; gates are {list(GATES)}")
    bad = {k: v for k, v in mapping.items() if not (v >= 0 and math.isfinite(v))}
    if bad:
        raise ValueError(f"{owner}: capacitances must be finite and >= 0 F, got {bad}")
    return MappingProxyType({g: float(mapping.get(g, 0.0)) for g in GATES})


def _default_barriers() -> Mapping[str, Barrier]:
    return {
        "B1": Barrier(-0.05, 0.025),
        "B2": Barrier(0.02, 0.024),
        "B3": Barrier(-0.03, 0.03),
        "SB1": Barrier(0.035, 0.025),
        "SB2": Barrier(0.03, 0.02),
    }


@dataclass(frozen=True)
class DeviceParams:
    """Constant-interaction double dot (dots 1, 2) plus a charge-sensor dot.

    The dots' Maxwell capacitance matrix is ``[[C1, -Cm], [-Cm, C2]]`` with
    ``Ci = sum(gate capacitances) + lead + other + Cm``; the mutual capacitance grows with the
    inter-dot barrier's transmission: ``Cm = mutual_capacitance + mutual_capacitance_open * T_B2``.
    The sensor dot has total capacitance ``sensor_capacitance`` and its own gate capacitances;
    an electron on dot i raises its electrochemical potential by ``sensor_dot_coupling_ev[i]``.
    Offset charges (electrons) place the charge states in the gate space.  The defaults put the
    device's operating point at 0 V on every gate (a freshly reset DAC): P1, P2 in about
    [-0.2, 0.2] V show the (0,0)...(5,5) honeycomb, and S = 0 V sits on the steep rising flank
    of a sensor Coulomb peak.
    """

    dot1_gate_capacitance: Mapping[str, float] = field(
        default_factory=lambda: {"P1": 2.2 * aF, "P2": 0.35 * aF, "B1": 1.0 * aF,
                                 "B2": 0.8 * aF, "B3": 0.15 * aF})  # fmt: skip
    dot2_gate_capacitance: Mapping[str, float] = field(
        default_factory=lambda: {"P1": 0.4 * aF, "P2": 2.1 * aF, "B1": 0.15 * aF,
                                 "B2": 0.8 * aF, "B3": 1.0 * aF})  # fmt: skip
    lead_capacitance: tuple[float, float] = (8.0 * aF, 8.0 * aF)
    other_capacitance: tuple[float, float] = (17.0 * aF, 16.0 * aF)
    mutual_capacitance: float = 2.0 * aF
    mutual_capacitance_open: float = 2.0 * aF
    offset_charge: tuple[float, float] = (2.93, 2.97)
    sensor_capacitance: float = 200.0 * aF
    sensor_gate_capacitance: Mapping[str, float] = field(
        default_factory=lambda: {"S": 8.0 * aF, "SB1": 2.0 * aF, "SB2": 2.0 * aF,
                                 "P1": 0.002 * aF, "P2": 0.003 * aF})  # fmt: skip
    sensor_dot_coupling_ev: tuple[float, float] = (15e-6, 22e-6)
    sensor_offset_charge: float = 0.4837
    barriers: Mapping[str, Barrier] = field(default_factory=_default_barriers)
    electron_temperature: float = 0.1
    bias: float = 100e-6

    def __post_init__(self) -> None:
        for name in ("dot1_gate_capacitance", "dot2_gate_capacitance", "sensor_gate_capacitance"):
            object.__setattr__(self, name, _frozen(getattr(self, name), name))
        for name in ("dot1_gate_capacitance", "dot2_gate_capacitance"):
            coupled = [g for g in SENSOR_GATES if getattr(self, name)[g]]
            if coupled:
                raise ValueError(f"{name}: sensor gates {coupled} must not couple to the double "
                                 "dot in this model (capacitance 0)")
        missing = sorted(set(BARRIERS) - set(self.barriers))
        extra = sorted(set(self.barriers) - set(BARRIERS))
        if missing or extra:
            raise ValueError(f"barriers: need exactly {list(BARRIERS)}; "
                             f"missing {missing}, unknown {extra}")
        object.__setattr__(self, "barriers", MappingProxyType(dict(self.barriers)))
        positive = {
            "lead_capacitance": min(self.lead_capacitance),
            "other_capacitance": min(self.other_capacitance),
            "sensor_capacitance": self.sensor_capacitance,
            "electron_temperature": self.electron_temperature,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"DeviceParams.{name} must be > 0, got {value}")
        for name in ("mutual_capacitance", "mutual_capacitance_open"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"DeviceParams.{name} must be >= 0, got {getattr(self, name)}")

    @property
    def kt_ev(self) -> float:
        """Thermal energy k_B T (eV)."""
        return K_B_EV * self.electron_temperature

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description (SI units as in the field names)."""
        return {
            "dot1_gate_capacitance_F": dict(self.dot1_gate_capacitance),
            "dot2_gate_capacitance_F": dict(self.dot2_gate_capacitance),
            "lead_capacitance_F": list(self.lead_capacitance),
            "other_capacitance_F": list(self.other_capacitance),
            "mutual_capacitance_F": self.mutual_capacitance,
            "mutual_capacitance_open_F": self.mutual_capacitance_open,
            "offset_charge_e": list(self.offset_charge),
            "sensor_capacitance_F": self.sensor_capacitance,
            "sensor_gate_capacitance_F": dict(self.sensor_gate_capacitance),
            "sensor_dot_coupling_eV": list(self.sensor_dot_coupling_ev),
            "sensor_offset_charge_e": self.sensor_offset_charge,
            "barriers": {k: asdict(b) for k, b in self.barriers.items()},
            "electron_temperature_K": self.electron_temperature,
            "bias_V": self.bias,
        }


@dataclass(frozen=True)
class NoiseParams:
    """Noise amplitudes, all defined as processes in lab time (see `dotstack.mocks.physics.noise`).

    - ``current_density``: white noise on the sensor and transport currents (A/sqrt(Hz),
      one-sided), the derivative of a Brownian path: a reading averaged over T has standard
      deviation ``current_density / sqrt(2 T)``, and averages over adjacent windows are
      consistent (a 1 s reading is the mean of the ten 0.1 s readings inside it).
    - ``charge_noise_ev``: 1/f noise of the sensor's electrochemical potential, one-sided PSD
      ``charge_noise_ev**2 / f`` (eV^2/Hz) across ``charge_noise_band`` (Hz): a sum of
      Ornstein-Uhlenbeck processes with ``components_per_decade`` corner frequencies per decade
      (continuous spectrum; flat below the band, falling as 1/f^2 above it).  The default band
      (1 mHz - 10 Hz, that of sensor time traces) keeps a DMM reading at about 20 us; components
      above ~16 Hz are exact too but cost about 0.1 ms per component per scalar reading.
    - ``dot_charge_noise_ev``: the same kind of 1/f noise, independently, on each dot's
      electrochemical potential (eV/sqrt(Hz) at 1 Hz): transition lines jitter.
    - ``telegraph_ev``: a two-level charge trap shifts the sensor's potential by this (eV) while
      occupied; it switches in with ``telegraph_rates[0]`` and out with ``telegraph_rates[1]`` (Hz).
    """

    current_density: float = 5e-13
    charge_noise_ev: float = 1e-6
    dot_charge_noise_ev: float = 1e-6
    charge_noise_band: tuple[float, float] = (1e-3, 10.0)
    components_per_decade: int = 2
    telegraph_ev: float = 2e-6
    telegraph_rates: tuple[float, float] = (2.0, 5.0)

    def __post_init__(self) -> None:
        for name in ("current_density", "charge_noise_ev", "dot_charge_noise_ev", "telegraph_ev"):
            value = getattr(self, name)
            if not (value >= 0 and math.isfinite(value)):
                raise ValueError(f"NoiseParams.{name} must be finite and >= 0, got {value}")
        lo, hi = self.charge_noise_band
        if not 0 < lo < hi < math.inf:
            raise ValueError(f"NoiseParams.charge_noise_band must be 0 < lo < hi, got {(lo, hi)}")
        if self.components_per_decade < 1:
            raise ValueError("NoiseParams.components_per_decade must be >= 1, "
                             f"got {self.components_per_decade}")
        if not all(r > 0 and math.isfinite(r) for r in self.telegraph_rates):
            raise ValueError(f"NoiseParams.telegraph_rates must be > 0, got {self.telegraph_rates}")

    @classmethod
    def none(cls) -> NoiseParams:
        """No noise at all (noiseless simulation)."""
        return cls(current_density=0.0, charge_noise_ev=0.0, dot_charge_noise_ev=0.0,
                   telegraph_ev=0.0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description."""
        return {
            "current_density_A_per_sqrtHz": self.current_density,
            "charge_noise_eV_per_sqrtHz_at_1Hz": self.charge_noise_ev,
            "dot_charge_noise_eV_per_sqrtHz_at_1Hz": self.dot_charge_noise_ev,
            "charge_noise_band_Hz": list(self.charge_noise_band),
            "components_per_decade": self.components_per_decade,
            "charge_noise_method": "sum of OU processes",
            "telegraph_eV": self.telegraph_ev,
            "telegraph_rates_Hz": list(self.telegraph_rates),
        }
