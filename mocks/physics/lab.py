"""`VirtualLab`: the simulated device every mock instrument of a lab shares."""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dotstack.mocks.physics import model, scalar, truth
from dotstack.mocks.physics.clock import LabClock, VirtualClock
from dotstack.mocks.physics.noise import BrownianPath, OneOverF, Telegraph
from dotstack.mocks.physics.outputs import ChannelOutput
from dotstack.mocks.physics.params import G0, GATES, DeviceParams, NoiseParams
from dotstack.mocks.physics.wiring import TriggerLines, Wiring

#: A batch analog source: ``(record starts (s), samples per record, rate) -> (records, samples)`` V.
BatchSource = Callable[[NDArray[np.float64], int, float], NDArray[np.float64]]

_WHITE_SENSOR, _WHITE_TRANSPORT = 1, 2
#: Streams of the 1/f charge noise of the sensor and of dots 1 and 2.
CHARGE_NOISE_STREAMS = {"sensor": 10, "dot1": 11, "dot2": 12}


class VirtualLab:
    """DAC outputs (ramps in lab time) -> gate voltages -> double dot + sensor -> currents.

    Thread-safe: mock instruments call it from server threads; state is guarded by ``lock``.
    Noise is a deterministic function of the seed and lab time.  Sensor readings average over
    [t, t + integration_time] with the gates taken at the window's midpoint.
    """

    def __init__(self, device: DeviceParams | None = None, *, seed: int = 0,
                 wiring: Wiring | None = None, noise: NoiseParams | None = None,
                 clock: LabClock | None = None, triggers: TriggerLines | None = None) -> None:
        self.device = device if device is not None else DeviceParams()
        self.noise = noise if noise is not None else NoiseParams()
        self.seed = int(seed)
        self.wiring = wiring if wiring is not None else Wiring.default()
        self.clock: LabClock = clock if clock is not None else VirtualClock()
        self.lock: threading.RLock = self.clock.lock  # one lock for the lab and its instruments
        self._wired = list(self.wiring.items())
        self.triggers = triggers if triggers is not None else TriggerLines.default()
        self._trigger_inputs: dict[str, Callable[[float], object]] = {}
        #: (lab time, source port, destination port) of the last trigger pulses delivered
        self.trigger_log: deque[tuple[float, str, str]] = deque(maxlen=1000)
        self._outputs: dict[tuple[str, int], ChannelOutput] = {}
        n = self.noise
        # 1/f charge noise of the sensor's potential and (two channels) of the dots' potentials
        streams = CHARGE_NOISE_STREAMS
        self._charge = OneOverF(n.charge_noise_ev, n.charge_noise_band, n.components_per_decade,
                                self.seed, streams["sensor"]) if n.charge_noise_ev else None
        self._dot_noise = OneOverF(
            [n.dot_charge_noise_ev] * 2, n.charge_noise_band, n.components_per_decade,
            self.seed, [streams["dot1"], streams["dot2"]]) if n.dot_charge_noise_ev else None
        # an occupation whose next charge configuration lies this far (in kT) cannot be moved
        # by the dots' noise (30 standard deviations) by even one ulp: skip evaluating it there
        self._dot_margin = 0.0 if self._dot_noise is None else 40.0 + 30.0 * (
            n.dot_charge_noise_ev * math.sqrt(float(self._dot_noise.variances.sum()))
            / self.device.kt_ev)
        self._white = BrownianPath(self.seed, _WHITE_SENSOR)
        self._white_transport = BrownianPath(self.seed, _WHITE_TRANSPORT)
        self._telegraph = Telegraph(n.telegraph_rates[0], n.telegraph_rates[1], self.seed)
        self._scalar = scalar.ScalarModel(self.device)

    # ---------------------------------------------------------------- time and outputs
    def time(self) -> float:
        """Lab time (s)."""
        return float(self.clock())

    def set_output(self, instrument: str, channel: int, volts: float, *,
                   slew: float = math.inf, t: float | None = None) -> None:
        """Move (instrument, channel) from its output at lab time ``t`` (default now) to
        ``volts`` at ``slew`` V/s (inf: a step).  Unwired channels are stored but drive nothing."""
        with self.lock:
            t = self.time() if t is None else float(t)
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

    def set_waveform(self, instrument: str, channel: int, t_start: float, t_end: float,
                     fn: Callable[[Any], Any], *, key: str = "") -> None:
        """Add the waveform ``fn(t - t_start)`` (vectorised, V) to (instrument, channel)'s output
        on [t_start, t_end) (t_end may be inf); ``key`` names the generator (a new waveform of
        the same key replaces the old one from ``t_start``).  See `ChannelOutput.set_waveform`."""
        with self.lock:
            out = self._outputs.get((instrument, int(channel)))
            if out is None:
                out = self._outputs[(instrument, int(channel))] = ChannelOutput()
            try:
                out.set_waveform(t_start, t_end, fn, key)
            except ValueError as exc:
                raise ValueError(f"{instrument} channel {channel}: {exc}") from None

    def clear_waveform(self, instrument: str, channel: int, t: float | None = None, *,
                       key: str | None = None) -> None:
        """Stop the waveforms of (instrument, channel) (those of ``key`` only, if given) at lab
        time ``t`` (default now)."""
        with self.lock:
            out = self._outputs.get((instrument, int(channel)))
            if out is not None:
                out.clear_waveform(self.time() if t is None else float(t), key)

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

    # ---------------------------------------------------------------- trigger lines
    def add_trigger_input(self, port: str, deliver: Callable[[float], object]) -> None:
        """Register an instrument's trigger input ``port`` ("dmm.ext"): ``deliver(t)`` is
        called with the lab time of every pulse that reaches it through `triggers`."""
        with self.lock:
            self._trigger_inputs[port] = deliver

    def pulse(self, port: str, t: float | None = None) -> None:
        """A pulse leaves output ``port`` at lab time ``t`` (default now): every input wired to
        it receives it at that time (inputs of instruments absent from the lab are open)."""
        with self.lock:
            when = self.time() if t is None else float(t)
            for dest in self.triggers.get(port, ()):
                deliver = self._trigger_inputs.get(dest)
                if deliver is not None:
                    self.trigger_log.append((when, port, dest))
                    deliver(when)

    # ---------------------------------------------------------------- readings
    def _check_integration(self, integration_time: float) -> float:
        if not (integration_time > 0 and math.isfinite(integration_time)):
            raise ValueError(f"integration_time must be > 0 s and finite, got {integration_time}")
        return float(integration_time)

    def sensor_currents(self, times: ArrayLike, integration_time: float = 0.02,
                        ) -> NDArray[np.float64]:
        """Noisy sensor currents (A), each averaged over [t, t + integration_time].

        Gates are taken at the window's midpoint; the charge noise of the sensor and of the dots
        enters through its exact average over the window, the white noise as the increment of a
        Brownian path over it (so adjacent windows average consistently)."""
        dur = self._check_integration(integration_time)
        t = np.asarray(times, dtype=float)
        gates = self.gate_voltages_at(t + 0.5 * dur)
        dev, n = self.device, self.noise
        shift = self._charge.mean(t, dur) if self._charge is not None else np.zeros(t.shape)
        state = model.dot_state(dev, gates, margin=self._dot_noise is not None)
        if self._dot_noise is not None and state.margin is not None:
            near = np.broadcast_to(state.margin < self._dot_margin, t.shape)
            if near.any():
                mu = np.zeros((*t.shape, 2))
                mu[near] = self._dot_noise.mean(t[near], dur)
                state = model.dot_state(dev, gates, (mu[..., 0], mu[..., 1]))
        current = model.sensor_current(dev, gates, state, shift)
        if n.telegraph_ev:
            p = self._telegraph.fraction(t, dur)
            current = (1.0 - p) * current + p * model.sensor_current(
                dev, gates, state, shift + n.telegraph_ev)
        if n.current_density:
            current = current + (n.current_density / math.sqrt(2.0)) * self._white.mean(t, dur)
        return np.asarray(current, dtype=float)

    def sensor_current(self, integration_time: float = 0.02, t: float | None = None) -> float:
        """Noisy sensor current (A) averaged over [t, t + integration_time] (t default now);
        white noise shrinks as 1/sqrt(integration_time).  Same numbers as `sensor_currents`."""
        dur = self._check_integration(integration_time)
        when = self.time() if t is None else float(t)
        gates = self.gate_voltages(when + 0.5 * dur)
        sm, n = self._scalar, self.noise
        shift = (scalar.one_over_f_mean(self._charge, when, dur)[0]
                 if self._charge is not None else 0.0)
        full = sm.dot_state_margin(gates)
        if self._dot_noise is not None and full[4] < self._dot_margin:
            mu1, mu2 = scalar.one_over_f_mean(self._dot_noise, when, dur)
            full = sm.dot_state_margin(gates, mu1, mu2)
        state = full[:4]
        current = sm.sensor_current(gates, state, shift)
        if n.telegraph_ev:
            p = scalar.telegraph_fraction(self._telegraph, when, dur)
            if p:
                current = (1.0 - p) * current + p * sm.sensor_current(
                    gates, state, shift + n.telegraph_ev)
        if n.current_density:
            current += (n.current_density / math.sqrt(2.0)) * scalar.brownian_mean(
                self._white, when, dur)
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
            current += (self.noise.current_density / math.sqrt(2.0)) * scalar.brownian_mean(
                self._white_transport, when, dur)
        return current

    def occupations(self, t: float | None = None) -> tuple[float, float]:
        """Noiseless thermal mean occupations (<N1>, <N2>) at lab time ``t`` (default now)."""
        n1, n2, _, _ = self._scalar.dot_state(self.gate_voltages(t))
        return n1, n2

    def dot_potential_noise(self, times: ArrayLike) -> NDArray[np.float64]:
        """Instantaneous charge-noise shifts (eV) of the two dots' electrochemical potentials at
        lab times ``times``: shape ``(n, 2)`` (zeros if the dots are noiseless)."""
        t = np.atleast_1d(np.asarray(times, dtype=float)).ravel()
        if self._dot_noise is None:
            return np.zeros((t.size, 2))
        return np.asarray(self._dot_noise.value(t))

    # ---------------------------------------------------------------- descriptions
    def ground_truth(self) -> dict[str, Any]:
        """JSON-able ground truth at the present gate voltages (see `truth.ground_truth`)."""
        now = self.time()
        result = truth.ground_truth(self.device, self.gate_voltages(now))
        result["lab_time_s"] = now
        result["seed"] = self.seed
        result["noise"] = self.noise.to_dict()
        result["charge_noise"] = truth.charge_noise(self.noise, CHARGE_NOISE_STREAMS)
        result["telegraph_initial_state"] = self._telegraph.initial
        result["wiring"] = self.wiring.to_dict()
        result["trigger_lines"] = self.triggers.to_dict()
        result["clock"] = self.clock.mode
        return result

    def snapshot(self) -> dict[str, Any]:
        """JSON-able description of the simulator's parameters (no derived quantities)."""
        return {
            "device": self.device.to_dict(),
            "noise": self.noise.to_dict(),
            "seed": self.seed,
            "wiring": self.wiring.to_dict(),
            "trigger_lines": self.triggers.to_dict(),
            "clock": self.clock.mode,
        }

    # ---------------------------------------------------------------- analog records
    @property
    def analog_sources(self) -> dict[str, Callable[[float, int, float], NDArray[np.float64]]]:
        """Time-domain sources by digitizer port ("ats.chA"): ``fn(t0, n, rate) -> volts``."""
        with self.lock:
            sources: dict[str, Callable[[float, int, float], NDArray[np.float64]]]
            sources = self.__dict__.setdefault("_analog_sources", {})
            return sources

    def register_analog_source(self, port: str,
                               fn: Callable[[float, int, float], NDArray[np.float64]], *,
                               batch: BatchSource | None = None) -> None:
        """Make ``fn(t0, n, rate)`` (e.g. `TimeDomainLab.analog_record`) the analog signal at
        digitizer input ``port`` (``"<instrument>.<connector>"``); replaces an earlier one.
        ``batch(t0s, n, rate) -> (len(t0s), n)`` volts, if given, computes many records at once
        (e.g. `TimeDomainLab.analog_records`: one simulation for a buffer of triggered records)."""
        with self.lock:
            self.analog_sources[str(port)] = fn
            batches: dict[str, BatchSource] = self.__dict__.setdefault("_analog_batches", {})
            if batch is None:
                batches.pop(str(port), None)
            else:
                batches[str(port)] = batch

    def _source(self, port: str) -> Callable[[float, int, float], NDArray[np.float64]]:
        with self.lock:
            fn = self.analog_sources.get(port)
            known = sorted(self.analog_sources)
        if fn is None:
            raise KeyError(f"no analog source registered for port {port!r} (registered: "
                           f"{known}); register one with VirtualLab.register_analog_source, e.g. "
                           f"TimeDomainLab.connect({port!r})")
        return fn

    def analog_record(self, port: str, t0: float, n: int, rate: float) -> NDArray[np.float64]:
        """``n`` samples (V) at ``t0 + j / rate`` of the analog signal at digitizer input
        ``port``, from its registered time-domain source (KeyError naming the port if none)."""
        return np.asarray(self._source(port)(float(t0), int(n), float(rate)), dtype=float)

    def analog_records(self, port: str, t0s: NDArray[np.float64], n: int, rate: float
                       ) -> NDArray[np.float64]:
        """``(len(t0s), n)`` samples: the records starting at ``t0s`` (see `analog_record`),
        by the port's batch source if it has one, else record by record."""
        fn = self._source(port)
        starts = np.atleast_1d(np.asarray(t0s, dtype=float))
        with self.lock:
            batch = self.__dict__.get("_analog_batches", {}).get(port)
        if batch is not None:
            return np.asarray(batch(starts, int(n), float(rate)), dtype=float).reshape(-1, int(n))
        out = np.empty((starts.size, int(n)))
        for r, t in enumerate(starts):
            out[r] = fn(float(t), int(n), float(rate))
        return out
