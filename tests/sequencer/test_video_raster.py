"""Video raster (issue 8 point 6): sawtooth fast axis (P1 ramps), staircase slow axis (P2
steps), through a 2x2 virtual-gate matrix. Ramps stay symbolic (start, slope, length runs)
until rendered; references are built with plain numpy (never with render or evaluate).
"""

from __future__ import annotations

import dataclasses
import importlib
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from seqtest_helpers import assert_round_trip

from dotstack.sequencer import (
    AWG5208,
    AwgLimits,
    AwgTarget,
    BiasT,
    Gap,
    Hold,
    LimitError,
    LinearChunk,
    Marker,
    Param,
    Program,
    Ramp,
    RunChunk,
    VirtualGateLayer,
    VirtualGates,
    WaveStore,
    compile_schedule,
    compiler,
    par,
    ramps,
    render,
    render_markers,
    seq,
    sweep,
    virtual_gates,
)
from dotstack.sequencer.pool import Pool

render_module = importlib.import_module("dotstack.sequencer.render")  # (``render`` is also
# the function's name in the package)

SR = AWG5208.sample_rate  # 2.5 GS/s
LSB16 = 1.5 / (2**16 - 2)  # a 16-bit LSB over +-0.75 V
M = ((1.0, -0.2), (-0.3, 1.0))


def _gates(m=M) -> VirtualGates:
    return VirtualGates((VirtualGateLayer(("vP1", "vP2"), ("P1", "P2"), m),))


def _video(nx: int, ny: int, spp: int, a1: float = 0.3, a2: float = 0.2):
    """Rows of ``nx`` pixels of ``spp`` samples: vP1 ramps -a1 -> a1, vP2 holds the row."""
    t = nx * spp / SR
    return sweep(par(vP1=Ramp(t, -a1, a1), vP2=Hold(t, Param("p2"))),
                 ("p2", np.linspace(-a2, a2, ny)))


def _reference(m, nx: int, ny: int, spp: int, a1: float = 0.3, a2: float = 0.2
               ) -> dict[str, np.ndarray]:
    """Expected volts, float64: ramp value a1 * (2k/n - 1) at sample k of an n-sample row."""
    n = nx * spp
    ramp = a1 * (2.0 * np.arange(n) / n - 1.0)
    rows = np.linspace(-a2, a2, ny)
    return {ch: (m[c][0] * ramp[None, :] + m[c][1] * rows[:, None]).ravel()
            for c, ch in enumerate(("P1", "P2"))}


def _compile(item, output="float32", gates=None, lim=AWG5208, **kw) -> Program:
    target = AwgTarget("awg", lim, ("P1", "P2"), output=output)
    return compile_schedule(item, [target], virtual_gates=gates or _gates(), **kw).programs["awg"]


@pytest.mark.parametrize("output", ["float32", "int16"])
@pytest.mark.parametrize("size", [(20, 12, 150), (10, 3, 8000)])  # 3000- and 80000-sample rows
def test_video_raster_equals_numpy_reference(output, size) -> None:
    nx, ny, spp = size
    sw = _video(nx, ny, spp)
    prog = _compile(sw, output)
    assert len(prog.table) == ny and prog.n_waveforms == 2 * ny
    assert all(isinstance(c, LinearChunk) for c in prog.waves.chunks)  # ramps kept symbolic
    assert "waveform_data" not in vars(prog)
    out = render(prog)  # volts
    want = _reference(M, nx, ny, spp)
    for ch in ("P1", "P2"):
        assert out[ch].shape == want[ch].shape
        err = np.abs(out[ch] - want[ch]).max()
        # float32 carries the exact value to ~1e-7 V; int16 is the exact value rounded to
        # the nearest code (<= 0.5 LSB, plus float noise far below it)
        assert err <= 0.5 * LSB16 * (1 + 1e-6), (ch, err / LSB16)
    if spp == 150:
        assert_round_trip(sw, prog, virtual_gates=_gates())


