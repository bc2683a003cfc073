"""Spin physics of the double dot: one electron spin per dot (Si/SiGe with a micromagnet).

Zeeman splittings per dot (field, micromagnet, g-factors), EDSR driving (Rabi frequency
proportional to the microwave amplitude at the dot, carrier times I/Q envelope per segment),
detuning-dependent exchange J(eps), T1, dephasing from the lab's kind of charge noise
(quasi-static plus 1/f as a sum of OU processes, a fresh realisation per shot: T2*, echo T2 and
the CPMG scaling follow from the spectrum), an optional AC field to sense, and single-shot
readout by Pauli spin blockade or Elzerman tunnelling.  Batched over shots: closed-form SU(2)
propagators per piecewise-constant segment, the noise integrated exactly per segment.

Modules: `params`, `segments` (the input), `dephasing` (noise sampling and exact coherence),
`engine` (propagators), `readout`, `truth` (ground truth), `simulator` (`SpinSimulator`).
"""

from dotstack.mocks.physics.spin.params import AcField, SpinNoise, SpinParams
from dotstack.mocks.physics.spin.readout import ElzermanReadout, PsbReadout, Readout, fidelity
from dotstack.mocks.physics.spin.segments import SpinSegment, SpinSequence
from dotstack.mocks.physics.spin.simulator import ShotRecords, SpinSimulator
from dotstack.mocks.physics.spin.truth import KEYS, spin_truth

__all__ = [
    "KEYS",
    "AcField",
    "ElzermanReadout",
    "PsbReadout",
    "Readout",
    "ShotRecords",
    "SpinNoise",
    "SpinParams",
    "SpinSegment",
    "SpinSequence",
    "SpinSimulator",
    "fidelity",
    "spin_truth",
]
