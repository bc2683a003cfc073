"""Errors and warnings raised by the sequencer."""

from __future__ import annotations


class SequencerError(ValueError):
    """Base class for sequencer errors."""


class LimitError(SequencerError):
    """Something in a schedule cannot be played within an instrument's limits.

    The message names the segment, the channel and the limit; they are also attributes.
    """

    def __init__(self, message: str, *, segment: str, channel: str, limit: str) -> None:
        super().__init__(message)
        self.segment = segment
        self.channel = channel
        self.limit = limit


class UnregisteredFunctionError(SequencerError):
    """An arbitrary-waveform callable is not in the function registry."""


class BiasTDroopWarning(UserWarning):
    """Estimated bias-tee high-pass droop exceeds the configured threshold."""
