"""SCPI query round trip: in-process, over the loopback socket via pyvisa-py, vs a bare echo.

Each line prints the median round trip and its ratio to a bare Python socket echo (one
'\\n'-terminated line out and back on loopback, TCP_NODELAY both sides), measured in the same
run.  The last line shows why TCP_NODELAY matters: a write followed by a query without it.
Run: python benchmarks/scpi_roundtrip.py [--n N]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
from collections.abc import Callable

from dotstack.drivers.transport import InProcessTransport, VisaTransport
from dotstack.mocks.scpi import Call, ScpiModel, command, format_float, serve_tcp

QUERY = "SOUR1:VOLT?"


class BenchSource(ScpiModel):
    """A one-channel source: enough to route a real handler query."""

    idn = ("dotstack", "BenchSource", "0", "1.0")

    def __init__(self) -> None:
        super().__init__()
        self.volts = 0.0

    @command("[SOURce#]:VOLTage[:LEVel]")
    def set_volt(self, call: Call) -> None:
        self.volts = call.float(0, min=-10.0, max=10.0)

    @command("[SOURce#]:VOLTage[:LEVel]?")
    def get_volt(self, call: Call) -> str:
        return format_float(self.volts)


def median_us(fn: Callable[[], object], n: int, warmup: int = 20) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1e6


class EchoServer:
    """Bare loopback line echo (the anchor): one client, TCP_NODELAY."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    conn.sendall(line + b"\n")

    def close(self) -> None:
        self.listener.close()
        self.thread.join(2.0)


def bare_echo_client(port: int) -> tuple[Callable[[], bytes], socket.socket]:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    message = QUERY.encode() + b"\n"

    def roundtrip() -> bytes:
        sock.sendall(message)
        out = sock.recv(4096)
        while not out.endswith(b"\n"):
            out += sock.recv(4096)
        return out

    return roundtrip, sock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="round trips per workload")
    parser.add_argument("--n-nagle", type=int, default=15, help="round trips without NODELAY")
    args = parser.parse_args()

    echo = EchoServer()
    roundtrip, echo_sock = bare_echo_client(echo.port)
    anchor = median_us(roundtrip, args.n)
    echo_sock.close()
    echo.close()

    model = BenchSource()
    inproc = InProcessTransport(model, name="bench")
    rows: list[tuple[str, float]] = []
    rows.append((f"in-process query {QUERY}", median_us(lambda: inproc.query(QUERY), args.n)))
    with serve_tcp(model, name="bench") as server:
        visa = VisaTransport(server.address, name="bench")
        assert visa.nodelay
        label = f"pyvisa-py query {QUERY}, TCP_NODELAY"
        rows.append((label, median_us(lambda: visa.query(QUERY), args.n)))

        def write_query(t: VisaTransport) -> Callable[[], str]:
            def run() -> str:
                t.write("SOUR1:VOLT 0.1")
                return t.query(QUERY)

            return run

        label = "pyvisa-py write+query, TCP_NODELAY"
        rows.append((label, median_us(write_query(visa), args.n // 4)))
        visa.close()
        nagle = VisaTransport(server.address, name="bench-nagle", nodelay=False)
        assert not nagle.nodelay
        label = "pyvisa-py write+query, NO TCP_NODELAY (contrast)"
        rows.append((label, median_us(write_query(nagle), args.n_nagle, warmup=3)))
        nagle.close()

    width = 52
    anchor_label = "bare socket echo round trip, TCP_NODELAY (anchor)"
    print(f"{anchor_label:<{width}} {anchor:10.1f} us  ratio  1.00")
    for label, value in rows:
        print(f"{label:<{width}} {value:10.1f} us  ratio {value / anchor:5.2f}")


if __name__ == "__main__":
    main()
