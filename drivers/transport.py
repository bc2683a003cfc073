"""Transports: how a driver reaches an instrument (PyVISA, or an in-process message handler).

Both speak the same bytes: ASCII commands terminated by '\\n', replies terminated by '\\n',
IEEE 488.2 definite-length blocks (``#<n><len><data>``) both ways.  Every failure (timeout,
lost connection, no reply) raises `TransportError` naming the instrument and the command, as
``qdac: 'sour1:volt:last?' -> timeout after 2 s``.  Every wait is bounded by the timeout.

After a timeout (or a binary block cut short) a reply may still arrive late and would be taken
for the answer to the next query: `VisaTransport` then opens a new connection before its next
command, so the stream is always in step.  A connection the instrument closed stays closed
(every command fails naming it) until the caller decides to `reopen` it.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import socket
import threading
import time
from typing import Any, Protocol, runtime_checkable

import pyvisa
from pyvisa import constants as visa_constants

from dotstack.ieee488 import MessageFramer, format_block

_ENCODING = "latin-1"


class TransportError(RuntimeError):
    """A command could not be delivered or answered; names the instrument and the command."""

    def __init__(self, instrument: str, command: str, reason: str) -> None:
        self.instrument = instrument
        self.command = command
        self.reason = reason
        super().__init__(f"{instrument}: {command!r} -> {reason}")

    def __str__(self) -> str:  # qcodes appends context to ``args``: keep the message readable
        return f"{self.instrument}: {self.command!r} -> {self.reason}"


@runtime_checkable
class MessageHandler(Protocol):
    """Anything that executes one program message and returns the reply (a ScpiModel fits)."""

    def handle(self, message: bytes) -> bytes | None: ...


@runtime_checkable
class Transport(Protocol):
    """The byte pipe under an SCPI driver."""

    name: str

    def write(self, command: str) -> None: ...

    def query(self, command: str) -> str: ...

    def write_block(self, header: str, data: bytes) -> None: ...

    def query_block(self, command: str) -> bytes: ...

    def close(self) -> None: ...


class InProcessTransport:
    """Talks to a `MessageHandler` in the same process (no socket), with the same framing.

    Replies are queued like bytes on a socket: a reply nobody read is what the next read gets.
    A read with nothing queued raises `TransportError` at once (where a socket would time out).
    """

    def __init__(self, handler: MessageHandler, *, name: str) -> None:
        self.handler = handler
        self.name = name
        self._framer = MessageFramer()
        self._out = bytearray()
        self._lock = threading.Lock()
        self._closed = False
        self._dropped = False

    def _send(self, data: bytes, command: str) -> None:
        if self._closed:
            raise TransportError(self.name, command, "transport is closed")
        if self._dropped:
            raise TransportError(self.name, command, "connection closed by the instrument")
        for message in self._framer.feed(data):
            try:
                reply = self.handler.handle(message)
            except ConnectionError:  # the handler hung up on us
                self._dropped = True
                self._framer = MessageFramer()
                self._out.clear()
                raise TransportError(self.name, command,
                                     "connection closed by the instrument") from None
            if reply is not None:
                self._out += reply + b"\n"

    def write(self, command: str) -> None:
        with self._lock:
            self._send(command.encode(_ENCODING) + b"\n", command)

    def query(self, command: str) -> str:
        with self._lock:
            self._send(command.encode(_ENCODING) + b"\n", command)
            end = self._out.find(b"\n")
            if end < 0:
                raise TransportError(self.name, command, "no reply (timeout)")
            line = bytes(self._out[:end])
            del self._out[: end + 1]
            return line.decode(_ENCODING).rstrip("\r")

    def write_block(self, header: str, data: bytes) -> None:
        with self._lock:
            self._send(header.encode(_ENCODING) + format_block(data) + b"\n", header)

    def query_block(self, command: str) -> bytes:
        with self._lock:
            self._send(command.encode(_ENCODING) + b"\n", command)
            try:
                data, used = _parse_block(bytes(self._out))
            except ValueError as exc:
                self._out.clear()
                raise TransportError(self.name, command, str(exc)) from None
            if self._out[used : used + 1] == b"\n":
                used += 1
            del self._out[:used]
            return data

    def reopen(self) -> None:
        """Connect again (after the handler closed the connection, or `close`)."""
        with self._lock:
            self._closed = self._dropped = False
            self._framer = MessageFramer()
            self._out.clear()

    def close(self) -> None:
        self._closed = True

    def __repr__(self) -> str:
        return f"<InProcessTransport {self.name} -> {type(self.handler).__name__}>"


def _parse_block(buf: bytes) -> tuple[bytes, int]:
    """Parse a definite-length block at the start of ``buf``: (data, bytes consumed)."""
    if not buf:
        raise ValueError("no reply (timeout)")
    start = buf.find(b"#")
    if start < 0 or buf[:start].strip():
        raise ValueError(f"reply is not a binary block: {buf[:40]!r}")
    nd = buf[start + 1] - 0x30 if len(buf) > start + 1 else -1
    if not 1 <= nd <= 9:
        raise ValueError(f"reply is not a definite-length block: {buf[:40]!r}")
    digits = buf[start + 2 : start + 2 + nd]
    if len(digits) < nd or not digits.isdigit():
        raise ValueError(f"bad block length field {digits!r}")
    begin = start + 2 + nd
    length = int(digits)
    if len(buf) < begin + length:
        raise ValueError(f"block declares {length} bytes, only {len(buf) - begin} arrived")
    return buf[begin : begin + length], begin + length


_managers: dict[str, pyvisa.ResourceManager] = {}
_managers_lock = threading.Lock()


def resource_manager(visa_library: str = "@py") -> pyvisa.ResourceManager:
    """One shared `pyvisa.ResourceManager` per VISA library."""
    with _managers_lock:
        rm = _managers.get(visa_library)
        if rm is None:
            rm = _managers[visa_library] = pyvisa.ResourceManager(visa_library)
        return rm


def _session_socket(resource: Any) -> socket.socket | None:
    """The socket object under a pyvisa-py raw SOCKET session, if there is one."""
    sessions = getattr(resource.visalib, "sessions", None)
    if not isinstance(sessions, dict):
        return None
    interface = getattr(sessions.get(resource.session), "interface", None)
    return interface if isinstance(interface, socket.socket) else None


def enable_nodelay(resource: Any) -> bool:
    """Set TCP_NODELAY on a pyvisa-py raw-socket resource (e.g. an upstream driver's
    ``visa_handle``); returns False where there is no such socket (other sessions, other
    backends).  Without it a write followed by a query waits ~40 ms for a delayed ACK."""
    sock = _session_socket(resource)
    if sock is None:
        return False
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return True


def resource_closed(resource: Any) -> bool:
    """True if the instrument closed a pyvisa-py raw socket resource (EOF waiting to be read);
    False where there is no such socket."""
    sock = _session_socket(resource)
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except (OSError, ValueError):
        return True


class VisaTransport:
    """A PyVISA resource ('\\n' termination both ways; TCP_NODELAY on raw sockets).

    ``timeout`` is in seconds (finite, > 0).  ``nodelay=False`` leaves Nagle's algorithm on
    (benchmarks only).  On a raw socket a query waits for its reply itself, so that a connection
    the instrument closes fails at once instead of after the timeout.
    """

    def __init__(
        self,
        resource: str,
        *,
        name: str,
        timeout: float = 5.0,
        visa_library: str = "@py",
        nodelay: bool = True,
    ) -> None:
        if isinstance(timeout, bool) or not (isinstance(timeout, int | float)
                                             and math.isfinite(timeout) and timeout > 0):
            raise ValueError(f"{name}: timeout must be a finite number of seconds > 0, "
                             f"got {timeout!r}")
        self.name = name
        self.resource_name = resource
        self.visa_library = visa_library
        self._nodelay = nodelay
        self._lock = threading.RLock()
        self._closed = False
        self._resync = False  # a late reply may come: reconnect before the next command
        self._open(round(timeout * 1000))

    def _open(self, timeout_ms: int) -> None:
        name, resource = self.name, self.resource_name
        try:
            self.resource: Any = resource_manager(self.visa_library).open_resource(
                resource, read_termination="\n", write_termination="\n", timeout=timeout_ms)
        except Exception as exc:
            raise TransportError(name, f"open {resource}", f"{type(exc).__name__}: {exc}") from exc
        self.socket = _session_socket(self.resource)
        if self.socket is not None:
            # pyvisa-py reports success even when the connection was refused: check here
            error = self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            try:
                self.socket.getpeername()
            except OSError as exc:
                error = error or exc.errno or -1
            if error:
                with contextlib.suppress(Exception):
                    self.resource.close()
                reason = os.strerror(error) if error > 0 else "not connected"
                raise TransportError(name, f"open {resource}", f"connection failed: {reason}")
        if resource.upper().endswith("::SOCKET"):
            self._set_nodelay(self._nodelay)

    def reopen(self) -> None:
        """Close the VISA session and open a new one (same timeout); `TransportError` if the
        instrument cannot be reached."""
        with self._lock:
            timeout_ms = self.resource.timeout
            with contextlib.suppress(Exception):
                self.resource.close()
            self._closed = False
            self._resync = False
            finite = isinstance(timeout_ms, int | float) and math.isfinite(timeout_ms)
            self._open(round(timeout_ms) if finite else 5000)

    @property
    def timeout(self) -> float | None:
        """The VISA timeout (s) in effect."""
        ms = self.resource.timeout
        return None if ms is None or math.isinf(ms) else ms / 1000

    def _set_nodelay(self, on: bool) -> None:
        if self.socket is not None:
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(on))
        else:  # another VISA library: ask it through the VISA attribute
            self.resource.set_visa_attribute(
                visa_constants.ResourceAttribute.tcpip_nodelay, bool(on)
            )

    @property
    def nodelay(self) -> bool:
        """Whether TCP_NODELAY is in effect on the underlying socket (read back from it)."""
        if self.socket is not None:
            return bool(self.socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        value = self.resource.get_visa_attribute(visa_constants.ResourceAttribute.tcpip_nodelay)
        return bool(value)

    def peer_closed(self) -> bool:
        """True if the instrument closed the raw socket (EOF waiting to be read)."""
        return self.socket is not None and resource_closed(self.resource)

    def _timed_out(self, command: str) -> TransportError:
        self._resync = True
        return TransportError(self.name, command, f"timeout after {self.timeout:g} s")

    def _fail(self, command: str, exc: Exception) -> TransportError:
        if self.peer_closed():
            reason = "connection closed by the instrument"
        elif isinstance(exc, pyvisa.errors.VisaIOError):
            if exc.error_code == visa_constants.StatusCode.error_timeout:
                return self._timed_out(command)
            reason = f"I/O error {exc.abbreviation}: {exc.description}"
        else:
            reason = f"connection failed ({type(exc).__name__}: {exc})"
        return TransportError(self.name, command, reason)

    def _check_open(self, command: str) -> None:
        if self._closed:
            raise TransportError(self.name, command, "transport is closed")
        if self._resync:  # a late reply may still come on this connection: use a new one
            try:
                self.reopen()
            except TransportError as exc:
                raise TransportError(self.name, command, f"reconnecting after a timeout failed "
                                     f"({exc.reason})") from exc
        if self.peer_closed():
            raise TransportError(self.name, command, "connection closed by the instrument")

    def _await_reply(self, command: str) -> None:
        """Wait (up to the timeout) until reply bytes or the end of the connection arrive."""
        sock, timeout = self.socket, self.timeout
        if sock is None or timeout is None:
            return  # the VISA library's own read timeout bounds the wait
        session = self.resource.visalib.sessions.get(self.resource.session)
        if getattr(session, "_pending_buffer", None):
            return
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                readable, _, _ = select.select([sock], [], [], max(remaining, 0.0))
                if readable:
                    if sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        raise TransportError(self.name, command,
                                             "connection closed by the instrument")
                    return
            except BlockingIOError:
                continue
            except (OSError, ValueError) as exc:
                raise TransportError(self.name, command,
                                     f"connection closed by the instrument ({exc})") from exc
            if remaining <= 0:
                raise self._timed_out(command)

    def write(self, command: str) -> None:
        with self._lock:
            self._check_open(command)
            try:
                self.resource.write(command)
            except Exception as exc:
                raise self._fail(command, exc) from exc

    def query(self, command: str) -> str:
        with self._lock:
            self._check_open(command)
            try:
                self.resource.write(command)
                self._await_reply(command)
                reply: str = self.resource.read()
            except TransportError:
                raise
            except Exception as exc:
                raise self._fail(command, exc) from exc
            return reply.rstrip("\r")

    def write_block(self, header: str, data: bytes) -> None:
        """Send ``header`` immediately followed by ``data`` as a definite-length block."""
        with self._lock:
            self._check_open(header)
            try:
                self.resource.write_raw(header.encode(_ENCODING) + format_block(data) + b"\n")
            except Exception as exc:
                raise self._fail(header, exc) from exc

    def query_block(self, command: str) -> bytes:
        """Send ``command`` and read a definite-length block reply (and its terminator)."""
        with self._lock:
            self._check_open(command)
            try:
                self.resource.write(command)
                self._await_reply(command)
                return self._read_block(command)
            except TransportError:
                self._resync = True  # the rest of the block may still come
                raise
            except Exception as exc:
                self._resync = True
                raise self._fail(command, exc) from exc

    def _read_block(self, command: str) -> bytes:
        head = self._read_exact(2)
        while head[:1] != b"#":  # skip white space before the block
            if head[:1] not in b" \t\r":
                raise TransportError(self.name, command, f"not a block: {head!r}")
            head = head[1:] + self._read_exact(1)
        nd = head[1] - 0x30
        if not 1 <= nd <= 9:
            raise TransportError(self.name, command, f"not a definite block: {head!r}")
        digits = self._read_exact(nd)
        if not digits.isdigit():
            raise TransportError(self.name, command, f"bad block length {digits!r}")
        data = self._read_exact(int(digits))
        tail = self._read_exact(1)
        if tail == b"\r":
            tail = self._read_exact(1)
        if tail != b"\n":
            raise TransportError(self.name, command, f"no terminator after block: {tail!r}")
        return data

    def _read_exact(self, count: int) -> bytes:
        if count == 0:
            return b""
        data: bytes = self.resource.read_bytes(count)
        return data

    def close(self) -> None:
        """Close the VISA session (idempotent); the shared resource manager stays open."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with contextlib.suppress(Exception):  # already gone (e.g. peer dropped)
                self.resource.close()

    def __repr__(self) -> str:
        return f"<VisaTransport {self.name} {self.resource_name}>"
