"""Mock Rohde & Schwarz SGS100A RF source (SCPI), the microwave drive of the spin qubits.

`SGS100AModel` serves the commands QCoDeS's `RohdeSchwarzSGS100A` driver sends and logs every
setting that shapes the RF output with its lab time: `SGS100AModel.carrier_at(t)` gives the
`Carrier` (frequency, power, output, I/Q modulation and its impairments, pulse modulation,
phase) the physics needs at lab time t.
"""

from dotstack.mocks.instruments.sgs100a.model import FREQUENCY_OPTIONS, POWER_RANGE, SGS100AModel
from dotstack.mocks.instruments.sgs100a.state import IQ_FULL_SCALE, Carrier, CarrierLog

__all__ = ["FREQUENCY_OPTIONS", "IQ_FULL_SCALE", "POWER_RANGE", "Carrier", "CarrierLog",
           "SGS100AModel"]
