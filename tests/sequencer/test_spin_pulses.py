"""Spin-qubit pulses (issue 9 point 3): carrier phase in program time, virtual Z, microwave
lanes returning to 0 V, IQ bursts beside gate lanes. Every expected sample is written here
with plain numpy (never with ``render``, ``evaluate`` or a segment's ``sample``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqtest_helpers import assert_round_trip

from dotstack.sequencer import (
    Acquire,
    AwgLimits,
    AwgTarget,
    Burst,
    DigitizerLimits,
    DigitizerTarget,
    Gap,
    Hold,
    LimitError,
    MixerCorrection,
    Param,
    PhaseShift,
    Ramp,
    SequencerError,
    compile_schedule,
    from_json,
    iq_burst,
    iq_pair,
    par,
    phase_shift,
    render,
    repeat,
    seq,
    sweep,
    to_json,
)

SR = 1e9
LIM = AwgLimits(sample_rate=SR, granularity=16, min_length=64, amplitude_range=(-1.0, 1.0))
TOL = {"float32": 1e-6, "int16": LIM.lsb * 1.01}


def _ceil(n: int, g: int = 16) -> int:
    return -(-n // g) * g


def _play(item, chans, output="float32", lim=LIM, **kw):
    prog = compile_schedule(item, [AwgTarget("awg", lim, chans, output=output)],
                            **kw).programs["awg"]
    return prog, render(prog)


def _sine(n: np.ndarray, f: float, a: float, phase: float) -> np.ndarray:
    return a * np.sin(2 * np.pi * f * n / SR + phase)


@pytest.mark.parametrize("output", ["float32", "int16"])
def test_two_bursts_are_one_continuous_carrier(output) -> None:
    """Burst, wait, burst at one frequency: both are cut from one running sinusoid, and the
    lane is at 0 V between them and in the step padding (before: the second burst restarted
    its phase, 0.53 V off, and the wait held the first burst's last sample)."""
    f, a, ph = 37e6, 0.3, 0.4
    sched = seq(par(P1=Burst(100e-9, f, a, ph)), par(P1=Gap(250e-9)),
                par(P1=Burst(120e-9, f, a, ph)))
    prog, out = _play(sched, ("P1",), output)
    n = np.arange(_ceil(470))
    want = np.where((n < 100) | ((n >= 350) & (n < 470)), _sine(n, f, a, ph), 0.0)
    assert prog.n_samples == 480
    np.testing.assert_allclose(out["P1"], want, atol=TOL[output], rtol=0)


def test_carrier_runs_on_across_sweep_points() -> None:
    """Each point's burst sits on the same sinusoid counted from the program start: point p
    starts at the sum of the earlier (granularity-padded) step lengths."""
    f, a = 23.3e6, 0.25
    waits = [100e-9, 253e-9, 77e-9, 0.0]
    sched = seq(par(P1=Burst(60e-9, f, a)), par(P1=Hold(Param("w"), 0.05)),
                par(P1=Burst(90e-9, f, a, 1.0, envelope="cosine")))
    prog, out = _play(sweep(sched, ("w", waits)), ("P1",))
    lengths = [_ceil(60 + round(w * SR) + 90) for w in waits]
    starts = np.concatenate([[0], np.cumsum(lengths)])
    assert prog.point_starts.tolist() == starts.tolist()
    want = np.zeros(int(starts[-1]))
    for p, w in enumerate(waits):
        s, nw = int(starts[p]), round(w * SR)
        n1 = np.arange(s, s + 60)
        want[n1] = _sine(n1, f, a, 0.0)
        want[s + 60:s + 60 + nw] = 0.05
        n2 = np.arange(s + 60 + nw, s + 150 + nw)
        env = 0.5 * (1 - np.cos(2 * np.pi * np.arange(90) / 90))
        want[n2] = env * _sine(n2, f, a, 1.0)
        # after the raised-cosine burst the lane rests at 0 V (its offset)
    np.testing.assert_allclose(out["P1"], want, atol=1e-6, rtol=0)


def test_phase_shift_is_a_virtual_z_reset_every_point() -> None:
    """phase_shift advances the phase of every later burst of the lane (swept here); each
    sweep point starts again from Z = 0 (no accumulation across points)."""
    f, a, zs = 41e6, 0.2, [0.0, np.pi / 2, np.pi, -0.7]
    sched = seq(par(P1=Burst(80e-9, f, a)), phase_shift("P1", Param("z")),
                par(P1=Gap(48e-9)), par(P1=[Burst(64e-9, f, a), PhaseShift(phase=0.5),
                                            Burst(64e-9, f, a, 0.25)]))
    prog, out = _play(sweep(sched, ("z", zs)), ("P1",))
    step = 80 + 48 + 128
    assert prog.point_starts.tolist() == [step * k for k in range(5)]
    want = np.zeros(4 * step)
    for p, z in enumerate(zs):
        s = step * p
        n = np.arange(s, s + 80)
        want[n] = _sine(n, f, a, 0.0)
        n = np.arange(s + 128, s + 192)
        want[n] = _sine(n, f, a, z)
        n = np.arange(s + 192, s + 256)
        want[n] = _sine(n, f, a, z + 0.5 + 0.25)
    np.testing.assert_allclose(out["P1"], want, atol=1e-6, rtol=0)
    assert_round_trip(sweep(sched, ("z", zs)), prog)


def test_iq_lanes_return_to_zero_through_readout_and_padding() -> None:
    """After an iq_burst, I and Q are 0 V through a 1 µs readout on other lanes and through
    the step's padding (before: they held -0.19/-0.23 V, DC into the IQ mixer)."""
    a, ph, f = 0.3, 2.4, 90e6
    sched = seq(par(P1=Hold(200e-9, 0.1)),
                iq_burst("I", "Q", 101e-9, f, a, ph, envelope="gauss", sigma=0.2),
                par(P1=Hold(1e-6, -0.05), A=Acquire(1e-6, "read")),
                iq_burst("I", "Q", 51e-9, 0.0, a, ph))  # baseband, ends the step
    dig = DigitizerTarget("dig", DigitizerLimits(sample_rate=SR), ("A",))
    prog = compile_schedule(sched, [AwgTarget("awg", LIM, ("P1", "I", "Q"), output="float32")],
                            [dig]).programs["awg"]
    out = render(prog)
    assert prog.n_samples == _ceil(200 + 101 + 1000 + 51) == 1360
    n = np.arange(1360)
    k = np.arange(101)
    env = np.exp(-0.5 * ((k - 101 / 2) / (0.2 * 101)) ** 2)
    want_i, want_q = np.zeros(1360), np.zeros(1360)
    nb = n[200:301]
    want_i[200:301] = a * env * np.cos(2 * np.pi * f * nb / SR + ph)
    want_q[200:301] = a * env * np.sin(2 * np.pi * f * nb / SR + ph)
    want_i[1301:1352] = a * np.cos(ph)
    want_q[1301:1352] = a * np.sin(ph)
    np.testing.assert_allclose(out["I"], want_i, atol=1e-6, rtol=0)
    np.testing.assert_allclose(out["Q"], want_q, atol=1e-6, rtol=0)
    assert not out["I"][1352:].any() and not out["Q"][1352:].any()  # padding: 0 V
    want_p = np.concatenate([np.full(200, 0.1), np.full(101, 0.1), np.full(1059, -0.05)])
    np.testing.assert_allclose(out["P1"], want_p, atol=1e-6, rtol=0)


@pytest.mark.parametrize("output", ["float32", "int16"])
def test_iq_burst_beside_gate_lanes_in_one_block(output) -> None:
    """par(iq_burst(...), P1=..., P2=...): the burst plays while the gates ramp and hold."""
    f, a = 50e6, 0.2
    block = par(iq_burst("I", "Q", 200e-9, f, a, 0.3, envelope="cosine"),
                P1=[Ramp(100e-9, 0.0, 0.1), Hold(100e-9, 0.1)], P2=Hold(150e-9, -0.05))
    i2, q2 = iq_pair(96e-9, f, a)
    sched = seq(block, par({"I": [Gap(32e-9), i2], "Q": [Gap(32e-9), q2]}, P1=Hold(128e-9, 0.2)))
    prog, out = _play(sched, ("P1", "P2", "I", "Q"), output)
    assert prog.n_samples == 328 + 8  # 200 + 128 = 328 -> 336
    n = np.arange(336)
    env = np.zeros(336)
    env[:200] = 0.5 * (1 - np.cos(2 * np.pi * np.arange(200) / 200))
    env[232:328] = 1.0
    phase = np.where(n < 200, 0.3, 0.0)
    want = {
        "I": a * env * np.cos(2 * np.pi * f * n / SR + phase),
        "Q": a * env * np.sin(2 * np.pi * f * n / SR + phase),
        "P1": np.concatenate([0.1 * np.arange(100) / 100, np.full(100, 0.1), np.full(136, 0.2)]),
        "P2": np.full(336, -0.05),
    }
    for ch, w in want.items():
        np.testing.assert_allclose(out[ch], w, atol=TOL[output], rtol=0, err_msg=ch)
    assert_round_trip(sched, prog)


def test_phase_shift_refusals_and_json() -> None:
    with pytest.raises(SequencerError, match="duration must be 0"):
        PhaseShift(duration=1e-9, phase=1.0)
    with pytest.raises(SequencerError, match="phase"):
        PhaseShift(phase=float("nan"))
    with pytest.raises(SequencerError, match="marker"):
        from dotstack.sequencer import Marker

        sched = seq(par(M=Marker(10e-9)), phase_shift("M", 0.1))
        compile_schedule(sched, [AwgTarget("awg", LIM.with_(markers_per_channel=1), ("P1",),
                                           markers=(("M", "P1", 0),))])
    with pytest.raises(SequencerError, match="lane"):
        phase_shift((), 0.1)
    with pytest.raises(SequencerError, match="duplicate lane"):
        par(iq_burst("I", "Q", 1e-8, 0, 0.1), I=Hold(1e-8, 0.0))
    with pytest.raises(SequencerError, match="iq_pair"):
        iq_pair(1e-8, 0.0, 0.1, Param("p"))  # type: ignore[arg-type]
    sched = seq(iq_burst("I", "Q", 1e-8, 1e7, 0.1), phase_shift(("I", "Q"), Param("z")))
    assert from_json(to_json(sched)) == sched


CORR = MixerCorrection(gain=1.12, phase=0.15, offset_i=0.013, offset_q=-0.021)


def _mixer(i_in: np.ndarray, q_in: np.ndarray, c: MixerCorrection, t: np.ndarray,
           f_lo: float) -> np.ndarray:
    """The modelled imperfect mixer (the one ``c`` corrects): DC offsets -offset_i/-offset_q
    at its inputs, Q arm gain 1/gain, I arm LO skewed by the quadrature error; RF per unit LO
    (normalised by 1/cos(phase))."""
    w = 2 * np.pi * f_lo * t
    return ((i_in - c.offset_i) * np.cos(w - c.phase)
            - (q_in - c.offset_q) / c.gain * np.sin(w)) / np.cos(c.phase)


@pytest.mark.parametrize("output", ["float32", "int16"])
def test_mixer_correction_gives_the_ideal_single_sideband(output) -> None:
    """A corrected program through the modelled mixer: exactly the single sideband at
    LO + IF during the burst and no RF (no LO leakage) elsewhere; uncorrected it leaks."""
    f_if, f_lo, a, ph = 50e6, 213e6, 0.3, 0.2
    sched = seq(par(iq_burst("I", "Q", 400e-9, f_if, a, ph), P1=Hold(400e-9, 0.1)),
                par(P1=Hold(304e-9, -0.1)))
    chans = ("P1", "I", "Q")
    target = AwgTarget("awg", LIM, chans, output=output, iq_pairs=(("I", "Q", CORR),))
    prog = compile_schedule(sched, [target]).programs["awg"]
    out = render(prog)
    n = np.arange(704)
    t = n / SR
    on = n < 400
    rf = _mixer(out["I"], out["Q"], CORR, t, f_lo)
    ideal = np.where(on, a * np.cos(2 * np.pi * (f_lo + f_if) * t + ph), 0.0)
    tol = 1e-6 if output == "float32" else 4 * LIM.lsb
    np.testing.assert_allclose(rf, ideal, atol=tol, rtol=0)
    np.testing.assert_allclose(out["P1"], np.where(on, 0.1, -0.1), atol=TOL[output], rtol=0)
    # the corrected samples themselves, from the documented formula
    i_w = np.where(on, a * np.cos(2 * np.pi * f_if * t + ph), 0.0)
    q_w = np.where(on, a * np.sin(2 * np.pi * f_if * t + ph), 0.0)
    np.testing.assert_allclose(out["I"], i_w + CORR.offset_i, atol=TOL[output], rtol=0)
    np.testing.assert_allclose(out["Q"], CORR.gain * (q_w * np.cos(CORR.phase) + i_w * np.sin(
        CORR.phase)) + CORR.offset_q, atol=TOL[output], rtol=0)
    plain = render(compile_schedule(sched, [AwgTarget("awg", LIM, chans)]).programs["awg"])
    leak = _mixer(plain["I"], plain["Q"], CORR, t, f_lo)
    assert np.abs(leak[~on]).max() > 0.01  # uncorrected: LO leakage while nothing plays
    assert np.abs(leak[on] - ideal[on]).max() > 0.02  # and the image of the sideband


def test_mixer_correction_is_validated_and_range_checked() -> None:
    for kw, what in (({"gain": 0.0}, "gain"), ({"gain": float("nan")}, "gain"),
                     ({"phase": 1.6}, "phase"), ({"offset_q": float("inf")}, "offset_q")):
        with pytest.raises(SequencerError, match=what):
            MixerCorrection(**kw)
    with pytest.raises(SequencerError, match="'X'"):
        AwgTarget("awg", LIM, ("I", "Q"), iq_pairs=(("I", "X", MixerCorrection()),))
    with pytest.raises(SequencerError, match="more than one"):
        AwgTarget("awg", LIM, ("I", "Q", "R"), iq_pairs=(("I", "Q"), ("R", "I")))
    assert AwgTarget("awg", LIM, ("I", "Q"), iq_pairs=(("I", "Q"),)).iq_pairs[0][2] == \
        MixerCorrection()
    big = MixerCorrection(offset_i=0.95)
    with pytest.raises(LimitError, match="'I'") as err:
        compile_schedule(iq_burst("I", "Q", 64e-9, 0.0, 0.1),
                         [AwgTarget("awg", LIM, ("I", "Q"), iq_pairs=(("I", "Q", big),))])
    assert err.value.limit == "amplitude_range"


def test_single_shot_windows_with_thresholds_reach_the_acquisition_program() -> None:
    """Acquire(single_shot/threshold) -> per-record flags and (swept) thresholds; the program
    integrates each shot's record over its window and classifies it (numpy reference)."""
    read = Acquire(300e-9, "read", threshold=Param("thr"))
    sched = seq(par(P1=Hold(200e-9, 0.1)),
                par(P1=Hold(1e-6, 0.0), A=[Gap(100e-9), Acquire(500e-9, "ref"), read]),
                par(P1=Hold(64e-9, 0.0), A=Acquire(64e-9, "shot", single_shot=True)))
    thr = [0.01, 0.02, 0.03]
    dig = DigitizerTarget("dig", DigitizerLimits(sample_rate=5e8, record_granularity=8), ("A",))
    res = compile_schedule(sweep(sched, ("thr", thr)), [AwgTarget("awg", LIM, ("P1",))], [dig])
    acq = res.acquisitions["dig"]
    assert acq.window_names == ("ref", "read", "shot")
    assert acq.record_single_shot.tolist() == [False, True, True] * 3
    np.testing.assert_array_equal(acq.record_threshold,
                                  [np.nan, 0.01, np.nan, np.nan, 0.02, np.nan,
                                   np.nan, 0.03, np.nan])
    assert acq.single_shot and acq.thresholded.tolist() == [False, True, False] * 3
    w = acq.windows
    assert (w[0].single_shot, w[0].threshold) == (False, None)
    assert (w[1].single_shot, w[1].threshold) == (True, 0.01)
    assert (w[2].single_shot, w[2].threshold) == (True, None)
    assert acq.record_samples.tolist() == [250, 150, 32] * 3
    rng = np.random.default_rng(3)
    shots = rng.normal(0.02, 0.01, size=(5, acq.n_records))
    volts = rng.normal(0, 1.0, size=(5, acq.n_records, acq.record_length))  # garbage
    for r, n in enumerate(acq.record_samples):
        volts[:, r, :n] = shots[:, r, None] + 1e-3 * np.sin(np.arange(n) * 2 * np.pi / n)
    values = acq.integrate(volts)
    np.testing.assert_allclose(values, shots, atol=1e-12)
    states = acq.classify(values)
    want = np.zeros_like(states)
    want[:, 1::3] = shots[:, 1::3] > np.array(thr)[None, :]
    np.testing.assert_array_equal(states, want)
    with pytest.raises(ValueError, match="records"):
        acq.integrate(volts[:, :3])


def test_acquire_flags_are_validated_and_serialized() -> None:
    with pytest.raises(SequencerError, match="threshold"):
        Acquire(1e-6, "r", threshold=float("nan"))
    with pytest.raises(SequencerError, match="single_shot"):
        Acquire(1e-6, "r", single_shot="yes")  # type: ignore[arg-type]
    with pytest.raises(SequencerError, match="name"):
        Acquire(1e-6, "")
    assert Acquire(1e-6, "r", threshold=np.float32(0.5)).single_shot  # threshold implies it
    sched = par(A=[Acquire(1e-6, "r", threshold=Param("t")), Acquire(1e-6, "s", single_shot=True)])
    assert from_json(to_json(sched)) == sched


LIM_R = AwgLimits(sample_rate=SR, granularity=16, min_length=256, amplitude_range=(-1.0, 1.0))


def _cpmg_like(n: int, f: float = 0.0, body_ns: int = 240):
    """Readout-free CPMG-like train: n x (40 ns IQ burst while P1 holds, then a wait)."""
    body = seq(par(iq_burst("I", "Q", 40e-9, f, 0.2, 0.3), P1=Hold(40e-9, 0.05)),
               par(P1=Hold((body_ns - 40) * 1e-9, 0.1)))
    return seq(par(P1=Hold(304e-9, 0.0)), repeat(body, n), par(P1=Hold(496e-9, -0.1)))


def _cpmg_reference(n: int, f: float = 0.0, body_ns: int = 240) -> dict[str, np.ndarray]:
    total = 304 + body_ns * n + 496
    k = np.arange(total)
    inside = (k >= 304) & (k < 304 + body_ns * n)
    on = inside & ((k - 304) % body_ns < 40)
    p1 = np.where(k < 304, 0.0, np.where(on, 0.05, np.where(inside, 0.1, -0.1)))
    arg = 2 * np.pi * f * k / SR + 0.3
    return {"P1": p1, "I": np.where(on, 0.2 * np.cos(arg), 0.0),
            "Q": np.where(on, 0.2 * np.sin(arg), 0.0)}


def _size(prog) -> tuple[int, int, int]:
    return len(prog.table), prog.n_waveforms, int(prog.waveform_lengths.sum())


@pytest.mark.parametrize("body_ns", [240, 400])
def test_repeat_is_one_hardware_step_and_does_not_grow(body_ns) -> None:
    """Repeat(n, body) -> one sequence-table step played n / u times (u bodies per waveform:
    u = 2 for a 240-sample body under min_length 256, u = 1 for 400 samples: repeat n);
    table and waveform memory are the same for n = 10 and n = 1000."""
    u = 2 if body_ns == 240 else 1
    sizes = {}
    for n in (10, 1000, 11):
        prog, out = _play(_cpmg_like(n, body_ns=body_ns), ("P1", "I", "Q"), lim=LIM_R)
        want = _cpmg_reference(n, body_ns=body_ns)
        for ch, w in want.items():
            np.testing.assert_allclose(out[ch], w, atol=1e-6, rtol=0, err_msg=f"{ch} n={n}")
        sizes[n] = _size(prog)
        reps = prog.table.repeat.tolist()
        assert any(r >= n // u - 1 for r in reps), reps  # (a window may go to the neighbours)
        assert len(prog.table) <= 5
    assert sizes[10] == sizes[1000]
    assert max(r for r in compile_schedule(_cpmg_like(1000, body_ns=body_ns), [AwgTarget(
        "awg", LIM_R, ("P1", "I", "Q"))]).programs["awg"].table.repeat) in (1000 // u,
                                                                           1000 // u - 1)


def test_repeat_with_a_carrier_merges_only_when_phase_coherent() -> None:
    """A body of 240 ns holds 12 whole periods of 50 MHz: one repeated step. At 37 MHz the
    carrier phase differs every body: the bodies stay separate waveforms (unrolled), and
    the output is still one continuous carrier."""
    for f, merged in ((50e6, True), (37e6, False)):
        prog, out = _play(_cpmg_like(20, f), ("P1", "I", "Q"), lim=LIM_R)
        for ch, w in _cpmg_reference(20, f).items():
            np.testing.assert_allclose(out[ch], w, atol=1e-6, rtol=0, err_msg=f"{ch} f={f}")
        assert bool(max(prog.table.repeat) >= 9) is merged


def test_repeat_unrolled_without_hardware_repeats() -> None:
    lim = LIM_R.with_(supports_repeat=False)
    prog, out = _play(_cpmg_like(30), ("P1", "I", "Q"), lim=lim)
    assert (prog.table.repeat == 1).all()
    for ch, w in _cpmg_reference(30).items():
        np.testing.assert_allclose(out[ch], w, atol=1e-6, rtol=0, err_msg=ch)


def test_cut_step_repeat_regions() -> None:
    """Region windows: u whole bodies each, the remainder in the last; room for min_length
    on both sides; off-grid starts skip bodies; too short: unrolled."""
    from dotstack.sequencer import Window, cut_step

    iv = [(0, 5000, False)]
    got = cut_step(iv, 5000, 16, 256, regions=[(304, 240, 11)])
    assert got[1:6] == [Window(304 + 480 * k, 480) for k in range(4)] + [Window(2224, 720)]
    assert got[0] == Window(0, 304) and got[-1] == Window(2944, 2056)
    # 100 samples before the region: the first window of bodies goes to that stretch
    got = cut_step(iv, 5000, 16, 256, regions=[(96, 240, 11)])
    assert got[0] == Window(0, 576) and got[1] == Window(576, 480)
    # too few bodies for one window: plain cutting
    assert cut_step(iv, 5000, 16, 256, regions=[(304, 240, 1)]) == cut_step(iv, 5000, 16, 256)
    assert cut_step(iv, 5000, 16, 256, regions=[(304, 240, 3)], repeat=False) == \
        cut_step(iv, 5000, 16, 256, repeat=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 700), st.integers(1, 400), st.integers(1, 40), st.integers(0, 700),
       st.sampled_from([1, 2, 8, 16]), st.sampled_from([1, 16, 64, 256]),
       st.sampled_from([0.0, 25e6, 37e6]))
def test_repeat_regions_round_trip(pre, body, count, post, g, min_len, f) -> None:
    """Any repeat (body, count, surroundings, grid) plays exactly the unrolled schedule,
    with every waveform on the grid and at least min_length long."""
    lim = AwgLimits(sample_rate=SR, granularity=g, min_length=min_len,
                    amplitude_range=(-1.0, 1.0))
    burst = min(body, 7) * 1e-9
    rep = repeat(seq(par(P1=Burst(burst, f, 0.2, 0.1)), par(P1=Hold((body - min(body, 7))
                                                                    * 1e-9, 0.05))), count)
    sched = seq(par(P1=Hold(pre * 1e-9, 0.1)), rep, par(P1=Ramp(post * 1e-9, 0.0, 0.3)))
    prog = compile_schedule(sched, [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
    assert_round_trip(sched, prog)
    lengths = prog.waveform_lengths
    assert np.all(lengths % g == 0) and np.all(lengths >= min_len)
