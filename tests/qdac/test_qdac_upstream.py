"""Upstream check: qcodes_contrib_drivers' QDevil.QDAC2 driver, unmodified, over the socket tier."""

import uuid

import numpy as np
import pytest

QDAC2 = pytest.importorskip("qcodes_contrib_drivers.drivers.QDevil.QDAC2")


def settle(qdac):
    """Wait until the mock has executed every command written so far (a query answers after)."""
    assert qdac.ask("*OPC?") == "1"


@pytest.fixture
def upstream(server):
    qdac = QDAC2.QDac2(f"up_{uuid.uuid4().hex[:8]}", server.address, visalib="@py")
    yield qdac
    qdac.close()


def test_identification(upstream):
    idn = upstream.IDN()
    assert idn["vendor"] == "QDevil" and idn["model"] == "QDAC-II"
    assert upstream.errors() == '0, "No error"'


def test_dc_voltages_reach_the_lab(upstream, lab):
    for ch, v in [(1, 0.31), (2, -0.42), (3, 1.5), (6, 0.8)]:
        upstream.channel(ch).dc_constant_V(v)
    assert upstream.ch01.dc_constant_V() == pytest.approx(0.31)
    assert upstream.ch02.dc_last_V() == pytest.approx(-0.42)
    gates = lab.gate_voltages()
    assert gates["P1"] == pytest.approx(0.31) and gates["P2"] == pytest.approx(-0.42)
    assert gates["B1"] == pytest.approx(1.5) and gates["S"] == pytest.approx(0.8)


def test_slew_rate(upstream, clock, lab):
    upstream.ch04.dc_slew_rate_V_per_s(2.0)
    assert upstream.ch04.dc_slew_rate_V_per_s() == 2.0
    upstream.ch04.dc_constant_V(1.0)
    settle(upstream)
    clock.advance(0.25)
    assert upstream.ch04.dc_last_V() == pytest.approx(0.5)
    assert lab.gate_voltages()["B2"] == pytest.approx(0.5)


def test_range_and_filter(upstream):
    upstream.ch05.output_mode(range="low", filter="dc")
    assert upstream.ch05.output_range() == "low" and upstream.ch05.output_filter() == "dc"
    assert upstream.ch05.output_low_range_maximum_V() == 2.0
    assert upstream.ch05.output_high_range_minimum_V() == -10.0
    upstream.ch05.dc_constant_V(3.0)  # outside the low range
    assert upstream.errors().startswith("-222")


def test_list_generator_binary_upload(upstream, clock, lab):
    volts = [0.1, 0.2, -0.3, 0.4]
    dc_list = upstream.ch01.dc_list(voltages=volts, dwell_s=0.01, repetitions=2)
    assert dc_list.points() == 4
    dc_list.append([0.5])  # binary block again
    assert np.allclose(dc_list.values_V(), [*volts, 0.5])
    dc_list.start()
    settle(upstream)
    clock.advance(0.025)
    assert upstream.ch01.dc_last_V() == pytest.approx(-0.3)
    assert lab.gate_voltages()["P1"] == pytest.approx(-0.3)
    assert dc_list.cycles_remaining() == 2
    settle(upstream)
    clock.advance(0.05)
    assert upstream.ch01.dc_last_V() == pytest.approx(-0.3)  # second cycle
    assert dc_list.cycles_remaining() == 1
    settle(upstream)
    clock.advance(1.0)
    assert upstream.ch01.dc_last_V() == pytest.approx(0.5)
    assert dc_list.cycles_remaining() == 0
    dc_list.close()
    assert upstream.errors() == '0, "No error"'


def test_sweep_generator_on_internal_trigger(upstream, clock, lab):
    sweep = upstream.ch02.dc_sweep(start_V=-1.0, stop_V=1.0, points=5, dwell_s=0.01)
    assert sweep.points() == 5 and sweep.time_s() == pytest.approx(0.05)
    assert np.allclose(sweep.values_V(), [-1.0, -0.5, 0.0, 0.5, 1.0])
    trigger = upstream.allocate_trigger()
    sweep.start_on(trigger)
    settle(upstream)
    clock.advance(0.1)
    assert upstream.ch02.dc_last_V() == 0.0  # armed, waiting for the trigger
    sweep.start()  # fires the internal trigger (TINT)
    settle(upstream)
    clock.advance(0.025)
    assert upstream.ch02.dc_last_V() == pytest.approx(0.0)
    assert lab.gate_voltages()["P2"] == pytest.approx(0.0)
    settle(upstream)
    clock.advance(1.0)
    assert upstream.ch02.dc_last_V() == pytest.approx(1.0)
    sweep.close()
    upstream.free_trigger(trigger)
    assert upstream.errors() == '0, "No error"'


def test_bus_trigger_and_abort(upstream, clock):
    dc_list = upstream.ch03.dc_list(voltages=[0.7, 0.8], dwell_s=0.01)
    upstream.start_all()  # *TRG starts generators left on the bus trigger
    settle(upstream)
    clock.advance(0.005)
    assert upstream.ch03.dc_last_V() == pytest.approx(0.7)
    upstream.abort()
    settle(upstream)
    clock.advance(1.0)
    assert upstream.ch03.dc_last_V() == pytest.approx(0.7)
    dc_list.close()
    assert upstream.errors() == '0, "No error"'