@pytest.mark.parametrize("output", ["float32", "int16"])
@pytest.mark.parametrize("ny", [7, 2])
def test_rows_shorter_than_min_length_are_packed_as_linear_runs(output, ny) -> None:
    nx, spp = 10, 100  # 1000-sample rows, min_length 2400: 3 rows per waveform (last: 4)
    sw = sweep(par(vP1=Ramp(nx * spp / SR, -0.3, 0.3), vP2=Hold(nx * spp / SR, Param("p2")),
                   M=[Marker(400 / SR), Marker(600 / SR, 0)]),
               ("p2", np.linspace(-0.2, 0.2, ny)))
    target = AwgTarget("awg", AWG5208, ("P1", "P2"), markers=(("M", "P1", 0),), output=output)
    prog = compile_schedule(sw, [target], virtual_gates=_gates()).programs["awg"]
    assert prog.packed == 3 and len(prog.table) == ny // 3 + (ny < 3)
    assert all(isinstance(c, LinearChunk) for c in prog.waves.chunks)
    extra = max(2400 - ny * 1000, 0)  # fewer rows than one waveform needs: end padding
    assert [(p.reason, p.samples) for p in prog.padding] == ([("min_length", extra)] if extra
                                                             else [])
    want = _reference(M, nx, ny, spp)
    out = render(prog)
    for ch in ("P1", "P2"):
        body = out[ch][:ny * nx * spp]
        assert np.abs(body - want[ch]).max() <= 0.5 * LSB16 * (1 + 1e-6)
        np.testing.assert_array_equal(out[ch][ny * nx * spp:], out[ch][ny * nx * spp - 1])
    marks = render_markers(prog)["P1"]
    np.testing.assert_array_equal(marks, np.concatenate(
        [np.tile(np.repeat([1, 0], [400, 600]), ny), np.zeros(extra)]))
    assert_round_trip(sw, prog, virtual_gates=_gates())
    np.testing.assert_array_equal(render(_dense(prog), "raw")["P1"], render(prog, "raw")["P1"])


@pytest.mark.parametrize("output", ["float32", "int16"])
def test_virtual_gate_change_equals_compile_from_scratch(output) -> None:
    nx, ny, spp = 50, 8, 2000  # 1.6e6 samples: far more than the compile's own objects
    sw = _video(nx, ny, spp)
    _compile(sw, output)  # binds the sweep (cached) with the first matrix
    m2 = ((1.0, -0.25), (-0.1, 1.0))
    tracemalloc.start()
    prog = _compile(sw, output, _gates(m2))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # levels and slopes per segment are recomputed, samples are not written
    assert peak < 0.02 * prog.n_samples * 2 * 4
    assert all(isinstance(c, LinearChunk) for c in prog.waves.chunks)
    compiler._bind.cache_clear()
    virtual_gates._compose.cache_clear()
    fresh = _compile(_video(nx, ny, spp), output, _gates(((1.0, -0.25), (-0.1, 1.0))))
    a, b = render(prog, "raw"), render(fresh, "raw")
    for ch in ("P1", "P2"):
        np.testing.assert_array_equal(a[ch], b[ch])
    want = _reference(m2, nx, ny, spp)
    for ch in ("P1", "P2"):
        assert np.abs(render(prog)[ch] - want[ch]).max() <= 0.5 * LSB16 * (1 + 1e-6)


def test_ramp_beyond_amplitude_range_after_mixing_names_segment_and_channel() -> None:
    # vP1 ends at 0.7 V; P1 = vP1 - 0.2 vP2 with vP2 = -0.4 reaches 0.78 V at the ramp's end
    sw = sweep(par(vP1=Ramp(2e-6, 0.0, 0.7), vP2=Hold(2e-6, Param("p2"))),
               ("p2", [0.0, -0.4]))
    with pytest.raises(LimitError) as err:
        _compile(sw)
    assert err.value.channel == "P1" and "Ramp" in err.value.segment
    assert err.value.limit == "amplitude_range"


def test_bias_t_integral_of_ramps_in_closed_form() -> None:
    lim = AwgLimits(sample_rate=1e9, min_length=1, amplitude_range=(-1.0, 1.0))
    sched = par(P1=[Ramp(300e-9, 0.0, 0.3), Hold(100e-9, 0.3)])
    res = compile_schedule(sched, [AwgTarget("awg", lim, ("P1",), output="float32")],
                           bias_t=BiasT(1.0, compensate=True, compensation_duration=200e-9))
    out = render(res.programs["awg"])["P1"]
    ramp = 0.3 * np.arange(300) / 300
    level = -(ramp.sum() + 0.3 * 100) / 200
    np.testing.assert_allclose(out, np.concatenate([ramp, np.full(100, 0.3),
                                                    np.full(200, level)]), atol=1e-6)


