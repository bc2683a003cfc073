"""The QDAC-II mock model itself (in-process SCPI): command set, errors, generators in lab time."""

import struct

import pytest

from dotstack.mocks.instruments import QDac2Model


def q(model, text):
    reply = model.handle(text.encode())
    return None if reply is None else reply.decode()


def errors(model):
    return q(model, "syst:err:all?")


def test_identity_and_no_lab_usable():
    m = QDac2Model()
    idn = q(m, "*IDN?")
    vendor, name, serial, firmware = idn.split(", ")  # spaced like the real instrument
    assert (vendor, name) == ("QDevil", "QDAC-II") and serial.isdigit() and "," not in firmware
    assert firmware.split("-")[1] >= "0.17.5"
    q(m, "sour1:volt 0.5")
    assert float(q(m, "sour1:volt?")) == 0.5 and m.output(1) == 0.5


def test_errors(model):
    q(model, "sour1:volt 10.5")
    assert errors(model).startswith("-222")
    q(model, "sour1:frobnicate 1")
    assert errors(model).startswith("-113")
    q(model, "sour30:volt 1")
    assert errors(model).startswith("-114")
    q(model, "sour1:rang middle")
    assert errors(model).startswith("-224")
    q(model, "sour1:volt 3;:sour1:rang low")
    assert errors(model).startswith("-221")  # the output does not fit the low range
    assert q(model, "sour1:rang?") == "high"
    q(model, "sour1:volt 0;:sour1:rang low;:sour1:volt 2.5")
    assert errors(model).startswith("-222")
    assert float(q(model, "sour1:rang:low:max?")) == 2.0
    assert float(q(model, "sour1:rang:high:min?")) == -10.0
    assert errors(model) == '0, "No error"'


def test_slew_is_seen_by_the_lab(model, lab, clock):
    q(model, "sour1:volt:slew 2;:sour1:volt 1")
    clock.advance(0.25)
    assert model.output(1) == pytest.approx(0.5)
    assert lab.output("qdac", 1) == pytest.approx(0.5)
    assert float(q(model, "sour1:volt?")) == 1.0  # the programmed level
    assert float(q(model, "sour1:volt:last?")) == pytest.approx(0.5)  # the present output
    q(model, "sour1:volt:slew 1e-3")
    assert errors(model).startswith("-222")
    q(model, "sour1:volt:slew inf")
    assert float(q(model, "sour1:volt:slew?")) > 1e37


def test_channel_lists_and_reset(model, lab):
    q(model, "sour:volt 0.25,(@1,3:4)")
    assert [model.output(n) for n in (1, 2, 3, 4)] == [0.25, 0.0, 0.25, 0.25]
    assert q(model, "sour:volt? (@1,2)").count(",") == 1
    currents = [float(x) for x in q(model, "read? (@1,2)").split(",")]
    assert currents[0] > 0 and currents[1] == 0
    q(model, "*RST")
    assert model.output(1) == 0.0 and lab.output("qdac", 3) == 0.0


def test_list_binary_block_and_timing(model, clock):
    values = [0.1, -0.2, 0.3]
    block = struct.pack("<3f", *values)
    model.handle(b"sour2:volt:mode list;:sour2:list:volt #212" + block)
    assert q(model, "sour2:list:poin?") == "3"
    q(model, "sour2:list:volt:app 0.4,0.5")
    assert q(model, "sour2:list:poin?") == "5"
    q(model, "sour2:list:volt 0.1,12")
    assert errors(model).startswith("-222") and q(model, "sour2:list:poin?") == "5"
    q(model, "sour2:list:dwel 0.01;coun 2;:sour2:dc:trig:sour imm;:sour2:dc:init")
    assert model.output(2) == pytest.approx(0.1)
    clock.advance(0.015)
    assert model.output(2) == pytest.approx(-0.2)
    clock.advance(0.05)  # second cycle, point 1
    assert model.output(2) == pytest.approx(-0.2) and q(model, "sour2:list:ncl?") == "1"
    clock.advance(1.0)
    assert model.output(2) == pytest.approx(0.5) and q(model, "sour2:list:ncl?") == "0"


def test_analog_sweep_is_a_ramp_in_the_lab(model, lab, clock):
    q(model, "sour3:volt:mode swe;:sour3:swe:star -1;stop 1;poin 101;dwel 0.01;gen anal")
    assert float(q(model, "sour3:swe:time?")) == pytest.approx(1.01)
    t0 = clock()
    q(model, "sour3:dc:init")
    clock.advance(2.0)
    assert lab.output("qdac", 3, t=t0 + 0.505) == pytest.approx(0.0, abs=1e-6)
    assert model.output(3) == pytest.approx(1.0)


def test_markers_chain_generators_and_external_input(model):
    # channel 5's start marker fires internal trigger 2, which starts channel 6's list
    q(model, "sour5:volt:mode list;:sour5:list:volt 0.5;:sour5:dc:mark:star 2")
    q(model, "sour5:dc:trig:sour ext1;:sour5:dc:init")
    q(model, "sour6:volt:mode list;:sour6:list:volt -0.5;tmod step;:sour6:dc:trig:sour int2")
    q(model, "sour6:dc:init;:outp:trig1:sour int2")
    assert model.output(5) == 0.0 and model.output(6) == 0.0
    model.external_input(1)
    assert model.output(5) == 0.5 and model.output(6) == -0.5
    assert len(model.pulses[1]) == 1
    assert q(model, "sour5:dc:mark:star?") == "2"


def test_current_sensor_queries(model):
    q(model, "sour7:volt 1;:sens7:rang low;:sens7:coun 3;:sens7:init")
    assert q(model, "sens7:data:poin?") == "3"
    assert float(q(model, "sens7:data:last?")) == pytest.approx(1e-11)
    assert len(q(model, "sens7:data:rem?").split(",")) == 3
    assert q(model, "sens7:data:poin?") == "0"
    assert q(model, "sens7:rang?") == "low"
