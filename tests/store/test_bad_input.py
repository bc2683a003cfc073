# mypy: allow-untyped-defs
"""Bad input raises a clear error naming the offender and leaves the store intact."""

from __future__ import annotations

import numpy as np
import pytest

from dotstack.store import Axis, Quantity, RunStoreError, RunWriter, load


@pytest.fixture
def writer(tmp_path, axes_2d):
    q = [Quantity("I", "A", "current"), Quantity("tr", "V", "trace", shape=(4,), dims=("s",))]
    w = RunWriter("bad", axes_2d, q, path=tmp_path / "b.zarr")
    w.write_point(0, I=1.0, tr=np.ones(4))
    yield w
    w.close()


@pytest.mark.parametrize(("index", "values", "exc", "match"), [
    (1, {"I": 1.0, "tr": np.ones(4), "J": 2.0}, KeyError, r"unknown \['J'\]"),
    (1, {"I": 1.0}, KeyError, r"missing \['tr'\]"),
    (1, {"I": 1.0, "tr": np.ones(5)}, ValueError, r"quantity 'tr': shape \(5,\)"),
    (1, {"I": np.ones(2), "tr": np.ones(4)}, ValueError, r"quantity 'I': shape \(2,\)"),
    (35, {"I": 1.0, "tr": np.ones(4)}, IndexError, "point index 35"),
    (-1, {"I": 1.0, "tr": np.ones(4)}, IndexError, "point index -1"),
    ((7, 0), {"I": 1.0, "tr": np.ones(4)}, IndexError, "axis 'P1'"),
    ((1,), {"I": 1.0, "tr": np.ones(4)}, IndexError, "needs 2 entries"),
])
def test_bad_point_rejected_without_corruption(writer, index, values, exc, match):
    with pytest.raises(exc, match=match):
        writer.write_point(index, **values)
    writer.write_point(1, I=2.0, tr=np.full(4, 2.0))
    writer.flush()
    ds = load(writer.path)
    assert ds.attrs["n_valid"] == 2
    np.testing.assert_array_equal(ds.I.values.ravel()[:2], [1.0, 2.0])
    np.testing.assert_array_equal(ds.tr.values[0, 1], np.full(4, 2.0))


def test_bad_specs(tmp_path):
    ax = Axis("V", "V", "gate", np.arange(3.0))
    q = Quantity("I", "A")
    with pytest.raises(ValueError, match="names used twice"):
        RunWriter("x", [ax], [Quantity("V", "A")], path=tmp_path / "1.zarr")
    with pytest.raises(ValueError, match="only the first axis may be unbounded"):
        RunWriter("x", [ax, Axis("t", "s")], [q], path=tmp_path / "2.zarr")
    with pytest.raises(ValueError, match="invalid quantity name"):
        Quantity("a b", "A")
    with pytest.raises(ValueError, match="compressor 'gzip'"):
        Quantity("I", "A", compressor="gzip")
    with pytest.raises(ValueError, match="point axis 'time'"):
        RunWriter("x", [ax], [q], point_axes=[Axis("time", "s", values=np.arange(3.0))],
                  path=tmp_path / "3.zarr")
    with pytest.raises(ValueError, match="non-empty 1-D"):
        Axis("V", "V", values=np.zeros((2, 2)))
    with RunWriter("x", [ax], [q], path=tmp_path / "4.zarr") as w:
        w.write_point(0, I=1.0)
    with pytest.raises(RunStoreError, match="already exists"):
        RunWriter("x", [ax], [q], path=tmp_path / "4.zarr")
    with pytest.raises(RunStoreError, match="closed"):
        w.write_point(1, I=1.0)
    with pytest.raises(RunStoreError, match="meta document 'm'"):
        RunWriter("x", [ax], [q], path=tmp_path / "5.zarr", meta={"m": object()})
    with pytest.raises(ValueError, match="status 'done'"):
        RunWriter("x", [ax], [q], path=tmp_path / "6.zarr").close("done")


def test_unserialisable_meta_creates_nothing(tmp_path):
    with pytest.raises(RunStoreError, match="meta document 'm'"):
        RunWriter("x", [Axis("V", "V", values=np.zeros(1))], [Quantity("I", "A")],
                  path=tmp_path / "n.zarr", meta={"m": object()})
    assert not (tmp_path / "n.zarr").exists()