# --- the closed form ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.int16])
def test_fill_matches_values_at_across_blocks_and_run_sizes(dtype) -> None:
    lengths = np.array([3, 1, 255, 256, ramps.BLOCK + 7, 40, 2 * ramps.BLOCK, 5])
    rng = np.random.default_rng(1)
    scale = 1.0 if dtype == np.float32 else 3e4  # codes stay within int16
    starts = rng.uniform(-0.5, 0.5, (4, len(lengths))) * scale
    slopes = rng.uniform(-0.5, 0.5, (4, len(lengths))) * scale / lengths
    slopes[1, 2] = 0.0
    out = np.empty((4, int(lengths.sum())), dtype=dtype)
    ramps.fill(out, starts, slopes, lengths)
    run = np.repeat(np.arange(len(lengths)), lengths)
    k = np.arange(out.shape[1]) - (np.cumsum(lengths) - lengths)[run]
    exact = ramps.values_at(starts[:, run], slopes[:, run], k[None, :], dtype)
    np.testing.assert_array_equal(out, exact)  # one formula, bit for bit
    ideal = starts[:, run] + slopes[:, run] * k
    tol = 2e-7 if dtype == np.float32 else 0.5 + 1e-6
    assert np.abs(out - ideal).max() <= tol
    chunk = LinearChunk(starts, slopes, lengths, np.dtype(dtype))
    np.testing.assert_array_equal(chunk.materialise(), out)
    np.testing.assert_array_equal(chunk.row(2), out[2])
    pos = np.array([0, 4, 300, ramps.BLOCK + 600, int(lengths.sum()) - 1])
    np.testing.assert_array_equal(chunk.sample_at(pos), out[:, pos])


# --- exact deduplication of linear waveforms ----------------------------------------------------
LIM = AwgLimits(sample_rate=1e9, min_length=16, amplitude_range=(-1.0, 1.0))


def test_linear_rows_dedup_against_samples_and_runs_both_ways() -> None:
    lengths = np.array([100, 300])
    starts, slopes = np.array([[0.1, 0.1]]), np.array([[0.0, 0.001]])
    data = LinearChunk(starts, slopes, lengths, np.dtype(np.float32)).materialise()
    for order in (0, 1):
        pool = Pool(True, LIM)
        if order == 0:
            dense = pool.add_rows(data, None)
            lin = pool.add_linear(starts, slopes, lengths, None, np.float32)
        else:
            lin = pool.add_linear(starts, slopes, lengths, None, np.float32)
            dense = pool.add_rows(data, None)
        assert dense.tolist() == lin.tolist() == [0] and pool.n == 1
    pool = Pool(True, LIM)  # a flat linear row equals a plateau stored as runs
    run = pool.add_runs(np.array([[0.25]], dtype=np.float32), np.array([400]), None)
    flat = pool.add_linear(np.array([[0.25, 0.25]]), np.zeros((1, 2)), lengths, None,
                           np.float32)
    assert run.tolist() == flat.tolist() == [0]
    marked = pool.add_linear(np.array([[0.25, 0.25]]), np.zeros((1, 2)), lengths,
                             np.array([1, 0]), np.float32)
    assert marked.tolist() == [1]  # same samples, other markers: kept apart


def test_linear_rows_equal_content_other_parameters_share_one_waveform() -> None:
    lengths = np.array([500])
    pool = Pool(True, LIM)
    # -0.0 and 0.0 starts give the same samples; so do slopes that differ below float32
    ids = pool.add_linear(np.array([[-0.0], [0.0], [0.0]]),
                          np.array([[1e-3], [1e-3], [np.nextafter(1e-3, 1.0)]]), lengths, None,
                          np.float32)
    assert ids.tolist() == [0, 0, 0] and pool.n == 1
    again = pool.add_linear(np.array([[0.0]]), np.array([[np.nextafter(1e-3, 0.0)]]), lengths,
                            None, np.float32)
    assert again.tolist() == [0]


def test_linear_rows_with_equal_sketches_but_other_samples_are_kept_apart() -> None:
    # runs [0, 100), [100, 150), [150, 1601): the middle run lies between sketch positions
    lengths = np.array([100, 50, 1451])
    starts = np.array([[0.0, 0.1, 0.0], [0.0, 0.2, 0.0], [0.0, 0.1, 0.0]])
    slopes = np.array([[0.0, 0.0, 1e-4], [0.0, 0.0, 1e-4], [0.0, 0.0, 1e-4]])
    pool = Pool(True, LIM)
    ids = pool.add_linear(starts, slopes, lengths, None, np.float32)
    assert ids.tolist() == [0, 1, 0]
    later = pool.add_linear(starts[1:2] * [1, 1.5, 1], slopes[:1], lengths, None, np.float32)
    assert later.tolist() == [2]
    store = pool.store()
    assert len({d.tobytes() for d in store.materialise()}) == 3
    np.testing.assert_allclose(store.row(2)[100:150], 0.3, rtol=1e-6)


