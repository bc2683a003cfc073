"""DC experiments on the mock lab recover the simulator's ground truth; runs end cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import dotstack
from dotstack.experiments.dc import charge_stability, pinch_off, sensor_scan
from dotstack.station import LabStation
from dotstack.stations import MOCK
from dotstack.store import load_meta


@pytest.fixture(scope="module")
def station() -> Iterator[LabStation]:
    with LabStation.from_file(MOCK) as st:
        yield st


@pytest.mark.parametrize(("gate", "readout", "others"), [
    ("SB1", "sensor", ["SB2"]), ("SB2", "sensor", ["SB1"]),
    ("B1", "transport", ["B2", "B3"]), ("B2", "transport", ["B1", "B3"]),
    ("B3", "transport", ["B1", "B2"]),
])
def test_pinch_off_recovers_each_barrier(station: LabStation, tmp_path: Path, gate: str, readout: str,
                                         others: list[str]) -> None:
    truth = station.ground_truth()["barriers"][gate]
    result = pinch_off(station, gate, -0.15, 0.2, 141, data_dir=tmp_path, progress=False,
                       plot=gate == "SB1")
    assert result.status == "completed"
    # the readout that sees the gate was chosen: the sensor's barriers on the sensor current,
    # the double dot's on its transport current
    assert load_meta(result.path)["parameters"]["readout"] == readout
    # tolerance: 1 mV on the pinch-off voltage (the issue asks 5 mV), 5 % on the width
    assert result.fit["pinch_off_V"] == pytest.approx(truth["pinch_off_V"], abs=1e-3)
    assert result.fit["width_V"] == pytest.approx(truth["width_V"], rel=0.05)
    # the barriers in series were opened for the sweep and put back afterwards
    for other in others:
        assert station.gate(other).get() == pytest.approx(0.0, abs=1e-6)
    if gate == "SB1":
        assert Path(result.plot or "").exists()


def test_a_readout_that_cannot_see_the_gate_is_refused(station: LabStation, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot see gate 'B1'"):
        pinch_off(station, "B1", readout="sensor", data_dir=tmp_path, progress=False)
    assert not list(tmp_path.rglob("*.zarr"))  # refused before a run was created


def test_sensor_scan_parks_on_the_steepest_flank(station: LabStation, tmp_path: Path) -> None:
    result = sensor_scan(station, data_dir=tmp_path, progress=False)
    truth = station.ground_truth()["sensor"]
    fit = result.fit
    # tolerance: the fitted peak within 0.1 mV of a true peak; its width within 20 %
    nearest = min(truth["peak_positions_S_V"], key=lambda p: abs(p - fit["peak_V"]))
    assert fit["peak_V"] == pytest.approx(nearest, abs=1e-4)
    assert 3.525 * fit["width_V"] == pytest.approx(truth["peak_fwhm_S_V"], rel=0.2)
    assert fit["slope_A_per_V"] > 0.5 * truth["steepest_slope_A_per_V"]
    assert fit["operating_point_V"] < fit["peak_V"]
    assert station.gate("S").get() == pytest.approx(fit["operating_point_V"], abs=1e-6)


def test_charge_stability_gives_virtual_gates(station: LabStation, tmp_path: Path) -> None:
    truth = station.ground_truth()
    station.gate("S").set(truth["sensor"]["operating_point"]["S"])
    result = charge_stability(station, p1=(-0.2, 0.2, 81), p2=(-0.2, 0.2, 81),
                              data_dir=tmp_path, progress=False)
    fit = result.fit
    lines = truth["transition_lines"]
    ratios = truth["cross_capacitance_ratios"]
    # tolerance: line slopes within 20 %, cross-capacitance ratios within 0.05
    assert fit["slope_dot1"] == pytest.approx(lines["dot1"]["dP2_dP1"], rel=0.2)
    assert fit["slope_dot2"] == pytest.approx(lines["dot2"]["dP2_dP1"], rel=0.2)
    assert fit["cross_ratio_12"] == pytest.approx(ratios["P2_on_dot1"], abs=0.05)
    assert fit["cross_ratio_21"] == pytest.approx(ratios["P1_on_dot2"], abs=0.05)
    ds = xr.open_zarr(result.path)
    assert ds["current"].dims == ("P2", "P1")
    assert ds["P1"].attrs["units"] == "V" and ds["P2"].attrs["units"] == "V"
    assert ds.attrs["status"] == "completed" and ds.attrs["n_valid"] == 81 * 81
    meta = load_meta(result.path)
    assert meta["fit"]["virtual_gate_matrix"] == fit["virtual_gate_matrix"]
    assert meta["ground_truth"]["seed"] == truth["seed"]


class _InterruptAfter:
    """A readout that presses Ctrl-C after ``n`` readings."""

    def __init__(self, inner: object, n: int) -> None:
        self.inner, self.n, self.unit = inner, n, "A"

    def read(self) -> float:
        if self.n == 0:
            raise KeyboardInterrupt
        self.n -= 1
        return float(self.inner.read())  # type: ignore[attr-defined]

    def read_many(self, n: int) -> np.ndarray:
        return np.array([self.read() for _ in range(n)])


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupted_run_keeps_data_and_restores_gates(station: LabStation, tmp_path: Path,
                                                       error: type[BaseException]) -> None:
    station.gate("P1").set(0.05)
    real = station.readouts["sensor"]
    interrupt = _InterruptAfter(real, 37)
    if error is RuntimeError:
        def broken() -> float:
            if interrupt.n == 0:
                raise RuntimeError("DMM unplugged")
            interrupt.n -= 1
            return float(real.read())
        interrupt.read = broken  # type: ignore[method-assign]
    station.readouts["sensor"] = interrupt  # type: ignore[assignment]
    try:
        with pytest.raises(error):
            charge_stability(station, p1=(-0.1, 0.1, 10), p2=(-0.1, 0.1, 10),
                             data_dir=tmp_path, progress=False)
    finally:
        station.readouts["sensor"] = real
    assert station.gate("P1").get() == pytest.approx(0.05, abs=1e-6)  # back where it was
    ds = dotstack.load(-1, data_dir=tmp_path)
    assert ds.attrs["status"] == ("aborted" if error is KeyboardInterrupt else "failed")
    assert ds.attrs["n_valid"] == 37
    values = ds["current"].values.ravel()
    assert np.isfinite(values[:37]).all() and np.isnan(values[37:]).all()


def test_sweep_outside_limits_is_refused_before_anything_moves(station: LabStation, tmp_path: Path) -> None:
    before = station.gate("P1").get()
    with pytest.raises(ValueError, match="outside the gate's limits"):
        charge_stability(station, p1=(-0.2, 0.9, 11), p2=(-0.1, 0.1, 5), data_dir=tmp_path, progress=False)
    assert station.gate("P1").get() == before
    assert not list(tmp_path.rglob("*.zarr"))
