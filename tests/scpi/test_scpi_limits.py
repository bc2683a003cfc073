"""Bounded resources: clients, idle connections, message size, accept() errors, memory."""

from __future__ import annotations

import gc
import random
import socket
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from pathlib import Path

import pytest
from scpi_toy import ToyPSU, connect, errors, readline, until

from dotstack.mocks.scpi import ScpiModel, ScpiServer, format_block, serve_tcp
from dotstack.mocks.scpi.router import _CACHE_KEY_MAX, _CACHE_SIZE


class SmallPSU(ToyPSU):
    max_message_bytes = 4096


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


# -- clients -----------------------------------------------------------------------------------


def test_idle_client_is_disconnected(psu: ToyPSU) -> None:
    with serve_tcp(psu, idle_timeout=0.05) as server:
        with connect(server) as quiet, connect(server) as partial:
            partial.sendall(b"VOLT")  # half a message is no activity to wait for
            assert _closed_by_server(quiet)
            assert _closed_by_server(partial)
        until(lambda: server.client_count == 0)
        server.idle_timeout = None  # (for new connections) so a slow test run cannot race it
        with connect(server) as sock:  # new clients are still served
            sock.sendall(b"*OPC?\n")
            assert readline(sock) == b"1\n"
    assert psu.volts[1] == 0.0


def test_idle_timeout_default_and_none(psu: ToyPSU) -> None:
    with ScpiServer(psu) as server:
        assert server.idle_timeout == 3600.0
        assert server.max_clients == 32
    with ScpiServer(psu, idle_timeout=None) as server, connect(server) as sock:
        sock.sendall(b"*OPC?\n")
        assert readline(sock) == b"1\n"
    with pytest.raises(ValueError, match="idle_timeout"):
        ScpiServer(psu, idle_timeout=0)


def test_extra_client_is_closed_at_once(psu: ToyPSU, caplog: pytest.LogCaptureFixture) -> None:
    with ScpiServer(psu, max_clients=2) as server:
        first, second = connect(server), connect(server)
        for sock in (first, second):
            sock.sendall(b"*OPC?\n")
            assert readline(sock) == b"1\n"
        with connect(server) as extra:
            assert _closed_by_server(extra)
        assert any("already 2 clients" in r.getMessage() for r in caplog.records)
        assert server.client_count == 2
        first.close()
        until(lambda: server.client_count == 1)
        with connect(server) as again:
            again.sendall(b"*IDN?\n")
            assert readline(again).startswith(b"Toy Instruments")
        second.sendall(b"*OPC?\n")
        assert readline(second) == b"1\n"
        second.close()


# -- accept() errors ---------------------------------------------------------------------------

_EMFILE_SCRIPT = textwrap.dedent(
    """
    import logging, os, resource, socket, threading
    from dotstack.mocks.scpi import ScpiModel, serve_tcp

    seen = threading.Event()

    class Spy(logging.Handler):
        def emit(self, record):
            if "EMFILE" in record.getMessage():
                seen.set()

    logging.getLogger("dotstack.mocks.scpi.server").addHandler(Spy())
    server = serve_tcp(ScpiModel(), name="fd")
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # its descriptor, before...
    client.settimeout(30)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(128, hard), hard))
    filler = []
    try:  # ...every other one is taken: none left for accept()
        while True:
            filler.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pass
    client.connect((server.host, server.port))  # the kernel completes it: accept() fails
    assert seen.wait(30), "no EMFILE reported"
    for fd in filler:
        os.close(fd)
    client.sendall(b"*IDN?\\n")
    reply = b""
    while not reply.endswith(b"\\n"):
        reply += client.recv(100)
    assert reply.startswith(b"dotstack,ScpiModel"), reply
    other = socket.create_connection((server.host, server.port), timeout=30)
    other.sendall(b"*OPC?\\n")
    assert other.recv(100) == b"1\\n"
    server.close()
    print("served after EMFILE")
    """
)


