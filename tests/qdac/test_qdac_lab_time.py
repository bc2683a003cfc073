"""The upstream QDAC2 driver against the mock: what its generators put into the lab, in lab time.

Every check reads the lab's output history (`VirtualLab.output` at past lab times) after the
manual clock was advanced: the mock schedules its steps, periods and markers on the lab clock,
so the levels are dated exactly, whatever the machine's speed.
"""

import math
import uuid

import numpy as np
import pytest

QDAC2 = pytest.importorskip("qcodes_contrib_drivers.drivers.QDevil.QDAC2")

NO_ERROR = '0, "No error"'


def settle(qdac):
    """Wait until the mock has executed every command written so far (a query answers after)."""
    assert qdac.ask("*OPC?") == "1"


@pytest.fixture
def upstream(server):
    qdac = QDAC2.QDac2(f"up_{uuid.uuid4().hex[:8]}", server.address, visalib="@py")
    yield qdac
    qdac.close()


def run(qdac, clock, start, seconds=1.0):
    """Settle, note the lab time, call ``start()``, settle, advance ``seconds``; -> start time."""
    settle(qdac)
    t0 = clock.now()
    start()
    settle(qdac)
    clock.advance(seconds)
    return t0


def test_timed_dc_list_has_its_levels_at_t0_plus_k_dwell(upstream, clock, lab):
    volts = [round(0.1 * k - 0.4, 3) for k in range(9)]
    dc_list = upstream.ch01.dc_list(voltages=volts, dwell_s=0.05)
    t0 = run(upstream, clock, dc_list.start)
    out = [lab.output("qdac", 1, t0 + k * 0.05) for k in range(9)]
    assert out == pytest.approx(volts)  # each level from exactly t0 + k * dwell
    mid = [lab.output("qdac", 1, t0 + (k + 0.5) * 0.05) for k in range(9)]
    assert mid == pytest.approx(volts)
    assert lab.output("qdac", 1, t0 - 1e-9) == 0.0
    assert lab.output("qdac", 1, t0 + 0.05 - 1e-9) == pytest.approx(volts[0])
    assert lab.output("qdac", 1) == pytest.approx(volts[-1])  # holds the last point
    assert dc_list.cycles_remaining() == 0
    dc_list.close()
    assert upstream.errors() == NO_ERROR


def test_end_marker_starts_the_next_sweep_exactly_when_the_first_ends(upstream, clock, lab):
    first = upstream.ch01.dc_list(voltages=[0.1, 0.2, 0.3], dwell_s=0.02)
    second = upstream.ch02.dc_sweep(start_V=-0.1, stop_V=-0.4, points=4, dwell_s=0.03)
    second.start_on(first.end_marker())
    t0 = run(upstream, clock, first.start)
    t_end = t0 + 3 * 0.02
    assert lab.output("qdac", 2, t_end - 1e-9) == 0.0
    assert lab.output("qdac", 2, t_end) == pytest.approx(-0.1)
    for k, v in enumerate([-0.1, -0.2, -0.3, -0.4]):
        assert lab.output("qdac", 2, t_end + k * 0.03) == pytest.approx(v)
    assert lab.output("qdac", 1, t_end + 1e-9) == pytest.approx(0.3)
    first.close()
    second.close()
    assert upstream.errors() == NO_ERROR


def test_step_markers_and_delay(upstream, clock, model):
    dc_list = upstream.ch04.dc_list(voltages=[0.1, 0.2, 0.3], dwell_s=0.01, delay_s=0.005)
    upstream.connect_external_trigger(2, dc_list.step_start_marker())
    upstream.connect_external_trigger(3, dc_list.step_end_marker())
    upstream.connect_external_trigger(4, dc_list.start_marker())
    t0 = run(upstream, clock, dc_list.start)
    assert list(model.pulses[4]) == [t0]  # the trigger time
    starts = [t0 + 0.005 + k * 0.01 for k in range(3)]
    assert list(model.pulses[2]) == pytest.approx(starts, abs=1e-15)
    assert list(model.pulses[3]) == pytest.approx([s + 0.01 for s in starts], abs=1e-15)
    dc_list.close()
    upstream.free_all_triggers()
    assert upstream.errors() == NO_ERROR


@pytest.mark.parametrize("inverted", [False, True])
def test_sine_wave_in_the_lab(upstream, clock, lab, inverted):
    upstream.ch03.dc_constant_V(0.5)  # the DC level the waveform adds to
    f, span, offset, delay = 20.0, 0.4, 0.1, 0.01
    sine = upstream.ch03.sine_wave(frequency_Hz=f, span_V=span, offset_V=offset,
                                   repetitions=3, delay_s=delay, inverted=inverted)
    assert sine.cycles_remaining() == 3  # armed on the bus trigger
    t0 = run(upstream, clock, sine.start, 0.01 + 0.06)
    assert sine.cycles_remaining() == 2  # in the second of three periods
    clock.advance(1.0)
    s = -1 if inverted else 1
    for tau in (0.0, 0.0031, 0.0125, 0.02, 0.0375, 0.081, 0.1234, 0.1499):
        expected = 0.5 + offset + s * span / 2 * math.sin(2 * math.pi * f * tau)
        assert lab.output("qdac", 3, t0 + delay + tau) == pytest.approx(expected, abs=1e-12)
    assert lab.output("qdac", 3, t0 + delay / 2) == pytest.approx(0.5)  # still in the delay
    assert lab.output("qdac", 3, t0 + delay + 3 / f + 1e-9) == pytest.approx(0.5)  # 3 periods
    times = t0 + delay + np.array([0.0125, 0.0375, 0.2])
    assert lab.gate_voltages_at(times)["B1"] == pytest.approx(
        [0.5 + offset + s * span / 2, 0.5 + offset - s * span / 2, 0.5])
    assert sine.cycles_remaining() == 0
    sine.close()
    assert upstream.errors() == NO_ERROR


