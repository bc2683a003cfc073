"""`ScpiInstrument`: a qcodes Instrument whose SCPI strings go through a `Transport`."""

from __future__ import annotations

import re
from typing import Any

from qcodes.instrument import Instrument

from dotstack.drivers.transport import Transport, VisaTransport

_ERROR = re.compile(r"\s*([+-]?\d+)\s*,\s*(.*)", re.DOTALL)


class InstrumentError(RuntimeError):
    """The instrument reported errors in its SCPI error queue."""

    def __init__(self, instrument: str, errors: list[tuple[int, str]]) -> None:
        self.instrument = instrument
        self.errors = errors
        listed = "; ".join(f'{code},"{message}"' for code, message in errors)
        super().__init__(f"{instrument} reported {len(errors)} error(s): {listed}")


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

    def write_raw(self, cmd: str) -> None:
        self.transport.write(cmd)

    def ask_raw(self, cmd: str) -> str:
        return self.transport.query(cmd)

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
        errors = self.read_errors()
        if errors:
            raise InstrumentError(self.name, errors)

    def close(self) -> None:
        """Close the transport, then the qcodes instrument."""
        transport = getattr(self, "transport", None)
        if transport is not None:
            transport.close()
        super().close()
