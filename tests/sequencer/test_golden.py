"""Golden tests: window cutting, padding reports and sequence tables."""

from __future__ import annotations

import numpy as np
import pytest
from seqtest_helpers import assert_round_trip

from dotstack.sequencer import (
    AWG5208,
    AwgLimits,
    AwgTarget,
    Burst,
    Hold,
    Param,
    Ramp,
    Window,
    compile_schedule,
    cut_step,
    par,
    repeat,
    seq,
    sweep,
)


def test_cut_constant_stretch_becomes_repeated_unit() -> None:
    # 100 samples of burst, then 10000 constant; unit = 2400
    got = cut_step([(0, 100, False), (100, 10100, True)], 10100, 1, 2400)
    assert got == [Window(0, 2900, 1, False), Window(2900, 2400, 3, True)]


def test_cut_respects_granularity_and_min_length() -> None:
    got = cut_step([(0, 37, False), (37, 5000, True), (5000, 5120, False)], 5120, 64, 256)
    # constant part aligned to [64, 4992): 19 units of 256 with 64 left over for the head;
    # head (128) and tail (128) are too short, so each borrows one unit
    assert got == [Window(0, 384, 1, False), Window(384, 256, 17, True),
                   Window(4736, 384, 1, False)]
    for w in got:
        assert w.start % 64 == 0 and w.length % 64 == 0 and w.length >= 256


def test_cut_splits_identical_blocks() -> None:
    intervals = [(i * 3000, (i + 1) * 3000, False) for i in range(4)]
    got = cut_step(intervals, 12000, 1, 2400, block_cuts=[0, 3000, 6000, 9000, 12000])
    assert got == [Window(i * 3000, 3000) for i in range(4)]


def test_cut_short_step_is_one_short_window() -> None:
    assert cut_step([(0, 100, True)], 100, 1, 2400) == [Window(0, 100, 1, False)]


def test_padding_to_granularity_is_reported() -> None:
    lim = AwgLimits(sample_rate=1e9, granularity=16, min_length=32)
    sched = seq(par(P1=Ramp(50e-9, 0.0, 0.5)), par(P1=Hold(33e-9, 0.25)))
    prog = compile_schedule(sched, [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
    assert len(prog.padding) == 1
    pad = prog.padding[0]
    assert (pad.samples, pad.reason, pad.points) == (96 - 83, "granularity", (0,))
    assert "Hold" in pad.segment
    assert prog.n_samples == 96
    assert_round_trip(sched, prog)


def test_rabi_table_awg5208_like() -> None:
    """Schedule in gate names and volts -> AWG5208-like table + unique waveforms."""
    lim = AWG5208  # 2.5 GS/s, granularity 1, min length 2400
    sched = seq(par(P1=Burst(Param("t"), 100e6, 0.3)), par(P1=Hold(10e-6, 0.1)))
    sw = sweep(sched, ("t", [40e-9, 80e-9, 40e-9]))
    prog = compile_schedule(sw, [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
    tab = prog.table
    # per point: burst window (burst + fill to 25000 - 9 * 2400 samples), then plateau x9
    rows = [(s.waveforms[0], s.repeat) for s in tab]
    assert rows == [(0, 1), (1, 9), (2, 1), (1, 9), (0, 1), (1, 9)]
    assert [len(w) for w in prog.waveforms] == [25100 - 9 * 2400, 2400, 25200 - 9 * 2400]
    assert not tab.trigger_wait.any() and (tab.goto == -1).all()
    assert_round_trip(sw, prog)


def test_identical_blocks_merge_into_repeat_count() -> None:
    lim = AwgLimits(sample_rate=1e9, min_length=64)
    pulse = par(P1=[Ramp(100e-9, 0.0, 0.2), Ramp(100e-9, 0.2, 0.0)])
    sched = seq(par(P1=Hold(1e-6, 0.0)), repeat(pulse, 50), par(P1=Burst(500e-9, 5e7, 0.1)))
    prog = compile_schedule(sched, [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
    reps = prog.table.repeat.tolist()
    assert 50 in reps
    assert len(prog.table) <= 4
    assert_round_trip(sched, prog)


def test_trigger_and_loop_flags() -> None:
    lim = AwgLimits(sample_rate=1e9, min_length=16)
    sched = par(P1=Hold(Param("t"), 0.1), P2=Burst(100e-9, 1e8, 0.1))
    sw = sweep(sched, ("x", [0, 1]), ("t", [64e-9, 128e-9, 256e-9]), trigger="row", loop=True)
    prog = compile_schedule(sw, [AwgTarget("awg", lim, ("P1", "P2"))]).programs["awg"]
    tab = prog.table
    starts = prog.point_starts
    assert starts.tolist() == [0, 100, 228, 484, 584, 712, 968]
    lengths = np.array([len(w) for w in prog.waveforms])[tab.waveform[:, 0]] * tab.repeat
    row_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    assert row_starts[tab.trigger_wait].tolist() == [0, 484]  # rows of the outer axis
    assert tab.goto.tolist() == [-1] * (len(tab) - 1) + [0]
    assert_round_trip(sw, prog)


def test_raster_packs_short_steps() -> None:
    lim = AWG5208.with_(sample_rate=1e9)
    sched = par(P1=Hold(1e-6, Param("p1")), P2=Hold(1e-6, Param("p2")))
    sw = sweep(sched, ("p2", np.linspace(-0.1, 0.1, 4)), ("p1", np.linspace(-0.2, 0.2, 7)))
    prog = compile_schedule(sw, [AwgTarget("awg", lim, ("P1", "P2"))]).programs["awg"]
    assert prog.packed == 3
    assert len(prog.table) == 28 // 3
    assert all(len(w) >= 2400 for w in prog.waveforms)
    assert_round_trip(sw, prog)


@pytest.mark.parametrize("n_points", [1, 2])
def test_short_program_padded_to_min_length(n_points: int) -> None:
    lim = AwgLimits(sample_rate=1e9, min_length=2400)
    sw = sweep(par(P1=Ramp(1e-6, 0.0, Param("v"))), ("v", [0.1, 0.2][:n_points]))
    prog = compile_schedule(sw, [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
    assert prog.n_samples == 2400
    (pad,) = prog.padding
    assert pad.reason == "min_length" and pad.samples == 2400 - 1000 * n_points
    assert_round_trip(sw, prog)
