"""State of the AWG5208 mock: waveform and sequence lists, channel settings, files."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

#: Jump/goto targets besides a 1-based step number.
Target = int | str  # int step (1-based) or "NEXT", "FIRST", "LAST", "END"
#: Trigger inputs a step can wait for or jump on: "A", "B", "I" (internal) or "OFF".
TriggerInput = str


@dataclass(eq=False)
class Waveform:
    """One waveform of the list: normalised samples (-1..1) and marker bits (bit k-1: marker k)."""

    name: str
    samples: npt.NDArray[np.float32]
    markers: npt.NDArray[np.uint8]

    @classmethod
    def empty(cls, name: str, length: int) -> Waveform:
        return cls(name, np.zeros(length, np.float32), np.zeros(length, np.uint8))

    def __len__(self) -> int:
        return len(self.samples)


@dataclass
class Step:
    """One sequence step: an asset per track, repeat (0: infinite), waits, jumps."""

    assets: list[str | None]
    repeat: int = 1
    wait: TriggerInput = "OFF"
    jump_input: TriggerInput = "OFF"
    jump_to: Target = "NEXT"
    goto: Target = "NEXT"
    kinds: list[str] = field(default_factory=list)  # "WAV"/"SEQ" per track (files may nest)


@dataclass
class Sequence:
    """A sequence of the sequence list (``tracks`` tracks, steps 1-based in SCPI)."""

    name: str
    tracks: int
    steps: list[Step]
    jump_timing: str = "IMM"  # "IMM" (jump at once) or "END" (at the end of the waveform)

    @classmethod
    def new(cls, name: str, steps: int, tracks: int) -> Sequence:
        return cls(name, tracks, [Step([None] * tracks, kinds=["WAV"] * tracks)
                                  for _ in range(steps)])


@dataclass
class Channel:
    """Settings of one analog output and its four markers (*RST values; some guessed)."""

    n: int
    amplitude: float = 0.5  # Vpp (*RST: high 250 mV, low -250 mV)
    offset: float = 0.0
    resolution: int = 16  # bits; 16 - k leaves k marker bits
    output: bool = False
    hold: str = "FIRST"  # analog level while waiting for a trigger: FIRST or ZERO
    asset: tuple[str, str, int] | None = None  # ("SEQ", name, track) or ("WAV", name, 0)
    marker_high: list[float] = field(default_factory=lambda: [1.0] * 4)
    marker_low: list[float] = field(default_factory=lambda: [0.0] * 4)
    marker_wait: list[str] = field(default_factory=lambda: ["FIRST"] * 4)
    marker_stopped: list[str] = field(default_factory=lambda: ["OFF"] * 4)
    marker_delay: list[float] = field(default_factory=lambda: [0.0] * 4)
    fgen: dict[str, str] = field(default_factory=dict)

    @property
    def n_markers(self) -> int:
        """Markers the resolution leaves room for (16 bits: none, 12 bits: four)."""
        return max(0, min(4, 16 - self.resolution))

    def scale(self, normalised: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """Volts out for normalised samples: quantised to the resolution, clipped, scaled."""
        q = float(2 ** (self.resolution - 1) - 1)
        codes = np.clip(np.rint(normalised.astype(np.float64) * q), -q, q)
        return self.offset + (self.amplitude / 2) * (codes / q)
