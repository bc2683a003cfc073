"""Mock QDevil QDAC-II: 24 DC channels with slew, range, filter, DC list/sweep generators, triggers.

The command set is the one the QDAC-II manual documents and the qcodes_contrib_drivers
``QDevil.QDAC2`` driver sends (lower-case short forms in replies, as that driver's tests show).
Every change of a channel's output is reported to the `VirtualLab` with
``lab.set_output(name, channel, volts, slew=...)``.  The model is software-timed in lab time
(see `engine` for how generators and triggers run).

Modules: `limits` (fixed figures), `state` (channel, sensor and trigger-output state),
`values` (parameter parsers), `base` (clock, addressing, output drive), `engine` (generators
and trigger events), then one module per command group: `dc`, `generator`, `lists`,
`triggers`, `sensors`; `model` assembles them.
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
