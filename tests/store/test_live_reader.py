# mypy: allow-untyped-defs
"""A reader re-opening the store throughout a run never fails and sees n_valid only grow."""

from __future__ import annotations

import threading
import time
import warnings

import numpy as np
import pytest
import xarray as xr

from dotstack.store import Axis, Quantity, RunWriter, load


def write_grid(path: str, done: threading.Event) -> None:
    axes = [Axis("P1", "V", "p1", np.arange(40.0)), Axis("P2", "V", "p2", np.arange(50.0))]
    with RunWriter("live", axes, [Quantity("I", "A")], path=path, flush_points=30) as w:
        for k in range(2000):
            w.write_point(k, I=float(k))
            if k % 20 == 0:
                time.sleep(0.015)
    done.set()


def write_append(path: str, done: threading.Event) -> None:
    q = Quantity("trace", "V", "", "float32", (500,), ("time",))
    with RunWriter("live", [Axis("t", "s", "time", None)], [q], path=path, flush_points=8) as w:
        for k in range(600):
            w.append(t=float(k), trace=np.full(500, k, np.float32))
            if k % 6 == 0:
                time.sleep(0.015)
    done.set()


@pytest.mark.parametrize("writer", [write_grid, write_append])
def test_live_reader_never_fails(tmp_path, writer):
    path = str(tmp_path / "live.zarr")
    done = threading.Event()
    t = threading.Thread(target=writer, args=(path, done))
    t.start()
    seen: list[int] = []
    opens = 0
    try:
        while not (tmp_path / "live.zarr" / "zarr.json").exists():
            done.wait(0.001)
        while True:
            finished = done.is_set()
            ds = load(path)
            n = ds.attrs["n_valid"]
            assert not seen or n >= seen[-1]
            seen.append(n)
            name = next(iter(ds.data_vars))
            vals = ds[name].values.reshape(-1, *ds[name].shape[len(ds.attrs["dims"]):])
            first = vals[:n] if vals.ndim == 1 else vals[:n, 0]
            np.testing.assert_array_equal(first, np.arange(n, dtype=float))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert name in xr.open_zarr(path).data_vars
            opens += 1
            if finished:
                break
    finally:
        done.set()
        t.join()
    assert opens >= 5 and seen[-1] == (2000 if writer is write_grid else 600)
    assert len(set(seen)) > 2  # saw the run progress, not only its end
