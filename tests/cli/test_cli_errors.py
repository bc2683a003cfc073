"""Ordinary mistakes on the command line: one line with a hint, found before anything connects;
`--debug` for the traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dotstack.cli import app
from dotstack.cli_errors import CliError, explain
from dotstack.drivers.protocols import LimitError
from dotstack.station_config import StationConfigError
from dotstack.stations import MOCK

runner = CliRunner()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every attempt to build a station (i.e. to connect to instruments)."""
    from dotstack.station import LabStation

    calls: list[str] = []

    def start(self: LabStation) -> None:
        calls.append("connected")
        raise RuntimeError("this test must not connect")

    monkeypatch.setattr(LabStation, "_start", start)
    return calls


def one_line_error(args: list[str], code: int = 2) -> str:
    result = runner.invoke(app, args)
    lines = result.output.strip().splitlines()
    assert result.exit_code == code, result.output
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "(hint: " in lines[0], result.output
    return lines[0]


def run(*params: str, station: str = str(MOCK)) -> list[str]:
    return ["run", *params[:1], "--station", station, *[a for p in params[1:] for a in ("-p", p)]]


def test_missing_station_file(connects: list[str], tmp_path: Path) -> None:
    line = one_line_error(run("pinch_off", station=str(tmp_path / "nosuch.yaml")))
    assert "nosuch.yaml" in line and "not found" in line and "mock.yaml" in line
    assert "is a directory" in one_line_error(run("pinch_off", station=str(tmp_path)))
    assert "--station is required" in one_line_error(["run", "pinch_off"])
    assert connects == []


def test_unknown_gate_named_before_connecting(connects: list[str]) -> None:
    line = one_line_error(run("pinch_off", "gate=XX"))
    assert "no gate 'XX'" in line and "'SB1'" in line and "dotstack.gates" in line
    assert "no gate 'Q9'" in one_line_error(run("charge_stability", "gates=Q9,P2"))
    assert "set_gates" in one_line_error(run("pinch_off", "set_gates={ZZ: 0.1}"))
    assert "no readout 'nope'" in one_line_error(run("pinch_off", "readout=nope"))
    assert "plungers: no gate 'Q2'" in one_line_error(run("sensor_compensation", "plungers=P1,Q2"))
    assert connects == []


def test_sweep_outside_limits_before_connecting(connects: list[str]) -> None:
    line = one_line_error(run("pinch_off", "gate=B1", "start=-2"))
    assert "-2 V is outside gate B1's limits [-0.5, +0.5] V" in line and "limits" in line
    assert "outside gate P2's limits" in one_line_error(run("charge_stability", "p2=-0.2,0.7,11"))
    assert "set_gates.B2" in one_line_error(run("pinch_off", "set_gates={B2: 0.9}"))
    assert connects == []


def test_limit_errors_while_running_get_the_same_hint() -> None:
    for exc in (ValueError("sweep of SB1: -2 V is outside the gate's limits [-0.5, +0.5] V"),
                LimitError("P1: 0.7 V outside the limits [-0.5, 0.5] V")):
        error = explain(exc)
        assert error.message == str(exc) and "dotstack.gates.NAME.limits" in (error.hint or "")
        assert error.exit_code == 1 and "\n" not in error.render()


def test_malformed_sweep_values(connects: list[str]) -> None:
    line = one_line_error(run("charge_stability", "p1=-0.2,0.2"))
    assert "p1: expected 3 values (start, stop, points), got 2" in line and "p1=-0.2,0.2,101" in line
    assert "p1[1]: expected a number, got 'x'" in one_line_error(run("charge_stability", "p1=-0.2,x,11"))
    line = one_line_error(run("charge_stability", "p1=[-0.2, .inf, 11]"))
    assert "p1[1]: expected a number, got '.inf'" in line
    assert "must be finite" in one_line_error(run("charge_stability", "p1=[-0.2, inf, 11]"))
    assert "start: must be finite, got nan" in one_line_error(run("pinch_off", "start=nan"))
    assert connects == []


@pytest.mark.parametrize(("param", "message"), [
    ("points=3.5", "points: must be an integer, got 3.5"),
    ("points=true", "points: expected an integer, got 'true'"),
    ("points=1", "points: a sweep needs an integer >= 2 points, got 1"),
])
def test_non_integer_or_too_small_counts_are_refused(connects: list[str], param: str, message: str) -> None:
    assert message in one_line_error(run("pinch_off", param))
    assert connects == []


def test_non_integer_count_inside_a_sweep(connects: list[str]) -> None:
    line = one_line_error(run("charge_stability", "p2=[-0.2, 0.2, 3.5]"))
    assert "p2[2]: must be an integer, got 3.5" in line
    assert connects == []


def test_unknown_duplicate_and_reserved_parameters(connects: list[str]) -> None:
    line = one_line_error(run("pinch_off", "pionts=11"))
    assert "pinch_off has no parameter 'pionts'" in line and "did you mean 'points'?" in line
    assert "given twice" in one_line_error(run("pinch_off", "points=11", "points=12"))
    assert "use --out" in one_line_error(run("pinch_off", "data_dir=/tmp"))
    assert "expected NAME=VALUE" in one_line_error(run("pinch_off", "points"))
    assert "key 'B1' given twice" in one_line_error(run("pinch_off", "set_gates={B1: 0.1, B1: 0.2}"))
    line = one_line_error(["run", "pinch_of", "--station", str(MOCK)])
    assert "unknown experiment 'pinch_of'" in line and "did you mean 'pinch_off'?" in line
    assert connects == []


def test_absurd_grids_are_refused(connects: list[str]) -> None:
    line = one_line_error(run("charge_stability", "p1=-0.2,0.2,100000", "p2=-0.2,0.2,100000"))
    assert "100000 (p1) x 100000 (p2) = 10,000,000,000 points exceeds the limit of 1,000,000" in line
    line = one_line_error([*run("charge_stability", "p1=-0.2,0.2,11", "p2=-0.2,0.2,11"),
                           "--max-points", "100"])
    assert "= 121 points exceeds the limit of 100" in line
    # the defaults count too: 81 x 81
    assert "= 6,561 points" in one_line_error([*run("charge_stability"), "--max-points", "6000"])
    assert connects == []


def test_port_in_use_is_one_line() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        line = one_line_error(["mock-lab", "serve", "--base-port", str(port)], code=1)
    assert "in use" in line and "--base-port" in line


def test_station_file_problems_keep_one_line_each(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MOCK.read_text().replace("limits: [-0.5, 0.5], max_ramp_rate: 5.0, max_step: 0.02}",
                                            "limits: [0.5, -0.5], max_ramp_rate: 5.0, max_step: 0.02}", 2))
    result = runner.invoke(app, run("pinch_off", station=str(bad)))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("error: ") and str(bad) in lines[0]
    assert lines[-1].startswith("hint: ") and len(lines) <= 5
    assert isinstance(StationConfigError("x"), ValueError)  # explained as a station problem first


def test_unexpected_errors_name_debug() -> None:
    error = explain(ZeroDivisionError("division by zero"))
    assert error.render() == ("error: ZeroDivisionError: division by zero "
                              "(hint: not a known mistake: --debug prints the traceback)")


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    args = ["run", "pinch_off", "--station", str(tmp_path / "nosuch.yaml")]
    result = runner.invoke(app, ["--debug", *args])
    assert result.exit_code == 1 and isinstance(result.exception, CliError)
    proc = subprocess.run([sys.executable, "-m", "dotstack.cli", "--debug", *args], capture_output=True,
                          text=True, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"},
                          timeout=120)
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr and "CliError" in proc.stderr
