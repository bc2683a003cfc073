"""Runs to and from QCoDeS datasets: our run -> QCoDeS (database or netcdf) -> our run keeps the
data, coordinates, units, long names and documents; QCoDeS sweeps become runs ``dotstack.load``
reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from qcodes.dataset import Measurement, do2d, load_by_id, load_from_netcdf
from qcodes.parameters import Parameter

import dotstack
from dotstack.experiments.sweep import SweepAxis, gate_sweep
from dotstack.interop import from_qcodes, qcodes_xarray, to_qcodes, to_qcodes_netcdf
from dotstack.qcodes_params import qcodes_parameters
from dotstack.station import LabStation
from dotstack.store import Axis, Quantity, RunStoreError, RunWriter, load_meta

# QCoDeS keeps "numeric" values in sqlite REAL columns and reads them back as text of 15
# significant digits: a database round trip is exact to ~1e-15 relative, a netcdf one exactly
RTOL = 1e-14


@pytest.fixture(scope="module")
def sweep_run(station: LabStation, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A 2-D gate sweep on the mock lab, its outer axis descending."""
    result = gate_sweep(station, "qc_export",
                        [SweepAxis.linspace("P2", 0.1, -0.1, 4), SweepAxis.linspace("P1", -0.1, 0.1, 5)],
                        data_dir=tmp_path_factory.mktemp("runs"), progress=False)
    assert result.status == "completed"
    return result.path


@pytest.fixture
def record_run(tmp_path: Path) -> str:
    """Records per point (float32 with a time axis, complex without a coordinate), one point of
    three never written (NaN when loaded)."""
    time = Axis("time", "s", "sample time", np.arange(6) * 1e-6)
    with RunWriter("records", [Axis("B1", "V", "B1 gate voltage", np.array([0.3, 0.1, -0.1]))],
                   [Quantity("current", "A", "sensor current"),
                    Quantity("trace", "V", "digitizer trace", "float32", (6,), ("time",)),
                    Quantity("iq", "V", "demodulated", "complex128", (4,), ("sample",))],
                   point_axes=[time], meta={"parameters": {"n": 3}},
                   path=tmp_path / "records.zarr") as w:
        for i in (0, 2):
            w.write_point(i, current=1e-10 * (i + 1), trace=np.arange(6, dtype="float32") * (i + 1),
                          iq=np.exp(1j * np.arange(4) * (i + 1)))
    return str(tmp_path / "records.zarr")


def _same_run(a: xr.Dataset, b: xr.Dataset, rtol: float = RTOL) -> None:
    assert list(a.dims) == list(b.dims) and list(a.data_vars) == list(b.data_vars)
    for name, var in a.variables.items():
        assert b[name].dims == var.dims, name
        np.testing.assert_allclose(b[name].values, var.values, rtol=rtol, err_msg=str(name))
        assert {k: b[name].attrs.get(k) for k in ("units", "long_name")} == \
            {k: var.attrs.get(k) for k in ("units", "long_name")}, name
    assert b.attrs["dims"] == a.attrs["dims"] and b.attrs["status"] == "completed"


def test_a_run_round_trips_through_a_qcodes_database(sweep_run: str, tmp_path: Path) -> None:
    db = tmp_path / "export.db"
    ds = to_qcodes(sweep_run, experiment_name="cooldown 3", sample_name="dev A", db=db)
    assert (ds.path_to_db, ds.completed, ds.exp_name, ds.sample_name, ds.name) == \
        (str(db), True, "cooldown 3", "dev A", "qc_export")
    specs = ds.paramspecs
    assert (specs["P2"].unit, specs["P1"].label, specs["current"].unit) == ("V", "P1 gate voltage", "A")
    assert ds.description.shapes == {"current": (4, 5)}
    ours = dotstack.load(sweep_run).compute()
    assert ds.metadata["dotstack_run_id"] == ours.attrs["run_id"]
    assert ds.snapshot["station"] == load_meta(sweep_run)["snapshot"]
    # QCoDeS gives the grid back in the run's own order (P2 descending)
    xds = ds.to_xarray_dataset()
    np.testing.assert_allclose(xds["P2"], ours["P2"], rtol=RTOL)
    np.testing.assert_allclose(xds["current"].transpose("P2", "P1"), ours["current"], rtol=RTOL)
    # and back, through the database alone (run id in that database)
    back = from_qcodes(ds.run_id, db=db, out=tmp_path / "back.zarr")
    _same_run(ours, dotstack.load(back).compute())
    meta, original = load_meta(back), load_meta(sweep_run)
    for key in ("station", "parameters", "snapshot", "ground_truth"):
        assert meta[key] == original[key], key
    assert meta["qcodes"]["guid"] == ds.guid and meta["qcodes"]["exp_name"] == "cooldown 3"
    assert dotstack.load(back).attrs["name"] == "qc_export"


def test_records_and_missing_points_round_trip(record_run: str, tmp_path: Path) -> None:
    ds = to_qcodes(record_run, db=tmp_path / "r.db")
    assert ds.paramspecs["iq"].type == "complex"
    assert ds.description.shapes == {"current": (3,), "trace": (3, 6), "iq": (3, 4)}
    back = dotstack.load(from_qcodes(ds, out=tmp_path / "back.zarr")).compute()
    ours = dotstack.load(record_run).compute()
    assert "sample" not in back.coords  # the index QCoDeS needed as a setpoint is dropped again
    assert np.isnan(back["current"][1]) and np.isnan(back["iq"][1]).all()
    _same_run(ours, back)
    assert back["trace"].dims == ("B1", "time") and back.attrs["dims"] == ["B1"]


