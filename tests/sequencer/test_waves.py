"""Compact waveform store: runs stay compact, materialise exactly, dedup across forms."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqtest_helpers import assert_round_trip

from dotstack.sequencer import (
    AWG5208,
    AwgLimits,
    AwgTarget,
    DenseChunk,
    Hold,
    Marker,
    Param,
    Program,
    Ramp,
    RunChunk,
    VirtualGateLayer,
    VirtualGates,
    WaveStore,
    compile_schedule,
    par,
    render,
    render_markers,
    seq,
    sweep,
)
from dotstack.sequencer._util import fingerprint
from dotstack.sequencer.pool import Pool

LIM = AWG5208.with_(sample_rate=1e9)  # min_length 2400: 1 µs steps get packed
GATES = VirtualGates((VirtualGateLayer(("vP1", "vP2"), ("P1", "P2"),
                                       [[1.0, -0.2], [-0.3, 1.0]]),))


def _raster(n1: int, n2: int) -> object:
    step = par(vP1=Hold(1e-6, Param("p1")), vP2=Hold(1e-6, Param("p2")))
    return sweep(step, ("p2", np.linspace(-0.2, 0.2, n2)), ("p1", np.linspace(-0.3, 0.3, n1)))


def _dense(prog: Program) -> Program:
    """The same program with every waveform materialised into dense chunks."""
    store = WaveStore.from_arrays(prog.waveform_data, prog.waveform_markers)
    return dataclasses.replace(prog, waves=store)


def _assert_same_output(a: Program, b: Program) -> None:
    ra, rb = render(a, "raw"), render(b, "raw")
    assert ra.keys() == rb.keys()
    for ch in ra:
        assert ra[ch].dtype == rb[ch].dtype
        np.testing.assert_array_equal(ra[ch], rb[ch])


def test_packed_virtual_gate_raster_stays_compact_and_round_trips() -> None:
    sw = _raster(10, 7)
    prog = compile_schedule(sw, [AwgTarget("awg", LIM, ("P1", "P2"))],
                            virtual_gates=GATES).programs["awg"]
    assert prog.packed == 3
    assert prog.waves.n_compact() == prog.n_waveforms  # nothing sampled during compile
    assert all(isinstance(c, RunChunk) for c in prog.waves.chunks)
    assert "waveform_data" not in vars(prog)  # not materialised yet
    assert_round_trip(sw, prog, virtual_gates=GATES)
    _assert_same_output(prog, _dense(prog))
    np.testing.assert_array_equal(prog.waves.fingerprints(), fingerprint_all(prog))
    assert [len(w) for w in prog.waveform_data] == prog.waveform_lengths.tolist()


def fingerprint_all(prog: Program) -> np.ndarray:
    return np.array([int(fingerprint(w)[0]) for w in prog.waveform_data], dtype=np.uint64)


def test_recompile_after_matrix_change_matches_fresh_compile() -> None:
    sw = _raster(9, 4)
    target = [AwgTarget("awg", LIM, ("P1", "P2"))]
    compile_schedule(sw, target, virtual_gates=GATES)
    g2 = GATES.with_matrix(0, [[1.0, -0.25], [-0.1, 1.0]])
    prog = compile_schedule(sw, target, virtual_gates=g2).programs["awg"]
    assert_round_trip(sw, prog, virtual_gates=g2)
    before = compile_schedule(sw, target, virtual_gates=GATES).programs["awg"]
    assert not np.array_equal(render(prog, "raw")["P1"], render(before, "raw")["P1"])


def test_unpacked_plateaus_are_compact() -> None:
    sw = sweep(par(P1=Hold(3e-6, Param("a"))), ("a", [0.1, -0.1, 0.1, 0.2]))
    prog = compile_schedule(sw, [AwgTarget("awg", LIM, ("P1",))]).programs["awg"]
    assert prog.n_waveforms == 3 and prog.waves.n_compact() == 3
    assert_round_trip(sw, prog)


def test_pool_dedups_across_representations() -> None:
    pool = Pool(True, LIM)
    lens = np.array([30, 10])
    step = np.repeat(np.array([5, 7], dtype=np.int16), lens)
    dense = pool.add_rows(np.stack([step, np.arange(40, dtype=np.int16)]), None)
    runs = pool.add_runs(np.array([[5, 7], [1, 1], [5, 7]], dtype=np.int16), lens, None)
    assert runs.tolist() == [dense[0], 2, dense[0]]  # equal content -> the dense waveform
    assert isinstance(pool.chunks[-1], RunChunk)
    again = pool.add_rows(np.ones((1, 40), dtype=np.int16), None)
    assert again.tolist() == [2]  # and a dense row finds the run waveform
    marked = pool.add_runs(np.array([[5, 7]], dtype=np.int16), lens, np.array([1, 0]))
    assert marked.tolist() == [3]  # same samples, different markers: kept apart
    np.testing.assert_array_equal(pool.store().row(3), step)
    np.testing.assert_array_equal(pool.store().markers()[3], np.repeat([1, 0], lens))
    short = pool.add_runs(np.array([[5, 7]], dtype=np.int16), np.array([3, 1]), None)
    assert isinstance(pool.chunks[-1], DenseChunk) and short.tolist() == [4]


def test_pool_float_zero_sign_is_content() -> None:
    pool = Pool(True, LIM)
    ids = pool.add_constant(np.array([0.0, -0.0, 0.0], dtype=np.float32), 8, None)
    assert ids.tolist() == [0, 1, 0]
    data = pool.store().materialise()
    assert len({d.tobytes() for d in data}) == 2


def test_markers_and_delays_from_compact_store() -> None:
    lim = AwgLimits(sample_rate=1e9, granularity=4, min_length=64, amplitude_range=(-1, 1),
                    markers_per_channel=1, channel_delays=(("P2", 12e-9),))
    sw = sweep(seq(par(P1=Hold(400e-9, Param("a")), P2=Hold(400e-9, 0.1),
                       M=[Marker(100e-9, 0), Marker(200e-9)]),
                   par(P1=Ramp(100e-9, 0.0, 0.2), P2=Hold(100e-9, Param("a")))),
               ("a", [0.1, 0.3]))
    target = AwgTarget("awg", lim, ("P1", "P2"), markers=(("M", "P1", 0),))
    prog = compile_schedule(sw, [target]).programs["awg"]
    assert any(isinstance(c, RunChunk) and c.markers is not None for c in prog.waves.chunks)
    assert_round_trip(sw, prog, delays={"P2": 12})
    dense = _dense(prog)
    marks = render_markers(prog)["P1"]
    np.testing.assert_array_equal(marks, render_markers(dense)["P1"])
    assert marks[:500].tolist() == [0] * 100 + [1] * 200 + [0] * 200
    _assert_same_output(prog, dense)


@st.composite
def raster_case(draw):
    n1, n2 = draw(st.integers(1, 12)), draw(st.integers(1, 5))
    pick = st.sampled_from([-0.2, 0.0, 0.05, 0.2])  # repeated levels exercise dedup
    l1 = draw(st.lists(pick, min_size=n1, max_size=n1))
    l2 = draw(st.lists(pick, min_size=n2, max_size=n2))
    dur = draw(st.sampled_from([100e-9, 333e-9, 1e-6, 2.5e-6]))
    lim = AwgLimits(sample_rate=1e9, granularity=draw(st.sampled_from([1, 4, 16])),
                    min_length=draw(st.sampled_from([1, 64, 300, 2400])),
                    amplitude_range=(-1.0, 1.0))
    m = [[1.0, draw(st.floats(-0.5, 0.5))], [draw(st.floats(-0.5, 0.5)), 1.0]]
    step = par(vP1=Hold(dur, Param("p1")), vP2=Hold(dur, Param("p2")))
    return sweep(step, ("p2", l2), ("p1", l1)), lim, GATES.with_matrix(0, m)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raster_case(), st.sampled_from(["int16", "float32"]))
def test_compact_rasters_round_trip_and_dedup(case, output) -> None:
    sw, lim, gates = case
    target = [AwgTarget("awg", lim, ("P1", "P2"), output=output)]
    a = compile_schedule(sw, target, virtual_gates=gates).programs["awg"]
    b = compile_schedule(sw, target, virtual_gates=gates, dedup=False).programs["awg"]
    assert_round_trip(sw, a, virtual_gates=gates)
    _assert_same_output(a, b)
    _assert_same_output(a, _dense(a))
    contents = {w.tobytes() for w in a.waveform_data}
    assert len(contents) == a.n_waveforms <= b.n_waveforms
