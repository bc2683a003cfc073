"""Mock Keysight 34465A digital multimeter reading the charge sensor through a current amplifier.

The DMM's voltage input sits behind a transimpedance amplifier of ``gain`` V/A fed by the
sensor current, so a DC-voltage reading is ``gain * lab.sensor_current(T, t)`` plus the DMM's
own noise (rms = the manual's resolution figure for the integration time and range, scaled by
``own_noise``).  The other inputs are open: DC/AC current and AC voltage read noise around 0,
resistance reads overload (+9.9E+37).  Timing is modelled in lab time (see `acquisition`).

Modules: `functions` (ranges, integration times, per-function settings, number formats),
`base` (state and timing), `acquisition` (input, triggers, reading memory), then one module
per command group: `readings`, `sense`, `trigger`, `system`; `model` assembles them.
"""

from dotstack.mocks.instruments.keysight34465a.functions import (
    NPLCS,
    RANGES,
    RES_FACTORS,
    FunctionSettings,
    nr3,
)
from dotstack.mocks.instruments.keysight34465a.model import Keysight34465AModel

__all__ = ["NPLCS", "RANGES", "RES_FACTORS", "FunctionSettings", "Keysight34465AModel", "nr3"]
