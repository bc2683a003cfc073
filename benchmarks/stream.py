"""Streaming benchmark: 1,000 records of 10,000 float32 samples into a run, vs raw np.save+fsync.

Workloads (one line each, measured side by side in this run):
  records  raw np.save + fsync of the same 40 MB vs RunWriter record by record (incl. close);
           ratio = ours / raw bandwidth (goal >= 30 %). Also ours + fsync of every store file,
           and xarray's to_zarr(append_dim=...) per batch of 100 records as a contrast.
  points   RunWriter.write_point for scalar points (µs per point, incl. close).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import warnings

import numpy as np
import xarray as xr

from dotstack.store import Axis, Quantity, RunWriter, load

N_REC, N_SAMP = 1000, 10_000
MB = N_REC * N_SAMP * 4 / 1e6


def fsync_tree(path: str) -> None:
    for root, _, files in os.walk(path):
        for f in files:
            fd = os.open(os.path.join(root, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def raw(data: np.ndarray, where: str) -> float:
    t0 = time.perf_counter()
    with open(os.path.join(where, "raw.npy"), "wb") as f:
        np.save(f, data)
        f.flush()
        os.fsync(f.fileno())
    return time.perf_counter() - t0


def ours(data: np.ndarray, where: str, sync: bool, codec: str | None = "lz4") -> float:
    t_axis = Axis("time", "s", "sample time", np.arange(N_SAMP) * 1e-9)
    t0 = time.perf_counter()
    with RunWriter("stream", [Axis("record", "", "record index", np.arange(N_REC))],
                   [Quantity("trace", "V", "digitizer trace", "float32", (N_SAMP,), ("time",),
                             compressor=codec)],
                   point_axes=[t_axis], path=where) as w:
        for i in range(N_REC):
            w.write_point(i, trace=data[i])
    if sync:
        fsync_tree(where)
    return time.perf_counter() - t0


def xarray_append(data: np.ndarray, where: str, batch: int = 100) -> float:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(0, N_REC, batch):
            ds = xr.Dataset({"trace": (("record", "time"), data[i : i + batch])},
                            coords={"record": np.arange(i, i + batch)})
            if i == 0:
                ds.to_zarr(where, mode="w", zarr_format=3)
            else:
                ds.to_zarr(where, append_dim="record", zarr_format=3)
    return time.perf_counter() - t0


def points(where: str, n: int = 20_000) -> float:
    t0 = time.perf_counter()
    with RunWriter("points", [Axis("V", "V", "gate", np.linspace(0, 1, n))],
                   [Quantity("I", "A", "current")], path=where) as w:
        for i in range(n):
            w.write_point(i, I=1e-9 * i)
    return (time.perf_counter() - t0) / n


def main() -> None:
    rng = np.random.default_rng(1)
    # digitizer-like data: 12-bit samples scaled to volts plus noise
    data = (np.round(rng.normal(0, 200, (N_REC, N_SAMP))) * 2.44e-4).astype(np.float32)
    base = tempfile.mkdtemp(prefix="dotstack-bench-", dir=os.environ.get("BENCH_DIR"))
    try:
        best: dict[str, float] = {}
        for rep in range(3):  # interleaved, best of 3
            for key, fn in (("raw", lambda p: raw(data, p)),
                            ("ours", lambda p: ours(data, p + "/r.zarr", False)),
                            ("ours_fsync", lambda p: ours(data, p + "/r.zarr", True)),
                            ("raw_codec", lambda p: ours(data, p + "/r.zarr", False, None)),
                            ("xarray", lambda p: xarray_append(data, p + "/x.zarr"))):
                where = os.path.join(base, f"{key}{rep}")
                os.makedirs(where)
                best[key] = min(best.get(key, np.inf), fn(where))
                if key in ("ours", "raw_codec"):
                    got = load(where + "/r.zarr").trace.values
                    assert np.array_equal(got, data), "round trip differs"
                shutil.rmtree(where)
        bw = {k: MB / v for k, v in best.items()}
        r = {k: v / bw["raw"] for k, v in bw.items()}
        print(f"records: raw np.save+fsync {bw['raw']:.0f} MB/s | "
              f"RunWriter lz4 {bw['ours']:.0f} MB/s ({r['ours']:.0%}; +fsync {r['ours_fsync']:.0%})"
              f" | RunWriter compressor=None {bw['raw_codec']:.0f} MB/s ({r['raw_codec']:.0%}) | "
              f"xarray append_dim {bw['xarray']:.0f} MB/s ({r['xarray']:.0%}) | goal >= 30%")
        per = min(points(os.path.join(base, f"p{i}.zarr")) for i in range(3))
        print(f"points: RunWriter.write_point {per * 1e6:.2f} µs/point "
              f"(20,000 scalar points, incl. create+close)")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
