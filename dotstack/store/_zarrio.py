"""Thin helpers over zarr 3: create a run's group and arrays, write the root document.

The root ``zarr.json`` of a run always carries *consolidated* metadata, kept current by the
writer (one atomic object write per commit): readers that use it (``xarray.open_zarr`` and
``zarr.open_group`` do by default) see one consistent snapshot of every array's shape and the
commit marker (``n_valid``), even while arrays are being resized or the writer was killed.
"""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, cast

import numpy as np
import zarr
from zarr.abc.store import Store
from zarr.codecs import BloscCodec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from dotstack.store.spec import fill_value

CONSOLIDATION_WARNING = "Consolidated metadata is currently not part"


CODECS = ("lz4", "zstd", None)


def compressors(dtype: np.dtype, codec: str | None = "lz4") -> list[BloscCodec] | None:
    """blosc (``lz4`` fast, ``zstd`` smaller) with byte shuffle for numbers; None: raw."""
    if codec is not None and dtype.kind in "biufc":
        return [BloscCodec(cname=cast(Any, codec), clevel=5, shuffle="shuffle")]
    return None


def create_array(
    group: zarr.Group,
    name: str,
    *,
    shape: Sequence[int],
    chunks: Sequence[int],
    dtype: np.dtype,
    dims: Sequence[str],
    attrs: Mapping[str, Any],
    codec: str | None = "lz4",
) -> zarr.Array:
    """An array in xarray's zarr v3 layout: ``dimension_names`` set, CF attributes."""
    return group.create_array(
        name,
        shape=tuple(shape),
        chunks=tuple(max(1, c) for c in chunks),
        dtype=dtype,
        fill_value=fill_value(dtype),
        compressors=compressors(dtype, codec),
        dimension_names=list(dims),
        attributes=dict(attrs),
        config={"write_empty_chunks": True},  # we write only acquired points: skip the scan
    )


def create_json_doc(group: zarr.Group, name: str, text: str) -> zarr.Array:
    """A 0-d UTF-8 string array holding one JSON document (kept out of attributes)."""
    arr = group.create_array(
        name, shape=(), dtype=str, dimension_names=[],
        attributes={"content_type": "application/json"},
    )
    arr[()] = text
    return arr


def consolidate(group: zarr.Group) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=CONSOLIDATION_WARNING)
        zarr.consolidate_metadata(group.store, path=group.path or None)


def read_doc(node: zarr.Group | zarr.Array) -> dict[str, Any]:
    """The JSON of a node's ``zarr.json`` as stored."""
    buf = sync((node.store_path / "zarr.json").get(prototype=default_buffer_prototype()))
    if buf is None:
        raise FileNotFoundError(f"no zarr.json in {node.store_path}")
    doc: dict[str, Any] = json.loads(buf.to_bytes())
    return doc


async def write_root_doc(group: zarr.Group, doc: Mapping[str, Any]) -> None:
    data = json.dumps(doc, allow_nan=False).encode()
    buf = default_buffer_prototype().buffer.from_bytes(data)
    await (group.store_path / "zarr.json").set(buf)


def target_store(location: str, storage_options: Mapping[str, Any] | None) -> Store:
    """The zarr store at a local path or fsspec URL (which must not hold a node yet)."""
    store: Store
    if "://" in location:
        store = zarr.storage.FsspecStore.from_url(location, storage_options=dict(
            storage_options or {}))
    else:
        store = zarr.storage.LocalStore(location)
    if sync(store.exists("zarr.json")):
        raise FileExistsError(location)
    return store


async def copy_root_last(src: Store, dst: Store) -> None:
    """Copy every key, the root ``zarr.json`` last: readers see no run, or a complete one."""
    proto = default_buffer_prototype()
    keys = [k async for k in src.list()]

    async def cp(key: str) -> None:
        buf = await src.get(key, prototype=proto)
        assert buf is not None
        await dst.set(key, buf)

    await asyncio.gather(*(cp(k) for k in keys if k != "zarr.json"))
    await cp("zarr.json")


def run(coros: Sequence[Coroutine[Any, Any, Any]]) -> None:
    """Run coroutines concurrently on zarr's event loop, raising the first error."""

    async def gather() -> None:
        await asyncio.gather(*coros)

    if coros:
        sync(gather())


def json_default(obj: Any) -> Any:
    """JSON encoding for numpy values, paths, datetimes, sets and dataclasses."""
    import dataclasses
    import datetime
    import os

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, datetime.datetime | datetime.date):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    raise TypeError(f"cannot store {type(obj).__name__} as JSON: {obj!r:.80}")
