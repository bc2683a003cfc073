"""Upstream check: QCoDeS' TektronixAWG5208 driver, unmodified, against the served mock.

.seqx and .wfmx files built by the driver's own static methods go over ``MMEMory:DATA`` and
are loaded with ``MMEMory:OPEN``; the mock plays what they hold.  Afterwards the error queue
holds no error (in particular no -113 Undefined header).
"""

import uuid

import numpy as np
import pytest

from dotstack.drivers.transport import enable_nodelay

awg70k = pytest.importorskip("qcodes.instrument_drivers.tektronix")
N = 2400


@pytest.fixture
def upstream(server):
    awg = awg70k.TektronixAWG5208(f"up_{uuid.uuid4().hex[:8]}", server.address, visalib="@py")
    enable_nodelay(awg.visa_handle)
    yield awg
    awg.close()


def waves():
    t = np.arange(N)
    w1 = 0.4 * np.sin(2 * np.pi * t / N)
    w2 = np.linspace(-0.2, 0.2, N)
    m1 = (t < 100).astype(float)
    return w1, w2, m1


def errors(awg):
    return awg.ask("SYSTem:ERRor:ALL?")


def test_seqx_flow_plays_what_the_file_holds(upstream, model, clock):
    awg = upstream
    w1, w2, m1 = waves()
    amplitudes = [1.0, 0.5]
    # step 1 waits for trigger A and plays once; step 2 repeats 3 times, then goes to step 1
    seqx = awg.makeSEQXFile([1, 0], [1, 3], [0, 0], [0, 0], [0, 1],
                            [[np.stack([w1, m1]), np.stack([w2, m1])], [w2 / 2, w1 / 2]],
                            amplitudes, "myseq")
    awg.clearSequenceList()
    awg.clearWaveformList()
    awg.sendSEQXFile(seqx, "myseq.seqx")
    awg.loadSEQXFile("myseq.seqx")
    assert awg.sequenceList == ["myseq"]
    assert sorted(awg.waveformList) == ["wfmch1pos1", "wfmch1pos2", "wfmch2pos1", "wfmch2pos2"]
    awg.sample_rate(1e9)
    for ch, amp in zip((awg.ch1, awg.ch2), amplitudes, strict=True):
        ch.setSequenceTrack("myseq", ch.channel)
        ch.awg_amplitude(amp)
        ch.state(1)
    awg.ch1.resolution(15)  # room for marker 1
    awg.ch1.marker1_waitvalue("LOW")
    assert awg.ch1.assigned_asset() == "myseq,1" and awg.ch2.awg_amplitude() == 0.5
    awg.play()
    assert awg.run_state() == "Waiting for trigger"
    t0 = model.run_started
    q2 = 2 ** 15 - 1  # channel 2 at 16 bits
    assert model.output(2, t0 + 1e-6) == pytest.approx(w2[0] / 2, abs=0.25 / q2)  # FIRST
    awg.force_triggerA()
    assert awg.run_state() == "Running"
    q = 2 ** 14 - 1  # channel 1 at 15 bits
    np.testing.assert_allclose(model.stream(1, 4 * N), np.concatenate([w1, *[w2] * 3]),
                               atol=0.5 / q)
    np.testing.assert_allclose(model.stream(2, 4 * N), np.concatenate([w2 / 2, *[w1 / 2] * 3]),
                               atol=0.25 / q2)
    t_trig = next(s.start for s in model.segments(1, t0, t0 + 1) if s.kind == "play")
    clock.advance(1e-3)
    assert awg.run_state() == "Waiting for trigger"  # back at step 1
    pulses = [t for t, p in model.marker_pulses if p == "awg.marker1"]
    np.testing.assert_allclose(pulses, t_trig + N * np.arange(4) / 1e9, atol=1e-15)
    awg.stop()
    assert awg.run_state() == "Stopped"
    assert errors(awg) == '0,"No error"'


def test_wfmx_flow_and_waveform_playback(upstream, model, clock):
    awg = upstream
    w1, _, m1 = waves()
    wfmx = awg.makeWFMXFile(np.stack([w1, m1, m1]), 1.0)
    awg.sendWFMXFile(wfmx, "sine.wfmx")
    awg.loadWFMXFile("sine.wfmx")
    assert awg.waveformList == ["sine"]
    awg.ch3.setWaveform("sine")
    awg.ch3.awg_amplitude(1.0)
    awg.ch3.state(1)
    awg.sample_rate(2.5e9)
    awg.play()
    t = model.run_started + (N + np.arange(N)) / 2.5e9  # the waveform loops
    np.testing.assert_allclose(model.output(3, t), w1, atol=1e-4)
    awg.all_output_off(1)
    assert awg.all_output_off() is True and model.output(3, t[0] + 1.0) == 0.0
    awg.all_output_off(0)
    awg.ch3.clear_asset()
    assert awg.ch3.assigned_asset() == "N/A" and awg.run_state() == "Stopped"
    assert model.files  # the files stay on the instrument's disk
    assert errors(awg) == '0,"No error"'


