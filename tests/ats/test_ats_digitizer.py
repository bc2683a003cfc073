"""`AlazarDigitizer`: the Digitizer role on the upstream driver + mock, from compiled programs."""

import math

import numpy as np
import pytest
from atstest_helpers import expected_codes, pulses, sine

from dotstack.drivers.alazar import AlazarDigitizer, DigitizerTimeout
from dotstack.drivers.protocols import Digitizer
from dotstack.sequencer import (
    ATS9360,
    AWG5208,
    Acquire,
    AwgTarget,
    DigitizerTarget,
    Gap,
    Hold,
    Param,
    compile_schedule,
    par,
    sweep,
)

RATE = 5e8
T0 = 1e-3  # lab time at which the (simulated) AWG starts the program


def program(lanes=("A",), second=None):
    """Three sweep points of 6 µs; a 2 µs window "sig" on lane A 1 µs into each point."""
    acquire = {"A": [Gap(1e-6), Acquire(2e-6, "sig")]}
    if second is not None:
        acquire["B"] = second
    sched = par(P1=[Hold(1e-6, 0.0), Hold(5e-6, Param("a"))], **acquire)
    sw = sweep(sched, ("a", [0.1, 0.2, 0.3]))
    res = compile_schedule(sw, [AwgTarget("awg", AWG5208.with_(sample_rate=1e9), ("P1",))],
                           [DigitizerTarget("ats", ATS9360.with_(sample_rate=RATE), lanes)])
    return res.acquisitions["ats"]


def expected(lab_signal, port, t, n, delay=0):
    first = math.ceil(t * RATE - 1e-6) + delay
    v = lab_signal(port, first / RATE + np.arange(n) / RATE)
    return 0.4 * (expected_codes(v) - 2047.5) / 2047.5


def play(lab, acq, plays=1, period=20e-6, t0=T0):
    """Trigger pulses at the program's record starts from lab time ``t0``, ``plays`` times."""
    starts = np.unique(acq.record_start)
    pulses(lab, [t0 + p * period + s for p in range(plays) for s in starts])


def test_fills_the_digitizer_role(alazar):
    assert isinstance(AlazarDigitizer(alazar), Digitizer)
    assert AlazarDigitizer(alazar).limits == ATS9360


def test_prepare_arm_fetch_a_compiled_program(alazar, api, lab, clock):
    acq = program()
    assert acq.n_records == 3 and acq.record_length == 1024
    dig = AlazarDigitizer(alazar, trigger_delay=64e-9)
    dig.prepare(acq)
    assert (alazar.sample_rate(), alazar.trigger_delay()) == (500_000_000, 32)
    dig.arm()
    assert alazar.channel_selection() == "A" and alazar.samples_per_record() == 1024
    assert api.capture.armed and api.capture.busy() == 1 and clock.now() == 0.0
    play(lab, acq)
    data = dig.fetch(timeout=0.01)
    assert data.shape == (3, 1024) and dig.dims == ("record", "sample")
    for r, start in enumerate(acq.record_start):
        np.testing.assert_array_equal(data[r], expected(lab.signal, "ats.chA", T0 + start, 1024, 32))
    coords = dig.coordinates()
    assert coords["a"].tolist() == [0.1, 0.2, 0.3] and list(coords["window"]) == ["sig"] * 3
    np.testing.assert_allclose(coords["sample_time"][:3], [0, 2e-9, 4e-9])


def test_triggers_before_arming_are_not_records(alazar, api, lab, clock):
    acq = program()
    dig = AlazarDigitizer(alazar)
    dig.prepare(acq)
    pulses(lab, [0.5e-3])
    clock.advance(0.9e-3)
    dig.arm()
    play(lab, acq)
    dig.fetch(timeout=0.01)
    assert api.capture.trigger_times == list(T0 + acq.record_start)


def test_lanes_map_to_channels_and_share_triggers(alazar, api, lab):
    acq = program(("A", "B"), second=[Gap(3.5e-6), Acquire(1e-6, "ref")])
    assert acq.n_records == 6
    dig = AlazarDigitizer(alazar)
    dig.prepare(acq)
    dig.arm()
    assert alazar.channel_selection() == "AB"
    play(lab, acq)
    data = dig.fetch(timeout=0.01)
    assert len(api.capture.trigger_times) == 6  # windows at different times: a trigger each
    for r in range(6):
        port = "ats.ch" + "AB"[acq.record_channel[r]]
        t = T0 + acq.record_start[r]
        np.testing.assert_array_equal(data[r], expected(lab.signal, port, t, 1024))
    same = program(("A", "B"), second=[Gap(1e-6), Acquire(2e-6, "ref")])
    dig.prepare(same)
    dig.arm()
    play(lab, same, t0=2 * T0)
    assert dig.fetch(timeout=0.01).shape == (6, 1024)
    assert len(api.capture.trigger_times) == 3  # A and B windows start together: one trigger


