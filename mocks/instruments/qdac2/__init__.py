"""Mock QDevil QDAC-II: 24 channels with slew, range, filter, DC list/sweep generators, sine,
triangle, square and arbitrary waveform generators, current sensors, triggers and multi-unit sync.

The command set is the one the QDAC-II manual documents and the qcodes_contrib_drivers
``QDevil.QDAC2`` driver sends (lower-case short forms in replies, as that driver's tests show).
Every change of a channel's output is reported to the `VirtualLab` with
``lab.set_output(name, channel, volts, slew=..., t=...)``; a playing waveform is reported as a
window with ``lab.set_waveform(...)`` and cut with ``lab.clear_waveform(...)``.  The model is
timed on the lab clock (see `engine` and `wavegen` for how generators and triggers run).
Errors and *IDN? are formatted as the real instrument does (``0, "No error"``).

Modules: `limits` (fixed figures), `state` (channel, generator, sensor and trigger-output
state), `values` (parameter parsers), `shapes` (waveform definitions), `base` (clock,
addressing, output drive), `engine` (DC generators and trigger events), `wavegen` (waveform
playback), then one module per command group: `dc`, `generator`, `lists`, `triggers`,
`sensors`, `waveforms`, `traces`, `system`; `model` assembles them.
"""

from dotstack.mocks.instruments.qdac2.limits import (
    LEAKAGE_OHM,
    MAX_LIST_POINTS,
    MAX_SLEW,
    MIN_SLEW,
    N_EXTERNAL_INPUTS,
    N_EXTERNAL_OUTPUTS,
    N_INTERNAL_TRIGGERS,
    RANGES,
)
from dotstack.mocks.instruments.qdac2.model import QDac2Model

__all__ = [
    "LEAKAGE_OHM",
    "MAX_LIST_POINTS",
    "MAX_SLEW",
    "MIN_SLEW",
    "N_EXTERNAL_INPUTS",
    "N_EXTERNAL_OUTPUTS",
    "N_INTERNAL_TRIGGERS",
    "RANGES",
    "QDac2Model",
]
