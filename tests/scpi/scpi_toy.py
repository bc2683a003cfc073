"""A toy two-channel power supply model and helpers for the SCPI framework tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from dotstack.mocks.scpi import (
    Call,
    ScpiError,
    ScpiModel,
    ScpiServer,
    command,
    format_block,
    format_float,
)


class ToyPSU(ScpiModel):
    """Two outputs with voltage/current, a mode, a waveform memory and a few odd commands."""

    idn = ("Toy Instruments", "PSU-2", "SN001", "1.0")

    def __init__(self) -> None:
        super().__init__()
        self.resets = 0
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.resets += 1
        self.volts = {1: 0.0, 2: 0.0}
        self.amps = {1: 0.1, 2: 0.1}
        self.output = {1: False, 2: False}
        self.mode = "FIXed"
        self.memory: dict[str, bytes] = {}
        self.routed: list[int] = []
        self.label = ""
        self.calls: list[Call] = []

    @command("[SOURce#]:VOLTage[:LEVel][:IMMediate][:AMPLitude]")
    def set_volt(self, call: Call) -> None:
        self.calls.append(call)
        self.volts[call.suffix(0, max=2)] = call.float(
            0, min=-10.0, max=10.0, default=0.0, unit="V"
        )

    @command("[SOURce#]:VOLTage[:LEVel][:IMMediate][:AMPLitude]?")
    def get_volt(self, call: Call) -> str:
        return format_float(self.volts[call.suffix(0, max=2)])

    @command("[SOURce#]:CURRent[:LEVel]")
    def set_curr(self, call: Call) -> None:
        self.amps[call.suffix(0, max=2)] = call.float(0, min=0.0, max=1.0, unit="A")

    @command("[SOURce#]:CURRent[:LEVel]?")
    def get_curr(self, call: Call) -> str:
        return format_float(self.amps[call.suffix(0, max=2)])

    @command("OUTPut#[:STATe]")
    def set_output(self, call: Call) -> None:
        self.output[call.suffix(0, max=2)] = call.bool(0)

    @command("OUTPut#[:STATe]?")
    def get_output(self, call: Call) -> str:
        return "1" if self.output[call.suffix(0, max=2)] else "0"

    @command("[SOURce#]:MODE")
    def set_mode(self, call: Call) -> None:
        self.mode = call.choice(0, ("FIXed", "LIST", "SWEep"))

    @command("[SOURce#]:MODE?")
    def get_mode(self, call: Call) -> str:
        return "".join(c for c in self.mode if c.isupper())  # short form, as instruments reply

    @command("TRACe:DATA")
    def set_trace(self, call: Call) -> None:
        call.require(2)
        self.memory[call.string(0)] = call.block(1)

    @command("TRACe:DATA?")
    def get_trace(self, call: Call) -> bytes:
        name = call.string(0)
        if name not in self.memory:
            raise ScpiError(-224, "Illegal parameter value", f"no trace {name!r}")
        return format_block(self.memory[name])

    @command("ROUTe:CLOSe")
    def route(self, call: Call) -> None:
        self.routed = call.channels(0)

    @command("ROUTe:CLOSe?")
    def route_query(self, call: Call) -> str:
        return ",".join(str(c) for c in self.routed)

    @command("DISPlay:TEXT")
    @command("DISPlay:TEXT:DATA")
    def set_text(self, call: Call) -> None:
        self.label = call.string(0)

    @command("DISPlay:TEXT?")
    def get_text(self, call: Call) -> str:
        return f'"{self.label}"'

    @command("LIST:VOLTage")
    def set_list(self, call: Call) -> None:
        self.calls.append(call)

    @command("LIST:VOLTage?")
    def get_list(self, call: Call) -> str:
        values = self.calls[-1].floats() if self.calls else []
        return ",".join(format_float(v) for v in values)

    @command("DEBug:CRASh")
    def crash(self, call: Call) -> None:
        raise ZeroDivisionError("boom")


def ask(model: ScpiModel, message: str) -> str | None:
    """Send one message to a model and decode the reply."""
    reply = model.handle(message.encode("latin-1"))
    return None if reply is None else reply.decode("latin-1")


def errors(model: ScpiModel) -> list[int]:
    """Drain the model's error queue; return the codes."""
    out: list[int] = []
    while True:
        code, _ = model.pop_error()
        if code == 0:
            return out
        out.append(code)


class Gate(ScpiModel):
    """Handlers that block until the test lets them go (to catch a connection mid-message)."""

    idn = ("Toy Instruments", "GATE", "SN002", "1.0")

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()  # a blocking handler has started
        self.release = threading.Event()  # let it finish
        self.gave_up = threading.Event()  # WAIT? saw interrupted()
        self.thread_ident = 0  # the thread that ran the last blocking handler
        self.interrupted_at_entry: bool | None = None

    def _enter(self) -> None:
        self.thread_ident = threading.get_ident()
        self.interrupted_at_entry = self.interrupted()
        self.entered.set()

    @command("WAIT?")
    def wait_query(self, call: Call) -> str:
        """Blocks until released, polling `interrupted` (gives up when it turns true)."""
        call.allow(0)
        self._enter()
        while not self.release.wait(0.001):
            if self.interrupted():
                self.gave_up.set()
                return "gave up"
        return "released"

    @command("HOLD?")
    def hold_query(self, call: Call) -> str:
        """Blocks until released, without looking at `interrupted`."""
        call.allow(0)
        self._enter()
        if not self.release.wait(30.0):
            raise ScpiError.device_error("never released")
        return "held"

    @command("HOLD")
    def hold(self, call: Call) -> None:
        self.hold_query(call)


def until(predicate: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait (bounded, generous) until ``predicate()`` is true; fail the test otherwise."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.001)


def connect(server: ScpiServer, *, nodelay: bool = True) -> socket.socket:
    """A raw client socket to ``server`` (generous timeout: a hang fails, never a slow run)."""
    sock = socket.create_connection((server.host, server.port), timeout=10.0)
    if nodelay:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def readline(sock: socket.socket) -> bytes:
    """One '\\n'-terminated reply, read byte by byte (nothing after it is consumed)."""
    out = bytearray()
    while not out.endswith(b"\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(out)!r}")
        out += chunk
    return bytes(out)
