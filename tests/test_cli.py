"""The command line: demo, run, runs."""

from __future__ import annotations

from pathlib import Path

import xarray as xr
from typer.testing import CliRunner

from dotstack.cli import app
from dotstack.stations import MOCK

runner = CliRunner()


def test_demo_writes_a_completed_store_and_a_plot(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path), "--points", "81"])
    assert result.exit_code == 0, result.output
    stores = sorted(tmp_path.rglob("*charge_stability*.zarr"))
    assert len(stores) == 1
    ds = xr.open_zarr(stores[0])
    assert set(ds.coords) >= {"P1", "P2"}
    assert ds["P1"].attrs["units"] == "V" and ds["P2"].attrs["units"] == "V"
    assert ds.attrs["status"] == "completed"
    assert Path(str(stores[0]) + ".png").stat().st_size > 10_000
    assert "virtual-gate matrix" in result.output and "ground truth" in result.output

    listing = runner.invoke(app, ["runs", str(tmp_path)])
    assert listing.exit_code == 0
    assert "charge_stability" in listing.output and "sensor_scan_S" in listing.output
    assert "completed" in listing.output


def test_run_an_experiment_with_parameters(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "pinch_off", "--station", str(MOCK), "--out", str(tmp_path),
                                 "-p", "gate=SB2", "-p", "points=61", "-p", "start=-0.1", "-p", "stop=0.2"])
    assert result.exit_code == 0, result.output
    assert "\ncompleted " in result.output
    assert "pinch_off_V" in result.output
    bad = runner.invoke(app, ["run", "nonsense", "--station", str(MOCK)])
    assert bad.exit_code != 0 and "unknown experiment" in bad.output


def test_runs_on_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", str(tmp_path / "nosuchdir")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "nosuchdir" in lines[0] and lines[0].startswith("error:")