def test_the_netcdf_path_of_the_issue_works(sweep_run: str, record_run: str, tmp_path: Path,
                                            qcodes_db: Path) -> None:
    # our store's own attributes are not what QCoDeS needs (guid, run_description, ...)
    plain = tmp_path / "plain.nc"
    dotstack.load(sweep_run).to_netcdf(plain, engine="h5netcdf")
    with pytest.raises(AttributeError, match="guid"):
        load_from_netcdf(plain)
    for run in (sweep_run, record_run):
        path = tmp_path / f"{Path(run).stem}.nc"
        qcodes_xarray(run).to_netcdf(path)  # what a user does with an xarray Dataset
        loaded = load_from_netcdf(path, path_to_db=qcodes_db)
        ours = dotstack.load(run).compute()
        assert loaded.name == ours.attrs["name"]
        data = loaded.get_parameter_data()
        first = next(iter(ours.data_vars))
        np.testing.assert_array_equal(data[first][first], ours[first].values)
        _same_run(ours, dotstack.load(from_qcodes(loaded, out=tmp_path / f"{loaded.guid}.zarr")), 0)
    assert to_qcodes_netcdf(sweep_run, tmp_path / "x.nc") == str(tmp_path / "x.nc")
    assert load_from_netcdf(tmp_path / "x.nc", path_to_db=qcodes_db).exp_name == "dotstack"


def test_a_do2d_dataset_becomes_a_run(station: LabStation, tmp_path: Path, qcodes_db: Path) -> None:
    p = qcodes_parameters(station)
    ds, _, _ = do2d(p["P2"], 0.1, -0.1, 3, 0.0, p["P1"], -0.1, 0.1, 4, 0.0, p["sensor"], p["transport"],
                    do_plot=False, show_progress=False)
    run = dotstack.load(from_qcodes(ds.guid, out=tmp_path / "do2d.zarr")).compute()
    assert run.attrs["status"] == "completed" and run.attrs["dims"] == ["P2", "P1"]
    np.testing.assert_allclose(run["P2"], [0.1, 0.0, -0.1], atol=1e-15)
    np.testing.assert_allclose(run["P1"], np.linspace(-0.1, 0.1, 4), atol=1e-15)
    assert (run["P1"].attrs["units"], run["P1"].attrs["long_name"]) == ("V", "P1 gate voltage")
    assert (run["sensor"].attrs["units"], run["transport"].attrs["long_name"]) == ("A", "transport current")
    xds = load_by_id(ds.run_id).to_xarray_dataset()
    np.testing.assert_array_equal(run["sensor"].values, xds["sensor"].transpose("P2", "P1").values)
    meta = load_meta(tmp_path / "do2d.zarr")
    assert meta["qcodes"]["guid"] == ds.guid and "dot" in meta["snapshot"]["components"]
    assert set(meta["qcodes"]["snapshot"]["parameters"]) == {"P1", "P2", "sensor", "transport"}


def test_points_not_on_a_grid_become_a_point_axis(tmp_path: Path, qcodes_db: Path) -> None:
    x, y = Parameter("x", unit="V", set_cmd=None), Parameter("y", unit="V", set_cmd=None)
    z = Parameter("z", label="signal", unit="A", get_cmd=None)
    meas = Measurement()
    meas.register_parameter(x)
    meas.register_parameter(y)
    meas.register_parameter(z, setpoints=(x, y))
    rng = np.random.default_rng(3)
    points = rng.uniform(-1, 1, (7, 2))
    with meas.run() as saver:
        for a, b in points:
            saver.add_result((x, a), (y, b), (z, a * b))
    run = dotstack.load(from_qcodes(saver.dataset, out=tmp_path / "scatter.zarr")).compute()
    assert run.attrs["dims"] == ["point"] and run.sizes["point"] == 7
    order = np.argsort(run["x"].values)  # QCoDeS sorts the points by setpoint
    np.testing.assert_allclose(run["x"].values[order], np.sort(points[:, 0]), rtol=RTOL)
    np.testing.assert_allclose(run["z"].values, run["x"].values * run["y"].values, rtol=1e-13)
    assert (run["z"].attrs["units"], run["z"].attrs["long_name"]) == ("A", "signal")


def test_bad_input_is_refused_naming_it(tmp_path: Path) -> None:
    with RunWriter("dotted", [Axis("B1", "V", values=np.array([0.0, 0.1]))],
                   [Quantity("sensor.current", "A")], path=tmp_path / "d.zarr") as w:
        w.write_block(0, **{"sensor.current": np.zeros(2)})
    with pytest.raises(RunStoreError, match=r"'sensor\.current'.*identifier"):
        to_qcodes(tmp_path / "d.zarr", db=tmp_path / "d.db")
    with pytest.raises(TypeError, match="not a QCoDeS dataset"):
        from_qcodes(2.5, out=tmp_path / "x.zarr")  # type: ignore[arg-type]
    with pytest.raises(RunStoreError, match="no run"):
        to_qcodes(tmp_path / "missing.zarr", db=tmp_path / "d.db")


def test_the_configured_database_and_a_run_result(station: LabStation, qcodes_db: Path,
                                                  tmp_path: Path) -> None:
    result = gate_sweep(station, "pinch", [SweepAxis.linspace("B1", 0.0, 0.1, 3)], data_dir=tmp_path,
                        progress=False)
    ds = to_qcodes(result)  # a RunResult; no db: QCoDeS's configured database
    assert ds.path_to_db == str(qcodes_db) and ds.exp_name == "dotstack"
    assert ds.description.shapes == {"current": (3,)}
    assert load_by_id(ds.run_id).metadata["dotstack_run_id"] == result.run_id
