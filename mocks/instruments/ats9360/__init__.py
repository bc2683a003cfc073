"""Mock AlazarTech ATS9360 digitizer: the vendor API object (tier 3) the QCoDeS driver takes as ``api=``.

`ATS9360API` is an ``AlazarATSAPI`` whose DLL is the mock lab: records start on trigger pulses
from the lab's cabling (``<name>.trigA``) at their lab times and hold the lab's analog signal at
the inputs (the lab's ``analog_record(port, t0, n, rate)``, see `signal`) with the board's noise,
±400 mV clipping and 12-bit quantisation, in the board's 16-bit sample words.
"""

from dotstack.mocks.instruments.ats9360.api import ATS9360API
from dotstack.mocks.instruments.ats9360.capture import Acquisition, Capture
from dotstack.mocks.instruments.ats9360.settings import BoardSettings
from dotstack.mocks.instruments.ats9360.signal import (
    FALLBACK_BANDWIDTH,
    FALLBACK_GAIN,
    AdcModel,
    LabInputs,
    SensorFallback,
)

__all__ = [
    "ATS9360API",
    "FALLBACK_BANDWIDTH",
    "FALLBACK_GAIN",
    "Acquisition",
    "AdcModel",
    "BoardSettings",
    "Capture",
    "LabInputs",
    "SensorFallback",
]
