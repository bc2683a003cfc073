"""The SGS100A mock's settings as values, and their history in lab time.

`Carrier` is what the RF output does from a lab time on: frequency, level, output, I/Q
modulation (with the modulator's impairments as data), pulse modulation, phase.  `CarrierLog`
keeps every change with its lab time, so the physics can ask what the carrier was at any time
(`CarrierLog.at`), in any order.  A frequency or level change settles after the instrument's
setting time: until then `Carrier.settled` is False.
"""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass, replace
from typing import Any

#: Full-scale I/Q input (V): |I + iQ| = IQ_FULL_SCALE gives the set level (the SGS100A's
#: I/Q inputs are specified for 0.5 V EMF full scale into 50 ohm).
IQ_FULL_SCALE = 0.5
#: Reference impedance (ohm) of the output.
Z0 = 50.0


@dataclass(frozen=True)
class Carrier:
    """The RF output's settings from lab time ``since`` on (SI units; power in dBm, phase in
    rad, I/Q leakages in % of full scale, gain imbalance in dB, quadrature offset in rad).

    With I/Q modulation on, the output is ``amplitude * ((I + iQ) / IQ_FULL_SCALE)`` on the
    carrier, distorted by the impairments when those are on; with it off, a CW carrier of
    ``amplitude``.  ``pulse_modulation`` gates the output by the pulse modulator."""

    frequency: float = 1e9
    power_dbm: float = -30.0
    output_on: bool = False
    iq_on: bool = False
    phase: float = 0.0
    pulse_modulation: bool = False
    pulse_source: str = "INT"
    iq_impairments_on: bool = False
    i_offset_pct: float = 0.0
    q_offset_pct: float = 0.0
    iq_gain_imbalance_db: float = 0.0
    iq_quadrature_offset: float = 0.0
    since: float = -math.inf
    settled_at: float = -math.inf
    settled: bool = True

    @property
    def amplitude(self) -> float:
        """Peak voltage (V) of the CW carrier into 50 ohm at ``power_dbm``."""
        return math.sqrt(2.0 * Z0 * 1e-3 * 10.0 ** (self.power_dbm / 10.0))

    @property
    def rf_amplitude(self) -> float:
        """Peak voltage (V) at the output now: 0 when the output is off."""
        return self.amplitude if self.output_on else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out.update(amplitude_V=self.amplitude, iq_full_scale_V=IQ_FULL_SCALE)
        return out


class CarrierLog:
    """Every `Carrier` the instrument has had, by lab time (thread-safe)."""

    def __init__(self, initial: Carrier) -> None:
        self._lock = threading.Lock()
        self._times: list[float] = [-math.inf]
        self._states: list[Carrier] = [initial]

    @property
    def current(self) -> Carrier:
        with self._lock:
            return self._states[-1]

    def change(self, t: float, settle: float = 0.0, **fields: Any) -> Carrier:
        """Record a change at lab time ``t`` (settling for ``settle`` s); returns the new state.
        A change dated before the last one is taken at the last one's time (time only runs
        forward for an instrument)."""
        with self._lock:
            t = max(float(t), self._times[-1])
            prev = self._states[-1]
            settled_at = max(prev.settled_at, t + settle) if settle > 0 else prev.settled_at
            state = replace(prev, **fields, since=t, settled_at=settled_at)
            if self._times[-1] == t:
                self._states[-1] = state
            else:
                self._times.append(t)
                self._states.append(state)
            return state

    def at(self, t: float) -> Carrier:
        """The carrier at lab time ``t`` (its ``settled`` flag for that time)."""
        with self._lock:
            i = bisect.bisect_right(self._times, float(t)) - 1
            state = self._states[max(i, 0)]
        return replace(state, settled=float(t) >= state.settled_at)

    def __len__(self) -> int:
        return len(self._states)
