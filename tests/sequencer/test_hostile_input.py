"""Hostile input (issue 10, point 5): every test here failed on the sequencer before the fix.

Expected sample streams are built by hand with numpy (never with the sequencer's render or
evaluate): a step is its segments' samples padded to the step length, a delayed channel
plays the concatenated stream of all steps late.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotstack.sequencer import (
    Acquire,
    Arbitrary,
    AwgLimits,
    AwgTarget,
    BiasT,
    Burst,
    Chirp,
    DigitizerLimits,
    DigitizerTarget,
    Gap,
    Hold,
    Marker,
    Param,
    Ramp,
    SequencerError,
    VirtualGateLayer,
    VirtualGates,
    axis,
    compile_schedule,
    from_json,
    par,
    register_function,
    render,
    render_markers,
    repeat,
    seq,
    sweep,
    to_json,
)

SR = 1e9
LIM = AwgLimits(sample_rate=SR, min_length=1, amplitude_range=(-1.0, 1.0), markers_per_channel=2)
SETTINGS = settings(max_examples=30, deadline=None)


def _awg(lim=LIM, chans=("P1",), name="awg", **kw) -> AwgTarget:
    return AwgTarget(name, lim, chans, output=kw.pop("output", "float32"), **kw)


def _pad(x: np.ndarray, total: int, fill: float | None = None) -> np.ndarray:
    return np.concatenate([x, np.full(total - len(x), x[-1] if fill is None else fill)])


def _ceil(n: int, g: int) -> int:
    return max(-(-n // g) * g, g)


def _late(x: np.ndarray, d: int, fill: float) -> np.ndarray:
    return np.concatenate([np.full(d, fill, dtype=x.dtype), x])[:len(x)]


# --- NaN / inf ---------------------------------------------------------------------------
SEGMENT_FIELDS = [(Hold, "duration"), (Hold, "level"), (Ramp, "start"), (Ramp, "stop"),
                  (Burst, "frequency"), (Burst, "amplitude"), (Burst, "phase"),
                  (Burst, "offset"), (Burst, "sigma"), (Chirp, "f_start"), (Chirp, "f_stop"),
                  (Chirp, "amplitude"), (Arbitrary, "amplitude"), (Marker, "duration"),
                  (Acquire, "duration"), (Gap, "duration")]
BAD = [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("inf")]


@SETTINGS
@given(st.sampled_from(SEGMENT_FIELDS), st.sampled_from(BAD))
def test_non_finite_segment_field_refused_naming_it(case, bad) -> None:
    cls, name = case
    kw = {"duration": 1e-6, **({"function": "gaussian"} if cls is Arbitrary else {})}
    with pytest.raises(SequencerError, match=rf"{cls.__name__}\.{name}.*non-finite"):
        cls(**{**kw, name: bad})


def test_non_finite_sweep_values_matrix_and_limits_refused() -> None:
    sched = par(P1=Hold(1e-6, Param("v")))
    with pytest.raises(SequencerError, match=r"axis 'v' values\[1\] is nan"):
        sweep(sched, ("v", [0.1, np.nan]))
    with pytest.raises(SequencerError, match=r"parameter 'w'.*inf"):
        axis("v", [0.1, 0.2], w=[0.0, np.inf])
    with pytest.raises(SequencerError, match="constant 'v'"):
        sweep(sched, constants={"v": np.float32("nan")})
    with pytest.raises(SequencerError, match=r"matrix entry \[0, 1\] is nan"):
        VirtualGateLayer(("a", "b"), ("P1",), [[1.0, np.nan]])
    layer = VirtualGateLayer(("a",), ("P1",), [[1.0]])
    with pytest.raises(SequencerError, match="inf"):
        VirtualGates((layer,)).with_matrix(0, [[np.inf]])
    with pytest.raises(SequencerError, match="cannot be inverted"):
        VirtualGateLayer.from_capacitance(("P1", "P2"), ("a", "b"), [[1, 1], [1, 1]])
    for bad in [dict(sample_rate=np.nan), dict(amplitude_range=(-1.0, np.inf)),
                dict(channel_delays=(("P1", np.nan),)), dict(marker_delays=(("M", np.inf),))]:
        with pytest.raises(SequencerError, match=rf"AwgLimits.{next(iter(bad))}"):
            LIM.with_(**bad)
    with pytest.raises(SequencerError, match=r"DigitizerLimits.sample_rate"):
        DigitizerLimits(sample_rate=np.inf)
    with pytest.raises(SequencerError, match=r"BiasT.time_constant"):
        BiasT(np.nan)


register_function("test_nan_after_half", lambda t, d: np.where(t > d / 2, np.nan, 0.1))


def test_nan_from_function_or_zero_sigma_never_reaches_the_awg() -> None:
    with pytest.raises(SequencerError, match=r"non-finite.*Arbitrary.*P1"):
        compile_schedule(par(P1=Arbitrary(100e-9, "test_nan_after_half")), [_awg()])
    with pytest.raises(SequencerError, match="sigma"):
        Burst(100e-9, 1e7, 0.1, envelope="gauss", sigma=0.0)
    swept = sweep(par(P1=Burst(100e-9, 1e7, 0.1, envelope="gauss", sigma=Param("s"))),
                  ("s", [0.2, 0.0]))
    with pytest.raises(SequencerError, match="sigma"):
        compile_schedule(swept, [_awg()])


# --- numpy scalars -------------------------------------------------------------------------
NUMPY = [np.float16, np.float32, np.float64, np.int32, np.int64]


@SETTINGS
@given(st.sampled_from(NUMPY), st.integers(1, 50), st.integers(-4, 4), st.integers(-4, 4))
def test_numpy_scalars_accepted_everywhere_and_in_json(typ, n, a, b) -> None:
    def build(cv):  # cv: pass numpy scalars as they are, or as the Python numbers they hold
        dur, lvl, lvl2 = cv(np.float32(n * 1e-9)), cv(typ(a) / typ(8)), cv(typ(b) / typ(8))
        sched = seq(par(P1=[Hold(dur, lvl), Ramp(dur, lvl2, cv(typ(a)) / 8)],
                        M=Marker(dur, cv(np.bool_(True)))),
                    repeat(par(P1=Burst(dur, cv(np.float32(1e7)), cv(typ(b) / typ(16)))),
                           cv(np.int64(2))))
        ax = axis("x", cv(np.arange(3, dtype=np.int64)), y=cv(np.ones(3, np.float32)))
        return sweep(sched, ax, loop=cv(np.bool_(False)), constants={"k": cv(typ(a))})

    numpy_in, python_in = build(lambda v: v), build(lambda v: v.tolist())
    assert numpy_in == python_in  # numpy scalars are stored as the Python numbers they hold
    assert from_json(to_json(numpy_in)) == numpy_in
    lim = LIM.with_(granularity=np.int64(4), min_length=np.int32(1))
    tgt = _awg(lim, markers=(("M", "P1", np.int64(1)),))
    got = render(compile_schedule(numpy_in, [tgt]).programs["awg"], "raw")["P1"]
    want = render(compile_schedule(python_in, [tgt]).programs["awg"], "raw")["P1"]
    np.testing.assert_array_equal(got, want)


# --- repeat counts -------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [2.5, np.float64(2.5), True, np.bool_(True), 0, -1, math.nan,
                                 math.inf, "3"])
def test_repeat_count_must_be_a_positive_integer(bad) -> None:
    with pytest.raises(SequencerError, match=f"repeat count .*{str(bad)[:3]}"):
        repeat(par(P1=Hold(1e-6, 0.1)), bad)


@SETTINGS
@given(st.floats(0.01, 50).filter(lambda x: not x.is_integer()))
def test_non_integral_repeat_refused(count) -> None:
    with pytest.raises(SequencerError, match="repeat count"):
        par(P1=Hold(1e-6, 0.1)) * count


@pytest.mark.parametrize("good", [3, 3.0, np.int64(3), np.float32(3.0), np.uint8(3)])
def test_integral_repeat_counts_accepted(good) -> None:
    sched = repeat(par(P1=Hold(1e-6, 0.1)), good)
    assert len(list(sched.blocks())) == 3 and type(sched.items[0].count) is int
    text = to_json(sched).replace('"repeat": 3', '"repeat": 2.5')
    with pytest.raises(SequencerError, match="repeat count"):
        from_json(text)


# --- delays across step boundaries ---------------------------------------------------------
def _ramp_sweep(points):
    """Per point: Ramp a->b over n samples, then Hold b for n2 samples (P2 mirrored)."""
    n, n2, a, b = (list(x) for x in zip(*points, strict=True))
    sched = seq(par(P1=Ramp(Param("t"), Param("a"), Param("b")),
                    P2=Ramp(Param("t"), Param("b"), Param("a"))),
                par(P1=Hold(Param("t2"), Param("b")), P2=Hold(Param("t2"), Param("a"))))
    ax = axis("i", range(len(n)), t=[k / SR for k in n], t2=[k / SR for k in n2], a=a, b=b)
    return sweep(sched, ax)


def _ramp_streams(points, totals):
    p1, p2 = [], []
    for (n, n2, a, b), total in zip(points, totals, strict=True):
        k = np.arange(n) / n
        p1.append(_pad(np.concatenate([a + (b - a) * k, np.full(n2, b)]), total))
        p2.append(_pad(np.concatenate([b + (a - b) * k, np.full(n2, a)]), total))
    return np.concatenate(p1), np.concatenate(p2)


point = st.tuples(st.integers(1, 40), st.integers(0, 30), st.floats(-0.5, 0.5),
                  st.floats(-0.5, 0.5))


@SETTINGS
@given(st.lists(point, min_size=1, max_size=6), st.sampled_from([1, 4, 16]),
       st.integers(-20, 20), st.integers(0, 20))
def test_channel_delay_continues_across_step_boundaries(points, g, d1, d2) -> None:
    lim = LIM.with_(granularity=g, channel_delays=(("P1", d1 * 1e-9), ("P2", d2 * 1e-9)))
    res = compile_schedule(_ramp_sweep(points), [_awg(lim, ("P1", "P2"))])
    prog = res.programs["awg"]
    p1, p2 = _ramp_streams(points, [_ceil(n + n2, g) for n, n2, _, _ in points])
    lo = min(d1, d2)
    out = render(prog)
    np.testing.assert_allclose(out["P1"], _late(p1, d1 - lo, p1[0]), atol=1e-6)
    np.testing.assert_allclose(out["P2"], _late(p2, d2 - lo, p2[0]), atol=1e-6)
    late = {n.lane: n for n in res.report if n.kind == "delay_tail"}
    assert set(late) == {ch for ch, d in (("P1", d1), ("P2", d2)) if d > lo}


def test_delay_with_loop_wraps_and_trigger_waits_are_refused() -> None:
    points = [(10, 3, 0.0, 0.4), (7, 0, -0.3, 0.2), (12, 5, 0.1, -0.1)]
    lim = LIM.with_(channel_delays=(("P2", 4e-9),))
    sw = _ramp_sweep(points)
    looped = sweep(sw.schedule, *sw.axes, loop=True)
    res = compile_schedule(looped, [_awg(lim, ("P1", "P2"))])
    _, p2 = _ramp_streams(points, [13, 7, 17])
    np.testing.assert_allclose(render(res.programs["awg"])["P2"], np.roll(p2, 4), atol=1e-6)
    assert not res.report  # nothing falls off the end of a loop
    tiny = sweep(par(P1=Hold(1e-9, Param("v")), P2=Hold(1e-9, 0.0)), ("v", [0.1, 0.2, 0.3]),
                 loop=True)  # P1 delayed by more than the whole looped program
    tgt = _awg(LIM.with_(channel_delays=(("P1", 7e-9),)), ("P1", "P2"))
    got = render(compile_schedule(tiny, [tgt]).programs["awg"])["P1"]
    np.testing.assert_allclose(got, np.roll([0.1, 0.2, 0.3], 7), atol=1e-6)
    ok = sweep(sw.schedule, *sw.axes, trigger="start")
    compile_schedule(ok, [_awg(lim, ("P1", "P2"))])
    for kw in (dict(trigger="point"), dict(trigger="start", loop=True)):
        with pytest.raises(SequencerError, match=r"delayed by 4 samples.*trigger"):
            compile_schedule(sweep(sw.schedule, *sw.axes, **kw), [_awg(lim, ("P1", "P2"))])


def test_delay_with_packed_short_steps() -> None:
    levels = [0.1, -0.2, 0.3]  # 3 steps of 30 samples, min_length 100: packed, 10 padded
    lim = LIM.with_(min_length=100, channel_delays=(("P1", 12e-9),))
    sw = sweep(par(P1=Ramp(30e-9, 0.0, Param("v")), P2=Hold(30e-9, Param("v"))), ("v", levels))
    prog = compile_schedule(sw, [_awg(lim, ("P1", "P2"))]).programs["awg"]
    assert prog.packed == 4 and prog.n_samples == 100
    p1 = _pad(np.concatenate([v * np.arange(30) / 30 for v in levels]), 100)
    np.testing.assert_allclose(render(prog)["P1"], _late(p1, 12, 0.0), atol=1e-6)
    np.testing.assert_allclose(render(prog)["P2"], np.repeat(levels, [30, 30, 40]), atol=1e-6)
    (note,) = prog.report  # 10 of the 12 delayed samples play in the end padding
    assert note.kind == "delay_tail" and note.lane == "P1" and "last 2 samples" in note.message


@SETTINGS
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(0, 20), st.integers(0, 20)),
                min_size=1, max_size=5), st.sampled_from([1, 8]), st.integers(0, 12),
       st.integers(0, 12))
def test_marker_delay_is_separate_and_crosses_steps(points, g, d_analog, d_marker) -> None:
    n, low, high = (list(x) for x in zip(*points, strict=True))
    sched = par(P1=Ramp(Param("n"), 0.0, 0.5), M=[Marker(Param("u"), 0), Marker(Param("h"))])
    sw = sweep(sched, axis("i", range(len(n)), n=[k / SR for k in n], u=[k / SR for k in low],
                           h=[k / SR for k in high]))
    lim = LIM.with_(granularity=g, channel_delays=(("P1", d_analog * 1e-9),),
                    marker_delays=(("M", d_marker * 1e-9),))
    prog = compile_schedule(sw, [_awg(lim, markers=(("M", "P1", 1),))]).programs["awg"]
    totals = [_ceil(max(a, u + h), g) for a, u, h in points]
    marks = np.concatenate([_pad(np.repeat([0, 1, 0], [u, h, 0]).astype(np.uint8), t, 0)
                            for (_, u, h), t in zip(points, totals, strict=True)])
    ramp = np.concatenate([_pad(0.5 * np.arange(a) / a, t) for a, t in
                           zip(n, totals, strict=True)])
    lo = min(d_analog, d_marker)
    want_m = _late(marks, d_marker - lo, 0) * 2  # bit 1
    np.testing.assert_array_equal(render_markers(prog)["P1"], want_m)
    np.testing.assert_allclose(render(prog)["P1"], _late(ramp, d_analog - lo, 0.0), atol=1e-6)


# --- several AWGs in lockstep --------------------------------------------------------------
@SETTINGS
@given(st.lists(st.integers(1, 1200), min_size=1, max_size=8),
       st.sampled_from([1, 3, 8, 16, 64]), st.sampled_from([1, 5, 8, 32]))
def test_awgs_of_different_granularity_stay_in_lockstep(steps, ga, gb) -> None:
    sw = sweep(par(P1=Hold(Param("t"), Param("v")), P2=Hold(Param("t"), Param("v"))),
               axis("t", [n / SR for n in steps], v=np.linspace(-0.5, 0.5, len(steps))))
    a = _awg(LIM.with_(granularity=ga), ("P1",), "a")
    b = _awg(LIM.with_(granularity=gb), ("P2",), "b")
    res = compile_schedule(sw, [a, b])
    pa, pb = res.programs["a"], res.programs["b"]
    np.testing.assert_array_equal(pa.point_starts, pb.point_starts)
    q = math.lcm(ga, gb)
    levels = np.linspace(-0.5, 0.5, len(steps))
    want = np.repeat(levels, [_ceil(n, q) for n in steps])
    np.testing.assert_allclose(render(pa)["P1"], want, atol=1e-6)
    np.testing.assert_allclose(render(pb)["P2"], want, atol=1e-6)


def test_awgs_of_different_sample_rates_in_lockstep_or_refused() -> None:
    sw = sweep(par(P1=Hold(1001e-9, Param("v")), P2=Hold(1001e-9, Param("v"))),
               ("v", np.linspace(0, 0.1, 99)))
    a = _awg(LIM, ("P1",), "a")  # 1 GS/s, granularity 1 (1 ns)
    b = _awg(LIM.with_(sample_rate=2.5e9, granularity=16), ("P2",), "b")  # 6.4 ns
    res = compile_schedule(sw, [a, b])
    sa, sb = res.programs["a"].point_starts, res.programs["b"].point_starts
    np.testing.assert_array_equal(sa * 5, sb * 2)  # equal in time: s_a / 1e9 == s_b / 2.5e9
    assert sa[1] == 1024 and sb[1] == 2560  # a common 32 ns quantum
    assert {p.reason for p in res.padding} == {"granularity", "lockstep"}
    odd = _awg(LIM.with_(sample_rate=1e9 + 100), ("P2",), "odd")
    with pytest.raises(SequencerError, match="lockstep"):
        compile_schedule(sw, [a, odd])


def test_lockstep_end_mismatch_reported_or_refused_with_loop() -> None:
    sw = sweep(par(P1=Hold(30e-9, Param("v")), P2=Hold(30e-9, Param("v"))), ("v", [0.1, 0.2, 0.3]))
    a = _awg(LIM.with_(min_length=100), ("P1",), "a")  # packs the 3 steps, pads 10 at the end
    b = _awg(LIM, ("P2",), "b")
    res = compile_schedule(sw, [a, b])
    np.testing.assert_array_equal(res.programs["a"].point_starts[:-1],
                                  res.programs["b"].point_starts[:-1])
    (note,) = res.report
    assert note.kind == "end_mismatch" and "'a' at 1e-07 s" in note.message
    with pytest.raises(SequencerError, match="drift"):
        compile_schedule(sweep(sw.schedule, *sw.axes, loop=True), [a, b])


# --- markers pad low -----------------------------------------------------------------------
def test_marker_high_at_step_end_pads_low() -> None:
    lim = LIM.with_(granularity=16)
    sw = sweep(par(P1=Hold(37e-9, Param("v")), M=[Marker(17e-9, 0), Marker(20e-9)]),
               ("v", [0.1, 0.2]))
    prog = compile_schedule(sw, [_awg(lim, markers=(("M", "P1", 0),))]).programs["awg"]
    one = np.repeat(np.array([0, 1, 0], np.uint8), [17, 20, 11])
    np.testing.assert_array_equal(render_markers(prog)["P1"], np.tile(one, 2))
    packed = LIM.with_(min_length=100)  # 3 steps of 30 packed, then 10 samples of padding
    sw = sweep(par(P1=Hold(30e-9, Param("v")), M=Marker(30e-9)), ("v", [0.1, 0.2, 0.3]))
    prog = compile_schedule(sw, [_awg(packed, markers=(("M", "P1", 0),))]).programs["awg"]
    np.testing.assert_array_equal(render_markers(prog)["P1"], np.repeat([1, 0], [90, 10]))


# --- bias-T compensation after padding -----------------------------------------------------
@SETTINGS
@given(st.floats(-0.2, 0.2), st.integers(1, 200), st.integers(50, 300),
       st.sampled_from([1, 16, 64]))
def test_bias_t_compensation_exact_after_padding(level, n, comp, g) -> None:
    bt = BiasT(1.0, compensate=True, compensation_duration=comp / SR)
    res = compile_schedule(par(P1=Hold(n / SR, level)), [_awg(LIM.with_(granularity=g))],
                           bias_t=bt)
    total = _ceil(n + comp, g)
    want = np.concatenate([np.full(n, level), np.full(total - n, -level * n / (total - n))])
    got = render(res.programs["awg"])["P1"]
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert abs(got.sum()) <= 1e-6 * max(abs(level) * n, 1e-9) + 1e-7 * total
    coded = compile_schedule(par(P1=Hold(n / SR, level)),
                             [_awg(LIM.with_(granularity=g), output="int16")], bias_t=bt)
    assert abs(render(coded.programs["awg"])["P1"].mean()) <= LIM.lsb


# --- nothing dropped without a word --------------------------------------------------------
def test_unwired_marker_and_unrecorded_acquire_lanes_refused() -> None:
    tgt = _awg(markers=(("M", "P1", 0),))
    with pytest.raises(SequencerError, match="marker lane 'M2' is not wired"):
        compile_schedule(par(P1=Hold(100e-9, 0.1), M=Marker(50e-9), M2=Marker(50e-9)), [tgt])
    sched = par(P1=Hold(100e-9, 0.1), DIG=Acquire(50e-9))
    with pytest.raises(SequencerError, match="acquisition lane 'DIG' is not recorded"):
        compile_schedule(sched, [tgt])
    dig = DigitizerTarget("ats", DigitizerLimits(sample_rate=SR), ("A",))
    with pytest.raises(SequencerError, match="acquisition lane 'DIG'"):
        compile_schedule(sched, [tgt], [dig])


def test_durations_that_round_to_nothing_are_reported() -> None:
    sw = sweep(seq(par(P1=[Hold(100e-9, 0.1), Hold(Param("t"), 0.5), Hold(100e-9, 0.2)]),
                   par(P1=Hold(10e-9, 0.0), A=[Acquire(0.2e-9), Acquire(5e-9)])),
               ("t", [0.3e-9, 2e-9, 0.4e-9]))
    dig = DigitizerTarget("ats", DigitizerLimits(sample_rate=SR), ("A",))
    res = compile_schedule(sw, [_awg()], [dig])
    (hold,) = res.programs["awg"].report
    assert hold.kind == "dropped_segment" and hold.lane == "P1" and hold.points == (0, 2)
    assert "Hold" in hold.segment and "0 samples" in hold.message
    (acq,) = res.notes
    assert acq.lane == "A" and "Acquire" in acq.segment and acq.points == (0, 1, 2)
    assert res.report == (acq, hold)