def _dense(prog: Program) -> Program:
    store = WaveStore.from_arrays(prog.waveform_data, prog.waveform_markers)
    return dataclasses.replace(prog, waves=store)


def _render_in_place(prog: Program) -> dict[str, np.ndarray]:
    """Render writing every linear waveform straight into the output (as large ones are)."""
    saved = render_module._MATERIALISE
    render_module._MATERIALISE = 0
    try:
        return render(prog, "raw")
    finally:
        render_module._MATERIALISE = saved


def test_repeated_ramp_waveform_rendered_in_place() -> None:
    pulse = par(P1=[Ramp(100e-9, 0.0, 0.2), Ramp(100e-9, 0.2, 0.0)], P2=Hold(200e-9, 0.1))
    sched = seq(par(P1=Hold(1e-6, 0.0)), pulse * 50, par(P1=Ramp(500e-9, 0.0, 0.1)))
    lim = AwgLimits(sample_rate=1e9, min_length=64)
    prog = compile_schedule(sched, [AwgTarget("awg", lim, ("P1", "P2"), output="float32")]
                            ).programs["awg"]
    assert 50 in prog.table.repeat.tolist()
    assert any(isinstance(c, LinearChunk) for c in prog.waves.chunks)
    got, dense = _render_in_place(prog), render(_dense(prog), "raw")
    for ch in ("P1", "P2"):
        np.testing.assert_array_equal(got[ch], dense[ch])
    assert_round_trip(sched, prog)


lv = st.sampled_from([-0.3, -0.0, 0.0, 0.1, 0.2500001, 0.25, 0.3])
dur = st.integers(0, 120).map(lambda n: n / 1e9)


@st.composite
def linear_case(draw):
    def segs():
        out = []
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["hold", "ramp", "ramp", "gap"]))
            d = draw(dur)
            out.append(Gap(d) if kind == "gap" else Hold(d, draw(lv)) if kind == "hold"
                       else Ramp(d, draw(lv), draw(lv)))
        return out

    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        lanes = {lane: segs() for lane in draw(st.sets(st.sampled_from(["vP1", "vP2"]),
                                                        min_size=1))}
        if draw(st.booleans()):
            lanes["M"] = [Marker(draw(dur), 0), Marker(draw(dur))]
        blocks.append(par(lanes))
    m = ((1.0, draw(st.sampled_from([0.0, -0.2, 0.3]))), (draw(st.sampled_from([0.0, 0.1])), 1.0))
    lim = LIM.with_(granularity=draw(st.sampled_from([1, 4, 16])),
                    min_length=draw(st.sampled_from([1, 16, 64])), markers_per_channel=1)
    return seq(*blocks), _gates(m), lim


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(linear_case(), st.sampled_from(["int16", "float32"]))
def test_linear_windows_round_trip_dedup_exactly_and_carry_markers(case, output) -> None:
    sched, gates, lim = case
    target = [AwgTarget("awg", lim, ("P1", "P2"), markers=(("M", "P1", 0),), output=output)]
    try:
        a = compile_schedule(sched, target, virtual_gates=gates).programs["awg"]
    except LimitError:  # a schedule without any samples
        return
    b = compile_schedule(sched, target, virtual_gates=gates, dedup=False).programs["awg"]
    assert_round_trip(sched, a, virtual_gates=gates)
    dense = _dense(a)
    ra = render(a, "raw")
    for ro in (render(b, "raw"), render(dense, "raw"), _render_in_place(a)):
        for ch in ra:
            np.testing.assert_array_equal(ra[ch], ro[ch])
    np.testing.assert_array_equal(render_markers(a)["P1"], render_markers(dense)["P1"])
    contents = {(w.data.tobytes(), None if w.markers is None else w.markers.tobytes())
                for w in a.waveforms}
    assert len(contents) == a.n_waveforms <= b.n_waveforms


def test_colliding_keys_within_a_batch_stay_findable() -> None:
    pool = Pool(True, LIM)
    codes = np.array([[1, 2], [3, 4]], dtype=np.int16)
    lengths = np.array([10, 10])
    fps = np.array([7, 7], dtype=np.uint64)  # distinct rows, equal fingerprints
    assert pool._add_batch(RunChunk(codes, lengths), fps).tolist() == [0, 1]
    assert pool._add_batch(RunChunk(codes[1:], lengths), fps[:1]).tolist() == [1]
    assert pool._add_batch(RunChunk(codes[:1], lengths), fps[:1]).tolist() == [0]
