"""Helpers of the ATS9360 tests: a lab with a known analog signal, a raw controller, conversions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from qcodes.instrument_drivers.AlazarTech.ATS import AcquisitionInterface

from dotstack.mocks.physics import VirtualLab

LINES = {"src.out": ["ats.trigA"]}
FS = 0.4


def sine(freq: float = 10e6, amp: float = 0.3, phase: float = 0.0) -> Callable:
    return lambda port, t: amp * np.cos(2 * np.pi * freq * t + phase) if port == "ats.chA" \
        else np.full(t.shape, -0.05)


class SignalLab(VirtualLab):
    """A lab whose digitizer inputs see ``signal(port, times)``, registered through the lab's
    analog-source seam; every request is logged with the lab time it was made at."""

    def __init__(self, signal: Callable, **kwargs) -> None:
        super().__init__(**kwargs)
        self.signal = signal
        self.asked: list[tuple[str, float, int, float, float]] = []
        for port in ("ats.chA", "ats.chB"):
            self.register_analog_source(port, self._source(port))

    def _source(self, port: str) -> Callable:
        def record(t0: float, n: int, rate: float) -> np.ndarray:
            self.asked.append((port, t0, n, rate, self.clock.now()))
            return self.signal(port, t0 + np.arange(n) / rate)
        return record


class RawController(AcquisitionInterface):
    """Keeps a copy of every buffer; hooks record what the board looked like at each step."""

    def __init__(self, api=None, on_buffer: Callable[[int], None] | None = None) -> None:
        self.api, self.on_buffer = api, on_buffer
        self.buffers: dict[int, np.ndarray] = {}
        self.at_pre_acquire: dict[str, object] = {}

    def pre_acquire(self) -> None:
        if self.api is not None:
            self.at_pre_acquire = {"records": len(self.api.capture.starts),
                                   "busy": self.api.capture.busy(),
                                   "t": self.api.lab.clock.now()}

    def buffer_done_callback(self, buffers_completed: int) -> None:
        if self.on_buffer is not None:
            self.on_buffer(buffers_completed)

    def handle_buffer(self, buffer, buffer_number=None) -> None:
        self.buffers[int(buffer_number or 0)] = np.array(buffer, copy=True)

    def post_acquire(self) -> np.ndarray:
        return np.stack([self.buffers[i] for i in sorted(self.buffers)])


def records(words: np.ndarray, channels: int, per_buffer: int, samples: int) -> np.ndarray:
    """Buffers of words -> (channel, record, sample) codes (NPT layout: A's records, then B's)."""
    b = words.reshape(len(words), channels, per_buffer, samples)
    return b.transpose(1, 0, 2, 3).reshape(channels, -1, samples)


def volts(words: np.ndarray) -> np.ndarray:
    """AlazarTech's conversion of 12-bit words (code in the upper bits) to volts (±400 mV)."""
    return FS * ((words >> 4) - 2047.5) / 2047.5


def expected_codes(v: np.ndarray) -> np.ndarray:
    """An ideal 12-bit ADC calibrated as AlazarTech's conversion: nearest code, 0 and 4095 at ±FS."""
    return np.clip(np.rint(2047.5 + 2047.5 * v / FS), 0, 4095).astype(int)


def pulses(lab: VirtualLab, times: Sequence[float], port: str = "src.out") -> None:
    """Schedule a trigger pulse on ``port`` at each lab time."""
    for t in times:
        lab.clock.schedule(t, lambda when: lab.pulse(port, when), "test pulse")


def configure(alazar, *, rate: int = 1_000_000_000, delay: int = 0, level: int = 140,
              slope: str = "TRIG_SLOPE_POSITIVE", timeout_ticks: int = 0) -> None:
    with alazar.syncing():
        alazar.sample_rate(rate)
        alazar.trigger_source1("EXTERNAL")
        alazar.trigger_level1(level)
        alazar.trigger_slope1(slope)
        alazar.trigger_source2("DISABLE")
        alazar.trigger_delay(delay)
        alazar.timeout_ticks(timeout_ticks)
