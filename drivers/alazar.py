"""The `Digitizer` role on an AlazarTech ATS9360 through the upstream QCoDeS driver.

`AlazarDigitizer` wraps an (unmodified) ``qcodes.instrument_drivers.AlazarTech.AlazarTechATS9360``,
real or given ``api=`` the mock (`dotstack.mocks.instruments.ats9360.ATS9360API`):

- `prepare` turns an `AcquisitionProgram` into board settings: sample rate, the channels its lanes
  use (lane ``i`` -> ``limits.channels[i]``), ±400 mV DC inputs, an external trigger (level and
  slope as constructed, delay in samples, no trigger timeout), NPT records of the program's length
  rounded up to the board's granularity (128, at least 256), one record per trigger, where a
  trigger starts every distinct record start of the program (records of both lanes at the same
  time share it), ``averages`` plays of the program;
- `arm` starts the driver's ``acquire`` with our `AcquisitionInterface` in a thread and returns
  once the board is armed (the driver's ``pre_acquire`` hook), so the caller can start the AWG;
- `fetch` waits (``timeout`` s for each DMA buffer, the ATS API's wait) and returns volts:
  ``(records, samples)`` averaged over the plays, ``(averages, records, samples)`` with ``raw``,
  or complex I/Q amplitudes (V) per record when the program's windows are demodulated at an IF.

`coordinates` gives every record's sweep coordinates, window, channel and start (s); ``sample_time``
is the time of each sample from its record's start.

On Linux/macOS QCoDeS's DMA ``Buffer`` frees its memory as soon as it is made (only the Windows
``VirtualAlloc`` path keeps it), so the driver's ``acquire`` writes into freed memory; we replace
that one class with `OwnedBuffer` (`install_buffer_fix`, done on construction).
"""

from __future__ import annotations

import ctypes
import math
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt
from qcodes.instrument_drivers.AlazarTech import ATS
from qcodes.instrument_drivers.AlazarTech.ATS import AcquisitionInterface, AlazarTechATS

from dotstack.sequencer import ATS9360, AcquisitionProgram, DigitizerLimits

Array = npt.NDArray[np.float64]
_BUFFER_BYTES = 8 * 2**20  # DMA buffer size we aim below (QCoDeS: "recommended is <8MB")


