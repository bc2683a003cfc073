"""Hardware limits as data (capabilities are flags, not subclasses).

Time rule: every segment boundary sits at ``round(t * sample_rate)`` samples, where ``t``
is the boundary's cumulative time from the start of its lane (numpy round-half-even),
so rounding never accumulates along a lane.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from dotstack.sequencer.errors import SequencerError


@dataclass(frozen=True)
class AwgLimits:
    """What one AWG can play. Voltages in V, rates in Sa/s, lengths in samples."""

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

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise SequencerError(f"sample_rate must be positive, got {self.sample_rate}")
        if self.granularity < 1 or self.min_length < 1:
            raise SequencerError("granularity and min_length must be >= 1")
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
        return self.samples(dict(self.channel_delays).get(channel, 0.0))

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
