"""Issue 8, video mode: compile once, upload once, re-arm per frame, frames appended to zarr,
virtual gates and sensor compensation applied on the AWG, a clean stop, hostile input refused."""

from pathlib import Path

import numpy as np
import pytest

import dotstack
from dotstack.drivers.protocols import LimitError
from dotstack.experiments.compensation import SensorCompensation
from dotstack.experiments.fits import fit_charge_stability
from dotstack.experiments.sweep import RunInterrupted
from dotstack.experiments.video import compensation_layer, gate_to_awg, video_mode, virtual_plungers
from dotstack.sequencer import VirtualGates
from dotstack.station import LabStation
from dotstack.store import load_meta

MOCK_YAML = Path(__file__).parents[2] / "dotstack" / "stations" / "mock.yaml"
X = ("P1", -0.05, 0.05, 48)
Y = ("P2", -0.05, 0.05, 40)


@pytest.fixture
def station():
    with LabStation.from_file(MOCK_YAML) as st:
        yield st


def test_frames_are_appended_to_the_run_with_their_coordinates(station, tmp_path):
    awg = station.instruments["awg"]
    result = video_mode(station, X, Y, frames=3, display="offscreen", data_dir=tmp_path)
    assert result.status == "completed" and result.fit["frames"] == 3
    ds = dotstack.load(result.path)
    assert ds.attrs["status"] == "completed"
    assert ds["signal"].dims == ("frame", "P2", "P1") and ds["signal"].shape == (3, 40, 48)
    np.testing.assert_allclose(ds["P1"], np.linspace(-0.05, 0.05, 48))
    np.testing.assert_array_equal(ds["frame"], [0, 1, 2])
    assert np.all(np.diff(ds["lab_time"].values) > 0)  # frames follow each other in lab time
    frames = ds["signal"].values
    assert not np.array_equal(frames[0], frames[1])  # fresh noise every frame
    # the same device every frame: two frames' pixels are strongly correlated
    assert np.corrcoef(frames[0].ravel(), frames[1].ravel())[0, 1] > 0.5
    assert awg.stats.waveforms > 0
    meta = load_meta(result.path)
    assert meta["program"]["channels"] == ["P1", "P2"]
    assert meta["parameters"]["experiment"] == "video_mode"
    assert "ground_truth" in meta and meta["fit"]["frames"] == 3


def test_upload_once_then_only_rearm(station, tmp_path):
    awg = station.instruments["awg"]
    video_mode(station, X, Y, frames=1, display="none", data_dir=tmp_path)
    after_one = awg.stats.waveforms
    video_mode(station, X, Y, frames=4, display="none", data_dir=tmp_path)
    assert awg.stats.waveforms == after_one  # same raster: nothing uploaded again


def test_virtual_plungers_make_each_dots_lines_move_with_its_own_gate(station, tmp_path):
    truth = station.ground_truth()["virtual_gates"]["matrix"]
    layer = virtual_plungers(truth)
    x, y = ("vP1", -0.05, 0.05, 60), ("vP2", -0.05, 0.05, 50)
    result = video_mode(station, x, y, frames=6, virtual_gates=VirtualGates((layer,)),
                        display="none", data_dir=tmp_path)
    ds = dotstack.load(result.path)
    image = ds["signal"].mean("frame").values
    fit = fit_charge_stability(ds["vP1"].values, ds["vP2"].values, image)
    # in virtual coordinates the dot-1 lines are vertical and the dot-2 lines horizontal
    assert abs(fit.cross_ratio_12) < 0.05 and abs(fit.cross_ratio_21) < 0.05, fit
    phys = video_mode(station, ("P1", -0.05, 0.05, 60), ("P2", -0.05, 0.05, 50), frames=6,
                      display="none", data_dir=tmp_path)
    pds = dotstack.load(phys.path)
    pfit = fit_charge_stability(pds["P1"].values, pds["P2"].values,
                                pds["signal"].mean("frame").values)
    assert pfit.cross_ratio_12 > 0.15 and pfit.cross_ratio_21 > 0.15, pfit


