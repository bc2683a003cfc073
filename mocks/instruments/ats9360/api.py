"""`ATS9360API`: the AlazarTech ATS API (``AlazarATSAPI``) of one ATS9360, fed by the mock lab.

The **unmodified** QCoDeS driver takes it as ``AlazarTechATS9360(name, api=ATS9360API(lab))``.
It subclasses QCoDeS's `AlazarATSAPI` and replaces only the DLL underneath: ``_sync_dll_call``
dispatches each C function (``AlazarSetCaptureClock``, ``AlazarWaitAsyncBufferComplete``, ...) to
a Python handler that receives the raw arguments (QCoDeS parameters already turned into their
raw values, pointers as ``ctypes.byref`` objects it writes through), exactly as the DLL would.
Return codes go through QCoDeS's own ``_check_error_code``, so a failing call raises the very
``RuntimeError`` the real API raises (``error 579: ApiWaitTimeout: ... from function
AlazarWaitAsyncBufferComplete ...``), and synced ``TraceParameter`` s are marked as the real
wrapper marks them.  A C function the mock does not model raises ``NotImplementedError``.

The API object lives in the lab script's process (the driver calls it directly): it is bound to an
in-process `VirtualLab` (``MockLab.ats_api()``).  A lab served by ``mock-lab serve`` in another
process is out of scope for now (the API would need a loopback channel to that lab's timeline).
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from typing import Any

from qcodes.instrument_drivers.AlazarTech import ATS
from qcodes.instrument_drivers.AlazarTech.ats_api import AlazarATSAPI
from qcodes.instrument_drivers.AlazarTech.constants import (
    API_SUCCESS,
    ERROR_CODES,
    REGISTER_ACCESS_PASSWORD,
    AlazarParameter,
    Capability,
    ReturnCode,
)
from qcodes.instrument_drivers.AlazarTech.dll_wrapper import (
    RETURN_CODE,
    DllWrapperMeta,
    _check_error_code,
    _mark_params_as_updated,
    _normalize_params,
)

from dotstack.mocks.instruments.ats9360.capture import Capture
from dotstack.mocks.instruments.ats9360.settings import (
    API_FAILED,
    API_INVALID_HANDLE,
    BITS_PER_SAMPLE,
    FULL_SCALE,
    BoardSettings,
)
from dotstack.mocks.instruments.ats9360.signal import AdcModel, LabInputs, SensorFallback

BOARD_KIND = 25  # ATS9360
MEMORY_SAMPLES = 4294967294  # what QCoDeS's SimulatedATS9360API reports (4 GS)
#: Identity of the mock board: the values QCoDeS's SimulatedATS9360API reports (firmware 21.09)
CAPABILITIES: dict[int, int] = {
    Capability.ASOPC_TYPE: 1763017568,
    Capability.GET_SERIAL_NUMBER: 970396,
    Capability.MEMORY_SIZE: MEMORY_SAMPLES,
    Capability.GET_PCIE_LINK_WIDTH: 8,
    Capability.GET_PCIE_LINK_SPEED: 2,
    Capability.GET_LATEST_CAL_DATE: 250117,
    Capability.BOARD_TYPE: BOARD_KIND,
}
VERSIONS = {"cpld": (25, 16), "driver": (6, 5, 1), "sdk": (6, 5, 1)}
DEFAULT_INPUT_NOISE = 0.25e-3  #: V rms at the input (about 1.3 LSB; a guess, not a datasheet value)
_HANDLE_BASE = 0x9360_0000
_UNLOCKED = {"AlazarWaitAsyncBufferComplete"}  # waits in lab time, taking the lock itself


def _put(pointer: Any, value: int) -> None:
    """Write ``value`` where a ``ctypes.byref``/``ctypes.pointer`` argument points."""
    target = getattr(pointer, "_obj", None)
    if target is None:
        target = pointer.contents
    target.value = value


class _CFunction:
    """Stands for the DLL function in error messages (``_check_error_code`` reads ``__name__``)."""

    def __init__(self, name: str) -> None:
        self.__name__ = name


class _PlainCall(DllWrapperMeta):
    """No per-DLL-path singleton: every mock is its own board."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return type.__call__(cls, *args, **kwargs)


