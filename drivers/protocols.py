"""Role protocols: what the sequencer and the experiments may ask of an instrument.

Each role is a small structural protocol; a driver fills a role by having the methods, not by
inheriting from a base class.  Optional capabilities are flags on the limits dataclasses.
All values cross these boundaries in SI units (V, s, Hz, A).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from dotstack.sequencer import AcquisitionProgram, AwgLimits, DigitizerLimits, Program


class LimitError(ValueError):
    """A request that would put an instrument outside its limits (nothing was sent)."""


@dataclass(frozen=True)
class ChannelLimits:
    """Safe operating envelope of one DC output.

    ``max_step`` is the largest jump applied at once; larger moves are ramped at
    ``max_ramp_rate`` (V/s), starting from the value read back from the instrument.
    """

    min_v: float
    max_v: float
    max_ramp_rate: float = math.inf
    max_step: float = math.inf

    def __post_init__(self) -> None:
        if not (math.isfinite(self.min_v) and math.isfinite(self.max_v)):
            raise LimitError(f"voltage limits must be finite, got [{self.min_v}, {self.max_v}] V")
        if self.min_v > self.max_v:
            raise LimitError(f"min_v {self.min_v} V is above max_v {self.max_v} V")
        if not self.max_ramp_rate > 0:
            raise LimitError(f"max_ramp_rate must be > 0 V/s, got {self.max_ramp_rate}")
        if not self.max_step >= 0:
            raise LimitError(f"max_step must be >= 0 V, got {self.max_step}")

    def contains(self, volts: float) -> bool:
        return self.min_v <= volts <= self.max_v

    def check(self, volts: float, what: str = "channel") -> None:
        """Raise `LimitError` naming ``what`` unless ``volts`` is finite and inside the limits."""
        if not math.isfinite(volts):
            raise LimitError(f"{what}: voltage {volts!r} is not a finite number")
        if not self.contains(volts):
            raise LimitError(
                f"{what}: {volts:+.6g} V is outside the limits [{self.min_v:+.6g}, {self.max_v:+.6g}] V"
            )

    def narrowed(self, other: ChannelLimits, what: str = "channel") -> ChannelLimits:
        """Return ``other`` if it lies within these limits; a wider limit is an error."""
        wider = []
        if other.min_v < self.min_v:
            wider.append(f"min_v {other.min_v} V < {self.min_v} V")
        if other.max_v > self.max_v:
            wider.append(f"max_v {other.max_v} V > {self.max_v} V")
        if other.max_ramp_rate > self.max_ramp_rate:
            wider.append(f"max_ramp_rate {other.max_ramp_rate} V/s > {self.max_ramp_rate} V/s")
        if other.max_step > self.max_step:
            wider.append(f"max_step {other.max_step} V > {self.max_step} V")
        if wider:
            raise LimitError(f"{what}: limits may only narrow the driver's limits: " + ", ".join(wider))
        return other


@runtime_checkable
class DAC(Protocol):
    """DC gate voltages.  ``set_voltage`` is always safe: limits checked, large moves ramped."""

    @property
    def channels(self) -> Sequence[int]:
        """The output channel numbers."""
        ...

    def limits(self, channel: int) -> ChannelLimits:
        """The present limits of ``channel`` (the driver's, or narrower ones set since)."""
        ...

    def set_limits(self, channel: int, limits: ChannelLimits) -> None:
        """Narrow a channel's limits (a wider limit raises `LimitError`).

        Args:
            channel: The output channel.
            limits: The new limits, within the present ones.

        Raises:
            LimitError: ``limits`` is wider than the present limits in any respect.
        """
        ...

    def set_voltage(self, channel: int, volts: float) -> None:
        """Move a channel to ``volts``, ramping from its read-back value; returns when there.

        Args:
            channel: The output channel.
            volts: The target voltage (V).

        Raises:
            LimitError: ``volts`` is not finite or outside the channel's limits (nothing sent).
        """
        ...

    def get_voltage(self, channel: int) -> float:
        """The channel's output as read from the instrument (never a cache).

        Args:
            channel: The output channel.

        Returns:
            The output voltage (V).
        """
        ...


@runtime_checkable
class Readout(Protocol):
    """DC readout (e.g. a DMM behind a current amplifier): values in SI units (A)."""

    unit: str

    def read(self) -> float:
        """One reading now, in ``unit`` (A for a current readout)."""
        ...

    def read_many(self, n: int) -> np.ndarray:
        """``n`` readings in a row, as a 1-D array in ``unit``.

        Args:
            n: How many readings.

        Returns:
            The readings, in the order taken.
        """
        ...


@runtime_checkable
class AWG(Protocol):
    """Plays compiled sequencer programs (`dotstack.sequencer.Program`), volts at the output.

    ``limits`` is what programs are compiled against.  `prepare` uploads only what the
    instrument does not hold yet and refuses, sending nothing, a program whose output on a
    channel would leave that channel's limits (`set_channel_limits`, in V).  `arm` starts it
    (it may then wait for a trigger: `run_state` says "stopped", "waiting" or "running";
    `trigger` is the software trigger), `stop` stops it.
    """

    @property
    def limits(self) -> AwgLimits:
        """What programs are compiled against (sample rate, granularity, amplitude, memory...)."""
        ...

    def set_channel_limits(self, channel: int, min_v: float, max_v: float) -> None:
        """Narrow the voltages ``channel`` may output (a wider limit raises `LimitError`).

        Args:
            channel: The output channel.
            min_v: The lowest voltage the channel may output (V).
            max_v: The highest voltage the channel may output (V).
        """
        ...

    def prepare(self, program: Program) -> None:
        """Upload ``program`` (only what the instrument does not hold yet).

        Args:
            program: A compiled program for this AWG (`dotstack.sequencer.compile_schedule`).

        Raises:
            LimitError: An output would leave its channel's limits (nothing uploaded).
        """
        ...

    def arm(self) -> None:
        """Start the prepared program (it may then wait for a trigger)."""
        ...

    def stop(self) -> None:
        """Stop playing."""
        ...

    def trigger(self) -> None:
        """Send a software trigger."""
        ...

    def run_state(self) -> str:
        """``"stopped"``, ``"waiting"`` (for a trigger) or ``"running"``."""
        ...


@runtime_checkable
class Digitizer(Protocol):
    """Records compiled acquisition programs (`dotstack.sequencer.AcquisitionProgram`).

    ``limits`` is what programs are compiled against.  `prepare` sets record length, records,
    averages, trigger, channels and demodulation windows from a program; `arm` starts the
    acquisition and returns once the digitizer waits for its triggers (start the AWG after it);
    `fetch` waits at most ``timeout`` s and returns the records in volts (or complex I/Q
    amplitudes in V when demodulating), first axis = the program's records.
    """

    @property
    def limits(self) -> DigitizerLimits:
        """What acquisition programs are compiled against."""
        ...

    def prepare(self, acquisition: AcquisitionProgram) -> None:
        """Set the digitizer up for ``acquisition``.

        Args:
            acquisition: A compiled acquisition program for this digitizer.
        """
        ...

    def arm(self) -> None:
        """Start the acquisition; returns once the digitizer waits for its triggers."""
        ...

    def fetch(self, timeout: float) -> np.ndarray:
        """Wait for the records and return them.

        Args:
            timeout: The longest wait (s).

        Returns:
            The records in V (complex I/Q amplitudes when demodulating); first axis = the
            program's records.
        """
        ...
