"""`dotstack mock-lab serve` as a lab uses it: a separate process, reached over PyVISA."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest

from dotstack.drivers.transport import enable_nodelay
from dotstack.mocks.lab import INSTRUMENTS
from dotstack.station import LabStation


def _free_port_block(n: int = 2) -> int:
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + n < 65535:
            try:
                socks = []
                for k in range(n):
                    t = socket.socket()
                    t.bind(("127.0.0.1", base + k))
                    socks.append(t)
                for t in socks:
                    t.close()
                return base
            except OSError:
                for t in socks:
                    t.close()
    raise RuntimeError("no free port block")


@pytest.fixture
def served(tmp_path_factory: pytest.TempPathFactory, serve) -> Iterator[tuple[int, list[str]]]:
    """(base port, the first two address lines) of a served lab on a virtual clock."""
    base = _free_port_block(len(INSTRUMENTS))
    with serve(tmp_path_factory.mktemp("serve"), clock="virtual", seed=3, base_port=base) as lab:
        yield base, [f"{name} {lab[name]}" for name in INSTRUMENTS[:2]]


def test_serve_prints_addresses_and_upstream_drivers_see_the_physics(served: tuple[int, list[str]]) -> None:
    from qcodes.instrument_drivers.Keysight import Keysight34465A
    from qcodes_contrib_drivers.drivers.QDevil.QDAC2 import QDac2

    base, lines = served
    assert lines[0].split() == ["qdac", f"TCPIP0::127.0.0.1::{base}::SOCKET"]
    assert lines[1].split() == ["dmm", f"TCPIP0::127.0.0.1::{base + 1}::SOCKET"]
    qdac = QDac2("up_qdac", lines[0].split()[1], visalib="@py")
    dmm = Keysight34465A("up_dmm", lines[1].split()[1], visalib="@py")
    # as LabStation does for upstream drivers: pyvisa-py leaves Nagle's algorithm on, so a gate
    # write could still sit in the client's buffer when the DMM's READ? arrives on its socket
    assert enable_nodelay(qdac.visa_handle) and enable_nodelay(dmm.visa_handle)
    dmm.NPLC(1)
    # the sensor plunger (channel 6) across a Coulomb peak: the current rises and falls
    currents = []
    for s in np.linspace(-0.004, 0.004, 17):
        qdac.ch06.dc_constant_V(float(s))
        time.sleep(0.002)
        currents.append(dmm.volt() / 1e8)
    currents_a = np.array(currents)
    assert currents_a.max() > 2 * currents_a.min() > 0
    # sweeping a plunger adds electrons to the double dot: the sensor current jumps at each one
    top = int(np.argmax(currents_a))
    half = (currents_a[top] + currents_a.min()) / 2
    rising = np.linspace(-0.004, 0.004, 17)[: top + 1]
    flank = float(np.interp(half, currents_a[: top + 1], rising))  # mid-height, rising side
    qdac.ch06.dc_constant_V(flank)
    trace = []
    for p1 in np.linspace(-0.1, 0.1, 41):
        qdac.ch01.dc_constant_V(float(p1))
        time.sleep(0.001)
        trace.append(np.mean([dmm.volt() for _ in range(3)]) / 1e8)
    jumps = np.abs(np.diff(trace))
    assert np.sort(jumps)[-2] > 4 * np.median(jumps)  # at least two transitions stand out


def test_station_connects_to_a_served_lab(served: tuple[int, list[str]]) -> None:
    base, _ = served
    text = f"""
instruments:
  qdac: {{type: dotstack.drivers.qdac2.QDac2}}
  dmm: {{type: qcodes.instrument_drivers.Keysight.Keysight34465A}}
dotstack:
  mock: {{connect: 127.0.0.1, base_port: {base}}}
  gates:
    S: {{instrument: qdac, channel: 6, limits: [-0.1, 0.1], max_ramp_rate: 5, max_step: 0.01}}
  readout:
    sensor: {{instrument: dmm, gain: 1.0e8, nplc: 1}}
"""
    with LabStation.from_yaml(text) as station:
        assert station.mock_lab is None and station.lab_time.mode == "virtual"
        truth = station.ground_truth()  # through the lab's control channel
        assert truth["seed"] == 3
        assert truth["time_domain"]["lines"]["P1"]["awg_channel"] == "1"  # the pulse path's too
        t0 = station.time()
        station.gate("S").set(0.05)  # a ramp over the socket, read back from the instrument
        assert station.gate("S").get() == pytest.approx(0.05, abs=1e-6)
        assert station.time() - t0 >= 0.05 / 5  # the ramp took its lab time (5 V/s)
        station.sleep(2.5)
        assert station.time() - t0 >= 2.5
        assert 1e-12 < station.readout().read() < 1e-8