class ATS9360API(AlazarATSAPI, metaclass=_PlainCall):
    """One mock ATS9360 (system 1, board 1) on ``lab``'s clock and trigger cabling.

    ``name`` prefixes its ports: ``<name>.trigA`` (external trigger input), ``<name>.aux``
    (AUX I/O as trigger output), ``<name>.chA``/``<name>.chB`` (analog inputs: the lab's
    ``analog_record`` for a port with a registered source, else ``fallback``, by default
    `SensorFallback`; see `signal`).
    ``input_noise`` is the board's own white noise (V rms); ``seed`` (default the lab's) seeds it.
    External trigger pulses are modelled as ``pulse_levels`` (V) lasting ``pulse_width`` (s).
    """

    def __init__(self, lab: Any, *, name: str = "ats", fallback: SensorFallback | None = None,
                 input_noise: float = DEFAULT_INPUT_NOISE, seed: int | None = None,
                 pulse_levels: tuple[float, float] = (0.0, 1.0),
                 pulse_width: float = 100e-9) -> None:
        # no super().__init__(): it would load the DLL
        self.lab, self.name = lab, name
        self.inputs = LabInputs(lab, fallback)
        self.settings = BoardSettings()
        self.adc = AdcModel(FULL_SCALE, input_noise, lab.seed if seed is None else seed)
        self.capture = Capture(lab, name, self.settings, self.adc, self.inputs,
                               pulse_levels=pulse_levels, pulse_width=pulse_width)
        self.registers: dict[int, int] = {8: 70254688, 58: 1 << 26}  # 58 bit 26: trigger holdoff
        self.calls: list[str] = []  # names of the C functions called, in order
        self._handle = _HANDLE_BASE + 1

    # -- the DLL ---------------------------------------------------------------------------
    def _sync_dll_call(self, c_name: str, *args: Any) -> Any:
        handler: Callable[..., Any] | None = getattr(self, f"_{c_name}", None)
        if handler is None:
            raise NotImplementedError(f"mock ATS9360: {c_name} is not modelled")
        raw = _normalize_params(*args)
        self.calls.append(c_name)
        if c_name in _UNLOCKED:
            result = handler(*raw)
        else:
            with self.lab.lock:
                self.lab.clock.catch_up()
                result = handler(*raw)
        signature = self.signatures.get(c_name)
        if signature is not None and signature.return_type is RETURN_CODE:
            # the DLL's errcheck: raise on an error code (the call then returns the code)
            _check_error_code(int(result), _CFunction(c_name), tuple(raw))  # type: ignore[arg-type]
            result = ReturnCode(int(result))
        _mark_params_as_updated(*args)
        return result

    def _board(self, handle: int) -> bool:
        return handle == self._handle

    # -- identity --------------------------------------------------------------------------
    def _AlazarNumOfSystems(self) -> int:
        return 1

    def _AlazarBoardsInSystemBySystemID(self, system_id: int) -> int:
        return 1 if system_id == 1 else 0

    def _AlazarGetBoardBySystemID(self, system_id: int, board_id: int) -> int | None:
        return self._handle if (system_id, board_id) == (1, 1) else None

    def _AlazarGetBoardKind(self, handle: int) -> int:
        return BOARD_KIND if self._board(handle) else 0

    def _AlazarGetChannelInfo(self, handle: int, memory: Any, bits: Any) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        _put(memory, MEMORY_SAMPLES)
        _put(bits, BITS_PER_SAMPLE)
        return API_SUCCESS

    def _AlazarGetCPLDVersion(self, handle: int, major: Any, minor: Any) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        for ptr, v in zip((major, minor), VERSIONS["cpld"], strict=True):
            _put(ptr, v)
        return API_SUCCESS

    def _versions(self, which: str, *pointers: Any) -> ReturnCode:
        for ptr, v in zip(pointers, VERSIONS[which], strict=True):
            _put(ptr, v)
        return API_SUCCESS

    def _AlazarGetDriverVersion(self, *pointers: Any) -> ReturnCode:
        return self._versions("driver", *pointers)

    def _AlazarGetSDKVersion(self, *pointers: Any) -> ReturnCode:
        return self._versions("sdk", *pointers)

    def _AlazarQueryCapability(self, handle: int, capability: int, _reserved: int,
                               value: Any) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        if capability not in CAPABILITIES:
            raise NotImplementedError(f"mock ATS9360: capability {capability:#x} is not modelled")
        _put(value, CAPABILITIES[capability])
        return API_SUCCESS

    def _AlazarReadRegister(self, handle: int, offset: int, output: Any,
                            password: int) -> ReturnCode:
        if not self._board(handle) or password != REGISTER_ACCESS_PASSWORD:
            return API_FAILED
        _put(output, self.registers.get(offset, 0))
        return API_SUCCESS

    def _AlazarWriteRegister(self, handle: int, offset: int, value: int,
                             password: int) -> ReturnCode:
        if not self._board(handle) or password != REGISTER_ACCESS_PASSWORD:
            return API_FAILED
        self.registers[offset] = value & 0xFFFFFFFF
        return API_SUCCESS

    def _AlazarErrorToText(self, code: int) -> str:
        return "ApiSuccess" if code == API_SUCCESS else ERROR_CODES.get(ReturnCode(code), "")

    def _AlazarSetLED(self, handle: int, on: int) -> ReturnCode:
        return API_SUCCESS if self._board(handle) else API_INVALID_HANDLE

    # -- configuration ---------------------------------------------------------------------
    def _AlazarSetCaptureClock(self, handle: int, *args: int) -> ReturnCode:
        return self.settings.apply_clock(*args) if self._board(handle) else API_INVALID_HANDLE

    def _AlazarInputControl(self, handle: int, *args: int) -> ReturnCode:
        return self.settings.apply_input(*args) if self._board(handle) else API_INVALID_HANDLE

    def _AlazarSetBWLimit(self, handle: int, *args: int) -> ReturnCode:
        return self.settings.apply_bw_limit(*args) if self._board(handle) else API_INVALID_HANDLE

    def _AlazarSetTriggerOperation(self, handle: int, *args: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        return self.settings.apply_trigger_operation(*args)

    def _AlazarSetExternalTrigger(self, handle: int, *args: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        return self.settings.apply_external_trigger(*args)

    def _AlazarSetTriggerDelay(self, handle: int, samples: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        return self.settings.apply_trigger_delay(samples)

    def _AlazarSetTriggerTimeOut(self, handle: int, ticks: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        return self.settings.apply_trigger_timeout(ticks)

    def _AlazarConfigureAuxIO(self, handle: int, *args: int) -> ReturnCode:
        return self.settings.apply_aux_io(*args) if self._board(handle) else API_INVALID_HANDLE

    def _AlazarSetRecordSize(self, handle: int, *args: int) -> ReturnCode:
        return self.settings.apply_record_size(*args) if self._board(handle) else API_INVALID_HANDLE

    def _AlazarGetParameter(self, handle: int, _channel: int, parameter: int,
                            value: Any) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        values: dict[int, int] = {
            AlazarParameter.DATA_WIDTH: BITS_PER_SAMPLE,
            AlazarParameter.GET_DATA_FORMAT: int(self.settings.signed),
            AlazarParameter.GET_RECORDS_CAPTURED: len(self.capture.starts),
            AlazarParameter.GET_CHANNELS_PER_BOARD: 2,
            AlazarParameter.GET_ASYNC_BUFFERS_PENDING: self.capture.pending}
        if parameter not in values:
            raise NotImplementedError(f"mock ATS9360: parameter {parameter:#x} is not modelled")
        _put(value, values[parameter])
        return API_SUCCESS

    def _AlazarSetParameter(self, handle: int, _channel: int, parameter: int,
                            value: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        if parameter != AlazarParameter.SET_DATA_FORMAT:
            raise NotImplementedError(f"mock ATS9360: parameter {parameter:#x} is not modelled")
        if value not in (0, 1):
            return API_FAILED
        self.settings.signed = bool(value)
        return API_SUCCESS

    # -- acquisition -----------------------------------------------------------------------
    def _AlazarBeforeAsyncRead(self, handle: int, *args: int) -> ReturnCode:
        return self.capture.configure(*args) if self._board(handle) else API_INVALID_HANDLE

    def _AlazarPostAsyncBuffer(self, handle: int, buffer: Any, nbytes: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        if sys.platform != "win32" and not getattr(ATS.Buffer, "owns_memory", False):
            # QCoDeS's Buffer frees its memory at once off Windows: writing would corrupt the heap
            raise RuntimeError("mock ATS9360: QCoDeS's AlazarTech Buffer does not keep its memory "
                               "on this platform; call dotstack.drivers.alazar.install_buffer_fix()"
                               " (or construct an AlazarDigitizer) before acquiring")
        address = buffer.value if isinstance(buffer, ctypes.c_void_p) else buffer
        return self.capture.post(address, nbytes)

    def _AlazarStartCapture(self, handle: int) -> ReturnCode:
        return self.capture.start() if self._board(handle) else API_INVALID_HANDLE

    def _AlazarWaitAsyncBufferComplete(self, handle: int, buffer: Any,
                                       timeout_ms: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        address = buffer.value if isinstance(buffer, ctypes.c_void_p) else buffer
        return self.capture.wait(address, timeout_ms)

    def _AlazarAbortAsyncRead(self, handle: int) -> ReturnCode:
        return self.capture.abort() if self._board(handle) else API_INVALID_HANDLE

    def _AlazarBusy(self, handle: int) -> int:
        return self.capture.busy() if self._board(handle) else 0

    def _AlazarTriggered(self, handle: int) -> int:
        return int(bool(self.capture.starts)) if self._board(handle) else 0

    def _AlazarForceTrigger(self, handle: int) -> ReturnCode:
        if not self._board(handle):
            return API_INVALID_HANDLE
        self.capture.force_trigger()
        return API_SUCCESS

    def _AlazarForceTriggerEnable(self, handle: int) -> ReturnCode:
        return API_SUCCESS if self._board(handle) else API_INVALID_HANDLE
