"""What the ATS9360 mock's configuration calls set, checked against the board, as plain data.

Every ``apply_*`` function takes the raw integers of one ATS API call (what ``AlazarSetCaptureClock``
and friends receive) and returns an ATS return code; nothing here touches the lab.  Values follow
the AlazarTech constants (`qcodes.instrument_drivers.AlazarTech.constants`) and the ATS9360's
capabilities: 12-bit samples, two channels, DC coupling, 50 Ω, ±400 mV, internal sample clock up
to 1.8 GS/s (or 300 MHz..1.8 GHz from a 10 MHz reference), external trigger ranges ±2.5 V and TTL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qcodes.instrument_drivers.AlazarTech.constants import (
    API_SUCCESS,
    AuxilaryIO,
    ClockSource,
    Coupling,
    ExternalTriggerRange,
    Impedance,
    InputRange,
    ReturnCode,
    TriggerEngineOperation,
    TriggerSlope,
)

API_FAILED = ReturnCode(513)
API_UNSUPPORTED = ReturnCode(533)
API_INVALID_HANDLE = ReturnCode(572)
API_BUFFER_NOT_READY = ReturnCode(573)
API_WAIT_TIMEOUT = ReturnCode(579)
API_BUFFER_TOO_SMALL = ReturnCode(581)
API_INVALID_BUFFER = ReturnCode(583)
API_INVALID_RECORDS_PER_BUFFER = ReturnCode(584)
API_INVALID_CLOCK = ReturnCode(594)

BITS_PER_SAMPLE = 12
FULL_SCALE = 0.4  #: ±400 mV, the ATS9360's only input range (V)
MAX_RATE = 1.8e9
SAMPLE_GRANULARITY = 128  # samples per record: a multiple of 128 ...
MIN_SAMPLES = 256  # ... and at least 256 (QCoDeS ATS9360 validators)
TRIGGER_TICK = 10e-6  #: unit of AlazarSetTriggerTimeOut (s)
#: External trigger input ranges (V, half range) by ``ExternalTriggerRange`` id; None: TTL
EXT_TRIGGER_RANGES: dict[int, float | None] = {ExternalTriggerRange.ETR_2V5: 2.5,
                                               ExternalTriggerRange.ETR_TTL: None}

#: Internal sample clock ids of the ATS9360 (the QCoDeS ATS9360 driver's table) -> S/s
SAMPLE_RATES: dict[int, float] = {
    1: 1e3, 2: 2e3, 4: 5e3, 8: 1e4, 10: 2e4, 12: 5e4, 14: 1e5, 16: 2e5, 18: 5e5, 20: 1e6,
    24: 2e6, 26: 5e6, 28: 1e7, 30: 2e7, 34: 5e7, 36: 1e8, 40: 2e8, 48: 5e8, 50: 8e8,
    53: 1e9, 55: 1.2e9, 58: 1.5e9, 61: 1.8e9,
}

TRIG_SOURCE_CHANNEL_A, TRIG_SOURCE_CHANNEL_B, TRIG_SOURCE_EXTERNAL, TRIG_SOURCE_DISABLE = 0, 1, 2, 3


@dataclass
class Engine:
    """One trigger engine (J or K): source, slope and 8-bit level code."""

    engine: int = 0
    source: int = TRIG_SOURCE_DISABLE
    slope: int = TriggerSlope.TRIGGER_SLOPE_POSITIVE
    level: int = 128


@dataclass
class Channel:
    coupling: int = Coupling.DC_COUPLING
    range_id: int = InputRange.INPUT_RANGE_PM_400_MV
    impedance: int = Impedance.IMPEDANCE_50_OHM
    bw_limit: int = 0


@dataclass
class BoardSettings:
    """The board's configuration as the ATS API calls left it."""

    clock_source: int = ClockSource.INTERNAL_CLOCK
    rate_id: int = 53
    clock_edge: int = 0
    decimation: int = 1
    channels: list[Channel] = field(default_factory=lambda: [Channel(), Channel()])
    operation: int = TriggerEngineOperation.TRIG_ENGINE_OP_J
    engines: list[Engine] = field(default_factory=lambda: [
        Engine(0, TRIG_SOURCE_EXTERNAL), Engine(1, TRIG_SOURCE_DISABLE)])
    ext_coupling: int = 2
    ext_range: int = ExternalTriggerRange.ETR_2V5
    trigger_delay: int = 0  # samples
    timeout_ticks: int = 0  # 10 µs ticks; 0: wait for a trigger forever
    aux_mode: int = AuxilaryIO.AUX_IN_AUXILIARY
    aux_param: int = 0
    pre_trigger: int = 0
    post_trigger: int = 0
    signed: bool = False  # AlazarSetParameter(SET_DATA_FORMAT): 12-bit codes as two's complement

    @property
    def sample_rate(self) -> float:
        """Samples per second per channel (after decimation, as QCoDeS computes it)."""
        if self.clock_source == ClockSource.EXTERNAL_CLOCK_10MHz_REF:
            rate = float(self.rate_id)
        else:
            rate = SAMPLE_RATES[self.rate_id]
        return rate / self.decimation if self.decimation > 0 else rate

    @property
    def trigger_timeout(self) -> float:
        """Seconds without a trigger after which the board triggers itself (0: never)."""
        return self.timeout_ticks * TRIGGER_TICK

    # -- the configuration calls ---------------------------------------------------------
    def apply_clock(self, source: int, rate: int, edge: int, decimation: int) -> ReturnCode:
        if source == ClockSource.INTERNAL_CLOCK:
            if rate not in SAMPLE_RATES:
                return API_INVALID_CLOCK
        elif source == ClockSource.EXTERNAL_CLOCK_10MHz_REF:
            if not 300_000_000 <= rate <= 1_800_000_000:
                return API_INVALID_CLOCK
        else:  # fast external clock: the lab has no clock signal to feed it
            return API_UNSUPPORTED
        if edge not in (0, 1) or decimation < 0:
            return API_FAILED
        self.clock_source, self.rate_id, self.clock_edge, self.decimation = (
            source, rate, edge, decimation)
        return API_SUCCESS

    def apply_input(self, channel_mask: int, coupling: int, range_id: int,
                    impedance: int) -> ReturnCode:
        # the ATS9360 is DC coupled, 50 Ω, ±400 mV only (any other value is refused)
        if channel_mask not in (1, 2) or coupling != Coupling.DC_COUPLING or \
                range_id != InputRange.INPUT_RANGE_PM_400_MV or \
                impedance != Impedance.IMPEDANCE_50_OHM:
            return API_FAILED
        ch = self.channels[channel_mask - 1]
        ch.coupling, ch.range_id, ch.impedance = coupling, range_id, impedance
        return API_SUCCESS

    def apply_bw_limit(self, channel_mask: int, flag: int) -> ReturnCode:
        if channel_mask not in (1, 2) or flag not in (0, 1):
            return API_FAILED
        self.channels[channel_mask - 1].bw_limit = flag  # stored; no filter is modelled
        return API_SUCCESS

    def apply_trigger_operation(self, operation: int, *engines: int) -> ReturnCode:
        if operation not in TriggerEngineOperation._value2member_map_ or len(engines) != 8:
            return API_FAILED
        new = [Engine(*engines[:4]), Engine(*engines[4:])]
        for e in new:
            if e.engine not in (0, 1) or e.source not in (0, 1, 2, 3) or \
                    e.slope not in (1, 2) or not 0 <= e.level <= 255:
                return API_FAILED
        self.operation, self.engines = operation, new
        return API_SUCCESS

    def apply_external_trigger(self, coupling: int, range_id: int) -> ReturnCode:
        if coupling not in (1, 2) or range_id not in EXT_TRIGGER_RANGES:
            return API_FAILED
        self.ext_coupling, self.ext_range = coupling, range_id
        return API_SUCCESS

    def apply_trigger_delay(self, samples: int) -> ReturnCode:
        if samples < 0 or samples % 8:  # "Trigger delay alignment" (QCoDeS: multiples of 8)
            return API_FAILED
        self.trigger_delay = samples
        return API_SUCCESS

    def apply_trigger_timeout(self, ticks: int) -> ReturnCode:
        if ticks < 0:
            return API_FAILED
        self.timeout_ticks = ticks
        return API_SUCCESS

    def apply_aux_io(self, mode: int, param: int) -> ReturnCode:
        if mode not in AuxilaryIO._value2member_map_:
            return API_FAILED
        self.aux_mode, self.aux_param = mode, param
        return API_SUCCESS

    def apply_record_size(self, pre: int, post: int) -> ReturnCode:
        if pre < 0 or post < 0 or (pre + post) % SAMPLE_GRANULARITY:
            return API_FAILED
        self.pre_trigger, self.post_trigger = pre, post
        return API_SUCCESS

    # -- what a trigger pulse does -------------------------------------------------------
    def fires(self, engine: Engine, low: float, high: float) -> bool:
        """Whether ``engine`` fires on an external pulse from ``low`` to ``high`` volts."""
        if engine.source != TRIG_SOURCE_EXTERNAL:
            return False
        half = EXT_TRIGGER_RANGES[self.ext_range]
        if half is None:  # TTL input: every TTL pulse triggers
            return True
        level = half * (engine.level - 128) / 127  # 8-bit level code across the input range
        return low < level < high

    def active_engines(self) -> list[Engine]:
        """Engines whose firing triggers the board under the trigger operation."""
        j = [e for e in self.engines if e.engine == 0]
        k = [e for e in self.engines if e.engine == 1]
        op = self.operation
        if op == TriggerEngineOperation.TRIG_ENGINE_OP_J:
            return j
        if op == TriggerEngineOperation.TRIG_ENGINE_OP_K:
            return k
        if op == TriggerEngineOperation.TRIG_ENGINE_OP_J_OR_K:
            return j + k
        raise NotImplementedError("mock ATS9360: only the trigger operations J, K and J_OR_K "
                                  "are modelled")

    def level_triggered(self) -> bool:
        """Whether an active engine triggers on an input channel (not modelled by the mock)."""
        return any(e.source in (TRIG_SOURCE_CHANNEL_A, TRIG_SOURCE_CHANNEL_B)
                   for e in self.active_engines())
