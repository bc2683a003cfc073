"""Thin helpers over zarr 3's async API: create a run's nodes, read and write ``zarr.json``.

Coroutines, so that building a run or committing a flush is one ``run()`` (one hop to zarr's
event loop) however many nodes it touches. The root ``zarr.json`` of a run always carries
*consolidated* metadata, kept current by the writer (one atomic object write per commit):
readers that use it (``xarray.open_zarr`` and ``zarr.open_group`` do by default) see one
consistent snapshot of every array's shape and the commit marker (``n_valid``), even while
arrays are being resized or the writer was killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any, TypeVar, cast

import numpy as np
import zarr
import zarr.api.asynchronous as za
from numcodecs import Blosc
from zarr.abc.store import Store, SupportsSetSync
from zarr.codecs import BloscCodec, BytesCodec
from zarr.codecs.bytes import Endian
from zarr.core.array import AsyncArray
from zarr.core.buffer import Buffer, default_buffer_prototype
from zarr.core.group import AsyncGroup
from zarr.core.sync import sync
from zarr.storage import StorePath

from dotstack.store.spec import fill_value

T = TypeVar("T")
CONSOLIDATION_WARNING = "Consolidated metadata is currently not part"


CODECS = ("lz4", "zstd", None)
_CLEVEL = {"lz4": 3, "zstd": 1}
_SHUFFLE = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def compressors(dtype: np.dtype, codec: str | None = "lz4") -> list[BloscCodec] | None:
    """blosc with bit shuffle (typesize = item size) for numbers: ``lz4`` fast, ``zstd``
    smaller; None: raw. Measured on 12-bit digitizer records (float32, 4 MB chunks), bit shuffle
    beats byte shuffle in ratio and speed: lz4 1.2x on pure noise, 2-6x on signal plus noise,
    encoding at >= 1 GB/s (``benchmarks/stream.py --codecs``)."""
    if codec is not None and dtype.kind in "biufc":
        return [BloscCodec(cname=cast(Any, codec), clevel=_CLEVEL[codec], shuffle="bitshuffle")]
    return None


async def create_array(
    group: AsyncGroup,
    name: str,
    *,
    shape: Sequence[int],
    chunks: Sequence[int],
    dtype: np.dtype,
    dims: Sequence[str],
    attrs: Mapping[str, Any],
    codec: str | None = "lz4",
) -> AsyncArray[Any]:
    """An array in xarray's zarr v3 layout: ``dimension_names`` set, CF attributes."""
    return await group.create_array(
        name,
        shape=tuple(shape),
        chunks=tuple(max(1, c) for c in chunks),
        dtype=dtype,
        fill_value=fill_value(dtype),
        compressors=compressors(dtype, codec),
        dimension_names=list(dims),
        attributes=dict(attrs),
    )


def rebind(arr: AsyncArray[Any], store: Store) -> AsyncArray[Any]:
    """The same array (metadata in hand) in ``store``, set up for writing: the empty-chunk scan
    off (a runtime setting, not stored): we write only acquired points, and a scan is a pass."""
    return AsyncArray(arr.metadata, StorePath(store, arr.store_path.path),
                      config={"write_empty_chunks": True})


def node_doc(arr: AsyncArray[Any]) -> dict[str, Any]:
    """The ``zarr.json`` document of an array as zarr writes it, from its current metadata."""
    buf = arr.metadata.to_buffer_dict(default_buffer_prototype())["zarr.json"]
    doc: dict[str, Any] = json.loads(buf.to_bytes())
    return doc


def chunk_encoder(arr: AsyncArray[Any]) -> Callable[[np.ndarray], Any] | None:
    """Encoder of one whole chunk (a C-contiguous native array of the chunk's shape) to the
    bytes zarr stores for it, for the codec chains ``create_array`` makes: ``bytes``
    (little-endian) optionally followed by ``blosc``. None for any other chain or platform:
    zarr's own pipeline then writes the chunk."""
    codecs = tuple(getattr(arr.metadata, "codecs", ()))
    if (sys.byteorder != "little" or not codecs or len(codecs) > 2
            or not isinstance(codecs[0], BytesCodec) or arr.dtype.kind not in "biufc"
            or (arr.dtype.itemsize > 1 and codecs[0].endian != Endian.little)):
        return None
    if len(codecs) == 1:
        return lambda chunk: chunk.reshape(-1).view(np.uint8)
    c = codecs[1]
    if not isinstance(c, BloscCodec):
        return None
    return Blosc(cname=c.cname.value, clevel=c.clevel, shuffle=_SHUFFLE[c.shuffle.value],
                 blocksize=c.blocksize, typesize=c.typesize).encode


def put(store: Store, key: str, data: Any) -> None:
    """Store bytes under ``key``: synchronously (in the calling thread) where the store can,
    e.g. ``LocalStore`` (atomic: temporary file, then rename), else on zarr's event loop."""
    buf = default_buffer_prototype().buffer.from_bytes(data)
    if isinstance(store, SupportsSetSync):
        store.set_sync(key, buf)
    else:
        sync(store.set(key, buf))


async def create_json_doc(group: AsyncGroup, name: str, text: str) -> AsyncArray[Any]:
    """A 0-d UTF-8 string array holding one JSON document (kept out of attributes)."""
    arr = await group.create_array(
        name, shape=(), dtype=str, dimension_names=[],
        attributes={"content_type": "application/json"},
    )
    await arr.setitem((), text)
    return arr


async def consolidate(store: Store) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=CONSOLIDATION_WARNING)
        await za.consolidate_metadata(store)


async def read_doc(node: AsyncGroup | AsyncArray[Any]) -> dict[str, Any]:
    """The JSON of a node's ``zarr.json`` as stored."""
    buf = await (node.store_path / "zarr.json").get(prototype=default_buffer_prototype())
    if buf is None:
        raise FileNotFoundError(f"no zarr.json in {node.store_path}")
    doc: dict[str, Any] = json.loads(buf.to_bytes())
    return doc


def write_root_doc(group: AsyncGroup, doc: Mapping[str, Any]) -> None:
    put(group.store_path.store, "zarr.json", json.dumps(doc, allow_nan=False).encode())


async def target_store(location: str, storage_options: Mapping[str, Any] | None) -> Store:
    """The zarr store at a local path or fsspec URL (which must not hold a node yet)."""
    store: Store
    if "://" in location:
        store = zarr.storage.FsspecStore.from_url(location, storage_options=dict(
            storage_options or {}))
    else:
        store = zarr.storage.LocalStore(location)
    if await store.exists("zarr.json"):
        raise FileExistsError(location)
    return store


def copy_root_last(src: Mapping[str, Buffer], dst: Store) -> None:
    """Copy every key, the root ``zarr.json`` last: readers see no run, or a complete one."""
    items = dict(src)
    root = items.pop("zarr.json")
    if isinstance(dst, SupportsSetSync):
        for key, buf in items.items():
            dst.set_sync(key, buf)
    else:
        run([dst.set(key, buf) for key, buf in items.items()])
    put(dst, "zarr.json", root.as_buffer_like())


def call(coro: Coroutine[Any, Any, T]) -> T:
    """Run one coroutine on zarr's event loop and return its result."""
    return sync(coro)


def run(coros: Sequence[Coroutine[Any, Any, Any]]) -> None:
    """Run coroutines concurrently on zarr's event loop, raising the first error."""

    async def gather() -> None:
        await asyncio.gather(*coros)

    if coros:
        sync(gather())


def utc_now() -> str:
    """The current UTC time, ISO 8601 with milliseconds (the run's timestamps)."""
    import datetime

    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")


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
