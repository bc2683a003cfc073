"""Hypothesis round trips: compile then render equals direct evaluation."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqtest_helpers import assert_round_trip

from dotstack.sequencer import (
    AwgLimits,
    AwgTarget,
    Burst,
    Chirp,
    Gap,
    Hold,
    Param,
    Ramp,
    Schedule,
    compile_schedule,
    par,
    render,
    repeat,
    seq,
    sweep,
)

SR = 1e9
levels = st.floats(-0.4, 0.4, allow_nan=False)
durs = st.integers(0, 300).map(lambda n: n / SR)
odd_durs = st.floats(0.0, 300e-9, allow_nan=False)


@st.composite
def segments(draw):
    kind = draw(st.sampled_from(["hold", "ramp", "burst", "chirp", "gap"]))
    d = draw(st.one_of(durs, odd_durs))
    if kind == "gap":
        return Gap(d)
    if kind == "hold":
        return Hold(d, draw(levels))
    if kind == "ramp":
        return Ramp(d, draw(levels), draw(levels))
    if kind == "burst":
        return Burst(d, draw(st.floats(0, 4e8)), draw(st.floats(0, 0.2)),
                     draw(st.floats(-3, 3)), draw(st.floats(-0.1, 0.1)),
                     draw(st.sampled_from(["rect", "gauss", "cosine"])))
    return Chirp(d, draw(st.floats(0, 2e8)), draw(st.floats(0, 4e8)), draw(st.floats(0, 0.2)))


@st.composite
def schedules(draw):
    blocks = []
    for _ in range(draw(st.integers(1, 4))):
        lanes = {}
        for lane in draw(st.sets(st.sampled_from(["P1", "P2"]), min_size=1)):
            lanes[lane] = draw(st.lists(segments(), min_size=1, max_size=3))
        block = par(lanes)
        if draw(st.booleans()):
            block = repeat(block, draw(st.integers(1, 3)))
        blocks.append(block)
    return seq(*blocks)


@st.composite
def limits(draw):
    return AwgLimits(sample_rate=SR, granularity=draw(st.sampled_from([1, 2, 8, 16])),
                     min_length=draw(st.sampled_from([1, 16, 64, 100])),
                     amplitude_range=(-1.0, 1.0),
                     resolution_bits=draw(st.sampled_from([12, 14, 16])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules(), limits(), st.sampled_from(["int16", "float32"]))
def test_compile_render_equals_direct_evaluation(schedule: Schedule, lim, output) -> None:
    prog = compile_schedule(schedule, [AwgTarget("awg", lim, ("P1", "P2"),
                                                 output=output)]).programs["awg"]
    assert_round_trip(schedule, prog)
    lengths = np.array([len(w) for w in prog.waveforms])
    assert np.all(lengths % lim.granularity == 0)
    assert np.all(lengths >= lim.min_length)


@settings(max_examples=25, deadline=None)
@given(st.lists(levels, min_size=1, max_size=6), st.lists(st.integers(1, 400), min_size=1,
       max_size=5), limits())
def test_swept_round_trip(amps, lengths, lim) -> None:
    sched = seq(par(P1=Burst(Param("t"), 1.3e8, Param("a"))),
                par(P1=Hold(Param("t2"), Param("a")), P2=Ramp(300e-9, Param("a"), 0.1)))
    sw = sweep(sched, ("a", amps), ("t", [n / SR for n in lengths]),
               constants={"t2": 250e-9})
    prog = compile_schedule(sw, [AwgTarget("awg", lim, ("P1", "P2"))]).programs["awg"]
    assert_round_trip(sw, prog)


@settings(max_examples=30, deadline=None)
@given(schedules(), limits())
def test_dedup_never_changes_output(schedule, lim) -> None:
    target = [AwgTarget("awg", lim, ("P1", "P2"))]
    a = compile_schedule(schedule, target, dedup=True).programs["awg"]
    b = compile_schedule(schedule, target, dedup=False).programs["awg"]
    ra, rb = render(a, "raw"), render(b, "raw")
    for ch in ra:
        np.testing.assert_array_equal(ra[ch], rb[ch])
    assert len(a.waveforms) <= len(b.waveforms)
    contents = {w.data.tobytes() for w in a.waveforms}
    assert len(contents) == len(a.waveforms)  # no duplicates left


def test_gap_only_block_counts_in_direct_evaluation() -> None:
    """Found by hypothesis: a block whose only lane holds a gap still takes time."""
    sched = seq(par(P1=Gap(1e-9)), par(P2=Hold(1e-9, 0.25)))
    lim = AwgLimits(sample_rate=SR, granularity=1, min_length=1, amplitude_range=(-1.0, 1.0),
                    resolution_bits=12)
    prog = compile_schedule(sched, [AwgTarget("awg", lim, ("P1", "P2"))]).programs["awg"]
    assert prog.n_samples == 2
    assert_round_trip(sched, prog)