def test_square_and_triangle(upstream, clock, lab):
    square = upstream.ch05.square_wave(period_s=0.1, duty_cycle_percent=25, kind="positive",
                                       span_V=0.3, offset_V=-0.1, repetitions=2)
    triangle = upstream.ch06.triangle_wave(period_s=0.1, duty_cycle_percent=25, span_V=1.0,
                                           offset_V=0.2, repetitions=-1)
    t0 = run(upstream, clock, upstream.start_all)  # *TRG starts both at once
    assert lab.output("qdac", 5, t0 + 0.01) == pytest.approx(0.2)  # high for 25 %
    assert lab.output("qdac", 5, t0 + 0.05) == pytest.approx(-0.1)
    assert lab.output("qdac", 5, t0 + 0.125 - 1e-6) == pytest.approx(0.2)
    assert lab.output("qdac", 5, t0 + 0.2 + 1e-9) == 0.0  # two periods, then the DC level
    # triangle: rises from offset - span/2 for 25 % of the period, falls for the rest
    for tau, v in [(0.0, -0.3), (0.0125, 0.2), (0.025, 0.7), (0.0625, 0.2), (0.1, -0.3)]:
        assert lab.output("qdac", 6, t0 + tau) == pytest.approx(v)
    assert triangle.cycles_remaining() == -1
    square.close()
    triangle.close()
    assert upstream.errors() == NO_ERROR


def test_arbitrary_wave_plays_its_trace_at_one_sample_per_microsecond(upstream, clock, lab):
    values = np.linspace(0, 1, 6)
    trace = upstream.allocate_trace(f"t{uuid.uuid4().hex[:6]}", len(values))
    trace.waveform(values)  # binary block of float32
    awg = upstream.ch07.arbitrary_wave(trace.name, repetitions=2, scale=0.5, offset_V=0.1)
    upstream.connect_external_trigger(2, awg.end_marker())
    t0 = run(upstream, clock, awg.start, 1e-3)
    got = [lab.output("qdac", 7, t0 + (k + 0.5) * 1e-6) for k in range(12)]
    assert got == pytest.approx([0.5 * values[k % 6] + 0.1 for k in range(12)], abs=1e-7)
    assert lab.output("qdac", 7, t0 + 12.5e-6) == 0.0
    assert awg.cycles_remaining() == 0
    awg.close()
    upstream.remove_traces()
    assert upstream.errors() == NO_ERROR


def test_period_markers_pulse_at_every_period(upstream, clock, model):
    sine = upstream.ch08.sine_wave(period_s=0.02, repetitions=3, span_V=0.1, delay_s=0.001)
    upstream.connect_external_trigger(1, sine.start_marker())
    upstream.connect_external_trigger(2, sine.period_start_marker())
    upstream.connect_external_trigger(3, sine.period_end_marker())
    upstream.connect_external_trigger(4, sine.end_marker())
    t0 = run(upstream, clock, sine.start)
    t_start = t0 + 0.001
    assert list(model.pulses[1]) == [t0]
    assert list(model.pulses[2]) == pytest.approx([t_start + k * 0.02 for k in range(3)])
    assert list(model.pulses[3]) == pytest.approx([t_start + k * 0.02 for k in (1, 2, 3)])
    assert list(model.pulses[4]) == pytest.approx([t_start + 0.06])
    sine.close()
    assert upstream.errors() == NO_ERROR


def test_abort_stops_the_waveform_at_the_abort_time(upstream, clock, lab):
    sine = upstream.ch02.sine_wave(frequency_Hz=50, span_V=0.2)  # forever
    t0 = run(upstream, clock, sine.start, 0.1234)
    t_abort = clock.now()
    sine.abort()
    settle(upstream)
    clock.advance(1.0)
    before = t_abort - 1e-4
    expected = 0.1 * math.sin(2 * math.pi * 50 * (before - t0))
    assert lab.output("qdac", 2, before) == pytest.approx(expected, abs=1e-12)
    assert lab.output("qdac", 2, t_abort) == 0.0
    assert lab.output("qdac", 2) == 0.0
    assert sine.cycles_remaining() == 0
    assert clock.pending == 0  # nothing left on the lab clock
    sine.close()
    assert upstream.errors() == NO_ERROR


def test_waveform_adds_to_a_running_dc_list(upstream, clock, lab):
    dc_list = upstream.ch01.dc_list(voltages=[1.0, 2.0], dwell_s=0.05)
    square = upstream.ch01.square_wave(period_s=0.02, span_V=0.2, repetitions=5)
    t0 = run(upstream, clock, upstream.start_all)
    assert lab.output("qdac", 1, t0 + 0.005) == pytest.approx(1.1)
    assert lab.output("qdac", 1, t0 + 0.015) == pytest.approx(0.9)
    assert lab.output("qdac", 1, t0 + 0.065) == pytest.approx(2.1)
    assert lab.output("qdac", 1, t0 + 0.2) == pytest.approx(2.0)
    dc_list.close()
    square.close()
    assert upstream.errors() == NO_ERROR
