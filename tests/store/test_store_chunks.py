# mypy: allow-untyped-defs
"""Whole chunks written directly (own encoder) are byte-identical to zarr's; the block buffer."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
import zarr
import zarr.api.asynchronous as za
from zarr.codecs import GzipCodec

from dotstack.store import Axis, Quantity, RunWriter, load
from dotstack.store import _zarrio as zio
from dotstack.store.buffer import Window


async def _array(path, dtype, codec):
    g = await za.open_group(store=zarr.storage.LocalStore(str(path)), mode="w", zarr_format=3)
    return await zio.create_array(g, "x", shape=(4, 3, 50), chunks=(2, 3, 50),
                                  dtype=np.dtype(dtype), dims=["a", "b", "c"], attrs={},
                                  codec=codec)


@pytest.mark.parametrize("codec", ["lz4", "zstd", None])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int16", "uint8", "bool", "complex64"])
def test_direct_chunk_bytes_equal_zarrs(tmp_path, codec, dtype):
    arr = zio.call(_array(tmp_path, dtype, codec))
    rng = np.random.default_rng(3)
    chunk = (rng.normal(size=(2, 3, 50)) * 100).astype(dtype)
    zio.run([arr.setitem((slice(2, 4), slice(0, 3), slice(0, 50)), chunk)])
    stored = (tmp_path / "x" / "c" / "1" / "0" / "0").read_bytes()
    encoder = zio.chunk_encoder(arr)
    assert encoder is not None
    assert bytes(encoder(np.ascontiguousarray(chunk))) == stored


def test_encoder_declines_unknown_chains(tmp_path):
    async def gzip_array():
        g = await za.open_group(store=zarr.storage.LocalStore(str(tmp_path)), mode="w")
        return await g.create_array("g", shape=(4,), chunks=(2,), dtype="f4",
                                    compressors=[GzipCodec()])

    assert zio.chunk_encoder(zio.call(gzip_array())) is None


@pytest.mark.parametrize("codec", ["lz4", None])
def test_whole_chunks_written_directly_grid(tmp_path, direct_writes, codec):
    keys = direct_writes
    rec = np.random.default_rng(0).normal(size=(20, 3, 20_000)).astype(np.float32)
    q = Quantity("trace", "V", "trace", "float32", (20_000,), ("time",), compressor=codec)
    axes = [Axis("n", "", "repetition", np.arange(20)), Axis("ch", "", "channel", np.arange(3))]
    with RunWriter("direct", axes, [q], path=tmp_path / "d.zarr", flush_points=30,
                   flush_seconds=600) as w:  # chunks of 10 x 3 points (2.4 MB)
        for k in range(60):
            w.write_point((k // 3, k % 3), trace=rec[k // 3, k % 3])
    assert sorted(k for k in keys if k.startswith("trace/c/")) == ["trace/c/0/0/0",
                                                                   "trace/c/1/0/0"]
    np.testing.assert_array_equal(load(tmp_path / "d.zarr").trace.values, rec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(xr.open_zarr(str(tmp_path / "d.zarr")).trace.values, rec)


def test_whole_chunks_written_directly_append(tmp_path, direct_writes):
    keys = direct_writes
    q = Quantity("trace", "V", "trace", "int16", (1000,), ("time",))
    with RunWriter("direct", [Axis("t", "s", "time", None)], [q], path=tmp_path / "a.zarr",
                   flush_points=1049, flush_seconds=600) as w:  # chunks of 1049 points (2 MiB)
        for k in range(2500):
            w.append(t=0.1 * k, trace=np.full(1000, k, np.int16))
    assert sorted(k for k in keys if k.startswith("trace/c/")) == ["trace/c/0/0", "trace/c/1/0"]
    ds = load(tmp_path / "a.zarr")  # the last, partial chunk went through zarr
    assert ds.sizes["t"] == 2500
    np.testing.assert_array_equal(ds.trace.values[:, 7], np.arange(2500))
    np.testing.assert_allclose(ds.t.values, 0.1 * np.arange(2500))


def make_window(size=10, max_bytes=1 << 20) -> Window:
    return Window([Quantity("x", "V", shape=(4,), dims=("s",))], size, 5, max_bytes)


def test_window_reuses_released_blocks():
    w = make_window()
    first = w.open(0)
    first.mask[:] = True
    first.n = 10
    batch = w.take(whole_only=True)
    assert batch.blocks == (first,) and not w.live
    w.release(batch)
    again = w.open(3)  # recycled, reset to block 3
    assert again is first and again.start == 30 and again.n == 0 and not again.mask.any()


def test_window_takes_whole_blocks_first_and_keeps_rows_being_filled():
    w = make_window()
    full, part = w.open(0), w.open(1)
    full.mask[:], full.n = True, 10
    part.mask[:3], part.n = True, 3
    w.n = 13
    w.outer = {0: 0.0, 1: 1.0, 2: 2.0}  # rows of 5 points: block 1 starts at row 2
    batch = w.take(whole_only=True)
    assert batch.blocks == (full,) and list(w.live) == [1] and w.n == 3
    assert batch.outer == {0: 0.0, 1: 1.0, 2: 2.0} and w.outer == {2: 2.0}
    assert w.take(whole_only=True).blocks == (part,)  # no whole block: everything


def test_window_budget():
    w = make_window(size=10, max_bytes=3 * 10 * 4 * 8)  # three blocks of 10 points x 32 B
    assert w.max_blocks == 3
    for b in range(3):
        assert not w.full()
        w.open(b)
    assert w.full()
    batch = w.take(whole_only=False)
    assert w.full()  # handed-over blocks count until released
    w.release(batch)
    assert not w.full()


def test_write_block_spanning_blocks_over_written_points(tmp_path):
    q = Quantity("x", "V", "x", "float32", (70_000,), ("s",))
    ref = np.arange(30, dtype=np.float32)[:, None] * np.ones(70_000, np.float32)
    with RunWriter("blocks", [Axis("k", "", "k", np.arange(30))], [q],
                   path=tmp_path / "b.zarr", flush_points=8, flush_seconds=600) as w:
        assert w._win.size == 8  # chunks of 8 points (2.2 MB): blocks of 8
        w.write_point(5, x=np.full(70_000, -1.0))
        w.write_point(25, x=np.full(70_000, -1.0))
        w.write_block(0, x=ref[:20])  # over point 5, across blocks 0-2
        w.flush()
        assert w.n_valid == 20
        w.write_block(20, x=ref[20:])  # over point 25, into the last, partial chunk
    np.testing.assert_array_equal(load(tmp_path / "b.zarr").x.values, ref)
