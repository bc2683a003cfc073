"""`dotstack run` reads parameters by the experiment's signature, lists them in its help, and
`dotstack runs` shows each run's end, duration and path; `dotstack --version`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pytest
from typer.testing import CliRunner

import dotstack
from dotstack.cli import app
from dotstack.cli_errors import CliError
from dotstack.cli_params import convert, experiment_params, grid_points, param_docs, parse_params
from dotstack.stations import MOCK

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"dotstack {dotstack.__version__}"
    assert dotstack.__version__ != "0+unknown"


def test_run_name_help_lists_the_experiments_parameters() -> None:
    result = runner.invoke(app, ["run", "charge_stability", "--help"])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Parameters of charge_stability" in text
    assert re.search(r"\n  p1 +start,stop,points, default -0\.2,0\.2,81\n", text)
    assert "gates" in text and "default P1,P2" in text
    from dotstack.experiments.dc import charge_stability

    doc = experiment_params(charge_stability)["p1"].doc
    assert doc and doc in text  # the parameter's documentation (its docstring, or a common text)
    assert "--station" in text and "--max-points" in text  # and the command's own options
    pinch = runner.invoke(app, ["run", "pinch_off", "-h"]).output
    assert re.search(r"\n  points +int, default 201\n", pinch) and "Sweep one barrier gate" in pinch
    general = runner.invoke(app, ["run", "--help"])
    assert general.exit_code == 0
    assert "Experiments: pinch_off, sensor_scan, charge_stability" in general.output


def test_comma_sweeps_run_end_to_end(tmp_path: Path) -> None:
    # the issue's `-p p1=-0.2,0.2,11` was a TypeError after connecting; now it is a sweep
    result = runner.invoke(app, ["run", "charge_stability", "--station", str(MOCK), "--out", str(tmp_path),
                                 "-p", "p1=-0.2,0.2,11", "-p", "p2=[-0.2, 0.2, 12]", "-p", "plot=no",
                                 "-p", "progress=false"])
    assert result.exit_code == 0, result.output
    assert any(line.startswith("completed ") for line in result.output.splitlines())
    [store] = tmp_path.rglob("*charge_stability*.zarr")
    assert dict(dotstack.load(str(store)).current.sizes) == {"P2": 12, "P1": 11}

    listing = runner.invoke(app, ["runs", str(tmp_path)])
    assert listing.exit_code == 0, listing.output
    header, row = listing.output.strip().splitlines()
    for column in ("ended (UTC)", "duration", "path"):
        assert column in header
    assert row.rstrip().endswith(str(store))
    start, end = header.index("started (UTC)"), header.index("ended (UTC)")
    assert row[end:end + 19].strip()[:4].isdigit()  # an end time, not "-"
    assert row[start:start + 19].strip() <= row[end:end + 19].strip()


def test_runs_on_a_file_or_missing_directory_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["runs", str(tmp_path / "nosuchdir")])
    assert result.exit_code == 2 and "no data directory" in result.output


def _example(station: object, gate: str, start: float, points: int = 11, *,
             scale: float | None = None, pair: tuple[str, str] = ("P1", "P2"),
             extra: Mapping[str, float] | None = None, flag: bool = False,
             kind: Literal["a", "b"] = "a", data_dir: str | None = None) -> None:
    """An example.

    Parameters
    ----------
    gate : str
        the gate
        over two lines
    start : float
        first volts

    Returns
    -------
    nothing
    """


def test_parameters_follow_the_signature() -> None:
    specs = experiment_params(_example)
    assert list(specs) == ["gate", "start", "points", "scale", "pair", "extra", "flag", "kind"]
    assert specs["gate"].required and specs["gate"].doc == "the gate over two lines"
    assert specs["points"].doc.startswith("number of points")  # a common parameter's text
    kw = parse_params("example", _example, ["gate=P1", "start=-1e-3", "scale=none", "pair=[B1, B2]",
                                            "extra=B1=0.1,B2=0.2", "flag=yes", "kind=b", "points=1e2"])
    assert kw == {"gate": "P1", "start": -1e-3, "scale": None, "pair": ("B1", "B2"),
                  "extra": {"B1": 0.1, "B2": 0.2}, "flag": True, "kind": "b", "points": 100}
    assert type(kw["points"]) is int
    with pytest.raises(CliError, match="example needs gate, start"):
        parse_params("example", _example, [])
    with pytest.raises(CliError, match=r"kind: 'c' is not one of a, b"):
        parse_params("example", _example, ["gate=P1", "start=0", "kind=c"])
    with pytest.raises(CliError, match=r"pair: expected 2 values, got 3"):
        parse_params("example", _example, ["gate=P1", "start=0", "pair=a,b,c"])
    assert grid_points(_example, {"points": 5}) == [("points", 5)]


def test_values_by_type() -> None:
    assert convert("g", "NO", str) == "NO"  # a gate name stays text (YAML would say False)
    assert convert("x", "0.5", float | None) == 0.5
    assert convert("x", "null", float | None) is None
    assert convert("x", "(1, 2)", tuple[int, ...]) == (1, 2)
    assert convert("x", "[a, b]", list[str]) == ["a", "b"]
    for bad, annotation in (("1.5", int), ("-inf", float), ("maybe", bool), ("", str),
                            ("a,,b", tuple[str, ...])):
        with pytest.raises(CliError):
            convert("x", bad, annotation)


def test_google_and_sphinx_docstrings() -> None:
    google = """Do it.

    Args:
        gate: the gate
            continued
        points (int): how many

    Returns:
        something
    """
    assert param_docs(google) == {"gate": "the gate continued", "points": "how many"}
    assert param_docs(":param gate: the gate\n:param int points: how many") == \
        {"gate": "the gate", "points": "how many"}
