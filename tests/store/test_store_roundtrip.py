# mypy: allow-untyped-defs
"""Write/read round trips: 1-D, 2-D, records with a time axis, append mode, metadata, listing."""

from __future__ import annotations

import json
import uuid
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from dotstack.store import (
    Axis,
    Quantity,
    RunInfo,
    RunStoreError,
    RunWriter,
    format_runs,
    list_runs,
    load,
    load_meta,
)


def open_plain(path: str) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # consolidated metadata present: no fallback warning
        return xr.open_zarr(path)


def test_1d_roundtrip_and_cf_attrs(tmp_path, current):
    v = np.linspace(-1, 0, 50)
    with RunWriter("pinch", [Axis("B1", "V", "barrier B1", v)], [current],
                   data_dir=tmp_path, meta={"params": {"n": 50}}) as w:
        for i, x in enumerate(v):
            w.write_point(i, I=x * 1e-9)
    ds = load(w.path)
    np.testing.assert_array_equal(ds.I.values, v * 1e-9)
    assert ds.I.dims == ("B1",)
    assert ds.B1.attrs == {"units": "V", "long_name": "barrier B1"}
    assert ds.I.attrs == {"units": "A", "long_name": "sensor current"}
    assert ds.attrs["status"] == "completed" and ds.attrs["n_valid"] == 50
    assert ds.attrs["run_id"] == w.run_id and ds.attrs["ended"]
    plain = open_plain(w.path)
    assert list(plain.coords) == ["B1"] and plain.I.dims == ("B1",)
    np.testing.assert_array_equal(plain.B1.values, v)
    assert load_meta(w.path) == {"params": {"n": 50}}
    # small root attributes; the metadata document lives in meta/
    root = json.loads((tmp_path / w.path / "zarr.json").read_text())
    assert len(json.dumps(root["attributes"])) < 600
    assert "meta/params" in root["consolidated_metadata"]["metadata"]


def test_2d_roundtrip_tuple_index_any_order(tmp_path, axes_2d, current):
    ref = np.arange(35.0).reshape(7, 5)
    with RunWriter("csd", axes_2d, [current, Quantity("n", "", dtype="int16")],
                   path=tmp_path / "r.zarr", flush_points=3) as w:
        for i in range(7):
            cols = range(5) if i % 2 == 0 else reversed(range(5))  # snake raster
            for j in cols:
                w.write_point((i, j), I=ref[i, j], n=i)
    ds = load(tmp_path / "r.zarr")
    np.testing.assert_array_equal(ds.I.values, ref)
    np.testing.assert_array_equal(ds.n.values, np.repeat(np.arange(7), 5).reshape(7, 5))
    assert ds.n.dtype == np.int16
    plain = open_plain(str(tmp_path / "r.zarr"))
    assert plain.I.dims == ("P1", "P2") and plain.P1.attrs["units"] == "V"


def test_records_with_time_axis_and_block_writes(tmp_path):
    t = np.arange(256) * 1e-9
    rec = np.random.default_rng(0).normal(size=(40, 256)).astype(np.float32)
    q = Quantity("trace", "V", "sensor trace", "float32", (256,), ("time",))
    with RunWriter("video", [Axis("record", "", "record", np.arange(40))], [q],
                   point_axes=[Axis("time", "s", "time in record", t)],
                   path=tmp_path / "v.zarr", flush_points=7) as w:
        for i in range(10):
            w.write_point(i, trace=rec[i])
        w.write_block(10, trace=rec[10:40])
    ds = load(tmp_path / "v.zarr")
    np.testing.assert_array_equal(ds.trace.values, rec)
    assert ds.trace.dims == ("record", "time") and ds.time.attrs["units"] == "s"
    np.testing.assert_allclose(open_plain(str(tmp_path / "v.zarr")).time.values, t)
    doc = json.loads((tmp_path / "v.zarr" / "trace" / "zarr.json").read_text())
    assert {"blosc", "lz4"} <= {c["name"] for c in doc["codecs"]} | {
        c.get("configuration", {}).get("cname") for c in doc["codecs"]}


def test_append_mode_grows_and_slices(tmp_path):
    q = Quantity("x", "V", "signal")
    with RunWriter("stream", [Axis("t", "s", "time", None)], [q], path=tmp_path / "a.zarr",
                   flush_points=4) as w:
        for k in range(10):
            assert w.append(t=0.5 * k, x=float(k)) == k
            if k == 5:
                w.flush()
                mid = load(tmp_path / "a.zarr")
                assert mid.sizes["t"] == 6 and mid.attrs["status"] == "running"
                assert open_plain(str(tmp_path / "a.zarr")).sizes["t"] == 6
    ds = load(tmp_path / "a.zarr")
    np.testing.assert_array_equal(ds.x.values, np.arange(10.0))
    np.testing.assert_array_equal(ds.t.values, 0.5 * np.arange(10))
    assert ds.attrs["shape"] == [10] and ds.attrs["n_points"] is None


