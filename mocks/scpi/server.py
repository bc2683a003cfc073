"""Loopback TCP server for an SCPI model: one port per instrument, several clients at once.

Connection structure
--------------------
Each accepted client gets one thread that both reads and executes.  It frames what it receives
into a small queue of messages (`MessageFramer.frame`), then executes them in order, one at a
time, under the model's lock; only when the queue is empty does it wait for (and read) more
bytes.  While a message is being executed the client's next bytes stay in the socket's receive
buffer, and that is how an interruption is seen: a peek (``MSG_PEEK | MSG_DONTWAIT``) finds
bytes that arrived after the message was framed.  `ScpiModel.interrupted` asks exactly that (a
long handler polls it and gives up early), and after a message ran, its reply is only sent if
no new bytes are waiting; otherwise the reply is dropped and -410 Query INTERRUPTED queued,
then the new message is read and executed.  Messages that arrived together with the current
one (a client pipelining ``"A?\\nB?\\n"`` in one write) were framed before it started and do
not interrupt it.  One thread instead of a reader handing messages to an executor keeps the
round trip free of a thread hand-off (a wake-up per message) and leaves nothing to
synchronise but the busy flag below.

Bounded resources: at most ``max_clients`` connections (an extra one is closed at once), each
closed after ``idle_timeout`` s without a byte from its client, and each message limited to
``max_message`` bytes (default: the model's ``max_message_bytes``), a longer one dropped as it
arrives without being parsed (-223 Too much data; the connection stays up).  The accept loop
survives transient errors (EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED...): it logs them
(rate-limited) and retries after a short back-off; only closing the listener ends it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import threading
import time
from collections import deque
from types import TracebackType

from dotstack.ieee488 import MessageFramer, Oversized
from dotstack.mocks.scpi.errors import ScpiError
from dotstack.mocks.scpi.faults import ConnectionDropped
from dotstack.mocks.scpi.model import ScpiModel, bind_session

log = logging.getLogger(__name__)

_RECV_SIZE = 1 << 16
_PEEK = socket.MSG_PEEK | socket.MSG_DONTWAIT
_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)
_POLL_IN = select.POLLIN
#: accept() errors that mean "not now" (out of descriptors or buffers, a client that gave up)
TRANSIENT_ACCEPT_ERRORS = frozenset(
    getattr(errno, name)
    for name in ("EMFILE", "ENFILE", "ENOBUFS", "ENOMEM", "ECONNABORTED", "EPROTO", "EPERM",
                 "EAGAIN", "EINTR", "ENETDOWN", "ENOPROTOOPT", "EHOSTDOWN", "ENONET",
                 "EHOSTUNREACH", "EOPNOTSUPP", "ENETUNREACH")
    if hasattr(errno, name)
)  # fmt: skip
_BACKOFF_MIN = 0.01
_BACKOFF_MAX = 0.5
_LOG_EVERY = 5.0  # s between two log lines of the same kind


class _RateLimiter:
    """Lets one log line of each kind through every ``every`` s, counting the ones held back."""

    def __init__(self, every: float = _LOG_EVERY) -> None:
        self.every = every
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(self, key: str) -> int | None:
        """None: stay quiet; else the number of lines held back since the last one."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self.every:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            self._last[key] = now
            return self._held.pop(key, 0)


class _Connection:
    """One client: its socket and the busy flag `ScpiServer.busy_threads` reads."""

    __slots__ = (
        "busy", "closed", "ident", "lock", "peer", "poller", "ready", "server_closed", "sock"
    )  # fmt: skip

    def __init__(self, sock: socket.socket, peer: str, server_closed: threading.Event) -> None:
        self.sock = sock
        self.peer = peer
        self.server_closed = server_closed
        self.lock = threading.Lock()  # guards busy, closed and the peeks against close
        self.busy = True  # until its thread first waits for input
        self.closed = False
        self.ident = 0  # the serving thread's threading.get_ident()
        self.ready = threading.Event()  # set once the connection is registered
        self.poller = select.poll()  # for the connection's own thread only
        self.poller.register(sock, _POLL_IN)

    def unread(self) -> bool:
        """True if bytes from the client wait in the socket (EOF and errors: False)."""
        try:
            return bool(self.sock.recv(1, _PEEK))
        except OSError:  # BlockingIOError: nothing there; others: closed or reset
            return False

    def arrived(self) -> bool:
        """`unread`, cheaper when nothing is there (the connection's own thread only)."""
        return bool(self.poller.poll(0)) and self.unread()

    def interrupted(self) -> bool:
        """The `Session` of this connection: a new message arrived, or the server is closing."""
        return self.server_closed.is_set() or self.arrived()

    def has_work(self) -> bool:
        """Busy, or bytes waiting (lock held by the caller)."""
        return self.busy or (not self.closed and self.unread())