def test_accept_loop_survives_running_out_of_descriptors(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _EMFILE_SCRIPT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "served after EMFILE" in done.stdout


def test_transient_accept_errors_are_retried(
    psu: ToyPSU, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import errno

    with serve_tcp(psu) as server:
        real_accept = socket.socket.accept
        failures = [errno.ECONNABORTED, errno.ENOBUFS, errno.ENFILE, errno.ENOMEM]

        def flaky_accept(self: socket.socket) -> tuple[socket.socket, object]:
            if self is server._listener and failures:
                raise OSError(failures.pop(0), "injected")
            return real_accept(self)

        # the accept loop may already wait in the real accept(): the failures then come
        # right after the first client, else right away; both clients are served either way
        monkeypatch.setattr(socket.socket, "accept", flaky_accept)
        with connect(server) as first:
            first.sendall(b"*OPC?\n")
            assert readline(first) == b"1\n"
            with connect(server) as second:
                second.sendall(b"*IDN?\n")
                assert readline(second).startswith(b"Toy Instruments")
        assert failures == []
        monkeypatch.undo()
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "ECONNABORTED" in logged  # the others may be held back by the rate limit
    assert server.closed


# -- message size ------------------------------------------------------------------------------


def test_oversized_text_message_is_refused_unparsed(caplog: pytest.LogCaptureFixture) -> None:
    psu = SmallPSU()
    with serve_tcp(psu) as server, connect(server) as sock:
        assert server.max_message == 4096
        big = b"LIST:VOLT " + b",".join(b"1.5" for _ in range(5000))
        sock.sendall(b"VOLT 1\n" + big[:3000])
        sock.sendall(big[3000:] + b"\nVOLT 2;*OPC?\n")
        assert readline(sock) == b"1\n"  # same connection, in step
        sock.sendall(b"SYST:ERR?\n")
        reply = readline(sock)
        assert reply.startswith(b'-223,"Too much data;')
        assert errors(psu) == []
    assert psu.volts[1] == 2.0
    assert psu.calls == [c for c in psu.calls if c.header != "LIST:VOLT"]  # never parsed
    assert any("dropped a message" in r.getMessage() for r in caplog.records)


def test_oversized_block_is_drained_to_its_end() -> None:
    psu = SmallPSU()
    data = b"\n" * 10_000  # newlines inside the block must not end the message
    message = b"TRAC:DATA 'big'," + format_block(data) + b";:VOLT 3\n"
    with serve_tcp(psu) as server, connect(server) as sock:
        for k in range(0, len(message), 1500):
            sock.sendall(message[k : k + 1500])
        sock.sendall(b"TRAC:DATA 'ok'," + format_block(b"\n\n") + b"\n*OPC?\n")
        assert readline(sock) == b"1\n"
    assert errors(psu) == [-223]
    assert psu.memory == {"ok": b"\n\n"}
    assert psu.volts[1] == 0.0  # the whole oversized message was dropped


def test_ten_megabyte_list_does_not_hold_the_qdac() -> None:
    from dotstack.mocks.instruments.qdac2 import QDac2Model

    qdac = QDac2Model(None)
    assert qdac.max_message_bytes >= 65536 * 18  # the longest legal text list fits
    huge = b"sour1:list:volt " + b",".join(b"0.123456" for _ in range(1_200_000)) + b"\n"
    assert len(huge) > 10_000_000
    with serve_tcp(qdac) as server, connect(server) as sender, connect(server) as other:
        sent = threading.Thread(target=sender.sendall, args=(huge + b"*OPC?\n",))
        sent.start()
        for _ in range(20):  # meanwhile another client is served
            other.sendall(b"sour2:volt?\n")
            assert float(readline(other)) == 0.0
        assert readline(sender) == b"1\n"
        sent.join(30)
        other.sendall(b"syst:err?\n")
        reply = readline(other)
        assert reply.startswith(b"-223") and b"Too much data" in reply
        assert qdac.error_count == 0
    assert not any(m.startswith("sour1:list:volt") for m in qdac.log)  # never handled


# -- extra parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        "*IDN? 1", "*RST 1", "*CLS 1", "*OPC 1", "*OPC? 1", "*WAI 1", "*TST? 1", "*OPT? 1",
        "*ESR? 1", "*ESE 1,2", "*ESE? 1", "*SRE 1,2", "*SRE? 1", "*STB? 1", "SYST:ERR? 1",
        "SYST:ERR:NEXT? 1", "SYST:ERR:COUN? 1", "SYST:ERR:ALL? 1", "SYST:VERS? 1", "*RST ,",
    ],
)  # fmt: skip
def test_extra_parameters_give_108(psu: ToyPSU, message: str) -> None:
    assert psu.handle(message.encode()) is None
    assert errors(psu) == [-108]


# -- memory ------------------------------------------------------------------------------------


def test_router_cache_stays_bounded(psu: ToyPSU) -> None:
    router = type(psu)._router
    for k in range(_CACHE_SIZE + 500):
        psu.handle(f"SOUR1:NOPE{k}".encode())
    psu.handle(b"SOUR1:" + b"X" * 100_000)
    assert len(router._cache) <= _CACHE_SIZE
    assert all(len(key) <= _CACHE_KEY_MAX for key in router._cache)
    assert psu.error_count == psu.error_queue_size
    code, text = psu.pop_error()
    assert code == -113 and len(text) < 80


def _qdac_messages(n: int, seed: int = 1) -> list[bytes]:
    rng = random.Random(seed)
    out: list[bytes] = []
    for k in range(n):
        ch = rng.randint(1, 24)
        v = rng.uniform(-1.0, 1.0)
        mix = (
            f"sour{ch}:volt {v:.6f}", f"sour{ch}:volt?", f"sour{ch}:filt?", f"sour{ch}:rang?",
            f"sour{ch}:volt:slew?", "syst:err?", "*opc?", f"sens{ch}:rang?",
            f"sour{ch}:bogus{k}",  # undefined, every one different: errors and router misses
            f"sour{ch}:list:volt {v:.3f},{-v:.3f},0", f"sour{ch}:dc:trig:sour?", "*idn? 1",
            f"outp:trig{rng.randint(1, 5)}:sour?", "syst:err:all?",
        )  # fmt: skip
        out.append(mix[k % len(mix)].encode())
    return out


def test_memory_stays_flat_over_100k_messages() -> None:
    from dotstack.mocks.instruments.qdac2 import QDac2Model

    qdac = QDac2Model(None)
    warmup, messages = _qdac_messages(5_000, seed=1), _qdac_messages(100_000, seed=2)
    for m in warmup:
        qdac.handle(m)
    gc.collect()
    tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        for m in messages:
            qdac.handle(m)
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert growth < 5_000_000, f"{growth / 1e6:.1f} MB more after 100k messages"
    assert len(qdac.log) <= 1000


def test_bare_model_class_limit() -> None:
    assert ScpiModel.max_message_bytes == 1 << 20
