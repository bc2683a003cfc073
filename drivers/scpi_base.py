"""`ScpiInstrument`: a qcodes Instrument whose SCPI strings go through a `Transport`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from qcodes.instrument import Instrument

from dotstack.drivers.transport import Transport, TransportError, VisaTransport

T = TypeVar("T")

_ERROR = re.compile(r"\s*([+-]?\d+)\s*,\s*(.*)", re.DOTALL)


class InstrumentError(RuntimeError):
    """The instrument reported errors in its SCPI error queue."""

    def __init__(self, instrument: str, errors: list[tuple[int, str]],
                 command: str | None = None) -> None:
        self.instrument = instrument
        self.errors = errors
        self.command = command
        listed = "; ".join(f'{code},"{message}"' for code, message in errors)
        who = instrument if command is None else f"{instrument}: {command!r} ->"
        super().__init__(f"{who} reported {len(errors)} error(s): {listed}")


def parse_error(reply: str) -> tuple[int, str]:
    """Split a ``SYST:ERR?`` reply ``-113,"Undefined header"`` into (code, message)."""
    m = _ERROR.fullmatch(reply)
    if m is None:
        raise ValueError(f"not an SCPI error reply: {reply!r}")
    return int(m.group(1)), m.group(2).strip().strip('"')


class ScpiInstrument(Instrument):
    """An SCPI instrument reached by VISA ``address`` or by a given ``transport`` (exactly one).

    qcodes parameters with ``set_cmd``/``get_cmd`` strings work as usual: `write_raw` and
    `ask_raw` go through ``self.transport``.  ``timeout`` is in seconds.
    """

    #: Upper bound on SYST:ERR? reads in `check_errors` (a queue holds ~20 errors).
    max_error_reads = 100

    def __init__(
        self,
        name: str,
        address: str | None = None,
        *,
        transport: Transport | None = None,
        timeout: float = 5.0,
        visa_library: str = "@py",
        **kwargs: Any,
    ) -> None:
        if (address is None) == (transport is None):
            raise ValueError(f"{name}: give exactly one of address= or transport=")
        if transport is None:
            assert address is not None
            transport = VisaTransport(
                address, name=name, timeout=timeout, visa_library=visa_library
            )
        self.transport: Transport = transport
        try:
            super().__init__(name, **kwargs)
        except Exception:
            transport.close()
            raise

    #: the last command sent (for error messages that name it)
    last_command: str = ""

    def write_raw(self, cmd: str) -> None:
        self.last_command = cmd
        self.transport.write(cmd)

    def ask_raw(self, cmd: str) -> str:
        """Query ``cmd``; a query left without reply reports what the error queue says."""
        self.last_command = cmd
        try:
            return self.transport.query(cmd)
        except TransportError as exc:
            if "timeout" not in exc.reason or getattr(self, "_reading_errors", False):
                raise
            queue = self._error_queue_text()
            if queue is None:
                raise
            raise TransportError(exc.instrument, exc.command,
                                 f"{exc.reason}; error queue: {queue}") from exc

    def _error_queue_text(self) -> str | None:
        """The errors in the queue as text (None if there are none or it cannot be read)."""
        self._reading_errors = True
        try:
            errors = self.read_errors()
        except Exception:  # the instrument does not answer at all: say nothing more
            return None
        finally:
            self._reading_errors = False
        return "; ".join(f'{code},"{message}"' for code, message in errors) or None

    def ask_parsed(self, cmd: str, parse: Callable[[str], T]) -> T:
        """Query ``cmd`` and parse the reply; a reply that does not parse raises
        `TransportError` naming the instrument, the command and the reply."""
        reply = self.ask(cmd)
        try:
            return parse(reply)
        except (ValueError, TypeError, ArithmeticError):
            raise TransportError(self.name, cmd, f"garbled reply {reply[:60]!r}") from None

    def ask_float(self, cmd: str) -> float:
        return self.ask_parsed(cmd, float)

    def reconnect(self) -> None:
        """Open the connection again (after the instrument closed it, or a transport failure);
        the instrument's state is untouched.  `TransportError` if it cannot be reached."""
        reopen = getattr(self.transport, "reopen", None)
        if reopen is None:
            raise TransportError(self.name, "reconnect",
                                 f"{type(self.transport).__name__} cannot reconnect")
        reopen()

    def write_block(self, header: str, data: bytes) -> None:
        """Send ``header`` followed by ``data`` as an IEEE 488.2 definite-length block."""
        self.transport.write_block(header, data)

    def ask_block(self, cmd: str) -> bytes:
        """Send the query ``cmd`` and return the data of its binary-block reply."""
        return self.transport.query_block(cmd)

    def read_errors(self) -> list[tuple[int, str]]:
        """Drain the error queue with SYST:ERR? and return the errors (code, message)."""
        errors: list[tuple[int, str]] = []
        for _ in range(self.max_error_reads):
            code, message = parse_error(self.ask("SYSTem:ERRor?"))
            if code == 0:
                break
            errors.append((code, message))
        return errors

    def check_errors(self) -> None:
        """Raise `InstrumentError` listing every error in the instrument's queue (if any)."""
        command = self.last_command or None  # what the errors came after
        errors = self.read_errors()
        if errors:
            raise InstrumentError(self.name, errors, command)

    def close(self) -> None:
        """Close the transport, then the qcodes instrument."""
        transport = getattr(self, "transport", None)
        if transport is not None:
            transport.close()
        super().close()
