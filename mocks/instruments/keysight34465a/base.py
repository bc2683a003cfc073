"""`DmmBase`: the 34465A mock's state (reset defaults) and its timing figures."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dotstack.mocks.instruments.clocked import ClockedModel
from dotstack.mocks.instruments.keysight34465a.functions import (
    AUTO_DELAY_AC,
    AUTO_DELAY_DC,
    DC,
    DEFAULT_RANGE,
    NPLCS,
    RANGES,
    RES_FACTORS,
    FunctionSettings,
    function_of,
)
from dotstack.mocks.physics import VirtualLab
from dotstack.mocks.scpi import Call

#: What the DMM's input amplifier can carry: the charge sensor's or the double dot's current.
_SIGNALS = ("sensor", "transport")


class DmmBase(ClockedModel):
    """State and timing shared by every part of the 34465A model (no SCPI commands).

    ``options`` is what *OPT? and SYST:LIC:CAT? report (MEM sets the reading memory to 2 M
    readings, else 50 k); firmware A.03 has the digitizing features (NPLC down to 0.001,
    20 us aperture) either way, as the upstream driver assumes.  ``own_noise`` scales the
    meter's own noise (0: none); ``seed`` seeds it.  Without ``lab`` the model makes its own.
    """

    idn = ("Keysight Technologies", "34465A", "MY60000465", "A.03.01-03.15-03.01-00.52-04-03")

    # state that *RST sets (see `reset`)
    function: str
    _last_function: str
    settings: dict[str, FunctionSettings]
    trigger_source: str
    trigger_count: float  # inf for INFinity
    trigger_delay: float
    trigger_delay_auto: bool
    trigger_slope: str
    trigger_level: float
    sample_count: int
    pretrigger_count: int
    sample_source: str
    sample_timer: float
    display_on: bool
    display_text: str
    readings: list[float]
    waiting_triggers: float  # triggers still expected by the running INIT (inf: forever)
    stale: bool  # no valid readings (-230 on FETCh?)

    def __init__(
        self,
        lab: VirtualLab | None = None,
        *,
        name: str = "dmm",
        gain: float = 1e8,
        options: Sequence[str] = ("DIG", "MEM"),
        line_frequency: float = 50.0,
        own_noise: float = 1.0,
        seed: int = 0,
        signal: str = "sensor",
    ) -> None:
        if not gain > 0:
            raise ValueError(f"{name}: amplifier gain must be > 0 V/A, got {gain}")
        if line_frequency not in (50.0, 60.0):
            raise ValueError(f"{name}: line frequency must be 50 or 60 Hz, got {line_frequency}")
        self.lab = lab if lab is not None else VirtualLab()
        self.clock = self.lab.clock
        self.lock = self.lab.lock  # one lock for the lab and its instruments
        #: lab time one message keeps the meter busy on a virtual clock (s)
        self.command_time = 0.0
        if signal not in _SIGNALS:
            raise ValueError(f"{name}: signal must be one of {sorted(_SIGNALS)}, got {signal!r}")
        #: what the amplifier in front of the DC-volt input carries
        self.signal_name = signal
        self.name = name
        self.gain = float(gain)
        self.installed_options = tuple(options)
        self.line_frequency = float(line_frequency)
        self.own_noise = float(own_noise)
        self.seed = int(seed)
        self.memory_size = 2_000_000 if "MEM" in self.installed_options else 50_000
        # firmware A.03 ships the digitizing features whether or not DIG was bought
        self.nplcs = NPLCS
        self.res_factors = RES_FACTORS
        self.min_aperture = 20e-6
        self.busy_until = -math.inf  # lab time the last acquisition ends (kept across *RST)
        super().__init__()
        self.reset()
        self.lab.add_trigger_input(f"{name}.ext", self.trigger_external)

    def signal(self, integration: float, t: float) -> float:
        """The amplifier's input current (A) averaged over [t, t + integration]."""
        if self.signal_name == "transport":
            return self.lab.transport_current(integration, t)
        return self.lab.sensor_current(integration, t)

    def signals(self, times: np.ndarray, integration: float) -> np.ndarray:
        """`signal` at an array of start times."""
        if self.signal_name == "sensor":
            return self.lab.sensor_currents(times, integration)
        return np.array([self.signal(integration, float(t)) for t in times])

    def trigger_external(self, t: float | None = None) -> bool:  # see DmmAcquisition
        raise NotImplementedError

    def reset(self) -> None:
        """*RST: the factory defaults of the manual."""
        super().reset()
        self.function = "VOLT"
        self._last_function = ""
        self.settings = {f: FunctionSettings(range=DEFAULT_RANGE[f]) for f in RANGES}
        self.trigger_source = "IMM"
        self.trigger_count = 1.0
        self.trigger_delay = AUTO_DELAY_DC
        self.trigger_delay_auto = True
        self.trigger_slope = "NEG"
        self.trigger_level = 0.0
        self.sample_count = 1
        self.pretrigger_count = 0
        self.sample_source = "IMM"
        self.sample_timer = 1.0
        self.display_on = True
        self.display_text = ""
        self.readings = []
        self.waiting_triggers = 0
        self.stale = True

    def _function_of(self, call: Call) -> str:
        """The function ``call`` addresses (a relative header continues the previous one)."""
        self._last_function = function_of(call.header, self._last_function)
        return self._last_function

    @property
    def current(self) -> FunctionSettings:
        return self.settings[self.function]

    # ---- timing ------------------------------------------------------------------------
    def integration_time(self, function: str | None = None) -> float:
        """Integration time (s) of ``function`` (default: the present one)."""
        s = self.settings[function or self.function]
        if (function or self.function) not in DC:
            return 0.1
        return s.aperture if s.aperture_enabled else s.nplc / self.line_frequency

    def _res_factor(self, s: FunctionSettings) -> float:
        nplc = s.aperture * self.line_frequency if s.aperture_enabled else s.nplc
        k = max((i for i, p in enumerate(self.nplcs) if p <= nplc * (1 + 1e-9)), default=0)
        return self.res_factors[k]

    def sample_interval(self) -> float:
        """Spacing of the readings of one trigger in lab time (s)."""
        s = self.current
        back_to_back = self.integration_time() * (2 if s.autozero and self.function in DC else 1)
        if self.sample_source == "TIM":
            return max(self.sample_timer, back_to_back)
        return back_to_back

    def _timer_minimum(self) -> float:
        s = self.current
        return math.ceil(self.integration_time() * (2 if s.autozero else 1) * 1e6 - 1e-6) / 1e6

    def trigger_delay_now(self) -> float:
        """The trigger delay in use (s): the automatic one of the function, or the set one."""
        if not self.trigger_delay_auto:
            return self.trigger_delay
        return AUTO_DELAY_DC if self.function in DC else AUTO_DELAY_AC

    def next_start(self) -> float:
        """Lab time at which the meter can start measuring: now, or when it is no longer busy."""
        return max(self.clock.now(), self.busy_until)
