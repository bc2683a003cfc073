"""Storage side of a RunWriter: create the run's zarr group, commit batches, finish the run.

Every method runs on the writer's single storage thread (``create`` on the caller's). A commit
writes the data chunks, then (append mode) grows the arrays, then one atomic write of the root
``zarr.json`` carrying ``n_valid`` (the committed prefix of the flat point index), ``valid``
(every committed point, as ``[start, stop)`` ranges of the flat index: a point never written
hides nothing after it), ``n_written`` (their count), ``heartbeat_utc`` and the consolidated
metadata of every array. A reader sees the previous commit or the next, never a mix. The root is
rewritten (``touch``) at least every ``heartbeat_s`` while the writer lives (see ``lifecycle``).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import numpy as np
import zarr
import zarr.api.asynchronous as za
from zarr.core.array import AsyncArray
from zarr.core.buffer import Buffer
from zarr.core.group import AsyncGroup
from zarr.storage import StorePath

from dotstack.store import _zarrio as zio
from dotstack.store import lifecycle
from dotstack.store.buffer import Batch, Block
from dotstack.store.spec import (
    Axis,
    Quantity,
    RunStoreError,
    chunk_shape,
    flat_chunk,
    flat_chunk_len,
    flat_regions,
    true_runs,
)


class Committer:
    """Writes one run's store: see the module doc. ``block`` = points per buffer block."""

    def __init__(self, group: AsyncGroup, arrays: dict[str, AsyncArray[Any]],
                 doc: dict[str, Any], axes: Sequence[Axis], block: int, aligned: bool) -> None:
        self._group, self._arrays, self._doc = group, arrays, doc
        self.attrs: dict[str, Any] = doc["attributes"]
        self._outer = axes[0].name
        self._append = not axes[0].bounded
        self.sweep_shape = tuple(0 if a.values is None else len(a.values) for a in axes)
        self._inner = math.prod(self.sweep_shape[1:])
        self.block = block
        self._aligned = aligned  # every block is exactly one chunk of every quantity
        # whole chunks skip zarr's pipeline: encoded here (blosc drops the GIL), in parallel
        self._encoders = {n: enc for n, arr in arrays.items() if n not in self.attrs["dims"]
                          and (enc := zio.chunk_encoder(arr)) is not None} if aligned else {}
        self._pool = ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1),
                                        thread_name_prefix="dotstack-chunk")
        self._flushed = np.zeros(0 if self._append else math.prod(self.sweep_shape), bool)
        self._extent = 0  # append mode: committed length of the first axis
        self.n_valid = 0
        self._end = 0  # one past the last point ever committed
        self.last_root = time.monotonic()  # when the root was last written (heartbeat)

    @classmethod
    def create(cls, location: str, storage_options: Mapping[str, Any] | None,
               attrs: dict[str, Any], axes: Sequence[Axis], quantities: Sequence[Quantity],
               point_axes: Sequence[Axis], meta: Mapping[str, str],
               flush_points: int) -> Committer:
        """Build the run at ``location`` (see ``_build``); ``attrs`` become the root's."""
        shape = tuple(0 if a.values is None else len(a.values) for a in axes)
        total = math.prod(shape) if axes[0].bounded else None
        chunks = {q.name: chunk_shape(shape, q.shape, flat_chunk_len(q.point_bytes, flush_points,
                                                                     total)) for q in quantities}
        flats = {flat_chunk(shape, ch) for ch in chunks.values()}
        aligned = len(flats) == 1 and None not in flats
        block = flats.pop() if aligned else min(
            flat_chunk_len(q.point_bytes, flush_points, total) for q in quantities)
        rows = chunk_shape(shape, (), flat_chunk_len(8, flush_points, total))[0]
        built: dict[str, Buffer] = {}
        group, arrays, doc = zio.call(_build(built, location, storage_options, attrs, axes,
                                             quantities, point_axes, meta, chunks, rows))
        zio.copy_root_last(built, group.store_path.store)
        return cls(group, arrays, doc, axes, int(block or 1), aligned)

    def has_meta(self, key: str) -> bool:
        return f"meta/{key}" in self._doc["consolidated_metadata"]["metadata"]

    # ---- commits -----------------------------------------------------------------------
    def commit(self, batch: Batch) -> None:
        """Store the batch's written points, then advance ``n_valid`` (one atomic write)."""
        runs = [(blk.start + a, blk.start + z) for blk in batch.blocks
                for a, z in true_runs(blk.mask)]
        if not runs:
            return
        if self._append:
            rows = math.ceil(max(z for _, z in runs) / self._inner)
            if rows > self._extent:
                zio.run([arr.resize((rows, *arr.shape[1:]))
                         for n, arr in self._arrays.items() if self._grows(n)])
                self._extent = rows
        whole = [(n, b) for b in batch.blocks if b.n == self.block for n in self._encoders]
        puts = [lifecycle.submit(self._pool, self._put_chunk, n, b) for n, b in whole]
        try:
            self._write_rest(batch, {(n, id(b)) for n, b in whole})
        finally:  # the blocks go back to the writer: nothing may still read them
            wait(puts)
        for f in puts:
            f.result()
        self._advance(runs)
        self._write_root()

    def _put_chunk(self, name: str, blk: Block) -> None:
        """Write a complete block as its whole chunk: encoded with the array's own codecs."""
        arr = self._arrays[name]
        coords = (blk.start // self.block,) + (0,) * (arr.ndim - 1)
        key = f"{arr.store_path.path}/{arr.metadata.encode_chunk_key(coords)}"
        zio.put(arr.store_path.store, key, self._encoders[name](dict(blk.bufs)[name]))

    def _write_rest(self, batch: Batch, done: set[tuple[str, int]]) -> None:
        """Everything but the ``done`` (array, block) pairs through zarr, and the outer axis."""
        coros = self._data_writes(batch.blocks, done)
        outer = {r: v for r, v in batch.outer.items() if r < self._extent}
        if self._append and outer:
            idx = np.array(sorted(outer))
            vals = np.array([outer[r] for r in idx.tolist()])
            breaks = np.flatnonzero(np.diff(idx) != 1) + 1
            coord = self._arrays[self._outer]
            for rr, vv in zip(np.split(idx, breaks), np.split(vals, breaks), strict=True):
                coros.append(coord.setitem(slice(int(rr[0]), int(rr[-1]) + 1), vv))
        zio.run(coros)

    def _data_writes(self, blocks: Sequence[Block], done: set[tuple[str, int]],
                     ) -> list[Coroutine[Any, Any, None]]:
        """One coroutine per independent unit: a block when blocks are whole chunks (each block
        its own chunk); else each array, block after block."""
        names = [name for name, _ in blocks[0].bufs]
        if self._aligned:
            return [self._write_blocks(n, [b]) for n in names for b in blocks
                    if (n, id(b)) not in done]
        return [self._write_blocks(n, blocks) for n in names]

    async def _write_blocks(self, name: str, blocks: Sequence[Block]) -> None:
        arr = self._arrays[name]
        for blk in blocks:
            buf = dict(blk.bufs)[name]
            for a, z in true_runs(blk.mask):
                off = a
                for box in flat_regions(self.sweep_shape, blk.start + a, blk.start + z):
                    shape = tuple(s.stop - s.start for s in box)
                    cnt = math.prod(shape)
                    await arr.setitem(box, buf[off : off + cnt].reshape(shape + buf.shape[1:]))
                    off += cnt

    def _grows(self, name: str) -> bool:
        return name == self._outer or name not in self.attrs["dims"]

    def _advance(self, runs: list[tuple[int, int]]) -> None:
        end = max(z for _, z in runs)
        if end > self._flushed.size:
            grown = np.zeros(max(end, 2 * self._flushed.size), dtype=bool)
            grown[: self._flushed.size] = self._flushed
            self._flushed = grown
        for a, z in runs:
            self._flushed[a:z] = True
        self._end = max(self._end, end)
        rest = self._flushed[self.n_valid : self._end]  # in-order writing: all True
        gap = np.flatnonzero(~rest)
        self.n_valid += int(gap[0]) if gap.size else rest.size
        later = [[self.n_valid + a, self.n_valid + z]
                 for a, z in true_runs(self._flushed[self.n_valid : self._end])]
        self.attrs["valid"] = ([[0, self.n_valid]] if self.n_valid else []) + later
        self.attrs["n_written"] = self.n_valid + sum(z - a for a, z in later)

    def touch(self) -> None:
        """Rewrite the root with a new heartbeat (the writer is alive, nothing to commit)."""
        self._write_root()

    def _write_root(self) -> None:
        self.attrs["n_valid"] = self.n_valid
        self.attrs["heartbeat_utc"] = zio.utc_now()
        self.last_root = time.monotonic()
        if self._append:
            self.attrs["shape"] = [self._extent, *self.sweep_shape[1:]]
            nodes = self._doc["consolidated_metadata"]["metadata"]
            for name in self._arrays:
                if self._grows(name):
                    nodes[name]["shape"][0] = self._extent
        self._doc["attributes"] = self.attrs
        zio.write_root_doc(self._group, self._doc)

    # ---- metadata and the end ----------------------------------------------------------
    def add_meta(self, key: str, text: str) -> None:
        self._doc["consolidated_metadata"]["metadata"][f"meta/{key}"] = zio.call(
            _add_doc(self._group, key, text))
        self._write_root()

    def finish(self, status: str, reason: str, ended: str) -> None:
        """Record the final status, re-consolidated from the arrays' current metadata."""
        self.attrs.update(status=status, reason=reason, ended=ended)
        nodes = self._doc["consolidated_metadata"]["metadata"]
        nodes.update((name, zio.node_doc(arr)) for name, arr in self._arrays.items())
        self._write_root()
        self._pool.shutdown()


async def _build(built: dict[str, Buffer], location: str, storage_options: Mapping[str, Any] | None,
                 attrs: dict[str, Any], axes: Sequence[Axis], quantities: Sequence[Quantity],
                 point_axes: Sequence[Axis], meta: Mapping[str, str],
                 chunks: Mapping[str, tuple[int, ...]], rows: int,
                 ) -> tuple[AsyncGroup, dict[str, AsyncArray[Any]], dict[str, Any]]:
    """Build the run's group in ``built`` (in memory), for ``location``: returns the group and
    its written arrays bound to the store there, and the root document. The caller copies
    ``built`` there, the root document last (readers see no run, or a complete one)."""
    try:
        target = await zio.target_store(location, storage_options)
    except FileExistsError as e:
        raise RunStoreError(f"run store {location!r} already exists") from e
    mem = zarr.storage.MemoryStore(store_dict=built)
    g = await za.open_group(store=mem, mode="w", zarr_format=3, attributes=attrs)
    shape = tuple(0 if a.values is None else len(a.values) for a in axes)
    arrays: dict[str, AsyncArray[Any]] = {}
    for a in (*axes, *point_axes):
        if a.values is None:
            arr = await zio.create_array(g, a.name, shape=(0,), chunks=(rows,),
                                         dtype=np.dtype("f8"), dims=[a.name], attrs=a.attrs())
        else:
            arr = await zio.create_array(g, a.name, shape=a.values.shape,
                                         chunks=a.values.shape, dtype=a.values.dtype,
                                         dims=[a.name], attrs=a.attrs())
            await arr.setitem(slice(None), a.values)
        arrays[a.name] = arr
    for q in quantities:
        arrays[q.name] = await zio.create_array(
            g, q.name, shape=shape + q.shape, chunks=chunks[q.name], dtype=np.dtype(q.dtype),
            attrs=q.attrs(), codec=q.compressor, dims=[a.name for a in axes] + list(q.dims))
    mg = await g.create_group("meta")
    for key, text in meta.items():
        await zio.create_json_doc(mg, key, text)
    await zio.consolidate(mem)
    doc = await zio.read_doc(g)
    group = AsyncGroup(g.metadata, StorePath(target, ""))
    written = [a.name for a in axes] + [q.name for q in quantities]
    return group, {n: zio.rebind(arrays[n], target) for n in written}, doc


async def _add_doc(group: AsyncGroup, key: str, text: str) -> dict[str, Any]:
    mg = await group.getitem("meta")
    assert isinstance(mg, AsyncGroup)
    return await zio.read_doc(await zio.create_json_doc(mg, key, text))
