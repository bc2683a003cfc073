"""Virtual gates, bias tees, markers, delays, acquisition programs and plots."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from seqtest_helpers import assert_round_trip

from dotstack.sequencer import (
    ATS9360,
    AWG5208,
    Acquire,
    AwgLimits,
    AwgTarget,
    BiasT,
    BiasTDroopWarning,
    Burst,
    DigitizerTarget,
    Gap,
    Hold,
    Marker,
    Param,
    Ramp,
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

LIM = AwgLimits(sample_rate=1e9, granularity=4, min_length=64, amplitude_range=(-1.0, 1.0),
                markers_per_channel=2)


def _gates() -> VirtualGates:
    plungers = VirtualGateLayer(("vP1", "vP2"), ("P1", "P2"), [[1.0, -0.2], [-0.3, 1.0]])
    sensor = VirtualGateLayer(("P1", "P2", "S"), ("P1", "P2", "S"),
                              [[1, 0, 0], [0, 1, 0], [-0.1, -0.05, 1]])
    return VirtualGates((plungers, sensor))


def test_virtual_gate_composition() -> None:
    names, m = _gates().compose(["vP1", "vP2", "S"])
    assert names == ("P1", "P2", "S")
    np.testing.assert_allclose(m, [[1, -0.2, 0], [-0.3, 1, 0],
                                   [-0.1 + 0.015, 0.02 - 0.05, 1]])
    inv = VirtualGateLayer.from_capacitance(("P1", "P2"), ("vP1", "vP2"), [[1, 0.2], [0.3, 1]])
    np.testing.assert_allclose(np.asarray(inv.matrix) @ [[1, 0.2], [0.3, 1]], np.eye(2),
                               atol=1e-12)


def test_virtual_gate_sweep_round_trip_and_recompile() -> None:
    sched = seq(par(vP1=Ramp(200e-9, 0.0, Param("a")), vP2=Hold(150e-9, 0.1)),
                par(vP1=Hold(300e-9, Param("a")), S=Burst(300e-9, 5e7, 0.05, offset=0.2)))
    sw = sweep(sched, ("a", [0.1, 0.2, 0.3]))
    target = [AwgTarget("awg", LIM, ("P1", "P2", "S"))]
    gates = _gates()
    prog = compile_schedule(sw, target, virtual_gates=gates).programs["awg"]
    assert_round_trip(sw, prog, virtual_gates=gates)
    changed = gates.with_matrix(1, [[1, 0, 0], [0, 1, 0], [-0.2, 0.0, 1]])
    prog2 = compile_schedule(sw, target, virtual_gates=changed).programs["awg"]
    assert_round_trip(sw, prog2, virtual_gates=changed)
    assert not np.allclose(render(prog)["S"], render(prog2)["S"])


def test_bias_t_compensation_zero_mean_and_droop_warning() -> None:
    sched = par(P1=[Hold(2e-6, 0.3), Ramp(1e-6, 0.3, -0.1)], P2=Hold(3e-6, 0.05))
    bt = BiasT(time_constant=1e-3, channels=("P1",), compensate=True,
               compensation_duration=2e-6, max_droop=1e-4)
    with pytest.warns(BiasTDroopWarning, match="P1"):
        res = compile_schedule(sched, [AwgTarget("awg", LIM, ("P1", "P2"))], bias_t=bt)
    out = render(res.programs["awg"])
    assert len(out["P1"]) == 5000
    assert abs(out["P1"].mean()) < 2 * LIM.lsb
    np.testing.assert_allclose(out["P2"][3000:], 0.05, atol=LIM.lsb)  # holds, no compensation
    assert res.droop["P1"] == pytest.approx((0.6e-6 + 0.1e-6) / 1e-3, rel=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compile_schedule(sched, [AwgTarget("awg", LIM, ("P1", "P2"))],
                         bias_t=BiasT(time_constant=1.0, max_droop=1e-3))


def test_markers_and_delays() -> None:
    lim = LIM.with_(channel_delays=(("P2", 8e-9),))
    sched = seq(par(P1=Ramp(200e-9, 0.0, 0.4), P2=Ramp(200e-9, 0.4, 0.0),
                    M=[Marker(40e-9, 0), Marker(100e-9)]), par(P1=Hold(400e-9, 0.4)))
    target = AwgTarget("awg", lim, ("P1", "P2"), markers=(("M", "P1", 1),))
    prog = compile_schedule(sched, [target]).programs["awg"]
    assert_round_trip(sched, prog, delays={"P2": 8})
    marks = render_markers(prog)["P1"]
    assert marks.tolist() == [0] * 40 + [2] * 100 + [0] * 460


def test_acquisition_program_maps_records_to_points() -> None:
    sched = seq(par(P1=Burst(Param("t"), 1e8, 0.2)),
                par(P1=Hold(5e-6, 0.1), A=[Gap(1e-6), Acquire(2e-6, "ref"),
                                           Acquire(1e-6, "sig")]))
    sw = sweep(sched, ("f", [1.0, 2.0]), ("t", [100e-9, 200e-9, 300e-9]),
               constants={})
    dig = DigitizerTarget("ats", ATS9360.with_(sample_rate=5e8), ("A",))
    res = compile_schedule(sw, [AwgTarget("awg", AWG5208.with_(sample_rate=1e9), ("P1",))],
                           [dig])
    acq = res.acquisitions["ats"]
    assert acq.n_records == 12 and acq.window_names == ("ref", "sig")
    assert acq.record_length == 1024  # 2 µs at 500 MS/s = 1000 -> multiple of 128
    coords = acq.coordinates()
    assert coords["t"].tolist() == [100e-9] * 2 + [200e-9] * 2 + [300e-9] * 2 + \
        [100e-9] * 2 + [200e-9] * 2 + [300e-9] * 2
    assert coords["f"].tolist() == [1.0] * 6 + [2.0] * 6
    assert list(coords["window"][:2]) == ["ref", "sig"]
    starts = res.programs["awg"].point_starts
    np.testing.assert_allclose(acq.record_start[:2], (starts[0] + np.array([1100, 3100])) / 1e9)
    assert acq.reshape(np.arange(12)).shape == (2, 3, 2)


def test_round_trip_check_detects_corruption() -> None:
    sched = par(P1=Ramp(1e-6, 0.0, 0.5))
    prog = compile_schedule(sched, [AwgTarget("awg", LIM, ("P1",))]).programs["awg"]
    bad = prog.waveforms[0].data.copy()
    bad[10] += 3
    prog = dataclasses.replace(prog, waves=WaveStore.from_arrays([bad]))
    with pytest.raises(AssertionError):
        assert_round_trip(sched, prog)


def test_plots() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from dotstack.sequencer import plot_program, plot_schedule

    sched = seq(par(P1=Ramp(200e-9, 0.0, 0.4), M=Marker(100e-9)), par(P1=Hold(300e-9, 0.4)))
    ax = plot_schedule(sched, 1e9)
    assert len(ax.lines) >= 2
    target = AwgTarget("awg", LIM, ("P1",), markers=(("M", "P1", 0),))
    prog = compile_schedule(sched, [target]).programs["awg"]
    ax2 = plot_program(prog)
    assert "steps" in ax2.get_title()
