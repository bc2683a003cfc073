"""What the mock plays: the sequencer's render, in lab time, with triggers and markers."""

import numpy as np
import pytest
from awgtest_helpers import LIM, raster

from dotstack.sequencer import (
    AwgTarget,
    Hold,
    Marker,
    Param,
    Ramp,
    compile_schedule,
    par,
    render,
    render_markers,
    seq,
    sweep,
)

SR = LIM.sample_rate
#: a marker on P1 leaves its DAC 15 bits: programs compiled for 15 bits are played exactly
LIM15 = LIM.with_(resolution_bits=15)


def pulsed(trigger="none", loop=False, lim=LIM15):
    """Three points: a ramp and a plateau on P1, P2 held; marker 1 on P1 (100 ns at 200 ns)."""
    sched = seq(par(P1=Ramp(3e-6, 0.0, Param("a")), P2=Hold(3e-6, -0.1),
                    M=[Marker(200e-9, 0), Marker(100e-9, 1)]),
                par(P1=Hold(12e-6, Param("a"))))
    sw = sweep(sched, ("a", [0.1, -0.2, 0.3]), trigger=trigger, loop=loop)
    target = AwgTarget("awg", lim, ("P1", "P2"), markers=(("M", "P1", 0),))
    return compile_schedule(sw, [target]).programs["awg"]


def test_played_stream_equals_the_sequencer_render(awg, model, clock):
    prog = raster(10, 7)
    awg.prepare(prog)
    awg.arm()
    ref = render(prog)
    for n, ch in enumerate(prog.channels, start=1):
        got = model.stream(n, prog.n_samples)
        np.testing.assert_allclose(got, ref[ch], rtol=0, atol=1e-12, err_msg=ch)
    # and in lab time, sample by sample from the run start
    t = model.run_started + np.arange(prog.n_samples) / SR
    np.testing.assert_allclose(model.output(2, t), ref["P2"], rtol=0, atol=1e-12)


def test_marker_channel_at_the_resolution_it_keeps(awg, model):
    prog = pulsed()  # compiled for 15 bits: both channels are set to 15 bits, exact output
    awg.prepare(prog)
    assert model.channels[1].resolution == 15 and model.channels[2].resolution == 15
    awg.arm()
    ref = render(prog)
    np.testing.assert_allclose(model.stream(1, prog.n_samples), ref["P1"], atol=1e-12)
    np.testing.assert_allclose(model.stream(2, prog.n_samples), ref["P2"], atol=1e-12)
    # compiled for 16 bits, the marker channel is quantised to 15 (within half a step)
    prog16 = pulsed(lim=LIM)
    awg.prepare(prog16)
    assert model.channels[1].resolution == 15 and model.channels[2].resolution == 16
    awg.arm()
    got, ref = model.stream(1, prog16.n_samples), render(prog16)["P1"]
    assert 0 < np.abs(got - ref).max() <= 0.5 * 1.5 / 32767 + 1e-12


def test_markers_pulse_the_cabling_at_their_lab_times(awg, model, lab, clock):
    seen = []
    lab.add_trigger_input("probe.in", seen.append)
    prog = pulsed()
    awg.prepare(prog)
    awg.arm()
    t0 = model.run_started
    clock.advance(prog.n_samples / SR + 1e-6)
    marks = render_markers(prog)["P1"]
    rising = np.flatnonzero(np.diff(np.concatenate([[0], marks & 1])) > 0)
    assert len(rising) == 3
    np.testing.assert_allclose(seen, t0 + rising / SR, rtol=0, atol=1e-15)
    assert seen == [t for t, port in model.marker_pulses if port == "awg.marker1"]
    assert [(round(t, 12), s, d) for t, s, d in lab.trigger_log] == \
        [(round(t, 12), "awg.marker1", "probe.in") for t in seen]


def test_trigger_waits_hold_the_first_value(awg, model, lab, clock):
    prog = pulsed(trigger="point")
    awg.prepare(prog)
    awg.arm()
    t0 = model.run_started
    assert awg.run_state() == "waiting"
    clock.advance(50e-6)  # nothing plays without a trigger: P1 holds its first sample
    assert model.output(1, clock.now()) == pytest.approx(render(prog)["P1"][0], abs=1e-9)
    assert model.segments(1, t0, clock.now())[0].kind == "hold"
    starts = prog.point_starts
    player = model.players["SEQ:dotstack"]
    for p in range(3):  # a software trigger, then pulses from the lab's cabling
        t_pulse = clock.now()
        if p == 0:
            awg.trigger()
        else:
            lab.pulse("gen.out", t_pulse)
        assert awg.run_state() == "running"
        row = int(np.searchsorted(np.cumsum(prog.table.trigger_wait), p + 1))  # point p's row
        t_trig = next(x.start for x in player.pieces
                      if x.kind == "play" and x.step == row and x.start >= t_pulse)
        if p:
            assert t_trig == t_pulse  # the step starts at the pulse's lab time
        clock.advance((starts[p + 1] - starts[p]) / SR + 5e-6)
        assert awg.run_state() == ("waiting" if p < 2 else "running")
        got = model.output(1, t_trig + np.arange(starts[p + 1] - starts[p]) / SR)
        np.testing.assert_allclose(got, render(prog)["P1"][starts[p]:starts[p + 1]], atol=1e-12)
    np.testing.assert_allclose(model.stream(1, prog.n_samples), render(prog)["P1"], atol=1e-12)
    # after the last step the sequence ends (goto END): the output holds its last sample
    assert model.output(1, clock.now()) == pytest.approx(render(prog)["P1"][-1], abs=1e-12)


