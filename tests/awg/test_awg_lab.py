"""The AWG in the mock lab: our driver over the socket, default cabling, the mock station."""

import uuid
from pathlib import Path

import numpy as np
from awgtest_helpers import raster

from dotstack.drivers.awg5208 import AWG5208
from dotstack.drivers.protocols import AWG
from dotstack.ieee488 import format_block
from dotstack.mocks.lab import INSTRUMENTS, MockLab
from dotstack.mocks.physics.wiring import DEFAULT_TRIGGER_LINES
from dotstack.sequencer import render


def test_our_driver_over_the_socket(server, model, clock):
    name = f"awg_{uuid.uuid4().hex[:8]}"
    awg = AWG5208(name, server.address, sleep=clock.advance)
    try:
        prog = raster(8, 5)
        awg.prepare(prog)
        awg.arm()
        assert awg.run_state() == "running"
        ref = render(prog)
        for n, ch in enumerate(prog.channels, start=1):
            np.testing.assert_allclose(model.stream(n, prog.n_samples), ref[ch], atol=1e-12)
        assert awg.read_errors() == []
    finally:
        awg.close()


def test_mock_lab_serves_the_awg_after_the_dc_instruments_and_cables_its_marker():
    # served ports follow this order: instruments added later go at the end
    assert INSTRUMENTS[:5] == ("qdac", "dmm", "dmm_transport", "lab", "awg")
    assert DEFAULT_TRIGGER_LINES["awg.marker1"] == ["ats.trigA"]
    lab = MockLab.create(seed=3)
    seen = []
    lab.lab.add_trigger_input("ats.trigA", seen.append)  # where the digitizer will listen
    model = lab.models["awg"]
    assert model.command_time == 1e-3
    model.handle(b'WLIS:WAV:NEW "w",2400;:SLIS:SEQ:NEW "s",1')
    marks = np.zeros(2400, np.uint8)
    marks[:10] = 1
    model.handle(b'WLIS:WAV:MARK:DATA "w",' + format_block(marks.tobytes()))
    model.handle(b'SLIS:SEQ:STEP1:TASS1:WAV "s","w";:SLIS:SEQ:STEP1:RCO "s",3;'
                 b':SLIS:SEQ:STEP1:GOTO "s",END;:SOUR1:CASS:SEQ "s",1;:SOUR1:DAC:RES 15;:OUTP1 1')
    model.handle(b"AWGC:RUN")
    assert model.handle(b"AWGC:RST?") == b"2"
    lab.clock.advance(1e-3)
    t0 = model.run_started
    np.testing.assert_allclose(seen, t0 + 2400 * np.arange(3) / 2.5e9, atol=1e-15)


def test_mock_station_loads_the_awg():
    from dotstack.station import LabStation

    mock_yaml = Path(__file__).parents[2] / "dotstack" / "stations" / "mock.yaml"
    with LabStation.from_file(mock_yaml) as station:
        awg = station.instruments["awg"]
        assert isinstance(awg, AWG5208) and isinstance(awg, AWG)
        assert awg.run_state() == "stopped" and awg.sample_rate() == 2.5e9