def test_the_awg_plays_gate_volts_through_each_lines_attenuation_and_the_compensation(station):
    comp = SensorCompensation("S", {"P1": -0.3, "P2": -0.2})
    stack = gate_to_awg(station, "P1", "P2", compensation=comp)
    real = stack.to_real({"P1": np.array([0.01]), "P2": np.array([0.02])})
    gain = {g: station.pulse_lines[g].gain for g in ("P1", "P2", "S")}
    assert real["P1"][0] == pytest.approx(0.01 / gain["P1"])
    assert real["P2"][0] == pytest.approx(0.02 / gain["P2"])
    assert real["S"][0] == pytest.approx((-0.3 * 0.01 - 0.2 * 0.02) / gain["S"])
    with pytest.raises(ValueError, match="finite"):
        compensation_layer({"sensor": "S", "coefficients": {"P1": float("nan")}})
    with pytest.raises(ValueError, match="itself"):
        compensation_layer({"sensor": "S", "coefficients": {"S": 0.1}})


def test_compensated_video_drives_the_sensor_channel(station, tmp_path):
    coeffs = station.ground_truth()["sensor_compensation"]["coefficients"]
    comp = SensorCompensation("S", {g: float(coeffs[g]) for g in ("P1", "P2")})
    result = video_mode(station, X, Y, frames=2, compensation=comp, display="none",
                        data_dir=tmp_path)
    meta = load_meta(result.path)
    assert meta["program"]["channels"] == ["P1", "P2", "S"]


def test_ctrl_c_stops_the_awg_restores_dc_and_keeps_the_frames(station, tmp_path):
    awg = station.instruments["awg"]
    station.gate("P1").set(0.01)
    seen = []

    def interrupt(i, image):
        seen.append(i)
        if i == 2:
            raise KeyboardInterrupt

    with pytest.raises(RunInterrupted) as info:
        video_mode(station, X, Y, frames=None, set_gates={"P1": 0.02, "P2": -0.01},
                   on_frame=interrupt, display="none", data_dir=tmp_path)
    ds = dotstack.load(info.value.path)
    assert ds.attrs["status"] == "aborted"
    assert ds.sizes["frame"] == 3 and seen == [0, 1, 2]
    assert station.gate("P1").get() == pytest.approx(0.01, abs=1e-6)
    assert station.gate("P2").get() == pytest.approx(0.0, abs=1e-6)
    assert awg.run_state() == "stopped"
    final = load_meta(info.value.path)["final_gate_values"]
    assert final["P1"] == pytest.approx(0.01, abs=1e-6)


def test_a_raster_beyond_a_gate_limit_is_refused_uploads_nothing_and_restores_dc(station, tmp_path):
    awg = station.instruments["awg"]
    before = awg.stats.waveforms
    with pytest.raises(LimitError):  # DC 0.45 V + 0.06 V at the gate > the 0.5 V limit
        video_mode(station, ("P1", -0.06, 0.06, 20), Y, frames=1, set_gates={"P1": 0.45},
                   display="none", data_dir=tmp_path)
    assert awg.stats.waveforms == before
    assert station.gate("P1").get() == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"x": ("P1", -0.05, 0.05, 3.5)}, "points must be an integer"),
    ({"x": ("P1", float("nan"), 0.05, 10)}, "finite"),
    ({"x": ("P1", 0.05, 10)}, r"\(name, start, stop, points\)"),
    ({"frames": 0}, "frames must be"),
    ({"frames": 2.5}, "frames must be"),
    ({"dwell": float("inf")}, "dwell"),
    ({"x": ("B1", -0.05, 0.05, 10)}, "no pulse line"),
    ({"display": "hologram"}, "display must be"),
])
def test_hostile_input_is_refused_by_name(station, tmp_path, kwargs, match):
    args = {"x": X, "y": Y, "frames": 1, "display": "none", "data_dir": tmp_path, **kwargs}
    with pytest.raises(ValueError, match=match):
        video_mode(station, **args)


def test_row_order_interleaves_and_refuses_bad_counts():
    from dotstack.experiments.pulsed import row_order

    assert row_order(5).tolist() == [0, 4, 1, 3, 2]
    assert row_order(4, "ascending").tolist() == [0, 1, 2, 3]
    assert sorted(row_order(101).tolist()) == list(range(101))
    for bad in (0, 2.5, True, "3"):
        with pytest.raises(ValueError, match="integer"):
            row_order(bad)
    with pytest.raises(ValueError, match="row order"):
        row_order(4, "random")


def test_same_seed_same_frames(tmp_path):
    frames = []
    for _ in range(2):
        with LabStation.from_file(MOCK_YAML) as st:
            run = video_mode(st, ("P1", -0.05, 0.05, 30), ("P2", -0.05, 0.05, 20), frames=3,
                             display="none", data_dir=tmp_path)
            frames.append(dotstack.load(run.path)["signal"].values)
    np.testing.assert_array_equal(frames[0], frames[1])
