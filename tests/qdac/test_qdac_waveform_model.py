"""The QDAC-II mock in process: waveform and trace commands, limits, the real instrument's reply
formats, multi-unit sync, and the lab's waveform component (`ChannelOutput`)."""

import math

import numpy as np
import pytest

from dotstack.mocks.instruments import QDac2Model
from dotstack.mocks.instruments.qdac2.limits import MAX_TRACE_NAME, TRACE_MEMORY
from dotstack.mocks.physics import ManualClock, TriggerLines, VirtualLab
from dotstack.mocks.physics.outputs import ChannelOutput


def q(model, text):
    reply = model.handle(text.encode() if isinstance(text, str) else text)
    return None if reply is None else reply.decode()


def err(model):
    return q(model, "syst:err?")


def test_error_and_identity_replies_are_spaced_like_the_real_instrument(model):
    assert q(model, "syst:err?") == '0, "No error"'
    assert q(model, "syst:err:next?") == '0, "No error"'
    assert q(model, "syst:err:all?") == '0, "No error"'
    q(model, "sour1:frobnicate 1")
    assert err(model).startswith('-113, "Undefined header')
    q(model, "sour1:volt 11;:bogus")
    assert q(model, "syst:err:coun?") == "2"
    reply = q(model, "syst:err:all?")
    assert reply.startswith('-222, "Data out of range') and ', -113, "Undefined header' in reply
    assert q(model, "*IDN?") == "QDevil, QDAC-II, 00042, 13-1.57"


def test_waveform_settings_are_stored_checked_and_answered(model):
    q(model, "sour2:sine:freq 250;span 0.4;offs -0.1;pol inv;del 1ms;coun 5;slew inf")
    assert float(q(model, "sour2:sin:per?")) == pytest.approx(4e-3)
    assert float(q(model, "sour2:sine:freq?")) == pytest.approx(250)
    assert q(model, "sour2:sine:pol?;coun?") == "inv;5"
    assert float(q(model, "sour2:sine:volt:span?")) == pytest.approx(0.4)
    assert float(q(model, "sour2:sine:del?")) == pytest.approx(1e-3)
    q(model, "sour3:squ:per 0.01;dcyc 20;typ pos;coun inf;trig:sour int4;:sour3:squ:init:cont on")
    assert q(model, "sour3:squ:typ?;coun?;trig:sour?;:sour3:squ:init:cont?") == "pos;-1;int4;1"
    assert q(model, "sour3:squ:ncl?") == "-1"  # armed, forever
    q(model, "sour4:tri:dcyc 70;mark:pstart 2;pend 3;star 4;end 5")  # relative to MARKer
    assert q(model, "sour4:tri:mark:pst?;pend?;star?;end?") == "2;3;4;5"
    q(model, "sour5:awg:def \"wave\";scal -2;offs 0.5")
    assert q(model, "sour5:awg:def?") == '"wave"' and float(q(model, "sour5:awg:scal?")) == -2
    assert err(model) == '0, "No error"'
    for bad, code in [("sour1:sine:span 21", "-222"), ("sour1:sine:freq 2e6", "-222"),
                      ("sour1:squ:dcyc 101", "-222"), ("sour1:squ:typ odd", "-224"),
                      ("sour1:sine:mark:pstart 15", "-222"), ("sour1:sine:pol up", "-224"),
                      ("sour1:sine:typ pos", "-113"), ("sour1:awg:freq 1", "-113")]:
        q(model, bad)
        assert err(model).startswith(code), bad


def test_awg_needs_a_defined_trace(model):
    q(model, 'sour1:awg:def "missing";:sour1:awg:init')
    assert err(model).startswith("-221")
    assert q(model, "sour1:awg:ncl?") == "0"


def test_trace_sizes_are_bounded(model):
    q(model, 'trac:def "t",4')
    # more values than defined: refused before any of them is converted
    q(model, 'trac:data "t",' + ",".join(["junk"] * 100_000))
    assert err(model).startswith("-223")
    q(model, b'trac:data "t",#220' + np.arange(5, dtype="<f4").tobytes())
    assert err(model).startswith("-223")
    q(model, 'trac:data "t",1,2,3')
    assert err(model).startswith("-109")
    q(model, b'trac:data "t",#216' + np.array([0, 1, np.nan, 3], dtype="<f4").tobytes())
    assert err(model).startswith("-222")
    q(model, b'trac:data "t",#216' + np.arange(4, dtype="<f4").tobytes())
    assert q(model, 'trac:poin? "t"') == "4"
    assert [float(v) for v in q(model, 'trac:data? "t"').split(",")] == [0, 1, 2, 3]
    q(model, 'trac:def "t",8')
    assert err(model).startswith("-221")  # exists
    q(model, f'trac:def "{"x" * (MAX_TRACE_NAME + 1)}",8')
    assert err(model).startswith("-224")
    q(model, f'trac:def "big",{TRACE_MEMORY + 1}')
    assert err(model).startswith("-222")
    q(model, f'trac:def "big",{TRACE_MEMORY - 4}')
    q(model, 'trac:def "more",1')
    assert err(model).startswith("-225")  # the memory is shared
    assert q(model, "trac:cat?") == "t,big"
    q(model, 'trac:rem "big"')
    q(model, 'trac:rem "big"')
    assert err(model).startswith("-224")
    q(model, "trac:rem:all")
    assert q(model, "trac:cat?") == ""
    assert err(model) == '0, "No error"'