class ScpiServer:
    """Serves one `ScpiModel` on ``host:port`` (raw socket, '\\n'-terminated messages).

    Each accepted client gets its own thread and TCP_NODELAY.  Before that thread waits for
    input it sets TCP_QUICKACK if it read bytes since its last reply, which sends their ACK at
    once: a client with Nagle's algorithm on is not held up by delayed ACKs after a message
    without reply (after a query, the reply carries the ACK: no extra packet per query, which
    setting it after every read would cost).  Malformed input only puts errors into the model's
    queue.  See the module docstring for the
    connection structure and the limits (``max_clients``, ``idle_timeout`` in s or None,
    ``max_message`` in bytes).
    """

    def __init__(
        self,
        model: ScpiModel,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str | None = None,
        max_message: int | None = None,
        max_clients: int = 32,
        idle_timeout: float | None = 3600.0,
    ) -> None:
        if idle_timeout is not None and not idle_timeout > 0:
            raise ValueError(f"idle_timeout must be > 0 s or None, got {idle_timeout}")
        if max_clients < 1:
            raise ValueError(f"max_clients must be >= 1, got {max_clients}")
        self.model = model
        self.name = name or type(model).__name__
        self.max_message = model.max_message_bytes if max_message is None else max_message
        self.max_clients = max_clients
        self.idle_timeout = idle_timeout
        self._listener = socket.create_server((host, port))
        self.host, self.port = self._listener.getsockname()[:2]
        self._lock = threading.Lock()
        self._clients: dict[_Connection, threading.Thread] = {}
        self._closed = threading.Event()
        self._quiet = _RateLimiter()
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

    def busy_threads(self) -> set[int]:
        """The `threading.get_ident` of each connection thread that has work pending.

        A connection has work pending while a framed message is queued or being executed, or
        while bytes from its client wait unread in its socket.  Thread-safe and race-free: a
        connection thread marks itself busy (under the connection's lock) *before* it consumes
        bytes from its socket, and marks itself idle only when its queue is empty, just before
        it waits for input; this method reads the flag and, if it is clear, peeks at the socket
        under that same lock.  So bytes never leave a socket while their connection looks idle:
        an empty result means that no client message received so far is waiting to be executed
        (a virtual lab clock waits for that before it advances).  Connections still in the
        listen backlog (not yet accepted) are not seen.
        """
        with self._lock:
            conns = list(self._clients)
        busy: set[int] = set()
        for conn in conns:
            with conn.lock:
                if conn.has_work():
                    busy.add(conn.ident)
        return busy

    # -- accepting ---------------------------------------------------------------------
    def _say(
        self, level: int, key: str, text: str, *args: object, exc_info: bool = False
    ) -> None:
        """Log ``text % args`` at ``level``, at most once per ``_LOG_EVERY`` s per ``key``."""
        held = self._quiet(key)
        if held is not None:
            suffix = f" ({held} more since the last report)" if held else ""
            log.log(level, f"%s: {text}{suffix}", self.name, *args, exc_info=exc_info)

    def _accept_loop(self) -> None:
        backoff = _BACKOFF_MIN
        while not self._closed.is_set():
            try:
                sock, peer = self._listener.accept()
            except OSError as exc:
                if self._closed.is_set() or self._listener.fileno() < 0:
                    break  # listener shut down by close()
                code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
                level = logging.WARNING if exc.errno in TRANSIENT_ACCEPT_ERRORS else logging.ERROR
                self._say(level, f"accept-{code}", "accept() failed (%s: %s); retrying", code, exc)
                self._closed.wait(backoff)
                backoff = min(backoff * 2, _BACKOFF_MAX)
                continue
            backoff = _BACKOFF_MIN
            try:
                self._admit(sock, f"{peer[0]}:{peer[1]}")
            except Exception:  # e.g. no thread available: refuse this client only
                self._say(logging.ERROR, "admit", "could not serve a new client", exc_info=True)
                with contextlib.suppress(OSError):
                    sock.close()

    def _admit(self, sock: socket.socket, peer: str) -> None:
        with self._lock:
            full = len(self._clients) >= self.max_clients
        if full:
            self._say(logging.WARNING, "full", "refused %s: already %d clients", peer,
                      self.max_clients)
            sock.close()
            return
        try:
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the client is already gone
            sock.close()
            return
        conn = _Connection(sock, peer, self._closed)
        thread = threading.Thread(
            target=self._serve_client, args=(conn,), name=f"scpi-{self.name}-{peer}", daemon=True
        )
        thread.start()  # waits for conn.ready before it touches the socket
        conn.ident = thread.ident or 0
        with self._lock:
            if self._closed.is_set():
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            else:
                self._clients[conn] = thread
        conn.ready.set()

    # -- serving one client ------------------------------------------------------------
    def _serve_client(self, conn: _Connection) -> None:
        conn.ready.wait()
        bind_session(conn)
        try:
            self._serve(conn)
        except OSError:
            pass  # client went away or close() shut the socket
        except Exception:  # a bug here must not go unnoticed, nor take the server down
            log.exception("%s: connection %s failed", self.name, conn.peer)
        finally:
            bind_session(None)
            with self._lock:
                self._clients.pop(conn, None)
            with conn.lock:
                conn.closed = True
                conn.busy = False
                conn.sock.close()

    def _serve(self, conn: _Connection) -> None:
        sock, poller = conn.sock, conn.poller
        timeout_ms = None if self.idle_timeout is None else max(1, round(self.idle_timeout * 1000))
        framer = MessageFramer(self.max_message)
        queue: deque[bytes | Oversized] = deque()
        model = self.model
        ack_owed = False  # bytes were read since the last reply (which carried their ACK)
        while not self._closed.is_set():
            if not queue:
                if ack_owed and _QUICKACK is not None:
                    # ACK now what no reply acknowledged (this also sends a pending delayed
                    # ACK), so that a client with Nagle's algorithm on sends its next message
                    sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
                ack_owed = False
                with conn.lock:
                    conn.busy = False
                if not poller.poll(timeout_ms):
                    log.info("%s: closing %s, idle for %s s", self.name, conn.peer, self.idle_timeout)
                    return
                with conn.lock:
                    conn.busy = True  # before a byte leaves the socket
                data = sock.recv(_RECV_SIZE)
                if not data:
                    return
                ack_owed = True
                queue.extend(framer.frame(data))
                continue
            item = queue.popleft()
            if isinstance(item, Oversized):
                err = ScpiError.too_much_data(item.describe())  # printable, short
                model.push_error(err.code, err.queue_text())
                self._say(logging.WARNING, "oversized", "dropped a message from %s: %s",
                          conn.peer, item.describe())
                continue
            try:
                reply = self._handle(item)
            except ConnectionDropped:  # a fault: the instrument hangs up on this client
                log.info("%s: dropping %s (injected fault)", self.name, conn.peer)
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return
            if reply is None:
                continue
            if conn.arrived():  # the client sent a new message before this reply went out
                model.push_error(-410, "Query INTERRUPTED")
                continue
            sock.sendall(reply + b"\n")
            ack_owed = False

    def _handle(self, message: bytes) -> bytes | None:
        try:
            return self.model.handle(message)
        except ConnectionDropped:
            raise
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
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._accept_thread.join(timeout)
        with self._lock:
            clients = dict(self._clients)
        for conn in clients:
            with conn.lock:
                if not conn.closed:
                    with contextlib.suppress(OSError):
                        conn.sock.shutdown(socket.SHUT_RDWR)
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
    model: ScpiModel,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    name: str | None = None,
    max_clients: int = 32,
    idle_timeout: float | None = 3600.0,
) -> ScpiServer:
    """Start serving ``model`` on ``host:port`` (port 0: an ephemeral port) in the background."""
    return ScpiServer(
        model, host, port, name=name, max_clients=max_clients, idle_timeout=idle_timeout
    )
