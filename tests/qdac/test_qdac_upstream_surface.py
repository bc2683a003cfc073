"""The whole public surface of the upstream QDAC2 driver against the mock: every command it sends
gets a real answer (no -1xx command errors, no error at all in normal use), and two units
synchronise and start together as ``QDac2_Array`` sets them up."""

import uuid

import numpy as np
import pytest

from dotstack.mocks.instruments import QDac2Model
from dotstack.mocks.physics import ManualClock, TriggerLines, VirtualLab
from dotstack.mocks.scpi import serve_tcp

QDAC2 = pytest.importorskip("qcodes_contrib_drivers.drivers.QDevil.QDAC2")
ARRAY = pytest.importorskip("qcodes_contrib_drivers.drivers.QDevil.QDAC2_Array")

NO_ERROR = '0, "No error"'


def settle(*qdacs):
    for qdac in qdacs:
        assert qdac.ask("*OPC?") == "1"


def clean(qdac, model, what):
    """No error in the queue (checked with the driver and on the model itself)."""
    settle(qdac)
    assert model.error_count == 0, f"{what}: {qdac.errors()}"
    assert qdac.errors() == NO_ERROR, what


@pytest.fixture(autouse=True)
def no_wall_sleeps(monkeypatch):
    """reset() sleeps 5 s and currents_A sleeps an NPLC: the mock needs neither."""
    monkeypatch.setattr(QDAC2, "sleep_s", lambda s: None)
    monkeypatch.setattr(ARRAY, "sleep_s", lambda s: None)


@pytest.fixture
def pair():
    """Two mock QDAC-IIs in one lab, cabled as the QDAC2_Array documentation asks."""
    clock = ManualClock()
    lines = TriggerLines({"qdac.sync_out": ["qdac2.sync_in"],
                          "qdac.trig4": ["qdac.ext3", "qdac2.ext3"]})  # out 4 to every in 3
    lab = VirtualLab(seed=1, clock=clock, triggers=lines)
    models = [QDac2Model(lab, name="qdac"), QDac2Model(lab, name="qdac2")]
    servers = [serve_tcp(m) for m in models]
    drivers = [QDAC2.QDac2(f"up_{uuid.uuid4().hex[:8]}", s.address, visalib="@py")
               for s in servers]
    yield clock, lab, models, drivers
    for d in drivers:
        d.close()
    for s in servers:
        s.close()


