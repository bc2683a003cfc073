"""Loopback TCP server for an SCPI model: one port per instrument, several clients at once."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from types import TracebackType

from dotstack.ieee488 import MessageFramer
from dotstack.mocks.scpi.model import ScpiModel

log = logging.getLogger(__name__)

_RECV_SIZE = 1 << 16


class ScpiServer:
    """Serves one `ScpiModel` on ``host:port`` (raw socket, '\\n'-terminated messages).

    Each accepted client gets its own thread and TCP_NODELAY.  Malformed input only puts
    errors into the model's queue; a message too long for the framer drops that client.
    """

    def __init__(
        self,
        model: ScpiModel,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str | None = None,
        max_message: int = 1 << 30,
    ) -> None:
        self.model = model
        self.name = name or type(model).__name__
        self.max_message = max_message
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._clients: dict[socket.socket, threading.Thread] = {}
        self._closed = threading.Event()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"scpi-{self.name}-accept", daemon=True
        )
        self._accept_thread.start()

    @property
    def address(self) -> str:
        """The VISA resource name of this server."""
        return f"TCPIP0::{self.host}::{self.port}::SOCKET"

    @property
    def client_count(self) -> int:
        with self._lock:
            return len(self._clients)

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, peer = self._listener.accept()
            except OSError:
                break  # listener shut down by close()
            conn.setblocking(True)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            thread = threading.Thread(
                target=self._serve_client,
                args=(conn,),
                name=f"scpi-{self.name}-{peer[0]}:{peer[1]}",
                daemon=True,
            )
            with self._lock:
                if self._closed.is_set():
                    conn.close()
                    break
                self._clients[conn] = thread
            thread.start()

    def _serve_client(self, conn: socket.socket) -> None:
        framer = MessageFramer(self.max_message)
        try:
            while not self._closed.is_set():
                data = conn.recv(_RECV_SIZE)
                if not data:
                    break
                try:
                    messages = framer.feed(data)
                except ValueError as exc:
                    self.model.push_error(-223, f"Too much data;{exc}")
                    break
                for message in messages:
                    reply = self._handle(message)
                    if reply is not None:
                        conn.sendall(reply + b"\n")
        except OSError:
            pass  # client went away or close() shut the socket
        finally:
            with self._lock:
                self._clients.pop(conn, None)
            conn.close()

    def _handle(self, message: bytes) -> bytes | None:
        try:
            return self.model.handle(message)
        except Exception:  # handle() should never raise; the server must survive if it does
            log.exception("%s: model failed on %r", self.name, message[:200])
            self.model.push_error(-300, "Device-specific error;internal error")
            return None

    def close(self, timeout: float = 2.0) -> None:
        """Stop accepting, disconnect every client and join the threads (idempotent)."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            clients = dict(self._clients)
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in clients:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._accept_thread.join(timeout)
        for thread in clients.values():
            thread.join(timeout)

    def __enter__(self) -> ScpiServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<ScpiServer {self.name} at {self.address} ({state})>"


def serve_tcp(
    model: ScpiModel, host: str = "127.0.0.1", port: int = 0, *, name: str | None = None
) -> ScpiServer:
    """Start serving ``model`` on ``host:port`` (port 0: an ephemeral port) in the background."""
    return ScpiServer(model, host, port, name=name)
