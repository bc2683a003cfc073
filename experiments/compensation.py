"""Sensor compensation: a virtual sensor gate that holds the charge sensor on its flank.

Sweeping a plunger moves the sensor's Coulomb peaks too (direct cross-capacitance and the dot's
polarisation charge): the sensor slides along its peak and the map's background drifts.  A
`SensorCompensation` says how far to move the sensor gate per volt on each plunger,

    S = S0 + sum_i c_i (P_i - P_i0)

so that within one charge state the sensor's potential stays fixed; a transition still steps
it (that is the signal).  The coefficients ``c_i = dS/dP_i`` are measured by
`dotstack.experiments.sensor.sensor_compensation` (the sensor peak's shift vs each plunger).

Video mode drives an AWG channel on the sensor gate with `SensorCompensation.offsets` of the
plunger waveforms; the DC `charge_stability` sets the sensor gate at every point
(``compensate=``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: the key under which a run's ``meta/fit`` holds a compensation (see `SensorCompensation.from_run`)
FIT_KEY = "compensation"


def _gate_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what}: a gate name must be a non-empty string, got {name!r}")
    return name


def _coefficient(gate: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"SensorCompensation: coefficient of {gate} must be a number, got {value!r}")
    c = float(value)
    if not math.isfinite(c):
        raise ValueError(f"SensorCompensation: coefficient of {gate} must be finite, got {c}")
    return c


@dataclass(frozen=True)
class SensorCompensation:
    """``dS/dP_i`` per plunger (V/V, dimensionless) for the sensor gate ``sensor``."""

    sensor: str
    coefficients: Mapping[str, float]

    def __post_init__(self) -> None:
        sensor = _gate_name(self.sensor, "SensorCompensation.sensor")
        if not isinstance(self.coefficients, Mapping):
            raise ValueError("SensorCompensation.coefficients must be a mapping gate -> dS/dP, "
                             f"got {type(self.coefficients).__name__}")
        coeffs: dict[str, float] = {}
        for gate, value in self.coefficients.items():
            gate = _gate_name(gate, "SensorCompensation.coefficients")
            if gate == sensor:
                raise ValueError(f"SensorCompensation: the sensor gate {sensor} cannot compensate "
                                 "itself")
            coeffs[gate] = _coefficient(gate, value)
        if not coeffs:
            raise ValueError("SensorCompensation needs at least one plunger coefficient")
        object.__setattr__(self, "coefficients", MappingProxyType(coeffs))

    @property
    def gates(self) -> tuple[str, ...]:
        """The compensated plungers."""
        return tuple(self.coefficients)

    def offsets(self, dx: Mapping[str, ArrayLike]) -> NDArray[np.float64]:
        """The sensor gate's offset (V) for plunger offsets ``dx`` (gate -> V, arrays broadcast):
        ``sum_i c_i dx_i``.  Plungers missing from ``dx`` are taken as not moving; a gate in
        ``dx`` without a coefficient is refused (its effect on the sensor is unknown)."""
        unknown = sorted(set(dx) - set(self.coefficients))
        if unknown:
            raise KeyError(f"no compensation coefficient for gate(s) {unknown}; the sensor "
                           f"{self.sensor} is compensated for {list(self.coefficients)}")
        arrays = {}
        for gate, values in dx.items():
            a = np.asarray(values, dtype=float)
            if not np.all(np.isfinite(a)):
                raise ValueError(f"SensorCompensation.offsets: {gate} offsets contain NaN or inf")
            arrays[gate] = a
        total: NDArray[np.float64] = np.zeros(np.broadcast_shapes(*(a.shape for a in arrays.values()))
                                              if arrays else ())
        for gate, a in arrays.items():
            total = total + self.coefficients[gate] * a
        return np.asarray(total, dtype=float)

    def sensor_value(self, s0: float, gates: Mapping[str, float],
                     reference: Mapping[str, float]) -> float:
        """The sensor gate's voltage at plunger voltages ``gates`` when it was ``s0`` at
        ``reference`` (both gate -> V; every compensated plunger must be in both)."""
        missing = [g for g in self.coefficients if g not in gates or g not in reference]
        if missing:
            raise KeyError(f"sensor_value: no voltage for compensated gate(s) {missing}")
        dx = {g: float(gates[g]) - float(reference[g]) for g in self.coefficients}
        return float(s0) + float(self.offsets(dx))

    # ---------------------------------------------------------------- JSON
    def as_dict(self) -> dict[str, Any]:
        return {"sensor": self.sensor, "coefficients": dict(self.coefficients),
                "convention": "S = S0 + sum_i coefficients[i] * (P_i - P_i0)"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SensorCompensation:
        if not isinstance(data, Mapping) or "sensor" not in data or "coefficients" not in data:
            raise ValueError("a SensorCompensation document needs 'sensor' and 'coefficients', "
                             f"got {data!r:.200}")
        return cls(data["sensor"], data["coefficients"])

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    @classmethod
    def from_json(cls, text: str) -> SensorCompensation:
        def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [k for k, _ in pairs]
            dup = sorted({k for k in keys if keys.count(k) > 1})
            if dup:
                raise ValueError(f"SensorCompensation JSON: duplicate key(s) {dup}")
            return dict(pairs)

        return cls.from_dict(json.loads(text, object_pairs_hook=unique))

    @classmethod
    def from_run(cls, run: Any, *, storage_options: Mapping[str, Any] | None = None,
                 ) -> SensorCompensation:
        """The compensation stored in a run's ``meta/fit`` (a path, URL or run id; see
        `dotstack.store.load_meta`), as written by `sensor_compensation`."""
        from dotstack.store import load_meta

        fit = load_meta(run, storage_options=storage_options).get("fit", {})
        if not isinstance(fit, Mapping) or FIT_KEY not in fit:
            raise ValueError(f"run {run!s} holds no sensor compensation in its meta/fit "
                             f"(keys: {sorted(fit) if isinstance(fit, Mapping) else fit!r})")
        return cls.from_dict(fit[FIT_KEY])

    @classmethod
    def resolve(cls, value: SensorCompensation | Mapping[str, Any] | str | Any, *,
                storage_options: Mapping[str, Any] | None = None) -> SensorCompensation:
        """A compensation from itself, its dict, or a run (path, URL or run id) holding one."""
        if isinstance(value, SensorCompensation):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        return cls.from_run(value, storage_options=storage_options)
