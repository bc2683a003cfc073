"""The ATS9360 mock's AutoDMA acquisition on the lab clock: triggers, records, DMA buffers.

``AlazarBeforeAsyncRead`` configures an acquisition (NPT: one record per trigger; triggered
streaming, TS: one trigger, then back-to-back buffers), ``AlazarPostAsyncBuffer`` queues host
buffers, ``AlazarStartCapture`` arms the board at the present lab time.  From then on every pulse
that reaches the external trigger input through the lab's cabling (``<name>.trigA``) is a trigger
at its lab time: if an active engine fires (source EXTERNAL, the level inside the pulse, rising or
falling edge per slope) and the board is not still capturing (triggers during a record are
ignored, as with trigger holdoff, whatever register 58 says: the mock never corrupts a record;
counted in ``missed_triggers``), a record starts at the first sample-clock tick at or after the
trigger plus the trigger delay (the sample clock runs on continuously in lab time).  With a
trigger timeout set, the board triggers itself when no trigger came within it.

Nothing runs ahead of the lab clock: a record's samples are computed (`signal`) only when the
host waits for its buffer and the lab clock has passed the buffer's last sample.
``AlazarWaitAsyncBufferComplete`` waits in lab time for the buffer at the head of the queue (a
virtual clock advances to it, running what the other instruments scheduled on the way) and gives
ApiWaitTimeout when the timeout (lab time) passes first.
"""

from __future__ import annotations

import ctypes
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from qcodes.instrument_drivers.AlazarTech.constants import API_SUCCESS, AuxilaryIO, ReturnCode

from dotstack.mocks.instruments.ats9360.settings import (
    API_BUFFER_TOO_SMALL,
    API_FAILED,
    API_INVALID_BUFFER,
    API_INVALID_CLOCK,
    API_INVALID_RECORDS_PER_BUFFER,
    API_WAIT_TIMEOUT,
    MAX_RATE,
    MIN_SAMPLES,
    SAMPLE_GRANULARITY,
    BoardSettings,
)
from dotstack.mocks.instruments.ats9360.signal import AdcModel, LabInputs, first_tick
from dotstack.mocks.physics.clock import ClockDeadlock

NPT, TS = 0x200, 0x400
_MODES = 0x700
_ACCEPTED_FLAGS = 0x1 | 0x10 | 0x800  # external start capture, single DMA channel, FIFO only
INFINITE_RECORDS = 0x7FFFFFFF
INFINITE_WAIT_MS = 0xFFFFFFFF


@dataclass(frozen=True)
class Acquisition:
    """One AutoDMA acquisition as ``AlazarBeforeAsyncRead`` set it up."""

    mode: int  # NPT or TS
    channels: tuple[int, ...]  # 0: A, 1: B
    samples: int  # per record (NPT) or per buffer (TS)
    records_per_buffer: int
    total: int | None  # records (NPT) or buffers (TS); None: until aborted
    rate: float
    delay: int  # trigger delay (samples)

    @property
    def buffer_bytes(self) -> int:
        return 2 * len(self.channels) * self.records_per_buffer * self.samples


@dataclass
class _Posted:
    address: int
    index: int  # which buffer of the acquisition it receives
    words: NDArray[np.uint16]


