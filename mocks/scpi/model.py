"""`ScpiModel`: the base of every SCPI mock instrument (router, common commands, error queue).

Message rules (IEEE 488.2 / SCPI-99):
* units joined by ';' are executed in order; a header without a leading ':' is relative to the
  previous command's path (its last node stripped), a leading ':' restarts at the root, and
  common commands (``*XXX``) leave the path alone.  Each message starts at the root.  If a
  relative header matches nothing, it is tried from the root (most instruments are this
  lenient; set ``strict_paths = True`` to get -113 instead).
* a command error (-100..-199: syntax, undefined header, bad number...) discards the rest of
  the message; an execution or device error (-200.., -300..) does not: later units still run.
* a query that fails adds no reply; the replies of the queries that succeeded are joined by ';'.
  If no query produced a reply, `handle` returns None (a client reading would time out, as on
  a real instrument, and finds the cause with SYST:ERR?).
* a message longer than ``max_message_bytes`` is refused by the server before it is parsed
  (-223 Too much data); a query whose client sends a new message before the reply went out
  loses its reply (-410 Query INTERRUPTED), see `ScpiModel.interrupted`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, ClassVar, Protocol

from dotstack.mocks.scpi.call import Call
from dotstack.mocks.scpi.errors import ScpiError, esr_bit
from dotstack.mocks.scpi.faults import FaultInjector, apply
from dotstack.mocks.scpi.parser import split_units
from dotstack.mocks.scpi.router import Route, Router, command, patterns_of

log = logging.getLogger(__name__)

_ESB = 1 << 5  # status byte: event status summary
_EAV = 1 << 2  # status byte: error/event queue not empty
_MSS = 1 << 6  # status byte: master summary
_OPC = 1 << 0  # event status register: operation complete


class Session(Protocol):
    """What a server tells a model about the connection whose message it is handling."""

    def interrupted(self) -> bool:
        """True once the client has sent another message since the current one."""
        ...


_session = threading.local()


def bind_session(session: Session | None) -> None:
    """Make `ScpiModel.interrupted` in the calling thread ask ``session`` (None: unbind).

    A server binds each connection's thread to that connection for the thread's lifetime.
    """
    _session.current = session


class ScpiModel:
    """Base class of SCPI mock instruments.

    Subclasses declare handlers with `command` and override `reset` (calling super).  The
    lock, error queue and status registers are set up in ``__new__``, so a subclass may call
    ``super().__init__()`` anywhere in its own ``__init__``.
    """

    idn: ClassVar[tuple[str, str, str, str]] = ("dotstack", "ScpiModel", "0", "0.1")
    #: Options reported by *OPT? ("0" when empty).
    options: ClassVar[tuple[str, ...]] = ()
    #: Capacity of the error queue (the last slot becomes -350 on overflow).
    error_queue_size: ClassVar[int] = 20
    #: True: a relative header that does not resolve is an error (no retry from the root).
    strict_paths: ClassVar[bool] = False
    #: Longest program message a server accepts (bytes, block data included): a longer one is
    #: dropped unparsed, with -223 Too much data.
    max_message_bytes: ClassVar[int] = 1 << 20
    #: the faults this instrument suffers (`dotstack.mocks.scpi.faults`); None: a healthy one
    faults: FaultInjector | None = None

    _router: ClassVar[Router]
    lock: threading.RLock
    _errors: deque[tuple[int, str]]
    _esr: int
    _ese: int
    _sre: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._router = _build_router(cls)

    def __new__(cls, *args: Any, **kwargs: Any) -> ScpiModel:
        self = super().__new__(cls)
        self.lock = threading.RLock()
        self._errors = deque()
        self._esr = 0
        self._ese = 0
        self._sre = 0
        return self

    def __init__(self) -> None:
        pass

    # -- public API --------------------------------------------------------------------
    def handle(self, message: bytes) -> bytes | None:
        """Execute one program message (without terminator); return the reply or None.

        With ``faults`` set, a fault that acts on the message decides what happens instead
        (`dotstack.mocks.scpi.faults.apply`; a ``drop`` raises `ConnectionDropped`)."""
        injector = self.faults
        if injector is not None:
            fault = injector.decide(message)
            if fault is not None:
                return apply(self, fault, message, self._execute)
        return self._execute(message)

    def _execute(self, message: bytes) -> bytes | None:
        with self.lock:
            replies: list[bytes] = []
            try:
                self._run(message, replies)
            except ScpiError as err:  # a command error: the rest of the message is dropped
                self._push(err)
            return b";".join(replies) if replies else None

    def interrupted(self) -> bool:
        """True if the client whose message is being handled has sent another one since.

        A long-running handler (waiting for lab time, for a trigger...) polls this and gives up
        early: the server will not send the reply of an interrupted message (a late reply would
        desynchronise the client) but queues -410 Query INTERRUPTED instead, then executes the
        new message.  A handler that gives up returns as usual (any value); if its message then
        has no reply at all, no -410 is queued.  Also True while the server is closing.  Per
        connection (thread-local); always False outside a server (in-process transport, direct
        `handle` calls).  Meant for queries: a setting command should not give up half-done.
        """
        session: Session | None = getattr(_session, "current", None)
        return session is not None and session.interrupted()

    def reset(self) -> None:
        """*RST: put the instrument state to its defaults (status and error queue stay)."""

    def push_error(self, code: int, message: str) -> None:
        """Append an error to the queue (the last slot becomes -350 on overflow) and set *ESR."""
        with self.lock:
            if len(self._errors) >= self.error_queue_size:
                if self._errors[-1][0] != -350:
                    self._errors[-1] = (-350, "Queue overflow")
                self._esr |= esr_bit(-350)
                return
            self._errors.append((code, message))
            self._esr |= esr_bit(code)

    def pop_error(self) -> tuple[int, str]:
        """Oldest error (code, message), or (0, "No error")."""
        with self.lock:
            return self._errors.popleft() if self._errors else (0, "No error")

    @property
    def error_count(self) -> int:
        return len(self._errors)

    def status_byte(self) -> int:
        """The IEEE 488.2 status byte (bit 2 error queue, bit 5 ESB, bit 6 MSS)."""
        stb = (_EAV if self._errors else 0) | (_ESB if self._esr & self._ese else 0)
        return stb | (_MSS if stb & self._sre else 0)

    # -- message execution -------------------------------------------------------------
    def _push(self, err: ScpiError) -> None:
        self.push_error(err.code, err.queue_text())

    def _run(self, message: bytes, replies: list[bytes]) -> None:
        path = ""
        router = self._router
        for header, args in split_units(message):
            upper = header.upper()
            if upper.startswith("*"):
                route = router.match_common(upper)
            else:
                absolute = upper if upper.startswith(":") else f"{path}:{upper}"
                route = router.match(absolute)
                if route is None and path and not upper.startswith(":") and not self.strict_paths:
                    absolute = f":{upper}"
                    route = router.match(absolute)
                if route is not None:
                    path = absolute[: absolute.rfind(":")]
            if route is None:
                raise ScpiError.undefined_header(header)
            reply = self._call(route, Call(header, route.suffixes, args))
            if reply is not None and upper.endswith("?"):
                replies.append(reply)

    def _call(self, route: Route, call: Call) -> bytes | None:
        try:
            result = getattr(self, route.method)(call)
        except ScpiError as err:
            if -199 <= err.code <= -100:
                raise
            self._push(err)
            return None
        except Exception as exc:  # a bug in a handler must not kill the server
            log.exception("%s: handler %s failed on %r", type(self).__name__, route.method, call)
            self.push_error(-300, f"Device-specific error;{type(exc).__name__}: {exc}")
            return None
        if result is None:
            return None
        return result if isinstance(result, bytes) else str(result).encode("latin-1")

    # -- IEEE 488.2 common commands and SYSTem:ERRor -----------------------------------
    @command("*IDN?")
    def _idn(self, call: Call) -> str:
        call.allow(0)
        return ",".join(self.idn)

    @command("*RST")
    def _rst(self, call: Call) -> None:
        call.allow(0)
        self.reset()

    @command("*CLS")
    def _cls(self, call: Call) -> None:
        call.allow(0)
        self._errors.clear()
        self._esr = 0

    @command("*OPC")
    def _opc(self, call: Call) -> None:
        call.allow(0)
        self._esr |= _OPC  # every operation completes before the next message is read

    @command("*OPC?")
    def _opc_query(self, call: Call) -> str:
        call.allow(0)
        return "1"

    @command("*WAI")
    def _wai(self, call: Call) -> None:
        call.allow(0)
        return None

    @command("*TST?")
    def _tst(self, call: Call) -> str:
        call.allow(0)
        return "0"

    @command("*OPT?")
    def _opt(self, call: Call) -> str:
        call.allow(0)
        return ",".join(self.options) if self.options else "0"

    @command("*ESR?")
    def _esr_query(self, call: Call) -> str:
        call.allow(0)
        value, self._esr = self._esr, 0
        return str(value)

    @command("*ESE")
    def _ese_set(self, call: Call) -> None:
        call.allow(1)
        self._ese = call.int(0, min=0, max=255)

    @command("*ESE?")
    def _ese_query(self, call: Call) -> str:
        call.allow(0)
        return str(self._ese)

    @command("*SRE")
    def _sre_set(self, call: Call) -> None:
        call.allow(1)
        self._sre = call.int(0, min=0, max=255) & ~_MSS

    @command("*SRE?")
    def _sre_query(self, call: Call) -> str:
        call.allow(0)
        return str(self._sre)

    @command("*STB?")
    def _stb(self, call: Call) -> str:
        call.allow(0)
        return str(self.status_byte())

    @command("SYSTem:ERRor[:NEXT]?")
    def _syst_err(self, call: Call) -> str:
        call.allow(0)
        code, message = self.pop_error()
        return f'{code},"{message}"'

    @command("SYSTem:ERRor:COUNt?")
    def _syst_err_count(self, call: Call) -> str:
        call.allow(0)
        return str(len(self._errors))

    @command("SYSTem:ERRor:ALL?")
    def _syst_err_all(self, call: Call) -> str:
        call.allow(0)
        if not self._errors:
            return '0,"No error"'
        items = [f'{code},"{message}"' for code, message in self._errors]
        self._errors.clear()
        return ",".join(items)

    @command("SYSTem:VERSion?")
    def _syst_version(self, call: Call) -> str:
        call.allow(0)
        return "1999.0"


def _build_router(cls: type) -> Router:
    """Collect (pattern, method name) pairs along the MRO, subclasses first."""
    entries: list[tuple[str, str]] = []
    for klass in cls.__mro__:
        for name, value in vars(klass).items():
            entries.extend((p, name) for p in patterns_of(value))
    return Router(entries)


ScpiModel._router = _build_router(ScpiModel)
