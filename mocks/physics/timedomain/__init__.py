"""The time-domain mock lab: AWG outputs plus DAC levels -> gate voltages in time -> charge state
with finite tunnel rates -> sensor RF reflectometry -> volts at the digitizer input.

It works on segments (run lengths of the AWG's samples, closed-form filters and relaxation per
interval) and draws samples only when a raw record is asked for.  `TimeDomainLab` is the entry
point; `TimeDomainLab.connect(port)` makes it the source of ``VirtualLab.analog_record(port, ...)``.
"""

from dotstack.mocks.physics.timedomain.lab import TimeDomainLab
from dotstack.mocks.physics.timedomain.params import LineModel, Reflectometry, Settings, TunnelRates
from dotstack.mocks.physics.timedomain.patterns import RasterPattern
from dotstack.mocks.physics.timedomain.segments import highpass_pwl, linear_scan, lowpass_pwl
from dotstack.mocks.physics.timedomain.trace import ChannelSegments, Trace

__all__ = [
    "ChannelSegments",
    "LineModel",
    "RasterPattern",
    "Reflectometry",
    "Settings",
    "TimeDomainLab",
    "Trace",
    "TunnelRates",
    "highpass_pwl",
    "linear_scan",
    "lowpass_pwl",
]