def test_public_surface_round_trips(upstream, model):
    awg = upstream
    snap = awg.snapshot(update=True)  # every gettable parameter once
    assert snap["parameters"]["run_state"]["value"] == "Stopped"
    assert snap["submodules"]["ch8"]["parameters"]["resolution"]["value"] == 16
    awg.mode("FGEN")
    assert awg.mode() == "FGEN"
    awg.mode("AWG")
    awg.clock_source("Internal, 10 MHZ ref.")
    assert awg.clock_source() == "Internal, 10 MHZ ref."
    awg.clock_source("Internal")
    ch = awg.ch4
    ch.hold("ZERO")
    ch.offset(0.1)
    ch.marker2_high(1.2)
    ch.marker2_low(0.1)
    ch.marker3_waitvalue("HIGH")
    ch.marker1_stoppedvalue("LOW")
    ch.fgen_type("SQUARE")
    ch.fgen_frequency(2e6)
    ch.fgen_amplitude(0.3)
    ch.fgen_signalpath("DC High Voltage")
    assert (ch.hold(), ch.offset(), ch.marker2_high(), ch.marker2_low()) == ("ZERO", 0.1, 1.2, 0.1)
    assert (ch.marker3_waitvalue(), ch.marker1_stoppedvalue()) == ("HIGH", "LOW")
    assert (ch.fgen_type(), ch.fgen_frequency(), ch.fgen_signalpath()) == \
        ("SQUARE", 2e6, "DC High Voltage")
    assert ch.fgen_period() == pytest.approx(5e-7)
    awg.current_directory("\\Users\\OEM\\Documents\\sub")
    assert awg.current_directory() == '"\\Users\\OEM\\Documents\\sub"'
    w1, w2, _ = waves()
    seqx = awg.makeSEQXFile([0, 0], [1, 1], [0, 0], [0, 0], [0, 0], [[w1, w2]], [1.0], "s2")
    awg.sendSEQXFile(seqx, "s2.seqx", path="\\data")
    awg.loadSEQXFile("s2.seqx", path="\\data")
    awg.set_event_jump("s2", 1, 2)  # sends the sequence name unquoted
    awg.wait_for_operation_to_complete()
    assert model.sequences["s2"].steps[0].jump_to == 2
    awg.force_jump(2)
    awg.force_triggerB()
    awg.wait_for_operation_to_complete()
    awg.delete_sequence_from_list("s2")
    assert awg.sequenceList == []
    assert errors(awg) == '0,"No error"'
    assert not any(code == -113 for code, _ in model._errors)


def test_broadbean_forged_sequence(upstream, model, clock):
    bb = pytest.importorskip("broadbean")
    awg = upstream
    bp = bb.BluePrint()
    bp.setSR(1e9)
    bp.insertSegment(0, bb.PulseAtoms.ramp, (0.0, 0.2), dur=1e-6)
    bp.insertSegment(1, bb.PulseAtoms.ramp, (0.1, 0.1), dur=1.4e-6)
    element = bb.Element()
    element.addBluePrint(1, bp)
    element.addBluePrint(2, bp)
    sequence = bb.Sequence()
    sequence.addElement(1, element)
    sequence.addElement(2, element)
    sequence.setSR(1e9)
    for ch in (1, 2):
        sequence.setChannelAmplitude(ch, 0.5)
        sequence.setChannelOffset(ch, 0)
    sequence.setSequencingTriggerWait(1, 1)
    sequence.setSequencingNumberOfRepetitions(2, 3)
    sequence.setSequencingGoto(2, 1)
    forged = sequence.forge(apply_delays=False)
    seqx = awg.make_SEQX_from_forged_sequence(forged, [0.5, 0.5], "bbseq")
    awg.sendSEQXFile(seqx, "bbseq.seqx")
    awg.loadSEQXFile("bbseq.seqx")
    awg.sample_rate(1e9)
    for ch in (awg.ch1, awg.ch2):
        ch.setSequenceTrack("bbseq", ch.channel)
        ch.awg_amplitude(0.5)
        ch.state(1)
    awg.play()
    assert awg.run_state() == "Waiting for trigger"
    awg.force_triggerA()
    awg.wait_for_operation_to_complete()
    wfm = forged[1]["content"][1]["data"][1]["wfm"]
    np.testing.assert_allclose(model.stream(2, 4 * len(wfm)), np.tile(wfm, 4), atol=1e-5)
    assert errors(awg) == '0,"No error"'
