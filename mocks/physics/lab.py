"""`VirtualLab`: the simulated device every mock instrument of a lab shares."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics import model, scalar, truth
from dotstack.mocks.physics.clock import MonotonicClock
from dotstack.mocks.physics.noise import OneOverF, Telegraph, white_normal
from dotstack.mocks.physics.outputs import ChannelOutput
from dotstack.mocks.physics.params import G0, GATES, DeviceParams, NoiseParams
from dotstack.mocks.physics.wiring import Wiring

_WHITE_SENSOR, _WHITE_TRANSPORT = 1, 2


class VirtualLab:
    """DAC outputs (ramps in lab time) -> gate voltages -> double dot + sensor -> currents.

    Thread-safe: mock instruments call it from server threads; state is guarded by ``lock``.
    Noise is a deterministic function of the seed and lab time.  Sensor readings average over
    [t, t + integration_time] with the gates taken at the window's midpoint.
    """

    def __init__(self, device: DeviceParams | None = None, *, seed: int = 0,
                 wiring: Wiring | None = None, noise: NoiseParams | None = None,
                 clock: Callable[[], float] | None = None) -> None:
        self.device = device if device is not None else DeviceParams()
        self.noise = noise if noise is not None else NoiseParams()
        self.seed = int(seed)
        self.wiring = wiring if wiring is not None else Wiring.default()
        self.clock: Callable[[], float] = clock if clock is not None else MonotonicClock()
        self.lock = threading.RLock()
        self._wired = list(self.wiring.items())
        self._outputs: dict[tuple[str, int], ChannelOutput] = {}
        n = self.noise
        self._one_over_f = OneOverF(n.charge_noise_ev, n.charge_noise_band,
                                    n.components_per_decade, self.seed)
        self._telegraph = Telegraph(n.telegraph_rates[0], n.telegraph_rates[1], self.seed)
        self._scalar = scalar.ScalarModel(self.device)

    # ---------------------------------------------------------------- time and outputs
    def time(self) -> float:
        """Lab time (s)."""
        return float(self.clock())

    def set_output(self, instrument: str, channel: int, volts: float, *,
                   slew: float = math.inf) -> None:
        """Move (instrument, channel) from its present output to ``volts`` starting now, at
        ``slew`` V/s (inf: a step).  Unwired channels are stored but drive nothing."""
        with self.lock:
            t = self.time()
            out = self._outputs.get((instrument, int(channel)))
            if out is None:
                out = self._outputs[(instrument, int(channel))] = ChannelOutput()
            try:
                out.set(t, float(volts), float(slew))
            except ValueError as exc:
                raise ValueError(f"{instrument} channel {channel}: {exc}") from None

    def output(self, instrument: str, channel: int, t: float | None = None) -> float:
        """Output (V) of (instrument, channel) at lab time ``t`` (default now)."""
        with self.lock:
            when = self.time() if t is None else float(t)
            out = self._outputs.get((instrument, int(channel)))
            return out.value(when) if out is not None else 0.0

    def settled_at(self, instrument: str, channel: int) -> float:
        """Lab time at which the channel's last ramp ends (-inf if never set)."""
        with self.lock:
            out = self._outputs.get((instrument, int(channel)))
            return out.settled_at() if out is not None else -math.inf

    def gate_voltages(self, t: float | None = None) -> dict[str, float]:
        """Every gate's voltage (V) at lab time ``t`` (default now); unwired gates at 0 V."""
        with self.lock:
            when = self.time() if t is None else float(t)
            result = dict.fromkeys(GATES, 0.0)
            outputs = self._outputs
            for gate, key in self._wired:
                out = outputs.get(key)
                if out is not None:
                    result[gate] = out.value(when)
            return result

    def gate_voltages_at(self, times: ArrayLike) -> dict[str, NDArray[np.float64]]:
        """Every gate's voltage (V) at an array of lab times."""
        t = np.asarray(times, dtype=float)
        with self.lock:
            result = {g: np.zeros(t.shape) for g in GATES}
            for gate, (instrument, channel) in self.wiring.items():
                out = self._outputs.get((instrument, channel))
                if out is not None:
                    result[gate] = out.values(t)
            return result

    # ---------------------------------------------------------------- readings
    def _check_integration(self, integration_time: float) -> float:
        if not (integration_time > 0 and math.isfinite(integration_time)):
            raise ValueError(f"integration_time must be > 0 s and finite, got {integration_time}")
        return float(integration_time)

    def sensor_currents(self, times: ArrayLike, integration_time: float = 0.02,
                        ) -> NDArray[np.float64]:
        """Noisy sensor currents (A), each averaged over [t, t + integration_time]."""
        dur = self._check_integration(integration_time)
        t = np.asarray(times, dtype=float)
        gates = self.gate_voltages_at(t + 0.5 * dur)
        dev, n = self.device, self.noise
        state = model.dot_state(dev, gates)
        shift = self._one_over_f.mean(t, dur) if n.charge_noise_ev else np.zeros(t.shape)
        current = model.sensor_current(dev, gates, state, shift)
        if n.telegraph_ev:
            p = self._telegraph.fraction(t, dur)
            current = (1.0 - p) * current + p * model.sensor_current(
                dev, gates, state, shift + n.telegraph_ev)
        if n.current_density:
            sigma = n.current_density / math.sqrt(2.0 * dur)
            current = current + sigma * white_normal(self.seed, _WHITE_SENSOR, t, dur)
        return np.asarray(current, dtype=float)

    def sensor_current(self, integration_time: float = 0.02, t: float | None = None) -> float:
        """Noisy sensor current (A) averaged over [t, t + integration_time] (t default now);
        white noise shrinks as 1/sqrt(integration_time).  Same numbers as `sensor_currents`."""
        dur = self._check_integration(integration_time)
        when = self.time() if t is None else float(t)
        gates = self.gate_voltages(when + 0.5 * dur)
        sm, n = self._scalar, self.noise
        state = sm.dot_state(gates)
        shift = scalar.one_over_f_mean(self._one_over_f, when, dur)
        current = sm.sensor_current(gates, state, shift)
        if n.telegraph_ev:
            p = scalar.telegraph_fraction(self._telegraph, when, dur)
            if p:
                current = (1.0 - p) * current + p * sm.sensor_current(
                    gates, state, shift + n.telegraph_ev)
        if n.current_density:
            sigma = n.current_density / math.sqrt(2.0 * dur)
            current += sigma * scalar.white_normal(self.seed, _WHITE_SENSOR, when, dur)
        return current

    def transport_current(self, integration_time: float = 0.02, t: float | None = None) -> float:
        """Open-channel current through the double dot's barriers (A), with white noise:
        the observable of the B1/B2/B3 pinch-off curves."""
        dur = self._check_integration(integration_time)
        when = self.time() if t is None else float(t)
        gates = self.gate_voltages(when + 0.5 * dur)
        t1, t2, t3 = (self._scalar.transmission(b, gates[b]) for b in ("B1", "B2", "B3"))
        current = G0 * self.device.bias * t1 * t2 * t3
        if self.noise.current_density:
            sigma = self.noise.current_density / math.sqrt(2.0 * dur)
            current += sigma * scalar.white_normal(self.seed, _WHITE_TRANSPORT, when, dur)
        return current

    def occupations(self, t: float | None = None) -> tuple[float, float]:
        """Noiseless thermal mean occupations (<N1>, <N2>) at lab time ``t`` (default now)."""
        n1, n2, _, _ = self._scalar.dot_state(self.gate_voltages(t))
        return n1, n2

    # ---------------------------------------------------------------- descriptions
    def ground_truth(self) -> dict[str, Any]:
        """JSON-able ground truth at the present gate voltages (see `truth.ground_truth`)."""
        now = self.time()
        result = truth.ground_truth(self.device, self.gate_voltages(now))
        result["lab_time_s"] = now
        result["seed"] = self.seed
        result["noise"] = self.noise.to_dict()
        result["telegraph_initial_state"] = self._telegraph.initial
        result["wiring"] = self.wiring.to_dict()
        return result

    def snapshot(self) -> dict[str, Any]:
        """JSON-able description of the simulator's parameters (no derived quantities)."""
        return {
            "device": self.device.to_dict(),
            "noise": self.noise.to_dict(),
            "seed": self.seed,
            "wiring": self.wiring.to_dict(),
        }
