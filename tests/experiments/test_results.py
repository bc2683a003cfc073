"""Issue 11 point 5: a run's result carries its dataset, lmfit fits with uncertainties and
goodness of fit, the fit in the dataset's attributes, and plots in engineering units with the
fitted curves and lines overlaid."""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from lmfit.model import ModelResult
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

import dotstack
from dotstack.experiments.dc import charge_stability, pinch_off, sensor_scan
from dotstack.experiments.fits import fit_charge_stability
from dotstack.experiments.plotting import FIT_GID, draw_run, format_eng, plot_run
from dotstack.experiments.result import RunResult
from dotstack.experiments.sweep import RunResult as SweepRunResult
from dotstack.mocks.physics import DeviceParams, VirtualLab, charge_stability_map
from dotstack.station import LabStation
from dotstack.stations import MOCK
from dotstack.store import Axis, Quantity, RunWriter


@pytest.fixture(scope="module")
def station() -> Iterator[LabStation]:
    with LabStation.from_file(MOCK) as st:
        yield st


@pytest.fixture(scope="module")
def pinch(station: LabStation, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    return pinch_off(station, "SB1", -0.15, 0.2, 141, data_dir=tmp_path_factory.mktemp("pinch"),
                     progress=False)


def _fit_lines(fig: Figure) -> list:
    return [line for line in fig.axes[0].get_lines() if line.get_gid() == FIT_GID]


def _tick_labels(fig: Figure, axis: str, ax_index: int = 0) -> list[str]:
    fig.savefig(io.BytesIO(), format="png")  # lays the ticks out
    ax = fig.axes[ax_index]
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks if t.get_text()]


def test_run_result_still_lives_in_sweep() -> None:
    assert SweepRunResult is RunResult


def test_pinch_off_result_has_uncertainties_and_goodness_of_fit(station: LabStation,
                                                                 pinch: RunResult) -> None:
    truth = station.ground_truth()["barriers"]["SB1"]
    fit = pinch.fit
    # the mock's seed is fixed: the true pinch-off lies within 3 standard errors
    assert fit["pinch_off_V_stderr"] > 0
    assert abs(fit["pinch_off_V"] - truth["pinch_off_V"]) < 3 * fit["pinch_off_V_stderr"]
    assert abs(fit["width_V"] - truth["width_V"]) < 3 * fit["width_V_stderr"]
    quality = fit["fit_quality"]
    assert quality["r_squared"] > 0.999 and quality["n_points"] == 141
    assert quality["n_parameters"] == 4 and quality["errors_estimated"] is True
    # unweighted fit: the reduced chi-square is the residual variance (A^2)
    assert np.sqrt(quality["reduced_chi_square"]) == pytest.approx(quality["residual_rms"], rel=0.05)
    # the lmfit result, refitted from the stored data, is the stored fit
    model = pinch.model_result
    assert isinstance(model, ModelResult)
    assert model.params["v0"].value == pytest.approx(fit["pinch_off_V"], rel=1e-9)
    assert model.params["v0"].stderr == pytest.approx(fit["pinch_off_V_stderr"], rel=1e-6)
    assert model.aic == pytest.approx(quality["aic"]) and model.bic == pytest.approx(quality["bic"])
    assert pinch.fit_result.as_dict()["pinch_off_V"] == pytest.approx(fit["pinch_off_V"], rel=1e-9)


def test_dataset_is_the_stored_run_with_the_fit_in_its_attributes(pinch: RunResult) -> None:
    ds = pinch.dataset
    assert ds.equals(dotstack.load(pinch.path))
    assert pinch.dataset is ds  # loaded once
    attrs = ds["current"].attrs
    assert attrs["units"] == "A"
    assert attrs["fit_pinch_off_V"] == pinch.fit["pinch_off_V"]
    assert attrs["fit_pinch_off_V_stderr"] == pinch.fit["pinch_off_V_stderr"]
    assert attrs["fit_quality_reduced_chi_square"] == pinch.fit["fit_quality"]["reduced_chi_square"]
    assert json.loads(ds.attrs["fit"]) == pinch.fit
    assert "fit" not in dotstack.load(pinch.path).attrs  # the stored run is unchanged