def test_append_2d_partial_last_row_masked(tmp_path, current):
    with RunWriter("rows", [Axis("n", "", "repetition", None),
                            Axis("V", "V", "gate", np.arange(4.0))], [current],
                   path=tmp_path / "b.zarr") as w:
        for k in range(10):
            w.write_point(k, n=k // 4, I=float(k))
    ds = load(tmp_path / "b.zarr")
    assert ds.sizes == {"n": 3, "V": 4}
    np.testing.assert_array_equal(ds.I.values.ravel()[:10], np.arange(10.0))
    assert np.isnan(ds.I.values.ravel()[10:]).all()
    np.testing.assert_array_equal(ds.n.values, [0, 1, 2])


def test_partial_run_is_masked_beyond_n_valid(tmp_path, axes_2d, current):
    w = RunWriter("part", axes_2d, [current], path=tmp_path / "p.zarr")
    for k in range(12):
        w.write_point(k, I=1.0)
    w.flush()
    ds = load(tmp_path / "p.zarr")
    assert ds.attrs["n_valid"] == 12 and ds.attrs["status"] == "running"
    assert int(ds.I.notnull().sum()) == 12 and ds.sizes == {"P1": 7, "P2": 5}
    w.close("aborted", "test")
    assert load(tmp_path / "p.zarr").attrs["status"] == "aborted"


def test_exception_marks_failed_and_keeps_data(tmp_path, current):
    ax = [Axis("V", "V", "gate", np.arange(20.0))]
    with pytest.raises(RuntimeError, match="instrument"), RunWriter(
            "bad", ax, [current], path=tmp_path / "f.zarr") as w:
        for i in range(7):
            w.write_point(i, I=float(i))
        raise RuntimeError("instrument timeout")
    ds = load(tmp_path / "f.zarr")
    assert ds.attrs["status"] == "failed" and "instrument timeout" in ds.attrs["reason"]
    np.testing.assert_array_equal(ds.I.values[:7], np.arange(7.0))
    with pytest.raises(KeyboardInterrupt), RunWriter(
            "ctrlc", ax, [current], path=tmp_path / "k.zarr") as w:
        w.write_point(0, I=1.0)
        raise KeyboardInterrupt
    ds = load(tmp_path / "k.zarr")
    assert ds.attrs["status"] == "aborted" and ds.attrs["n_valid"] == 1


def test_list_runs_resolve_and_format(tmp_path, current):
    ax = [Axis("V", "V", "gate", np.arange(3.0))]
    paths = []
    for name in ["first", "second run", "third"]:
        with RunWriter(name, ax, [current], data_dir=tmp_path) as w:
            for i in range(3):
                w.write_point(i, I=float(i))
        paths.append(w.path)
    (tmp_path / "not-a-date").mkdir()
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["first", "second run", "third"]
    assert all(isinstance(r, RunInfo) and r.status == "completed" for r in runs)
    assert runs[0].dims == ("V",) and runs[0].shape == (3,) and runs[0].n_valid == 3
    assert load(-1, data_dir=tmp_path).attrs["name"] == "third"
    assert load("0", data_dir=tmp_path).attrs["name"] == "first"
    assert load(runs[1].id[:6], data_dir=tmp_path).attrs["name"] == "second run"
    assert "second-run" in paths[1] and paths[1].endswith(".zarr")
    table = format_runs(runs)
    assert table.splitlines()[0].split()[:2] == ["#", "id"] and "third" in table
    with pytest.raises(RunStoreError, match="index 5"):
        load(5, data_dir=tmp_path)
    with pytest.raises(RunStoreError, match="no run 'zzzz'"):
        load("zzzz", data_dir=tmp_path)


def test_add_meta_after_start(tmp_path, current):
    ax = [Axis("V", "V", "gate", np.arange(3.0))]
    with RunWriter("m", ax, [current], path=tmp_path / "m.zarr",
                   meta={"station": {"dac": "qdac2"}}) as w:
        w.add_meta("ground_truth", {"alpha": np.float64(0.8), "arr": np.arange(2)})
        with pytest.raises(RunStoreError, match="already written"):
            w.add_meta("station", {})
        for i in range(3):
            w.write_point(i, I=0.0)
    assert load_meta(tmp_path / "m.zarr") == {"station": {"dac": "qdac2"},
                                              "ground_truth": {"alpha": 0.8, "arr": [0, 1]}}
    meta = xr.open_zarr(str(tmp_path / "m.zarr"), group="meta")
    assert json.loads(meta.ground_truth.item())["alpha"] == 0.8


def test_digit_only_id_prefix_is_not_an_index(tmp_path, current, monkeypatch):
    ax = [Axis("V", "V", "gate", np.arange(2.0))]
    ids = iter([uuid.UUID("12345678-0000-4000-8000-000000000000"),
                uuid.UUID("abcdef01-0000-4000-8000-000000000000")])
    monkeypatch.setattr("dotstack.store.writer.uuid", SimpleNamespace(uuid4=lambda: next(ids)))
    for name in ["digits", "letters"]:
        with RunWriter(name, ax, [current], data_dir=tmp_path) as w:
            w.write_point(0, I=0.0)
    assert load("123456", data_dir=tmp_path).attrs["name"] == "digits"
    assert load("1", data_dir=tmp_path).attrs["name"] == "letters"  # short: an index
    with pytest.raises(RunStoreError, match="index 9999"):
        load("9999", data_dir=tmp_path)
