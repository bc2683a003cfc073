"""`dotstack video`: video mode from the command line, its options checked against the station
file before anything connects; `dotstack run fast_charge_stability`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import dotstack
from dotstack.cli import app
from dotstack.stations import MOCK

runner = CliRunner()


def test_video_takes_frames_into_a_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["video", "--station", str(MOCK), "-x", "P1,-0.04,0.04,30",
                                 "-y", "P2,-0.04,0.04,20", "--frames", "3", "--display", "none",
                                 "--set", "P2=0.01", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = next(line.split()[1] for line in result.output.splitlines()
                if line.startswith("completed"))
    ds = dotstack.load(path)
    assert ds["signal"].shape == (3, 20, 30) and ds.attrs["status"] == "completed"
    assert "3 frames" in result.output


@pytest.mark.parametrize("args, message", [
    (["-x", "P1,-0.05,0.05,3.5"], "points must be an integer >= 2, got 3.5"),
    (["-x", "P1,-0.05,0.05"], "is not NAME,START,STOP,POINTS"),
    (["-x", "P1,nan,0.05,10"], "start and stop must be finite"),
    (["-x", "B1,-0.05,0.05,10"], "'B1' has no pulse line"),
    (["-x", "vP1,-0.05,0.05,10"], "virtual plungers need --virtual-gates"),
    (["-y", "P1,-0.05,0.05,10"], "-x and -y are both P1"),
    (["--set", "P1=0.7"], "outside its limits"),
    (["--set", "Q9=0.1"], "not a gate of the station"),
    (["--set", "P1=0.1", "--set", "P1=0.2"], "given twice"),
    (["--frames", "-1"], "--frames must be >= 0"),
    (["--dwell", "inf"], "--dwell must be a time"),
    (["--display", "hologram"], "--display 'hologram' is not one of"),
    (["--virtual-gates", "no-such-run"], "--virtual-gates no-such-run"),
])
def test_bad_video_options_are_one_line_errors_before_connecting(args: list[str], message: str,
                                                                tmp_path: Path) -> None:
    result = runner.invoke(app, ["video", "--station", str(MOCK), "--out", str(tmp_path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not list(tmp_path.rglob("*.zarr"))  # nothing ran


def test_fast_charge_stability_runs_from_the_cli(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "fast_charge_stability", "--station", str(MOCK),
                                 "-p", "frames=4", "-p", "p1=-0.05,0.05,60",
                                 "-p", "p2=-0.05,0.05,50", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "virtual_gate_matrix" in result.output and "±" in result.output


def test_spin_experiments_run_from_the_cli(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "ramsey", "--station", str(MOCK), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "t2star_s" in result.output and "±" in result.output
