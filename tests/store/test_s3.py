# mypy: allow-untyped-defs
"""Runs on s3:// through fsspec/s3fs, against moto's S3 server bound to 127.0.0.1."""

from __future__ import annotations

import socket

import numpy as np
import pytest

moto_server = pytest.importorskip("moto.server")
pytest.importorskip("s3fs")

from dotstack.store import Axis, Quantity, RunWriter, list_runs, load, load_meta  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_options():
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    opts = {"key": "testing", "secret": "testing",
            "client_kwargs": {"endpoint_url": f"http://127.0.0.1:{port}"}}
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()
    s3fs.S3FileSystem(**opts).mkdir("runs")
    yield opts
    server.stop()


def test_s3_roundtrip_and_listing(s3_options):
    v = np.linspace(0, 1, 30)
    with RunWriter("s3run", [Axis("V", "V", "gate", v)], [Quantity("I", "A", "current")],
                   data_dir="s3://runs/lab", storage_options=s3_options,
                   meta={"station": {"mock": True}}, flush_points=8) as w:
        assert w.path.startswith("s3://runs/lab/")
        for i, x in enumerate(v):
            w.write_point(i, I=2 * x)
            if i == 15:
                w.flush()
                assert load(w.path, storage_options=s3_options).attrs["n_valid"] == 16
    ds = load(w.path, storage_options=s3_options)
    np.testing.assert_array_equal(ds.I.values, 2 * v)
    assert ds.attrs["status"] == "completed" and ds.I.attrs["units"] == "A"
    assert load_meta(w.path, storage_options=s3_options) == {"station": {"mock": True}}
    runs = list_runs("s3://runs/lab", storage_options=s3_options)
    assert [r.id for r in runs] == [w.run_id] and runs[0].path == w.path
    assert load(-1, data_dir="s3://runs/lab", storage_options=s3_options).sizes == {"V": 30}


def test_s3_whole_chunks_written_directly(s3_options, direct_writes):
    keys = direct_writes
    rec = np.arange(16, dtype=np.float32)[:, None] * np.ones(70_000, np.float32)
    q = Quantity("trace", "V", "trace", "float32", (70_000,), ("time",))  # chunks of 8 records
    with RunWriter("s3rec", [Axis("n", "", "record", np.arange(16))], [q],
                   data_dir="s3://runs/rec", storage_options=s3_options, flush_points=8,
                   flush_seconds=600) as w:
        for k in range(16):
            w.write_point(k, trace=rec[k])
    assert sorted(k for k in keys if "/c/" in k) == ["trace/c/0/0", "trace/c/1/0"]
    ds = load(w.path, storage_options=s3_options)
    np.testing.assert_array_equal(ds.trace.values, rec)
    assert ds.attrs["status"] == "completed"


def test_experiment_and_cli_on_s3(s3_options, tmp_path, monkeypatch):
    """Experiments write their run and plot through fsspec; ``--out``/``runs`` take URLs."""
    import json

    import s3fs
    from typer.testing import CliRunner

    from dotstack.cli import app
    from dotstack.experiments.dc import pinch_off
    from dotstack.station import LabStation
    from dotstack.station_config import StationConfig
    from dotstack.stations import MOCK

    with LabStation(StationConfig.from_file(MOCK)) as station:
        result = pinch_off(station, points=31, data_dir="s3://runs/exp",
                           storage_options=s3_options, progress=False)
    assert result.status == "completed" and result.path.startswith("s3://runs/exp/")
    assert result.plot == result.path + ".png"
    fs = s3fs.S3FileSystem(**s3_options)
    assert fs.cat_file(result.plot)[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.load().sizes == {"SB1": 31}
    assert "storage_options" not in repr(result)

    monkeypatch.chdir(tmp_path)  # a mangled URL would land in ./s3:
    opts = ["--storage-options", json.dumps(s3_options)]
    runner = CliRunner()
    ran = runner.invoke(app, ["run", "sensor_scan", "--station", str(MOCK), "--out",
                              "s3://runs/cli", "-p", "points=21", *opts])
    assert ran.exit_code == 0, ran.output
    listing = runner.invoke(app, ["runs", "s3://runs/cli", *opts])
    assert listing.exit_code == 0, listing.output
    [line] = [ln for ln in listing.output.splitlines() if "sensor_scan_S" in ln]
    assert "completed" in line and "s3://runs/cli/" in line
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())
    missing = runner.invoke(app, ["runs", "s3://runs/nothing-here", *opts])
    assert missing.exit_code == 2
