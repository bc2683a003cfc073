"""Bias-tee handling: zero-mean compensation pulses and a high-pass droop estimate.

A bias tee passes the AWG signal through a first-order high-pass with time constant τ.
Starting from equilibrium, the output sags by ``(1/τ) ∫ v dt`` (valid while that is small
against v). The estimate is that integral's largest magnitude over each step, taken at
segment boundaries. With ``compensate`` each step ends with a hold of
``compensation_duration`` whose level makes the step's mean zero; the hold continues
through the padding that follows it, so its level is computed over the padded length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dotstack.sequencer.assemble import GroupAssembler
from dotstack.sequencer.checks import flag, real
from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.timeline import FloatArray


@dataclass(frozen=True)
class BiasT:
    """Bias tees on ``channels`` (empty: every channel); τ in s, droop threshold in V."""

    time_constant: float
    channels: tuple[str, ...] = ()
    compensate: bool = False
    compensation_duration: float = 0.0
    max_droop: float = 1e-3

    def __post_init__(self) -> None:
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "time_constant", real(self.time_constant,
                                                       "BiasT.time_constant", positive=True))
        object.__setattr__(self, "compensation_duration", real(
            self.compensation_duration, "BiasT.compensation_duration", minimum=0.0))
        object.__setattr__(self, "max_droop", real(self.max_droop, "BiasT.max_droop",
                                                   minimum=0.0))
        object.__setattr__(self, "compensate", flag(self.compensate, "BiasT.compensate"))
        if self.compensate and self.compensation_duration <= 0:
            raise SequencerError("compensation_duration must be positive to compensate")

    def applies(self, channel: str) -> bool:
        return not self.channels or channel in self.channels


def step_integral(asm: GroupAssembler, c: int) -> tuple[FloatArray, FloatArray]:
    """∫v (V·samples) over the step and the running integral's largest magnitude, per point."""
    total = np.zeros(asm.n)
    peak = np.zeros(asm.n)
    for sub in asm.subs[c]:
        if sub.comp:
            continue
        n = sub.e - sub.s
        lin = asm.sub_linear(c, sub)  # holds and ramps: closed form, no samples
        if lin is not None:
            part = lin[0] * n + lin[1] * (n * (n - 1) / 2)
        else:
            part = asm._sub_values(sub, np.arange(sub.s, sub.e), c).sum(axis=1)
        total = total + part
        peak = np.maximum(peak, np.abs(total))
    return total, peak
