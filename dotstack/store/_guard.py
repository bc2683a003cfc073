"""Reading errors that name what failed: a lazily read variable wrapped so that an error while
reading or decoding its chunks (``RuntimeError: error during blosc decompression: -1``, a
missing object, ...) becomes a ``RunStoreError`` naming the run, the variable and the chunk."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

from dotstack.store.spec import RunStoreError

_MAX_PROBES = 4096  # chunks tried one by one to find the failing one


class GuardedArray(BackendArray):
    """The data of ``var`` (a lazy, not dask-backed variable), read by outer indexing."""

    def __init__(self, var: xr.Variable, location: str, name: str) -> None:
        self._var, self._location, self._name = var, location, name
        self.shape = var.shape
        self.dtype = var.dtype
        chunks = var.encoding.get("chunks") or var.shape
        self._chunks = tuple(max(1, int(c)) for c in chunks)

    def __getitem__(self, key: indexing.ExplicitIndexer) -> Any:
        return indexing.explicit_indexing_adapter(key, self.shape,
                                                  indexing.IndexingSupport.OUTER, self._get)

    def _get(self, key: tuple[Any, ...]) -> np.ndarray:
        try:
            return np.asarray(self._var[key].values)
        except Exception as e:
            raise RunStoreError(f"run {self._location!r}: cannot read variable {self._name!r} "
                                f"({self._culprit(key)}): {type(e).__name__}: {e}") from e

    def _culprit(self, key: tuple[Any, ...]) -> str:
        """The first chunk of ``key``'s region that fails on its own, else the region's chunks."""
        per_dim: list[Sequence[int]] = []
        for k, n, c in zip(key, self.shape, self._chunks, strict=False):
            idx = np.arange(n)[k] if isinstance(k, slice) else np.atleast_1d(np.asarray(k))
            per_dim.append(sorted({int(i) // c for i in idx.tolist()}))
        for coords in itertools.islice(itertools.product(*per_dim), _MAX_PROBES):
            box = tuple(slice(i * c, min((i + 1) * c, n))
                        for i, c, n in zip(coords, self._chunks, self.shape, strict=True))
            try:
                np.asarray(self._var[box].values)
            except Exception:
                return "chunk " + self._chunk_key(coords)
        return "chunks " + ", ".join(f"{d}: {ix[0]}..{ix[-1]}" if ix else f"{d}: none"
                                     for d, ix in zip(self._var.dims, per_dim, strict=False))

    def _chunk_key(self, coords: Sequence[int]) -> str:
        sep = self._var.encoding.get("dimension_separator", "/") or "/"
        return f"{self._name}/c/" + sep.join(str(i) for i in coords)


def guard(ds: xr.Dataset, location: str) -> xr.Dataset:
    """``ds`` (opened lazily without dask) with every data variable guarded, dask-chunked by its
    zarr chunks when dask is installed (lazy operations stay lazy)."""
    try:
        import dask.array  # noqa: F401

        chunked = True
    except ImportError:
        chunked = False
    out = ds.copy()
    for name, da in ds.data_vars.items():
        var = da.variable
        guarded = xr.Variable(var.dims, indexing.LazilyIndexedArray(
            GuardedArray(var, location, str(name))), var.attrs, var.encoding)
        if chunked and var.ndim:
            chunks = var.encoding.get("chunks") or var.shape
            guarded = guarded.chunk(dict(zip(var.dims, (int(c) for c in chunks), strict=False)))
        out[name] = xr.DataArray(guarded, coords=da.coords, name=name)
    return out
