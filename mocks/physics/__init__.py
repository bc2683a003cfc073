"""Device physics of the mock lab: a constant-interaction double quantum dot with a charge sensor.

`VirtualLab` holds the DAC outputs (ramps in lab time), maps them to gates through a `Wiring`,
and turns them into a noisy sensor current; `charge_stability_map` is the vectorised, noiseless
model on a (P1, P2) grid; `ground_truth` reports what experiments should recover.
"""

from dotstack.mocks.physics.clock import (
    LabClock,
    ManualClock,
    MonotonicClock,
    RealtimeClock,
    VirtualClock,
    make_clock,
)
from dotstack.mocks.physics.lab import VirtualLab
from dotstack.mocks.physics.model import (
    DotState,
    Simulation,
    charge_stability_map,
    dot_state,
    simulate,
    transport_current,
)
from dotstack.mocks.physics.params import (
    BARRIERS,
    GATES,
    Barrier,
    DeviceParams,
    NoiseParams,
)
from dotstack.mocks.physics.truth import ground_truth, lever_arms, transition_point
from dotstack.mocks.physics.wiring import TriggerLines, Wiring

__all__ = [
    "BARRIERS",
    "GATES",
    "Barrier",
    "DeviceParams",
    "DotState",
    "LabClock",
    "ManualClock",
    "MonotonicClock",
    "NoiseParams",
    "RealtimeClock",
    "Simulation",
    "TriggerLines",
    "VirtualClock",
    "VirtualLab",
    "Wiring",
    "charge_stability_map",
    "dot_state",
    "ground_truth",
    "lever_arms",
    "make_clock",
    "simulate",
    "transition_point",
    "transport_current",
]