def test_averages_and_raw_records(alazar, lab):
    acq = program()
    dig = AlazarDigitizer(alazar)
    dig.prepare(acq, averages=4, raw=True)
    dig.arm()
    play(lab, acq, plays=4, period=23e-6)
    raw = dig.fetch(timeout=0.01)
    assert raw.shape == (4, 3, 1024) and dig.dims == ("average", "record", "sample")
    np.testing.assert_array_equal(raw[2, 1], expected(lab.signal, "ats.chA",
                                                      T0 + 46e-6 + acq.record_start[1], 1024))
    dig.prepare(acq, averages=4)
    dig.arm()
    play(lab, acq, plays=4, period=23e-6, t0=T0 + 1e-3)  # a multiple of the 10 MHz period later
    np.testing.assert_allclose(dig.fetch(timeout=0.01), raw.mean(axis=0), atol=1e-12)


def test_demodulation_windows(alazar, lab):
    amp, phase, f_if = 0.2, 0.7, 25e6
    lab.signal = sine(f_if, amp, phase)
    acq = program()
    ticks = (T0 + acq.record_start) * RATE
    assert np.all(np.abs(ticks - np.round(ticks)) < 1e-6)  # the triggers fall on sample ticks
    dig = AlazarDigitizer(alazar)
    with pytest.raises(ValueError, match="sig"):
        dig.prepare(acq, demodulate={"other": f_if})
    dig.prepare(acq, demodulate={"sig": f_if})
    dig.arm()
    play(lab, acq)
    iq = dig.fetch(timeout=0.01)
    assert iq.shape == (3,) and np.iscomplexobj(iq) and dig.dims == ("record",)
    np.testing.assert_allclose(iq, amp * np.exp(1j * phase), atol=2e-4)


def test_no_trigger_is_a_timeout_in_lab_time(alazar, api, clock):
    dig = AlazarDigitizer(alazar)
    dig.prepare(program())
    dig.arm()
    with pytest.raises(DigitizerTimeout, match="ApiWaitTimeout"):
        dig.fetch(timeout=0.05)
    assert clock.now() == pytest.approx(0.05) and api.capture.busy() == 0


def test_stop_abandons_an_armed_acquisition(alazar, api):
    dig = AlazarDigitizer(alazar)
    dig.prepare(program())
    dig.arm()
    dig.stop()
    assert api.calls[-1] == "AlazarAbortAsyncRead" and not api.capture.armed


def test_refuses_what_the_board_cannot_do(alazar):
    acq = program()
    dig = AlazarDigitizer(alazar)
    with pytest.raises(ValueError, match="sample rate"):
        dig.prepare(acq.__class__(**{**acq.__dict__, "sample_rate": 3e8}))
    with pytest.raises(ValueError, match="averages"):
        dig.prepare(acq, averages=0)
    overlapping = program(("A", "B"), second=[Gap(1.5e-6), Acquire(1e-6, "ref")])
    with pytest.raises(ValueError, match="ignores triggers"):  # B's trigger inside A's record
        dig.prepare(overlapping)


def test_single_shots_are_integrated_and_thresholded(alazar, lab):
    sched = par(P1=[Hold(1e-6, 0.0), Hold(5e-6, Param("a"))],
                A=[Gap(1e-6), Acquire(2e-6, "shot", threshold=0.0)])
    res = compile_schedule(sweep(sched, ("a", [0.1, 0.2, 0.3])),
                           [AwgTarget("awg", AWG5208.with_(sample_rate=1e9), ("P1",))],
                           [DigitizerTarget("ats", ATS9360.with_(sample_rate=RATE), ("A",))])
    acq = res.acquisitions["ats"]
    assert acq.single_shot
    dig = AlazarDigitizer(alazar)
    with pytest.raises(RuntimeError, match="raw=True"):
        dig.prepare(acq, averages=5)
        dig.fetch_shots()
    dig.prepare(acq, averages=5, raw=True)
    dig.arm()
    play(lab, acq, plays=5, period=23e-6)
    values, states = dig.fetch_shots(timeout=0.01)
    assert values.shape == states.shape == (5, 3) and states.dtype == bool
    n = int(acq.record_samples[1])
    want = expected(lab.signal, "ats.chA", T0 + 2 * 23e-6 + acq.record_start[1], n).mean()
    assert values[2, 1] == pytest.approx(want, abs=1e-12)
    np.testing.assert_array_equal(states, values > 0.0)