def test_plot_overlays_the_fitted_logistic_in_engineering_units(pinch: RunResult,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "pinch.png"
    fig = pinch.plot(out)
    assert isinstance(fig, Figure)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    curve = next(line for line in _fit_lines(fig) if line.get_linestyle() == "-")
    x, y = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    np.testing.assert_allclose(y, pinch.fit_result.model(x), rtol=1e-9)
    assert isinstance(ax.yaxis.get_major_formatter(), EngFormatter)
    assert ax.yaxis.get_major_formatter().unit == "A"
    assert ax.get_ylabel() == "sensor current"  # the unit is on the ticks
    y_ticks, x_ticks = _tick_labels(fig, "y"), _tick_labels(fig, "x")
    assert any(t.endswith(" nA") for t in y_ticks), y_ticks
    assert any(t.endswith(" mV") for t in x_ticks), x_ticks
    assert not ax.yaxis.get_offset_text().get_text()  # no "1e-9" offset
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    stated = format_eng(pinch.fit["pinch_off_V"], "V", pinch.fit["pinch_off_V_stderr"])
    assert stated.endswith(" mV") and " ± " in stated
    assert f"pinch-off {stated}" in legend


def test_result_plot_stays_the_png_path(pinch: RunResult) -> None:
    assert pinch.plot == pinch.path + ".png" and Path(pinch.plot).exists()
    assert isinstance(pinch.plot, str) and f"{pinch.plot}" == pinch.path + ".png"
    moved = replace(pinch, plot="elsewhere.png")
    assert moved.plot == "elsewhere.png" and callable(moved.plot)
    bare = RunResult("nowhere", "id", "name", "completed")
    assert bare.plot == "" and not bare.plot
    assert bare.fit_result is None and bare.model_result is None
    again = pickle.loads(pickle.dumps(pinch))
    assert again == pinch and callable(again.plot) and again.plot == pinch.plot


def test_sensor_scan_plot_shows_the_peak_fit_and_operating_point(station: LabStation,
                                                                 tmp_path: Path) -> None:
    result = sensor_scan(station, data_dir=tmp_path, progress=False, plot=False)
    fit = result.fit
    assert result.plot == ""
    for key in ("peak_V", "width_V", "height_A", "operating_point_V", "slope_A_per_V"):
        assert 0 < fit[f"{key}_stderr"] < abs(fit[key]), key
    assert fit["fit_quality"]["r_squared"] > 0.99
    truth = station.ground_truth()["sensor"]
    nearest = min(truth["peak_positions_S_V"], key=lambda p: abs(p - fit["peak_V"]))
    assert abs(fit["peak_V"] - nearest) < 3 * fit["peak_V_stderr"] + 1e-5
    fig = result.plot(save=False)
    assert not Path(result.path + ".png").exists()  # save=False draws only
    lines = _fit_lines(fig)
    point = next(line for line in lines if line.get_marker() == "o")
    assert point.get_xdata()[0] == pytest.approx(fit["operating_point_V"])
    curve = next(line for line in lines if line.get_linestyle() == "-" and len(line.get_xdata()) > 2)
    assert np.min(curve.get_xdata()) >= fit["fit_range_V"][0] - 1e-12
    assert any(t.endswith(" pA") for t in _tick_labels(fig, "y"))


def test_charge_stability_plot_draws_the_fitted_lines_and_matrix(station: LabStation,
                                                                tmp_path: Path) -> None:
    result = charge_stability(station, (-0.2, 0.2, 61), (-0.2, 0.2, 61), data_dir=tmp_path,
                              progress=False)
    fit = result.fit
    assert 0 < fit["slope_dot1_stderr"] < abs(fit["slope_dot1"]) / 5
    assert 0 < fit["cross_ratio_21_stderr"] < abs(fit["cross_ratio_21"]) / 5
    assert fit["virtual_gate_matrix_stderr"][0][1] == fit["cross_ratio_12_stderr"]
    assert fit["fit_quality"]["n_bootstrap"] == 200
    assert result.fit_result.slope_dot1 == fit["slope_dot1"]  # refitted with the same seed
    assert result.model_result is None  # not a least-squares fit
    fig = result.plot()
    lines = _fit_lines(fig)
    assert len(lines) == len(fit["lines_dot1_V"]) + len(fit["lines_dot2_V"]) > 0
    for line in lines:  # every drawn segment has its family's fitted slope
        (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
        slope = (y1 - y0) / (x1 - x0)
        expected = fit["slope_dot1"] if abs(slope) > 1 else fit["slope_dot2"]
        assert slope == pytest.approx(expected, rel=1e-6)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert any("virtual gates" in t and "±" in t for t in texts)
    bar = fig.axes[1]
    assert isinstance(bar.yaxis.get_major_formatter(), EngFormatter)
    assert any(t.endswith(" pA") for t in _tick_labels(fig, "y", ax_index=1))
    assert any(t.endswith(" mV") for t in _tick_labels(fig, "x"))


def _video_run(tmp_path: Path, frames: int = 3) -> tuple[str, dict]:
    """A run shaped like `video_mode`'s: frames appended, each a (P2, P1) image (V)."""
    lab = VirtualLab(DeviceParams())
    s = lab.ground_truth()["sensor"]["operating_point"]["S"]
    p = np.linspace(-0.2, 0.2, 64)
    image = charge_stability_map(p, p, S=s) * 1e6  # a signal of some µV
    rng = np.random.default_rng(5)
    with RunWriter("video_mode", [Axis("frame", "1", "frame number")],
                   [Quantity("signal", "V", "demodulated sensor signal", shape=image.shape,
                             dims=("P2", "P1"))],
                   point_axes=[Axis("P2", "V", "P2 offset at the gate", p),
                               Axis("P1", "V", "P1 offset at the gate", p)],
                   data_dir=tmp_path) as writer:
        for k in range(frames):
            writer.append(frame=k, signal=image + rng.normal(0, 0.02 * np.ptp(image), image.shape))
        path = writer.path
    mean = dotstack.load(path)["signal"].mean("frame").values
    return path, fit_charge_stability(p, p, mean).as_dict()


def test_video_runs_plot_the_mean_frame_with_its_fit(tmp_path: Path) -> None:
    path, fit = _video_run(tmp_path)
    fig = draw_run(dotstack.load(path), fit)
    assert fig.axes[1].get_ylabel() == "demodulated sensor signal (mean of 3 frames)"
    assert any(t.endswith(" µV") for t in _tick_labels(fig, "y", ax_index=1))
    assert len(_fit_lines(fig)) == len(fit["lines_dot1_V"]) + len(fit["lines_dot2_V"])
    # a fit stored before the segments were recorded: one line per family, through the centre
    older = {k: v for k, v in fit.items() if not k.startswith("lines_") and "stderr" not in k}
    assert len(_fit_lines(draw_run(dotstack.load(path), older))) == 2
    png = plot_run(path, fit=fit)
    assert Path(png).read_bytes()[:4] == b"\x89PNG"
    result = RunResult(path, "id", "video_mode", "completed", fit)
    assert result.dataset["signal"].attrs["fit_slope_dot1"] == fit["slope_dot1"]
    assert result.fit_result.slope_dot1 == pytest.approx(fit["slope_dot1"], rel=1e-9)


def test_a_failed_fit_is_shown_and_refits_to_nothing(pinch: RunResult) -> None:
    failed = replace(pinch, fit={"error": "ValueError: no peak"})
    assert failed.fit_result is None
    fig = failed.plot(save=False)
    assert not _fit_lines(fig)
    assert any("fit failed" in t.get_text() for t in fig.axes[0].texts)


@pytest.mark.parametrize(("args", "text"), [
    ((-0.01234, "V", 4e-4), "-12.3 ± 0.4 mV"),
    ((0.035033, "V", 1.96e-5), "35.033 ± 0.020 mV"),
    ((1.234, "V", 0.96), "1.2 ± 1.0 V"),
    ((2.5e-10, "A"), "250 pA"),
    ((7.7475e-9, "A", 1.59e-12), "7.7475 ± 0.0016 nA"),
    ((-4.357, "", 0.22), "-4.36 ± 0.22"),
    ((-4.357, "", 0.5), "-4.4 ± 0.5"),
    ((0.0, "V", 1e-6), "0.0 ± 1.0 µV"),
    ((float("nan"), "V"), "nan V"),
])
def test_format_eng(args: tuple, text: str) -> None:
    assert format_eng(*args) == text