def test_continuous_restart_and_reset(model, lab, clock):
    q(model, "sour1:sine:per 0.1;span 0.2;coun 2;init:cont on")  # IMM: starts now, loops
    t0 = clock.now()
    clock.advance(0.5)
    assert q(model, "sour1:sine:ncl?") == "1"  # the third run, second half
    assert lab.output("qdac", 1, t0 + 0.425) == pytest.approx(0.1)
    assert model.output(1) == pytest.approx(lab.output("qdac", 1))
    q(model, 'trac:def "kept",2')
    q(model, "*rst")
    t_rst = clock.now()
    clock.advance(1.0)
    assert lab.output("qdac", 1, t_rst + 0.025) == 0.0 and clock.pending == 0
    assert q(model, "sour1:sine:ncl?") == "0" and q(model, "trac:cat?") == "kept"


def test_marker_set_while_playing_and_external_start(lab, clock):
    model = QDac2Model(lab, name="qdac")
    q(model, "sour2:squ:per 0.01;span 0.1;coun 10;trig:sour ext2;:sour2:squ:init")
    lab.pulse("qdac.trig1")  # not wired to ext2: nothing starts
    assert q(model, "sour2:squ:ncl?") == "10"
    model.external_input(2)
    t0 = clock.now()
    clock.advance(0.025)
    q(model, "sour2:squ:mark:pstart 6;:outp:trig5:sour int6")
    clock.advance(1.0)
    assert list(model.pulses[5]) == pytest.approx([t0 + k * 0.01 for k in range(3, 10)])


def test_sync_pulse_and_arming_at_the_same_lab_time_count_as_simultaneous(clock):
    lines = TriggerLines({"a.sync_out": ["b.sync_in"]})
    lab = VirtualLab(clock=clock, triggers=lines)
    a, b = QDac2Model(lab, name="a"), QDac2Model(lab, name="b")
    clock.advance(1.0)
    q(a, "syst:cloc:send on;sync;:outp:sync:sign")  # b's server has not armed it yet
    q(b, "syst:cloc:sour ext;sync")
    assert a.synced_at == b.synced_at == 1.0
    clock.advance(1.0)
    q(a, "syst:cloc:sync;:outp:sync:sign")
    clock.advance(1e-3)
    q(b, "syst:cloc:sync")  # too late: stays armed for the next pulse
    assert (a.synced_at, b.synced_at, b.sync_armed) == (2.0, 1.0, True)
    assert q(b, "syst:cloc:sour?;:syst:cloc:send?") == "ext;0"


# -- the lab's waveform component --------------------------------------------------------------
def test_channel_output_adds_waveforms_to_the_dc_level():
    out = ChannelOutput()
    out.set(0.0, 1.0)
    out.set_waveform(1.0, 3.0, lambda tau: np.sin(tau), key="sine")
    out.set_waveform(2.0, math.inf, lambda tau: 0.5 + 0 * np.asarray(tau), key="squ")
    times = np.array([0.5, 1.5, 2.5, 10.0])
    expected = [1.0, 1.0 + math.sin(0.5), 1.5 + math.sin(1.5), 1.5]
    assert out.values(times) == pytest.approx(expected)
    assert [out.value(t) for t in times] == pytest.approx(expected)
    assert out.level(2.5) == 1.0 and out.levels(times).tolist() == [1.0] * 4
    out.clear_waveform(2.25, key="sine")
    assert out.value(2.5) == pytest.approx(1.5) and out.value(2.0) == pytest.approx(
        1.5 + math.sin(1.0))
    out.set_waveform(5.0, 6.0, lambda tau: 1.0, key="squ")  # replaces "squ" from t = 5
    assert out.value(4.0) == pytest.approx(1.5) and out.value(5.5) == pytest.approx(2.0)
    assert out.value(7.0) == 1.0
    out.clear_waveform(0.0)  # everything that starts at or after 0 is gone
    assert out.waveforms() == [] and out.value(5.5) == 1.0
    with pytest.raises(ValueError):
        out.set_waveform(2.0, 1.0, lambda tau: 0.0)


def test_channel_output_keeps_a_bounded_number_of_waveforms():
    out = ChannelOutput()
    for k in range(3 * ChannelOutput.max_waveforms):
        out.set_waveform(float(k), k + 0.5, lambda tau: 1.0, key=f"g{k % 3}")
    assert len(out.waveforms()) == ChannelOutput.max_waveforms
    assert out.value(3 * ChannelOutput.max_waveforms - 0.75) == 1.0


def test_lab_waveforms_reach_the_gates():
    clock = ManualClock()
    lab = VirtualLab(clock=clock)
    lab.set_output("qdac", 1, 0.2)
    lab.set_waveform("qdac", 1, 0.0, 1.0, lambda tau: 0.1 + 0 * np.asarray(tau), key="x")
    assert lab.gate_voltages(0.5)["P1"] == pytest.approx(0.3)
    assert lab.gate_voltages_at([0.5, 1.5])["P1"] == pytest.approx([0.3, 0.2])
    lab.clear_waveform("qdac", 1, 0.25)
    assert lab.output("qdac", 1, 0.5) == pytest.approx(0.2)
    with pytest.raises(ValueError, match="qdac channel 1"):
        lab.set_waveform("qdac", 1, math.nan, 1.0, lambda tau: 0.0)
