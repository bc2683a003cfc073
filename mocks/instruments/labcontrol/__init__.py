"""The mock lab's own control channel (an SCPI model served beside the instruments).

It is what a lab script reaches when it needs the simulated lab itself rather than an
instrument: the lab clock (``LAB:TIME?``, ``LAB:WAIT? <s>`` to let lab time pass on a virtual
clock, ``LAB:CLOCk?``), the seed and the ground truth (``LAB:TRUTh?``, JSON in a block).
`dotstack.labclock.RemoteLab` is its client.
"""

from dotstack.mocks.instruments.labcontrol.model import LabControlModel

__all__ = ["LabControlModel"]
