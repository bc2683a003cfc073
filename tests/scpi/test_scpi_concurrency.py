"""One connection's messages while a handler runs: -410 Query INTERRUPTED, `interrupted()`,
and `ScpiServer.busy_threads()` (the quiescence probe of a virtual lab clock)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from scpi_toy import Gate, ToyPSU, connect, errors, readline, until

from dotstack.mocks.scpi import ScpiServer, serve_tcp
from dotstack.mocks.scpi.server import _Connection


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def gate_server(gate: Gate) -> Iterator[ScpiServer]:
    with serve_tcp(gate, name="gate") as srv:
        yield srv


def _only_connection(server: ScpiServer) -> _Connection:
    until(lambda: server.client_count == 1)
    with server._lock:
        (conn,) = server._clients
    return conn


def test_interrupted_is_false_outside_a_server(gate: Gate) -> None:
    assert gate.interrupted() is False
    gate.release.set()
    assert gate.handle(b"WAIT?") == b"released"
    assert gate.interrupted_at_entry is False


def test_new_message_interrupts_a_polling_query(gate_server: ScpiServer, gate: Gate) -> None:
    with connect(gate_server) as sock:
        sock.sendall(b"WAIT?\n")
        assert gate.entered.wait(10)
        assert gate.interrupted_at_entry is False
        sock.sendall(b"*IDN?\n")  # the client gave up waiting and goes on
        assert gate.gave_up.wait(10)  # the handler noticed and stopped early
        assert readline(sock) == b"Toy Instruments,GATE,SN002,1.0\n"  # no stale "gave up"
        sock.sendall(b"SYST:ERR?\n")
        assert readline(sock) == b'-410,"Query INTERRUPTED"\n'
        sock.sendall(b"SYST:ERR?\n")
        assert readline(sock) == b'0,"No error"\n'


def test_reply_of_a_non_polling_query_is_never_sent_late(
    gate_server: ScpiServer, gate: Gate
) -> None:
    with connect(gate_server) as sock:
        sock.sendall(b"HOLD?\n")
        assert gate.entered.wait(10)
        conn = _only_connection(gate_server)
        sock.sendall(b"*OPC?\n")
        until(conn.unread)  # the new message waits in the server's socket
        gate.release.set()
        assert readline(sock) == b"1\n"  # the "held" reply was dropped
    assert errors(gate) == [-410]


def test_new_message_after_a_set_command_is_no_interruption(
    gate_server: ScpiServer, gate: Gate
) -> None:
    with connect(gate_server) as sock:
        sock.sendall(b"HOLD\n")
        assert gate.entered.wait(10)
        conn = _only_connection(gate_server)
        sock.sendall(b"*OPC?\n")
        until(conn.unread)
        gate.release.set()
        assert readline(sock) == b"1\n"
    assert errors(gate) == []


def test_pipelined_queries_in_one_write_are_all_answered(server: ScpiServer) -> None:
    with connect(server) as sock:
        sock.sendall(b"*OPC?\n*IDN?\nVOLT?\n")
        assert readline(sock) == b"1\n"
        assert readline(sock).startswith(b"Toy Instruments")
        assert readline(sock) == b"+0.00000000E+00\n"


def test_interruption_is_per_connection(gate_server: ScpiServer, gate: Gate) -> None:
    with connect(gate_server) as a, connect(gate_server) as b:
        a.sendall(b"WAIT?\n")
        assert gate.entered.wait(10)
        b.sendall(b"*OPC?\n")  # another client: waits for the model, interrupts nothing
        gate.release.set()
        assert readline(a) == b"released\n"
        assert readline(b) == b"1\n"
        assert not gate.gave_up.is_set()
    assert errors(gate) == []


def test_close_interrupts_a_polling_handler(gate: Gate) -> None:
    server = serve_tcp(gate, name="gate")
    sock = connect(server)
    sock.sendall(b"WAIT?\n")
    assert gate.entered.wait(10)
    server.close()
    assert gate.gave_up.is_set()
    assert sock.recv(100) == b""
    sock.close()


# -- busy_threads ------------------------------------------------------------------------------


def test_busy_threads_empty_when_idle(gate_server: ScpiServer) -> None:
    assert gate_server.busy_threads() == set()
    with connect(gate_server) as a, connect(gate_server) as b:
        for sock in (a, b):
            sock.sendall(b"*OPC?\n")
            assert readline(sock) == b"1\n"
        until(lambda: gate_server.busy_threads() == set())
    until(lambda: gate_server.client_count == 0)
    assert gate_server.busy_threads() == set()


def test_busy_threads_names_the_thread_running_a_handler(
    gate_server: ScpiServer, gate: Gate
) -> None:
    with connect(gate_server) as sock, connect(gate_server) as other:
        other.sendall(b"*OPC?\n")
        assert readline(other) == b"1\n"
        sock.sendall(b"HOLD?\n")
        assert gate.entered.wait(10)
        conn = _only_busy(gate_server)
        assert gate_server.busy_threads() == {gate.thread_ident} == {conn.ident}
        gate.release.set()
        assert readline(sock) == b"held\n"
        until(lambda: gate_server.busy_threads() == set())


def _only_busy(server: ScpiServer) -> _Connection:
    until(lambda: len(server.busy_threads()) == 1)
    (ident,) = server.busy_threads()
    with server._lock:
        return next(c for c in server._clients if c.ident == ident)


def test_busy_while_messages_are_queued_behind_a_handler(
    gate_server: ScpiServer, gate: Gate
) -> None:
    with connect(gate_server) as sock:
        sock.sendall(b"HOLD;*OPC?\n*OPC?\n")  # the second message is framed and queued
        assert gate.entered.wait(10)
        ident = gate.thread_ident
        assert gate_server.busy_threads() == {ident}
        gate.release.set()
        assert readline(sock) == b"1\n"
        assert readline(sock) == b"1\n"
        until(lambda: gate_server.busy_threads() == set())


def test_unread_bytes_make_a_connection_busy_before_its_thread_wakes(
    server: ScpiServer, psu: ToyPSU
) -> None:
    """The race the invariant closes: bytes arrived, the thread has not marked itself busy."""
    with connect(server) as sock:
        sock.sendall(b"*OPC?\n")
        assert readline(sock) == b"1\n"
        conn = _only_connection(server)
        until(lambda: server.busy_threads() == set())
        with conn.lock:  # the thread wakes up but cannot mark itself busy, so cannot recv
            assert not conn.busy
            sock.sendall(b"VOLT 2\n")
            until(conn.unread)
            assert conn.has_work()  # what busy_threads() reports under this lock
        until(lambda: psu.volts[1] == 2.0)
        until(lambda: server.busy_threads() == set())


def test_busy_threads_is_safe_under_concurrent_traffic(server: ScpiServer, psu: ToyPSU) -> None:
    stop = threading.Event()
    seen: list[set[int]] = []

    def probe() -> None:
        while not stop.is_set():
            seen.append(server.busy_threads())

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        socks = [connect(server) for _ in range(3)]
        for k in range(200):
            for sock in socks:
                sock.sendall(f"VOLT {k % 10};VOLT?\n".encode())
            for sock in socks:
                readline(sock)
        with server._lock:
            idents = {c.ident for c in server._clients}
        for sock in socks:
            sock.close()
    finally:
        stop.set()
        prober.join(10)
    assert all(s <= idents for s in seen)
    assert errors(psu) == []


def test_client_with_nagle_is_served(server: ScpiServer, psu: ToyPSU) -> None:
    with connect(server, nodelay=False) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        for k in range(5):
            sock.sendall(f"VOLT {k}\n".encode())
            sock.sendall(b"VOLT?\n")
            assert float(readline(sock)) == k