class OwnedBuffer(ATS.Buffer):
    """QCoDeS's DMA buffer, keeping its memory alive on every platform (``owns_memory``)."""

    owns_memory = True

    def __init__(self, c_sample_type: Any, size_bytes: int) -> None:  # no super(): it frees
        self.size_bytes = size_bytes
        self._storage = (c_sample_type * (size_bytes // ctypes.sizeof(c_sample_type)))()
        self.addr = ctypes.addressof(self._storage)
        self.ctypes_buffer = self._storage
        self.buffer = np.ctypeslib.as_array(self._storage)  # keeps the storage alive
        self._allocated = True

    def free_mem(self) -> None:
        self._allocated = False


def install_buffer_fix() -> None:
    """Make QCoDeS's Alazar driver allocate `OwnedBuffer` s (not needed on Windows; idempotent)."""
    if sys.platform != "win32" and not getattr(ATS.Buffer, "owns_memory", False):
        ATS.Buffer = OwnedBuffer  # type: ignore[misc]


class DigitizerTimeout(TimeoutError):
    """No trigger (or not enough of them) came within the fetch timeout."""


@dataclass(frozen=True)
class _Plan:
    """How a program maps onto the board: triggers ("slots"), channels, buffers."""

    program: AcquisitionProgram
    slot: npt.NDArray[np.int64]  # trigger slot of each program record
    lane: npt.NDArray[np.int64]  # index into ``channels`` of each record
    channels: str  # "A", "B" or "AB"
    n_slots: int
    samples: int  # per record on the board
    records_per_buffer: int
    averages: int
    raw: bool
    frequency: Array | None  # demodulation IF of each record (Hz), if demodulating

    @property
    def buffers(self) -> int:
        return self.averages * self.n_slots // self.records_per_buffer


class _Collector(AcquisitionInterface[Array]):
    """Our acquisition controller: sums (or keeps) the records of every play, in codes."""

    def __init__(self, plan: _Plan, shift: int) -> None:
        self.plan, self.shift = plan, shift
        p = plan
        shape = (p.averages if p.raw else 1, p.n_slots, len(p.channels), p.samples)
        self.data = np.zeros(shape)
        self.armed, self.go = threading.Event(), threading.Event()
        self.aborted = False

    def pre_acquire(self) -> None:  # the board is armed: let `arm` return, wait for `fetch`
        self.armed.set()
        self.go.wait()
        if self.aborted:
            raise RuntimeError("acquisition stopped before fetch")

    def handle_buffer(self, buffer: npt.NDArray[Any], buffer_number: int | None = None) -> None:
        p = self.plan
        rpb, nch = p.records_per_buffer, len(p.channels)
        codes = (buffer[: nch * rpb * p.samples] >> self.shift).reshape(nch, rpb, p.samples)
        first = int(buffer_number or 0) * rpb
        play, slot = divmod(first, p.n_slots)
        self.data[play if p.raw else 0, slot:slot + rpb] += codes.transpose(1, 0, 2)

    def post_acquire(self) -> Array:
        return self.data if self.plan.raw else self.data / self.plan.averages


class AlazarDigitizer:
    """The `Digitizer` role on an AlazarTech ATS9360 (QCoDeS driver, real board or mock API)."""

    def __init__(self, alazar: AlazarTechATS, *, trigger_level: float = 0.5,
                 trigger_slope: Literal["positive", "negative"] = "positive",
                 trigger_delay: float = 0.0, limits: DigitizerLimits = ATS9360,
                 buffer_bytes: int = _BUFFER_BYTES) -> None:
        if not -2.5 <= trigger_level <= 2.5:
            raise ValueError(f"{alazar.name}: trigger level must be within ±2.5 V, "
                             f"got {trigger_level}")
        if not (math.isfinite(trigger_delay) and trigger_delay >= 0):
            raise ValueError(f"{alazar.name}: trigger delay must be >= 0 s, got {trigger_delay}")
        install_buffer_fix()
        self.alazar = alazar
        self.trigger_level, self.trigger_slope = float(trigger_level), trigger_slope
        self.trigger_delay = float(trigger_delay)
        self.buffer_bytes = int(buffer_bytes)
        self._limits = limits
        _, self.bits = alazar.api.get_channel_info_(alazar._handle)
        self._plan: _Plan | None = None
        self._collector: _Collector | None = None
        self._thread: threading.Thread | None = None
        self._result: Array | BaseException | None = None

    @property
    def limits(self) -> DigitizerLimits:
        return self._limits

    # -- prepare ---------------------------------------------------------------------------
    def prepare(self, acquisition: AcquisitionProgram, *, averages: int = 1, raw: bool = False,
                demodulate: Mapping[str, float] | None = None) -> None:
        """Configure the board for ``acquisition`` played ``averages`` times (one trigger per
        distinct record start).  ``demodulate``: window name -> IF (Hz) for every window."""
        acq, name = acquisition, self.alazar.name
        if acq.n_records == 0:
            raise ValueError(f"{name}: the acquisition program has no records")
        if isinstance(averages, bool) or int(averages) != averages or averages < 1:
            raise ValueError(f"{name}: averages must be an integer >= 1, got {averages!r}")
        self.stop()
        lanes = [self._limits.channels[c] for c in range(len(acq.channels))]
        used = sorted({lanes[c] for c in np.unique(acq.record_channel)})
        channels = "".join(used)
        if channels not in ("A", "B", "AB"):
            raise ValueError(f"{name}: lanes {acq.channels} map to channels {used}, not A/B")
        starts, slot = np.unique(acq.record_start, return_inverse=True)
        lim = self._limits
        g = lim.record_granularity
        samples = max(-(-int(acq.record_length) // g) * g, -(-lim.min_record_length // g) * g)
        gap = float(np.diff(starts).min()) if len(starts) > 1 else math.inf
        if gap < samples / acq.sample_rate:
            raise ValueError(f"{name}: record starts only {gap:.4g} s apart, but a record of "
                             f"{samples} samples lasts {samples / acq.sample_rate:.4g} s and the "
                             "board ignores triggers while it records")
        per_record = 2 * len(channels) * samples
        rpb = _largest_divisor(len(starts), max(1, self.buffer_bytes // per_record))
        frequency = None
        if demodulate is not None:
            missing = sorted(set(acq.window_names) - set(demodulate))
            if missing:
                raise ValueError(f"{name}: no demodulation frequency for windows {missing}")
            ifs = np.array([float(demodulate[w]) for w in acq.window_names])
            frequency = ifs[acq.record_window]
        lane_of = np.array([channels.index(lanes[c]) for c in acq.record_channel], dtype=np.int64)
        self._plan = _Plan(acq, slot.astype(np.int64), lane_of, channels, len(starts), samples,
                           rpb, int(averages), bool(raw), frequency)
        self._configure(acq.sample_rate)

    def _configure(self, rate: float) -> None:
        a = self.alazar
        try:
            a.sample_rate.validate(int(rate) if float(rate).is_integer() else rate)
        except ValueError:
            raise ValueError(f"{a.name}: sample rate {rate} S/s is not one of the board's "
                             "internal rates") from None
        delay = 8 * round(self.trigger_delay * rate / 8)
        level = round(128 + 127 * self.trigger_level / 2.5)
        with a.syncing():
            a.clock_source("INTERNAL_CLOCK")
            a.sample_rate(int(rate))
            a.external_sample_rate("UNDEFINED")
            a.clock_edge("CLOCK_EDGE_RISING")
            a.decimation(1)
            for i in (1, 2):
                a.parameters[f"coupling{i}"]("DC")
                a.parameters[f"channel_range{i}"](0.4)
                a.parameters[f"impedance{i}"](50)
            a.trigger_operation("TRIG_ENGINE_OP_J")
            a.trigger_engine1("TRIG_ENGINE_J")
            a.trigger_source1("EXTERNAL")
            a.trigger_slope1(f"TRIG_SLOPE_{self.trigger_slope.upper()}")
            a.trigger_level1(level)
            a.trigger_engine2("TRIG_ENGINE_K")
            a.trigger_source2("DISABLE")
            a.external_trigger_coupling("DC")
            a.external_trigger_range("ETR_2V5")
            a.trigger_delay(delay)
            a.timeout_ticks(0)  # wait for the trigger (never trigger by itself)
            a.aux_io_mode("AUX_IN_AUXILIARY")
            a.aux_io_param("NONE")

    # -- arm / fetch -----------------------------------------------------------------------
    def arm(self) -> None:
        """Start the acquisition; returns once the board waits for triggers."""
        plan = self._plan
        if plan is None:
            raise RuntimeError(f"{self.alazar.name}: arm() before prepare()")
        self.stop()
        collector = self._collector = _Collector(plan, 8 * ((self.bits + 7) // 8) - self.bits)
        self._result = None

        def run() -> None:
            try:
                self._result = self.alazar.acquire(
                    mode="NPT", samples_per_record=plan.samples,
                    records_per_buffer=plan.records_per_buffer,
                    buffers_per_acquisition=plan.buffers, channel_selection=plan.channels,
                    allocated_buffers=min(4, plan.buffers),
                    acquisition_controller=cast(Any, collector))
            except BaseException as exc:  # re-raised by fetch
                self._result = exc
            finally:
                collector.armed.set()

        self._thread = threading.Thread(target=run, name=f"{self.alazar.name}-acquire",
                                        daemon=True)
        self._thread.start()
        collector.armed.wait()
        if isinstance(self._result, BaseException):
            self._thread.join()
            raise self._result

    def fetch(self, timeout: float = 10.0) -> npt.NDArray[Any]:
        """Wait for the records (at most ``timeout`` s for each DMA buffer) and return volts."""
        if not (timeout >= 0 and math.isfinite(timeout)):
            raise ValueError(f"{self.alazar.name}: timeout must be finite and >= 0 s")
        if self._thread is None:
            self.arm()
        thread, collector, plan = self._thread, self._collector, self._plan
        assert thread is not None and collector is not None and plan is not None
        self.alazar.buffer_timeout(max(1, math.ceil(timeout * 1000)))
        collector.go.set()
        thread.join()
        self._thread = None
        result = self._result
        if isinstance(result, BaseException):
            self.alazar.clear_buffers()  # the driver frees its buffers only when acquire succeeds
            if "ApiWaitTimeout" in str(result):
                raise DigitizerTimeout(f"{self.alazar.name}: no trigger within {timeout} s "
                                       f"({result})") from result
            raise result
        assert result is not None
        return self._records(plan, self._volts(result))

    def fetch_shots(self, timeout: float = 10.0) -> tuple[Array, npt.NDArray[np.bool_]]:
        """Single shots (`prepare` with ``raw=True``; ``averages`` is then the shot count):
        ``(values, states)``, both ``(shots, records)``: each record's mean over its valid
        samples (V, the program's `integrate`) and whether it exceeds its record's threshold
        (`classify`; False where a record has none: see ``AcquisitionProgram.thresholded``)."""
        plan = self._plan
        if plan is None or not plan.raw or plan.frequency is not None:
            raise RuntimeError(f"{self.alazar.name}: fetch_shots needs prepare(..., raw=True) "
                               "without demodulation")
        volts = self.fetch(timeout)
        values = plan.program.integrate(volts)
        return values, plan.program.classify(values)

    def stop(self) -> None:
        """Abandon an armed acquisition that was not fetched."""
        if self._thread is not None and self._collector is not None:
            self._collector.aborted = True
            self._collector.go.set()
            self._thread.join()
            self.alazar.clear_buffers()
        self._thread = None

    def _volts(self, codes: Array) -> Array:
        zero = 2.0 ** (self.bits - 1) - 0.5
        ranges = np.array([float(self.alazar.parameters[f"channel_range{'AB'.index(c) + 1}"]())
                           for c in cast(_Plan, self._plan).channels])
        return np.asarray(ranges[:, None] * (codes - zero) / zero)

    def _records(self, plan: _Plan, volts: Array) -> npt.NDArray[Any]:
        acq = plan.program
        per = volts[:, plan.slot, plan.lane, : acq.record_length]  # (plays, records, samples)
        if plan.frequency is not None:
            per = _demodulate(per, acq, plan.frequency)
        return per if plan.raw else per[0]

    # -- description -----------------------------------------------------------------------
    @property
    def dims(self) -> tuple[str, ...]:
        plan = self._plan
        if plan is None:
            return ()
        dims = ("average", "record") if plan.raw else ("record",)
        return dims if plan.frequency is not None else (*dims, "sample")

    def coordinates(self) -> dict[str, npt.NDArray[Any]]:
        """Per-record coordinates (sweep axes, window, channel, point, start in s) and
        ``sample_time`` (s from the record's start)."""
        plan = self._plan
        if plan is None:
            return {}
        acq = plan.program
        coords = acq.coordinates()
        coords["record_start"] = acq.record_start
        coords["sample_time"] = np.arange(acq.record_length) / acq.sample_rate
        return coords


def _largest_divisor(n: int, at_most: int) -> int:
    best = 1
    for d in range(1, math.isqrt(n) + 1):
        if n % d == 0:
            for c in (d, n // d):
                if best < c <= at_most:
                    best = c
    return best


def _demodulate(volts: Array, acq: AcquisitionProgram, frequency: Array) -> npt.NDArray[Any]:
    """I + iQ (V amplitude) of each record at its IF over its valid samples; the phase refers to
    program time (the record's start plus the sample's offset)."""
    n = volts.shape[-1]
    k = np.arange(n)
    t = acq.record_start[:, None] + k[None, :] / acq.sample_rate
    valid = k[None, :] < acq.record_samples[:, None]
    weights = np.where(valid, np.exp(-2j * np.pi * frequency[:, None] * t), 0.0)
    weights *= 2.0 / acq.record_samples[:, None]
    return np.einsum("prk,rk->pr", volts, weights)
