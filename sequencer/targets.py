"""Wiring: which real channels, marker lanes and digitizer lanes go to which instrument."""

from __future__ import annotations

from dataclasses import dataclass

from dotstack.sequencer.checks import count
from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.limits import AwgLimits, DigitizerLimits
from dotstack.sequencer.program import OutputFormat


@dataclass(frozen=True)
class AwgTarget:
    """An AWG: its limits, the real gate channels it drives (output order) and markers.

    ``markers`` entries are (marker lane, channel, bit): the lane's Marker segments set
    bit ``bit`` of that channel's marker data.
    """

    name: str
    limits: AwgLimits
    channels: tuple[str, ...]
    markers: tuple[tuple[str, str, int], ...] = ()
    output: OutputFormat = "int16"

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "markers", tuple(
            (str(lane), str(ch), count(bit, f"marker bit of lane {lane!r}", minimum=0))
            for lane, ch, bit in self.markers))
        if self.output not in ("int16", "float32"):
            raise SequencerError(f"AWG {self.name!r}: output must be 'int16' or 'float32'")
        for lane, ch, bit in self.markers:
            if ch not in self.channels:
                raise SequencerError(f"marker lane {lane!r} targets unknown channel {ch!r}")
            if not 0 <= bit < self.limits.markers_per_channel:
                raise SequencerError(
                    f"marker lane {lane!r} uses bit {bit} on channel {ch!r}, but AWG "
                    f"{self.name!r} has markers_per_channel={self.limits.markers_per_channel}")


@dataclass(frozen=True)
class DigitizerTarget:
    """A digitizer: its limits and the acquisition lanes (digitizer channels) it records."""

    name: str
    limits: DigitizerLimits
    channels: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