def test_every_driver_method_gets_a_real_answer(pair):
    clock, _, (model, _), (q, _) = pair
    # identity and instrument-wide queries
    assert q.IDN()["model"] == "QDAC-II" and q.n_channels() == 24
    assert q.n_triggers() == 14 and q.n_external_inputs() == 4 and q.n_external_outputs() == 5
    assert q.mac() == "04-91-62-C0-00-2A"
    assert q.error() == NO_ERROR and q.n_errors() == 0 and q.errors() == NO_ERROR
    # every gettable channel parameter, then every settable one
    for ch in (q.ch01, q.ch24):
        for p in ch.parameters.values():
            if p.gettable:
                p.get()
    clean(q, model, "channel parameters, get")
    ch = q.ch03
    trigger = q.allocate_trigger()
    ch.measurement_range("low")
    ch.measurement_aperture_s(0.01)
    ch.measurement_nplc(2)
    ch.measurement_delay_s(0.001)
    ch.measurement_count(3)
    ch.current_start_on(trigger)
    ch.measurement_start_on_external(2)
    ch.measurement_abort()
    ch.output_mode(range="high", filter="med")
    ch.dc_slew_rate_V_per_s(100)
    ch.dc_constant_V(0.3)
    ch.dc_next_V(0.2)
    ch.dc_mode("fixed")
    ch.dc_initiate()
    ch.dc_abort()
    ch.abort()
    assert ch.clear_measurements() == []
    settle(q)
    clock.advance(0.01)  # DC:INIT applied the triggered level, slewing at 100 V/s
    assert ch.dc_last_V() == pytest.approx(0.2)
    assert ch.read_current_A()[0] == pytest.approx(0.2e-11)
    assert ch.fetch_current_A() == []
    clean(q, model, "channel parameters, set")
    # current measurements
    with ch.measurement(repetitions=2, nplc=1) as meas:
        meas.start()
        assert meas.n_available() == 2 and meas.available_A() == pytest.approx([2e-12] * 2)
        meas.peek_A()
        meas.n_cycles_remaining()
        meas.start_on(trigger)
        meas.start()
        meas.start_once_on(trigger)
        meas.start_on_external(1)
        meas.start_once_on_external(1)
    clean(q, model, "measurement")
    # DC list and sweep with every marker and trigger option
    with q.ch01.dc_list([0.1, 0.2, 0.3], dwell_s=0.01, backwards=True) as dc_list:
        for marker in (dc_list.start_marker, dc_list.end_marker, dc_list.step_start_marker,
                       dc_list.step_end_marker):
            assert marker() is marker()  # allocated once
        dc_list.start_on(q.allocate_trigger())
        dc_list.start_once_on(q.allocate_trigger())
        dc_list.start_on_external(1)
        dc_list.start_once_on_external(2)
        dc_list.start()
        dc_list.append([0.4])
        assert dc_list.points() == 4 and dc_list.values_V() == pytest.approx([.1, .2, .3, .4])
        dc_list.cycles_remaining()
    with q.ch02.dc_sweep(0, 1, 5, repetitions=2, stepped=False, backwards=True) as sweep:
        sweep.start()
        assert (sweep.points(), sweep.cycles_remaining()) == (5, 2)
        assert sweep.time_s() == pytest.approx(5e-3)
        assert (sweep.start_V(), sweep.stop_V()) == (0.0, 1.0) and len(sweep.values_V()) == 5
    q.free_all_triggers()
    clean(q, model, "dc_list, dc_sweep")
    # waveform generators
    for make in (q.ch04.sine_wave, q.ch04.square_wave, q.ch04.triangle_wave):
        with make(frequency_Hz=100, repetitions=3, delay_s=0.001, slew_V_s=10) as wave:
            for marker in (wave.start_marker, wave.end_marker, wave.period_start_marker,
                           wave.period_end_marker):
                assert marker() is marker()
            wave.start_on(q.allocate_trigger())
            wave.start_once_on(q.allocate_trigger())  # sends "sin:" for the sine: accepted
            wave.start_on_external(1)
            wave.start_once_on_external(1)
            wave.start()
            assert wave.cycles_remaining() == 3
            wave.abort()
        q.free_all_triggers()
        clean(q, model, make.__name__)
    q.ch05.square_wave(period_s=0.1, kind="negative", inverted=True, duty_cycle_percent=20).close()
    q.ch05.square_wave(period_s=0.1, kind="positive").close()
    q.ch05.triangle_wave(period_s=0.1, inverted=True, duty_cycle_percent=10).close()
    clean(q, model, "waveform variants")
    # traces and the AWG
    assert q.traces() == []
    trace = q.allocate_trace("ramp", 6)
    trace.waveform(np.linspace(0, 1, 6))
    assert q.traces() == ["ramp"]
    with q.ch06.arbitrary_wave("ramp", repetitions=2, scale=0.5, offset_V=0.1) as awg:
        for marker in (awg.start_marker, awg.end_marker, awg.period_start_marker,
                       awg.period_end_marker):
            marker()
        awg.start_on(q.allocate_trigger())
        awg.start_on_external(2)
        awg.start()
        assert awg.cycles_remaining() == 2
    q.remove_traces()
    assert q.traces() == []
    q.free_all_triggers()
    clean(q, model, "traces, arbitrary_wave")
    # trigger outputs, internal triggers, bus trigger
    ext = q.ext1
    ext.source_from_bus()
    ext.source_from_input(2)
    ext.source_from_trigger(q.allocate_trigger())
    ext.width_s(1e-5)
    ext.polarity("inv")
    ext.delay_s(1e-3)
    assert (ext.width_s(), ext.polarity(), ext.delay_s()) == (1e-5, "inv", 1e-3)
    ext.signal()
    q.connect_external_trigger(2, q.allocate_trigger(), width_s=1e-4)
    q.trigger(q.allocate_trigger())
    q.start_all()
    q.abort()
    q.free_all_triggers()
    clean(q, model, "triggers")
    # SCPI recording, replayed to the instrument
    q.start_recording_scpi()
    q.ch09.sine_wave(period_s=0.01).close()
    recorded = q.get_recorded_scpi_commands()
    assert recorded[0] == "sour9:sine:trig:sour hold" and len(recorded) > 10
    q._record_commands = False
    for cmd in recorded:
        q.write(cmd)
    clean(q, model, "replayed recording")
    q.clear()
    assert q.clear_read_queue() == []
    q.reset()
    clean(q, model, "reset")
    assert model.ch[3].level == 0.0


