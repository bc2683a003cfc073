"""Spin-qubit pulses (issue 9 point 3): carrier phase in program time, virtual Z, microwave
lanes returning to 0 V, IQ bursts beside gate lanes. Every expected sample is written here
with plain numpy (never with ``render``, ``evaluate`` or a segment's ``sample``).
"""

from __future__ import annotations

import numpy as np
import pytest
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