class Capture:
    """Triggers, records and buffers of one board (state guarded by the lab's lock)."""

    def __init__(self, lab: Any, name: str, settings: BoardSettings, adc: AdcModel,
                 inputs: LabInputs, *, pulse_levels: tuple[float, float] = (0.0, 1.0),
                 pulse_width: float = 100e-9) -> None:
        self.lab, self.name, self.settings, self.adc, self.inputs = lab, name, settings, adc, inputs
        self.pulse_levels, self.pulse_width = pulse_levels, float(pulse_width)
        self.acq: Acquisition | None = None
        self.armed = False
        self.starts: list[int] = []  # first sample-clock tick of each record (TS: of the stream)
        self.trigger_times: list[float] = []
        self.missed_triggers = 0
        self.buffers_done = 0
        self._posted: deque[_Posted] = deque()
        self._n_posted = 0
        self._ready_at = -math.inf
        self._auto_token = 0
        self._wakes: set[float] = set()
        lab.add_trigger_input(f"{name}.trigA", self.on_pulse)

    @property
    def clock(self) -> Any:
        return self.lab.clock

    @property
    def pending(self) -> int:
        """Buffers posted and not yet completed."""
        return len(self._posted)

    # -- set-up --------------------------------------------------------------------------
    def configure(self, channel_mask: int, transfer_offset: int, samples: int,
                  records_per_buffer: int, records_per_acquisition: int,
                  flags: int) -> ReturnCode:
        """``AlazarBeforeAsyncRead``."""
        mode, extra = flags & _MODES, flags & ~_MODES & ~_ACCEPTED_FLAGS
        if mode not in (NPT, TS) or extra or transfer_offset:
            raise NotImplementedError(
                f"mock ATS9360: AutoDMA flags {flags:#x} / transfer offset {transfer_offset} are "
                "not modelled (NPT or TS, no record headers, no interleaving, offset 0)")
        s = self.settings
        if channel_mask not in (1, 2, 3) or samples < 1 or samples % SAMPLE_GRANULARITY:
            return API_FAILED
        if records_per_buffer < 1 or (mode == TS and records_per_buffer != 1):
            return API_INVALID_RECORDS_PER_BUFFER
        if mode == NPT and (samples < MIN_SAMPLES or s.pre_trigger
                            or s.pre_trigger + s.post_trigger != samples):
            return API_FAILED
        infinite = records_per_acquisition == INFINITE_RECORDS
        if mode == NPT and not infinite and records_per_acquisition % records_per_buffer:
            return API_FAILED
        if s.sample_rate > MAX_RATE:
            return API_INVALID_CLOCK
        self.abort()
        self.acq = Acquisition(mode, tuple(c for c in (0, 1) if channel_mask >> c & 1), samples,
                               records_per_buffer, None if infinite else records_per_acquisition,
                               s.sample_rate, s.trigger_delay)
        self._n_posted = 0
        return API_SUCCESS

    def post(self, address: int | None, nbytes: int) -> ReturnCode:
        """``AlazarPostAsyncBuffer``: queue a host buffer of ``nbytes`` at ``address``."""
        if self.acq is None or not address:
            return API_FAILED
        if nbytes < self.acq.buffer_bytes:
            return API_BUFFER_TOO_SMALL
        words = np.ctypeslib.as_array((ctypes.c_uint16 * (nbytes // 2)).from_address(address))
        self._posted.append(_Posted(address, self._n_posted, words))
        self._n_posted += 1
        return API_SUCCESS

    def start(self) -> ReturnCode:
        """``AlazarStartCapture``: arm at the present lab time."""
        if self.acq is None:
            return API_FAILED
        s = self.settings
        if s.level_triggered():
            raise NotImplementedError("mock ATS9360: triggering on CHANNEL_A/B is not modelled "
                                      "(use EXTERNAL and the lab's trigger cabling)")
        if s.aux_mode not in (AuxilaryIO.AUX_IN_AUXILIARY, AuxilaryIO.AUX_OUT_TRIGGER):
            raise NotImplementedError(f"mock ATS9360: AUX I/O mode {s.aux_mode} is not modelled")
        self.armed, self.starts, self.trigger_times = True, [], []
        self.missed_triggers = self.buffers_done = 0
        self._wakes.clear()
        self._ready_at = self.clock.now()
        self._arm_auto(self._ready_at)
        return API_SUCCESS

    def abort(self) -> ReturnCode:
        """``AlazarAbortAsyncRead``: stop and return every posted buffer."""
        self.armed = False
        self._posted.clear()
        self._auto_token += 1
        return API_SUCCESS

    # -- triggers ------------------------------------------------------------------------
    def on_pulse(self, t: float) -> None:
        """A pulse on the external trigger input at lab time ``t`` (from the cabling)."""
        if not self.armed:
            return
        low, high = self.pulse_levels
        edges = {t if e.slope == 1 else t + self.pulse_width
                 for e in self.settings.active_engines() if self.settings.fires(e, low, high)}
        for edge in sorted(edges):
            if edge > t:
                self.clock.schedule(edge, self._fire, f"{self.name} falling edge")
            else:
                self._fire(edge)

    def force_trigger(self) -> None:
        self._fire(self.clock.now())

    def complete(self) -> bool:
        """Whether every trigger of the acquisition has come."""
        acq = self.acq
        if acq is None or acq.total is None:
            return False
        return len(self.starts) >= (acq.total if acq.mode == NPT else 1)

    def _fire(self, t: float) -> None:
        acq = self.acq
        if not self.armed or acq is None or self.complete():
            return
        if t < self._ready_at:  # still capturing the previous record
            self.missed_triggers += 1
            return
        tick = first_tick(t, acq.rate) + acq.delay
        self.starts.append(tick)
        self.trigger_times.append(t)
        self._ready_at = (tick + acq.samples) / acq.rate if acq.mode == NPT else math.inf
        if self.settings.aux_mode == AuxilaryIO.AUX_OUT_TRIGGER:
            port = f"{self.name}.aux"
            self.clock.schedule(t, lambda when: self.lab.pulse(port, when), port)
        self._arm_auto(self._ready_at)

    def _arm_auto(self, ready: float) -> None:
        """Schedule the self-trigger of the trigger timeout (if set) ``ready`` + timeout."""
        self._auto_token += 1
        timeout = self.settings.trigger_timeout
        if timeout <= 0 or not math.isfinite(ready) or self.complete():
            return
        token = self._auto_token

        def auto(when: float) -> None:
            if token == self._auto_token:
                self._fire(when)
        self.clock.schedule(ready + timeout, auto, f"{self.name} trigger timeout")

    # -- buffers -------------------------------------------------------------------------
    def busy(self) -> int:
        """``AlazarBusy``: 1 while the acquisition still has records to capture."""
        acq = self.acq
        if not self.armed or acq is None:
            return 0
        if not self.complete():
            return 1
        return int(self.clock.now() < self._last_end())

    def _last_end(self) -> float:
        acq = self.acq
        assert acq is not None
        if acq.mode == NPT:
            return (self.starts[-1] + acq.samples) / acq.rate
        assert acq.total is not None
        return (self.starts[0] + acq.total * acq.samples) / acq.rate

    def _record_ticks(self, index: int) -> NDArray[np.int64] | None:
        """First ticks of buffer ``index``'s records (None while a trigger is missing)."""
        acq = self.acq
        assert acq is not None
        if acq.total is not None and index >= (acq.total if acq.mode == TS
                                               else acq.total // acq.records_per_buffer):
            return None
        if acq.mode == TS:
            return None if not self.starts else np.array([self.starts[0] + index * acq.samples])
        lo = index * acq.records_per_buffer
        if len(self.starts) < lo + acq.records_per_buffer:
            return None
        return np.array(self.starts[lo:lo + acq.records_per_buffer], dtype=np.int64)

    def wait(self, address: int | None, timeout_ms: int) -> ReturnCode:
        """``AlazarWaitAsyncBufferComplete`` for the buffer at the head of the queue."""
        with self.lab.lock:
            head = self._posted[0] if self._posted else None
            if self.acq is None or not self.armed or head is None or head.address != address:
                return API_INVALID_BUFFER
            acq = self.acq
            timeout = math.inf if timeout_ms == INFINITE_WAIT_MS else timeout_ms / 1000
            deadline = self.clock.now() + timeout

        def ready() -> bool:
            ticks = self._record_ticks(head.index)
            if ticks is None:
                return False
            end = (int(ticks.max()) + acq.samples) / acq.rate
            if self.clock.now() >= end:
                self._fill(head, ticks)
                return True
            if end not in self._wakes:  # a virtual clock must stop at the buffer's end
                self._wakes.add(end)
                self.clock.schedule(end, _nothing, f"{self.name} buffer {head.index} done")
            return False

        try:
            done = self.clock.wait_for(ready, deadline)
        except ClockDeadlock:  # nothing will ever trigger it (infinite timeout, virtual clock)
            done = False
        if not done:
            return API_WAIT_TIMEOUT
        with self.lab.lock:
            if self._posted and self._posted[0] is head:
                self._posted.popleft()
            self.buffers_done += 1
        return API_SUCCESS

    def _fill(self, buf: _Posted, ticks: NDArray[np.int64]) -> None:
        """Write the records starting at ``ticks`` into ``buf`` (channel A's records, then B's)."""
        acq = self.acq
        assert acq is not None
        n, nch = acq.samples, len(acq.channels)
        view = buf.words[: nch * len(ticks) * n].reshape(nch, len(ticks), n)
        grid = ticks[:, None] + np.arange(n, dtype=np.int64)[None, :]
        t0 = ticks / acq.rate
        for i, ch in enumerate(acq.channels):
            volts = self.inputs.records(f"{self.name}.ch{'AB'[ch]}", t0, n, acq.rate)
            view[i] = self.adc.words(np.reshape(volts, grid.shape), ch, acq.rate, grid,
                                     self.settings.signed)


_nothing: Callable[[float], None] = lambda when: None  # noqa: E731