def test_arrangement_virtual_gates_sweeps_and_leakage(pair):
    clock, lab, (model, _), (q, _) = pair
    arr = q.arrange({"A": 1, "B": 2, "C": 3}, output_triggers={"outer": 3},
                    internal_triggers=["inner"], outer_trigger_channel=7)
    leak = arr.leakage(modulation_V=0.01)  # identity correction
    assert np.diag(leak) == pytest.approx([1e11] * 3)  # each contact leaks to ground only
    arr.initiate_correction("A", [1.0, 0.1, 0.0])
    arr.add_correction("B", [0.1, 1.0, 0.0])
    arr.set_virtual_voltage("A", 0.1)
    arr.set_virtual_voltages({"B": 0.2, "C": 0.3})
    settle(q)
    assert [model.output(n) for n in (1, 2, 3)] == pytest.approx(arr.actual_voltages())
    assert arr.virtual_voltage("A") == 0.1 and arr.channel_numbers == [1, 2, 3]
    assert arr.currents_A() == pytest.approx(np.array(arr.actual_voltages()) / 1e11)
    clean(q, model, "arrangement, leakage")
    with arr.virtual_sweep("A", [0.1, 0.2, 0.3], step_time_s=1e-3,
                           step_trigger="inner") as sweep:
        sweep.start()
        assert len(sweep.actual_values_V("B")) == 3
    clean(q, model, "virtual_sweep")
    inner_step, n_outer = 2 * 1e-3, 3
    sweep2d = arr.virtual_sweep2d("A", [0.1, 0.2], "B", [0.0, 0.1, 0.2], inner_step_time_s=1e-3,
                                  inner_step_trigger="inner", outer_step_trigger="outer",
                                  start_sweep_trigger="go")
    settle(q)
    t0 = clock.now()
    sweep2d.start()
    settle(q)
    clock.advance(0.1)
    # the helper sine's period-start marker is the outer trigger, routed to output 3
    outer = [t for t in model.pulses[3] if t >= t0]
    assert outer == pytest.approx([t0 + k * inner_step for k in range(n_outer)])
    assert lab.output("qdac", 2, t0 + 5e-3 + 1e-6) == pytest.approx(
        sweep2d.actual_values_V("B")[5])
    sweep2d.close()
    clean(q, model, "virtual_sweep2d")
    arr2 = q.arrange({"A": 1, "B": 2})
    with arr2, arr2.virtual_detune(["A", "B"], [0.0, 0.0], [0.1, 0.2], 3) as detune:
        detune.start()
    clean(q, model, "virtual_detune")


def test_two_units_synchronise_and_start_together(pair):
    clock, lab, (m1, m2), (q1, q2) = pair
    qdacs = ARRAY.QDac2_Array(q1, [q2])
    settle(q1, q2)
    t_sync = clock.now()
    qdacs.sync()
    settle(q1, q2)
    assert (m1.clock_send, m2.clock_source) == (True, "ext")
    assert q2.ask("syst:cloc:sour?") == "ext" and q1.ask("syst:cloc:send?") == "1"
    assert m1.synced_at == m2.synced_at == t_sync  # the sync pulse reached both
    # the controller's output 4 starts generators waiting on input 3 of every unit
    contacts = {q1.full_name: {"A": 1}, q2.full_name: {"B": 1}}
    with qdacs.arrange(contacts) as arrangement:
        start = qdacs.allocate_trigger()
        waves = []
        for contact in ("A", "B"):
            square = arrangement.channel(contact).square_wave(period_s=10e-6, span_V=1)
            square.start_on_external(qdacs.common_trigger_in)
            waves.append(square)
        qdacs.connect_external_trigger(qdacs.trigger_out, start)
        settle(q1, q2)
        clock.advance(1e-3)
        t0 = clock.now()
        qdacs.trigger(start)
        settle(q1, q2)
        clock.advance(1e-3)
        assert m1.ch[1].waves["squ"].t_start == m2.ch[1].waves["squ"].t_start == t0
        assert lab.output("qdac", 1, t0 + 1e-6) == lab.output("qdac2", 1, t0 + 1e-6) == 0.5
        assert arrangement.currents_A() == pytest.approx([0.0, 0.0], abs=1e-11)
        for wave in waves:
            wave.close()
    for q, m in ((q1, m1), (q2, m2)):
        clean(q, m, "array")
