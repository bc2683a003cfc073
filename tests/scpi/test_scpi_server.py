"""The loopback TCP server: raw clients, several at once, bad input, clean shutdown."""

from __future__ import annotations

import socket
import threading
import weakref

import pytest
from scpi_toy import ToyPSU, errors

from dotstack.mocks.scpi import ScpiServer, format_block, serve_tcp


def _connect(server: ScpiServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=5.0)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


_readers: weakref.WeakKeyDictionary[socket.socket, bytearray] = weakref.WeakKeyDictionary()


def _readline(sock: socket.socket) -> bytes:
    """One '\\n'-terminated reply (bytes after it are kept for the next call)."""
    buf = _readers.setdefault(sock, bytearray())
    while b"\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(buf)!r}")
        buf += chunk
    end = buf.index(b"\n") + 1
    line = bytes(buf[:end])
    del buf[:end]
    return line


def test_address_and_loopback_default(server: ScpiServer) -> None:
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.address == f"TCPIP0::127.0.0.1::{server.port}::SOCKET"


def test_query_over_socket(server: ScpiServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"*IDN?\r\n")
        assert _readline(sock) == b"Toy Instruments,PSU-2,SN001,1.0\n"
        sock.sendall(b"VOLT 1;VOLT?\nSOUR2:VOLT?\n")
        assert _readline(sock) == b"+1.00000000E+00\n"
        assert _readline(sock) == b"+0.00000000E+00\n"


def test_block_holding_newlines_split_across_packets(server: ScpiServer, psu: ToyPSU) -> None:
    data = b"\n;\r\n" * 1000 + bytes(range(256))
    message = b"TRAC:DATA 'w'," + format_block(data) + b"\n"
    with _connect(server) as sock:
        for k in range(0, len(message), 997):
            sock.sendall(message[k : k + 997])
        sock.sendall(b"TRAC:DATA? 'w'\n")
        expected = format_block(data) + b"\n"
        got = bytearray()
        while len(got) < len(expected):
            got += sock.recv(65536)
    assert bytes(got) == expected
    assert psu.memory["w"] == data


def test_accepted_sockets_have_nodelay(server: ScpiServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"*OPC?\n")
        _readline(sock)
        with server._lock:
            accepted = [conn.sock for conn in server._clients]
        assert len(accepted) == 1
        assert accepted[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_bad_input_never_kills_the_server(server: ScpiServer, psu: ToyPSU) -> None:
    garbage = [
        b"\x00\xff\xfe\n",
        b"FOO BAR BAZ\n",
        b"VOLT 1.2.3.4\n",
        b"VOLT 1e999999\n",
        b"DEB:CRAS\n",
        b";;;\n",
        b"TRAC:DATA 'x',#9\n",
        b"(((\n",
        b"'unterminated\n",
        b"#0\n",
    ]
    with _connect(server) as sock:
        for g in garbage:
            sock.sendall(g)
        sock.sendall(b"*OPC?\n")
        assert _readline(sock) == b"1\n"
    codes = errors(psu)
    assert len(codes) >= len(garbage) - 1
    assert -300 in codes and -102 in codes
    # a fresh client still gets served
    with _connect(server) as sock:
        sock.sendall(b"*IDN?\n")
        assert _readline(sock).startswith(b"Toy Instruments")


def test_several_clients_at_once(server: ScpiServer, psu: ToyPSU) -> None:
    n_clients, n_queries = 4, 50
    failures: list[str] = []

    def client(k: int) -> None:
        with _connect(server) as sock:
            for j in range(n_queries):
                sock.sendall(f"DISP:TEXT 'c{k}-{j}';:DISP:TEXT?\n".encode())
                reply = _readline(sock)
                if reply != f'"c{k}-{j}"\n'.encode():  # message-level lock keeps pairs atomic
                    failures.append(f"client {k}: {reply!r}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert failures == []
    assert errors(psu) == []


def test_close_is_clean_and_idempotent(psu: ToyPSU) -> None:
    server = serve_tcp(psu, name="psu")
    clients = [_connect(server) for _ in range(3)]
    for sock in clients:
        sock.sendall(b"*OPC?\n")
        assert _readline(sock) == b"1\n"
    threads = [t for t in threading.enumerate() if t.name.startswith("scpi-psu")]
    assert len(threads) == 4  # accept loop + 3 clients
    server.close()
    server.close()
    assert server.closed
    assert not any(t.is_alive() for t in threads)
    for sock in clients:
        assert sock.recv(100) == b""  # the server hung up
        sock.close()
    with pytest.raises(OSError):
        socket.create_connection((server.host, server.port), timeout=1.0).close()


def test_context_manager_and_client_disconnects(psu: ToyPSU) -> None:
    with serve_tcp(psu) as server:
        for _ in range(3):
            with _connect(server) as sock:
                sock.sendall(b"*IDN?\n")
                _readline(sock)
        assert server.address.endswith("::SOCKET")
    assert server.closed
    assert "closed" in repr(server)
