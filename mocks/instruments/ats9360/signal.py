"""What the ATS9360 mock's inputs see: the lab's analog signal, the input noise, the 12-bit ADC.

**The seam to the lab's time-domain physics** is the lab's own (`VirtualLab`)::

    lab.register_analog_source(port, fn)      # fn(t0: float, n: int, rate: float) -> volts (n,)
    lab.analog_record(port: str, t0: float, n: int, rate: float) -> NDArray[float64]  # (n,)

the voltage (V) at digitizer input ``port`` (``"ats.chA"``, ``"ats.chB"``: ``<name>.ch<X>``) at lab
times ``t0 + k / rate``, ``k = 0 .. n-1`` (``TimeDomainLab.connect("ats.chA")`` registers the
time-domain physics).  `LabInputs` asks it once per record, only for records the lab clock has
passed (the lab's history is complete), perhaps more than once for the same times (the source
must be a deterministic function of the seed and lab time).  It returns what arrives at the
connector, lab noise included; the board adds its own input noise, clips to ±400 mV and
quantises to 12 bits (`AdcModel`).

For a port with no registered source (or a lab without the seam), `SensorFallback` stands in:
channel A sees the charge sensor's DC current through a transimpedance amplifier of
`FALLBACK_GAIN` V/A and `FALLBACK_BANDWIDTH` (the lab's ``sensor_currents`` averaged over cells of
1 / bandwidth on a grid fixed in lab time, held across each cell); channel B is open (0 V).
Not reflectometry: a placeholder with the lab's device, gates and noise behind it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from dotstack.mocks.physics.noise import normal_table

Array = NDArray[np.float64]

FALLBACK_GAIN = 1e8  #: V/A, as the mock DMM's transimpedance amplifier
FALLBACK_BANDWIDTH = 1e6  #: Hz: the amplifier's output is held over cells of 1 µs
_M64 = 0xFFFFFFFFFFFFFFFF


class SensorFallback:
    """Channel A: the charge sensor's current x `FALLBACK_GAIN`; other inputs: 0 V."""

    def __init__(self, lab: Any, gain: float = FALLBACK_GAIN,
                 bandwidth: float = FALLBACK_BANDWIDTH) -> None:
        self.lab, self.gain, self.bandwidth = lab, float(gain), float(bandwidth)

    def records(self, port: str, t0: Array, n: int, rate: float) -> Array:
        """Volts at ``t0[r] + k / rate``: shape ``(len(t0), n)``."""
        t0 = np.atleast_1d(np.asarray(t0, dtype=float))
        if not port.endswith(".chA"):
            return np.zeros((t0.size, n))
        cell = max(1.0 / rate, 1.0 / self.bandwidth)
        k = np.floor(t0[:, None] / cell + np.arange(n)[None, :] / (rate * cell) + 1e-9)
        cells, inverse = np.unique(k.astype(np.int64), return_inverse=True)
        currents = self.lab.sensor_currents(cells * cell, cell)
        return np.asarray(self.gain * currents[inverse.reshape(k.shape)], dtype=float)


class LabInputs:
    """The analog inputs: the lab's registered source per port, else the fallback."""

    def __init__(self, lab: Any, fallback: SensorFallback | None = None) -> None:
        self.lab = lab
        self.fallback = fallback if fallback is not None else SensorFallback(lab)

    def has_source(self, port: str) -> bool:
        return port in getattr(self.lab, "analog_sources", {})

    def records(self, port: str, t0: Array, n: int, rate: float) -> Array:
        """Volts at ``t0[r] + k / rate``: shape ``(len(t0), n)``."""
        if not self.has_source(port):
            return self.fallback.records(port, t0, n, rate)
        batch = getattr(self.lab, "analog_records", None)
        if batch is not None:
            return np.asarray(batch(port, np.asarray(t0, dtype=float), n, rate))
        out = np.empty((len(t0), n))
        for r, t in enumerate(np.asarray(t0, dtype=float)):
            out[r] = self.lab.analog_record(port, float(t), n, rate)
        return out


def _splitmix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return np.asarray(z ^ (z >> np.uint64(31)))


def sample_normals(seed: int, stream: int, rate: float, ticks: NDArray[np.int64]) -> Array:
    """One standard normal per sample-clock tick (tick = lab time x rate): a deterministic
    function of (seed, stream, rate, tick), independent between ticks."""
    base = (seed * 0x100000001B3 + stream * 0x9E3779B1 + int(rate)) & _M64
    h = _splitmix(ticks.astype(np.int64).view(np.uint64) ^ _splitmix(np.array([base], np.uint64)))
    table = normal_table()[0]
    return np.asarray(table[(h >> np.uint64(64 - 16)).astype(np.int64)])


class AdcModel:
    """Input noise, clipping and 12-bit quantisation into the board's 16-bit sample words.

    The code is the nearest to ``2047.5 + 2047.5 · volts / FS`` (clipped to 0..4095), the inverse
    of AlazarTech's conversion ``volts = FS · ((word >> 4) - 2047.5) / 2047.5``: codes 0 and
    4095 are -FS and +FS, a code step is FS / 2047.5.  The 12-bit code sits in the word's upper
    bits, the lower 4 bits are 0 (unsigned: 0x8000 is mid-scale; with the signed data format the
    code minus 2048, two's complement).
    """

    def __init__(self, full_scale: float, noise: float, seed: int) -> None:
        self.full_scale, self.noise, self.seed = float(full_scale), float(noise), int(seed)

    def words(self, volts: Array, channel: int, rate: float, ticks: NDArray[np.int64],
              signed: bool = False) -> NDArray[np.uint16]:
        """``volts`` at sample-clock ``ticks`` (same shape) -> 16-bit sample words."""
        v = np.nan_to_num(np.asarray(volts, dtype=float), nan=0.0)
        if self.noise:
            v = v + self.noise * sample_normals(self.seed, 1 + channel, rate, ticks.ravel()
                                                ).reshape(v.shape)
        codes = np.clip(np.rint(2047.5 + 2047.5 * v / self.full_scale), 0, 4095).astype(np.int32)
        if signed:
            return np.asarray(((codes - 2048) << 4).astype(np.int16).view(np.uint16))
        return np.asarray((codes << 4).astype(np.uint16))

    @property
    def step(self) -> float:
        """Volts per code."""
        return self.full_scale / 2047.5


def first_tick(t: float, rate: float) -> int:
    """The first sample-clock tick at or after lab time ``t`` (the clock runs continuously)."""
    return math.ceil(t * rate - 1e-6)
