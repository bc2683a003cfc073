"""Runs on the virtual lab clock: the same seed gives the same data; hardware-timed rasters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import dotstack
from dotstack.cli import app
from dotstack.experiments.dc import charge_stability, pinch_off
from dotstack.station import LabStation
from dotstack.station_config import StationConfig
from dotstack.stations import MOCK

GRID = {"p1": (-0.2, 0.2, 21), "p2": (-0.2, 0.2, 21)}


def _station(seed: int, **mock: object) -> LabStation:
    config = StationConfig.from_file(MOCK)
    assert config.mock is not None
    return LabStation(replace(config, mock=replace(config.mock, seed=seed, **mock)))


def _runs(tmp: Path, seed: int) -> dict[str, np.ndarray]:
    with _station(seed) as station:
        out = {}
        for mode in ("software", "hardware"):
            run = charge_stability(station, **GRID, mode=mode, data_dir=tmp, plot=False, progress=False)
            out[mode] = dotstack.load(run.path).current.values
        run = pinch_off(station, "B2", data_dir=tmp, plot=False, progress=False)
        out["pinch_off"] = dotstack.load(run.path).current.values
        out["lab_time"] = np.array([station.time()])
    return out


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    a, b, c = _runs(tmp_path / "a", 11), _runs(tmp_path / "b", 11), _runs(tmp_path / "c", 12)
    for key in a:
        assert np.array_equal(a[key], b[key]), f"{key}: same seed, different data"
    for key in ("software", "hardware", "pinch_off"):
        assert not np.array_equal(a[key], c[key]), f"{key}: another seed, same data"


def test_demo_twice_with_one_seed_gives_identical_arrays(tmp_path: Path) -> None:
    runner = CliRunner()
    for out, seed in (("A", 5), ("B", 5), ("C", 6)):
        result = runner.invoke(app, ["demo", "--out", str(tmp_path / out), "--seed", str(seed),
                                     "--points", "41"])
        assert result.exit_code == 0, result.output

    def arrays(out: str) -> dict[str, np.ndarray]:
        stores = sorted((tmp_path / out).rglob("*.zarr"), key=lambda p: p.name.split("_", 1)[1])
        return {p.name.split("_", 1)[1].rsplit("_", 1)[0]: dotstack.load(str(p)).current.values
                for p in stores}

    a, b, c = arrays("A"), arrays("B"), arrays("C")
    assert set(a) == {"sensor_scan_S", "charge_stability"} == set(b)
    for name in a:
        assert np.array_equal(a[name], b[name]), name
        assert not np.array_equal(a[name], c[name]), name


@pytest.fixture(scope="module")
def station() -> Iterator[LabStation]:
    with _station(3) as st:
        yield st


def test_hardware_raster_maps_what_the_software_scan_maps(station: LabStation, tmp_path: Path) -> None:
    t0 = station.time()
    soft = charge_stability(station, **GRID, data_dir=tmp_path, plot=False, progress=False)
    t1 = station.time()
    hard = charge_stability(station, **GRID, mode="hardware", data_dir=tmp_path, plot=False,
                            progress=False)
    t2 = station.time()
    a, b = dotstack.load(soft.path), dotstack.load(hard.path)
    assert hard.status == "completed" and a.current.shape == b.current.shape == (21, 21)
    r = np.corrcoef(a.current.values.ravel(), b.current.values.ravel())[0, 1]
    assert r > 0.75  # the same honeycomb (noise and 1/f drift drawn at other lab times)
    meta = dotstack.store.load_meta(hard.path)["parameters"]
    assert meta["mode"] == "hardware" and meta["dwell_s"] > 0
    # the hardware raster spends about its list time per row, not a round trip per point
    assert t2 - t1 < t1 - t0
    assert t2 - t1 >= 21 * 21 * meta["dwell_s"]


def test_hardware_mode_needs_a_trigger_cable(tmp_path: Path) -> None:
    config = StationConfig.from_file(MOCK)
    assert config.mock is not None
    with LabStation(replace(config, triggers={})) as station, \
            pytest.raises(ValueError, match=r"no trigger cable from qdac to dmm\.ext"):
        charge_stability(station, **GRID, mode="hardware", data_dir=tmp_path, plot=False,
                         progress=False)
    assert not list(tmp_path.rglob("*.zarr"))


def test_realtime_clock_takes_real_time(tmp_path: Path) -> None:
    import time

    with _station(1, clock="realtime") as station:
        assert station.lab_time.mode == "realtime"
        readout = station.readout("transport")
        start = time.monotonic()
        readout.read_many(5, interval=0.05)  # 5 readings 50 ms apart: at least 0.2 s of wall time
        assert time.monotonic() - start >= 0.2


def test_our_drivers_wait_on_the_lab_clock() -> None:
    with _station(1) as station:
        dac = station.gate("P1").dac
        assert dac._sleep == station.sleep  # type: ignore[attr-defined]  # not time.sleep
        t0 = station.time()
        station.gate("P1").set(0.4)  # a 0.4 V ramp at the station's 5 V/s: 80 ms of lab time
        assert 0.08 <= station.time() - t0 < 0.2
        assert station.gate("P1").get() == pytest.approx(0.4, abs=1e-5)