def test_repeats_and_loop_to_the_first_step(awg, model, clock):
    prog = pulsed(loop=True)
    assert np.any(prog.table.repeat > 1) and prog.table.goto[-1] == 0
    awg.prepare(prog)
    awg.arm()
    n = prog.n_samples
    two = model.stream(2, 2 * n)
    np.testing.assert_allclose(two, np.tile(render(prog)["P2"], 2), atol=1e-12)
    t = model.run_started + (n + np.arange(n)) / SR  # the second pass, in lab time
    np.testing.assert_allclose(model.output(1, t), model.stream(1, n), atol=1e-12)


def test_stop_and_channel_segments(awg, model, clock):
    prog = pulsed(loop=True)
    awg.prepare(prog)
    awg.arm()
    t0 = model.run_started
    t_stop = t0 + 25e-6
    clock.set(t_stop)
    awg.stop()
    t_end = model.players["SEQ:dotstack"].pieces[-1].start
    assert awg.run_state() == "stopped" and t_end >= t_stop
    assert model.output(1, t_end + 1e-6) == 0.0  # stopped: the offset level (0 V)
    pieces = model.channel_segments(1, t0 - 1e-6, t_end + 2e-6)
    edges = [t for t, s, r in pieces] + [pieces[-1][0] + len(pieces[-1][1]) / pieces[-1][2]]
    np.testing.assert_allclose(edges[1:-1], [t + len(s) / r for t, s, r in pieces[:-1]],
                               atol=1e-15)  # the pieces tile the interval
    assert edges[0] <= t0 - 1e-6 + 1e-15 and edges[-1] == pytest.approx(t_end + 2e-6)
    times = np.concatenate([t + np.arange(len(s)) / r for t, s, r in pieces if r >= SR / 2])
    values = np.concatenate([s for t, s, r in pieces if r >= SR / 2])
    np.testing.assert_allclose(model.output(1, times), values, atol=1e-12)


def test_amplitude_change_while_running_splits_the_segments(awg, model, clock):
    prog = raster(4, 3)
    awg.prepare(prog)
    awg.arm()
    t0 = model.run_started
    clock.set(t0 + 1.5e-6)
    model.handle(b"SOUR2:VOLT 0.75")  # behind the driver's back: half the amplitude
    t_change = model.scaling_log[2][-1][0]
    before = model.output(2, t_change - 1e-9)
    segs = model.segments(2, t0, t0 + 1e-5)
    assert any(s.start == pytest.approx(t_change, abs=1 / SR) for s in segs)
    k = round((t_change - t0) * SR)
    ref = render(prog)["P2"]
    assert before == pytest.approx(ref[k - 1], abs=1e-12)
    assert model.output(2, t_change + 1e-9) == pytest.approx(ref[k + 1] / 2, abs=1e-9)


def test_force_jump_and_event_jump(awg, model, clock):
    prog = pulsed(loop=True)
    awg.prepare(prog)
    awg.arm()
    clock.advance(5e-6)
    model.handle(b"SOUR1:JUMP:FORC 1")  # back to the first step now
    t_jump = model.t_exec()
    segs = [s for s in model.segments(1, t_jump - 1e-9, t_jump + 1e-6) if s.kind == "play"]
    assert segs[-1].start == pytest.approx(t_jump, abs=1 / SR)
    np.testing.assert_allclose(model.output(1, segs[-1].start + np.arange(3000) / SR),
                               render(prog)["P1"][:3000], atol=1e-12)
    # an event jump: step 2 of a sequence jumps to step 1 on trigger B
    model.handle(b'SLIS:SEQ:STEP2:EJIN "dotstack",BTR;:SLIS:SEQ:STEP2:EJUM "dotstack",1')
    assert awg.run_state() == "stopped"  # editing the running sequence stopped it
    assert model.handle(b'SLIS:SEQ:STEP2:EJIN? "dotstack";EJUM? "dotstack"') == b"BTR;1"


def test_trigger_before_the_wait_is_ignored(awg, model, clock):
    prog = pulsed(trigger="row")  # only the first point waits
    awg.prepare(prog)
    awg.trigger()  # not running yet: lost
    awg.arm()
    assert awg.run_state() == "waiting"



def test_all_zero_waveforms_of_different_lengths_are_different_uploads(awg, model):
    """The content fingerprint of an all-zero waveform is 0 at any length: the upload names
    must tell them apart (they once collided: 'track lengths differ' on the instrument)."""
    step = par(P1=Hold(Param("d"), 0.0), P2=Hold(Param("d"), 0.1))
    prog = compile_schedule(sweep(step, ("d", [3e-6, 5e-6])),
                            [AwgTarget("awg", LIM, ("P1", "P2"))]).programs["awg"]
    zero = [int(n) for w, n in enumerate(prog.waveform_lengths)
            if not np.any(prog.to_volts(prog.waveform_data[w]))]
    assert len(set(zero)) >= 2  # all-zero waveforms of different lengths (P1, packed steps)
    awg.prepare(prog)
    assert model.handle(b"SYST:ERR?") == b'0,"No error"'
    awg.arm()
    ref = render(prog)
    for n, ch in enumerate(prog.channels, start=1):
        np.testing.assert_allclose(model.stream(n, prog.n_samples), ref[ch], atol=1e-12)
