"""Hardware limits as data (capabilities are flags, not subclasses).

Time rule: every segment boundary sits at ``round(t * sample_rate)`` samples, where ``t``
is the boundary's cumulative time from the start of its lane (numpy round-half-even),
so rounding never accumulates along a lane.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from dotstack.sequencer.checks import count, flag, pairs, real
from dotstack.sequencer.errors import SequencerError

_COUNTS = ("granularity", "min_length", "resolution_bits", "memory_per_channel",
           "max_waveforms", "max_steps", "max_repeat")
_FLAGS = ("supports_repeat", "supports_trigger_wait", "supports_goto", "supports_jump")


@dataclass(frozen=True)
class AwgLimits:
    """What one AWG can play. Voltages in V, rates in Sa/s, lengths in samples.

    ``channel_delays`` (analog channel -> s) and ``marker_delays`` (marker lane -> s) are
    independent of each other; on one AWG they are relative (the smallest becomes 0).
    """

    sample_rate: float
    granularity: int = 1
    min_length: int = 1
    amplitude_range: tuple[float, float] = (-1.0, 1.0)
    resolution_bits: int = 16
    memory_per_channel: int = 2**31
    max_waveforms: int = 2**20
    max_steps: int = 2**20
    supports_repeat: bool = True
    max_repeat: int = 2**20
    supports_trigger_wait: bool = True
    supports_goto: bool = True
    supports_jump: bool = True
    markers_per_channel: int = 0
    channel_delays: tuple[tuple[str, float], ...] = field(default=())
    marker_delays: tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("sample_rate", real(self.sample_rate, "AwgLimits.sample_rate", positive=True))
        for name in _COUNTS:
            put(name, count(getattr(self, name), f"AwgLimits.{name}"))
        for name in _FLAGS:
            put(name, flag(getattr(self, name), f"AwgLimits.{name}"))
        put("markers_per_channel", count(self.markers_per_channel,
                                         "AwgLimits.markers_per_channel", minimum=0))
        if len(self.amplitude_range) != 2:
            raise SequencerError(f"amplitude_range must be (low, high), got "
                                 f"{self.amplitude_range!r}")
        put("amplitude_range", tuple(real(v, "AwgLimits.amplitude_range")
                                     for v in self.amplitude_range))
        put("channel_delays", pairs(self.channel_delays, "AwgLimits.channel_delays"))
        put("marker_delays", pairs(self.marker_delays, "AwgLimits.marker_delays"))
        lo, hi = self.amplitude_range
        if not lo < hi:
            raise SequencerError(f"amplitude_range {self.amplitude_range} is empty")
        if not 2 <= self.resolution_bits <= 16:
            raise SequencerError("resolution_bits must be within 2..16 (int16 output)")

    @property
    def lsb(self) -> float:
        """Volts per DAC code (full range spans codes ±(2**(bits-1) - 1))."""
        lo, hi = self.amplitude_range
        return (hi - lo) / (2 ** self.resolution_bits - 2)

    @property
    def mid(self) -> float:
        lo, hi = self.amplitude_range
        return (lo + hi) / 2

    def samples(self, seconds: float) -> int:
        """Seconds -> samples (round to nearest)."""
        return int(np.round(seconds * self.sample_rate))

    def delay_samples(self, channel: str) -> int:
        """Delay of an analog channel, in samples (rounded)."""
        return self.samples(dict(self.channel_delays)[channel]) if any(
            ch == channel for ch, _ in self.channel_delays) else 0

    def marker_delay_samples(self, lane: str) -> int:
        """Delay of a marker lane (independent of its channel's analog delay), in samples."""
        return self.samples(dict(self.marker_delays)[lane]) if any(
            name == lane for name, _ in self.marker_delays) else 0

    def with_(self, **changes: object) -> AwgLimits:
        """Copy with fields replaced (e.g. another sample rate)."""
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class DigitizerLimits:
    """What one digitizer can record. Lengths in samples."""

    sample_rate: float
    record_granularity: int = 1
    min_record_length: int = 1
    max_record_length: int = 2**31
    max_records: int = 2**31
    channels: tuple[str, ...] = ("A", "B")

    def __post_init__(self) -> None:
        object.__setattr__(self, "sample_rate", real(
            self.sample_rate, "DigitizerLimits.sample_rate", positive=True))
        for name in ("record_granularity", "min_record_length", "max_record_length",
                     "max_records"):
            object.__setattr__(self, name, count(getattr(self, name), f"DigitizerLimits.{name}"))
        object.__setattr__(self, "channels", tuple(self.channels))

    def with_(self, **changes: object) -> DigitizerLimits:
        return replace(self, **changes)  # type: ignore[arg-type]


#: Tektronix AWG5208-like limits (2.5 GS/s, 16-bit, 8 channels).
#: Minimum waveform length 2400 samples: the QCoDeS AWG5208 example notebook ("no waveform can
#: be shorter than 2400 points (hardware limitation)"), the QCoDeS AWG70000A driver's .wfmx
#: header check and broadbean's sequence validation. Granularity 1 sample: tm_devices' AWG5200
#: driver (memory_page_size=1). NOT confirmed against the AWG5200 manual itself (not reachable
#: from here). Amplitude ±0.75 V (1.5 Vpp, DC High BW path, QCoDeS _chan_amps["5208"]);
#: 4 markers per channel (QCoDeS _num_of_markers_map; markers take DAC bits: 16-bit data
#: becomes 12 bits with four markers). 16383 sequence steps (QCoDeS force_jump range);
#: repeat count up to 2**20, 2 GSa memory per channel: datasheet values from memory, unverified.
AWG5208 = AwgLimits(
    sample_rate=2.5e9,
    granularity=1,
    min_length=2400,
    amplitude_range=(-0.75, 0.75),
    resolution_bits=16,
    memory_per_channel=2_000_000_000,
    max_waveforms=16383 * 8,
    max_steps=16383,
    supports_repeat=True,
    max_repeat=2**20,
    supports_trigger_wait=True,
    supports_goto=True,
    supports_jump=True,
    markers_per_channel=4,
)

#: AlazarTech ATS9360-like limits: 1.8 GS/s max; samples per record a multiple of 128 and
#: >= 256 (QCoDeS ATS9360 driver validators).
ATS9360 = DigitizerLimits(
    sample_rate=1.8e9,
    record_granularity=128,
    min_record_length=256,
    max_record_length=2**30,
    max_records=2**31 - 1,
    channels=("A", "B"),
)
