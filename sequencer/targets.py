"""Wiring: which real channels, marker lanes and digitizer lanes go to which instrument.

IQ mixer correction is target data: ``AwgTarget(..., iq_pairs=(("I", "Q",
MixerCorrection(gain, phase, offset_i, offset_q)),))`` pre-distorts the pair's channels at
compile time (after virtual gates, before the amplitude check and quantization)::

    I' = I + offset_i
    Q' = gain * (Q cos(phase) + I sin(phase)) + offset_q

It inverts a mixer whose effective baseband (I_eff + j Q_eff, the RF being
``I_eff cos(ω t) - Q_eff sin(ω t)``) is ``I_eff = I' - offset_i``, ``Q_eff = ((Q' - offset_q) /
gain - I_eff sin(phase)) / cos(phase)``: DC offsets (LO leakage) ``-offset_i, -offset_q`` at its
inputs, a Q arm of gain ``1/gain`` and a quadrature error ``phase`` (up to the overall factor
``1/cos(phase)``, its RF is ``I_in cos(ω t - phase) - (Q_in / gain) sin(ω t)`` per unit LO).
The offsets are added to every sample of the channels (also while nothing plays).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.checks import count, real
from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.limits import AwgLimits, DigitizerLimits
from dotstack.sequencer.program import OutputFormat


@dataclass(frozen=True)
class MixerCorrection:
    """Pre-distortion of one I/Q channel pair (module docstring): ``gain`` (Q arm, > 0),
    ``phase`` (rad, |phase| < π/2), ``offset_i``/``offset_q`` (V). Identity by default."""

    gain: float = 1.0
    phase: float = 0.0
    offset_i: float = 0.0
    offset_q: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "gain", real(self.gain, "MixerCorrection.gain", positive=True))
        for name in ("phase", "offset_i", "offset_q"):
            object.__setattr__(self, name, real(getattr(self, name), f"MixerCorrection.{name}"))
        if not abs(self.phase) < math.pi / 2:
            raise SequencerError(f"MixerCorrection.phase must be within (-pi/2, pi/2) rad, got "
                                 f"{self.phase!r}")

    def apply(self, i: npt.ArrayLike, q: npt.ArrayLike
              ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(I', Q') sent to the mixer for the wanted (I, Q), V."""
        i_, q_ = np.asarray(i, dtype=float), np.asarray(q, dtype=float)
        return (i_ + self.offset_i,
                self.gain * (q_ * math.cos(self.phase) + i_ * math.sin(self.phase))
                + self.offset_q)


@dataclass(frozen=True)
class AwgTarget:
    """An AWG: its limits, the real gate channels it drives (output order) and markers.

    ``markers`` entries are (marker lane, channel, bit): the lane's Marker segments set
    bit ``bit`` of that channel's marker data. ``iq_pairs`` entries are (I channel, Q
    channel, :class:`MixerCorrection`) (or (I, Q) for no correction): the pair's samples are
    pre-distorted at compile time (module docstring).
    """

    name: str
    limits: AwgLimits
    channels: tuple[str, ...]
    markers: tuple[tuple[str, str, int], ...] = ()
    output: OutputFormat = "int16"
    iq_pairs: tuple[tuple[str, str, MixerCorrection], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        pairs = []
        for entry in self.iq_pairs:
            if not isinstance(entry, tuple | list) or len(entry) not in (2, 3):
                raise SequencerError(f"AWG {self.name!r}: iq_pairs entries are (I channel, Q "
                                     f"channel[, MixerCorrection]), got {entry!r}")
            corr = entry[2] if len(entry) == 3 else MixerCorrection()
            if not isinstance(corr, MixerCorrection):
                raise SequencerError(f"AWG {self.name!r}: iq pair {tuple(entry[:2])!r} needs a "
                                     f"MixerCorrection, got {corr!r}")
            pairs.append((str(entry[0]), str(entry[1]), corr))
        used = [ch for i, q, _ in pairs for ch in (i, q)]
        for ch in used:
            if ch not in self.channels:
                raise SequencerError(f"AWG {self.name!r}: iq pair channel {ch!r} is not one of "
                                     f"its channels {self.channels}")
            if used.count(ch) > 1:
                raise SequencerError(f"AWG {self.name!r}: channel {ch!r} is in more than one "
                                     "iq pair slot")
        object.__setattr__(self, "iq_pairs", tuple(pairs))
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
