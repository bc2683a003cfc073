"""Reading runs: resolve a run by path, id or index; load it as an xarray.Dataset; list runs.

``load`` works on completed runs, on runs still being written and on runs whose writer died:
it reads the root document's consolidated metadata (one consistent commit) and masks every
point not committed with NaN: points outside ``attrs["valid"]`` (``[start, stop)`` ranges of the
flat C-order index over the swept dims; stores without it: at or beyond ``attrs["n_valid"]``),
keeping the full coordinates of pre-allocated axes; an append-mode axis is cut to the rows that
hold committed points. Integer variables become float where masking is needed. An error while
reading a variable's chunks is a ``RunStoreError`` naming the run, the variable and the chunk.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import xarray as xr
import zarr

from dotstack.store._guard import guard
from dotstack.store.location import default_data_dir, is_url, read_root_attrs, scan_runs
from dotstack.store.spec import RunInfo, RunStoreError

RunRef = str | int | os.PathLike[str]


def list_runs(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    storage_options: Mapping[str, Any] | None = None,
) -> list[RunInfo]:
    """Runs in ``data_dir`` (default: ``default_data_dir()``), oldest first.

    Args:
        data_dir: A local folder or an fsspec URL; default ``$DOTSTACK_DATA_DIR`` or ``./data``.
        storage_options: fsspec options of a URL ``data_dir`` (e.g. s3fs credentials).

    Returns:
        One `RunInfo` per run store found (read from each root's metadata only).
    """
    return scan_runs(os.fspath(data_dir or default_data_dir()), storage_options)


def resolve_run(
    run: RunRef,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> str:
    """The store location of ``run``: a path/URL, a run id or unique id prefix, or an index
    into ``list_runs(data_dir)`` (0 = oldest, -1 = newest). A string of digits is an index,
    unless it has 4 or more digits and starts a run id.

    Args:
        run: A store path or URL, a run id or a unique prefix of one, or an index.
        data_dir: Where ids and indexes are looked up (default: ``default_data_dir()``).
        storage_options: fsspec options of a URL ``data_dir``.

    Returns:
        The store's path or URL.

    Raises:
        RunStoreError: No such run, an index out of range, or an ambiguous id prefix.
    """
    if isinstance(run, os.PathLike):
        return os.fspath(run)
    if isinstance(run, str) and (is_url(run) or os.path.exists(run)):
        return run
    where = os.fspath(data_dir or default_data_dir())
    runs = list_runs(where, storage_options=storage_options)
    prefix = str(run).lower()
    hits = [r for r in runs if r.id.startswith(prefix)] if isinstance(run, str) else []
    if isinstance(run, int | np.integer) or (
            re.fullmatch(r"-?\d+", prefix) and (len(prefix) < 4 or not hits)):
        i = int(run)
        if not -len(runs) <= i < len(runs):
            raise RunStoreError(f"run index {i} out of range: {len(runs)} runs in {where!r}")
        return runs[i].path
    if len(hits) == 1:
        return hits[0].path
    if not hits:
        raise RunStoreError(f"no run {run!r}: not a path, and no run id starts with it in "
                            f"{where!r}")
    raise RunStoreError(f"run id prefix {run!r} is ambiguous in {where!r}: "
                        + ", ".join(r.id for r in hits[:5]))


def open_dataset(location: str, storage_options: Mapping[str, Any] | None = None) -> xr.Dataset:
    """The store read lazily by xarray (consolidated metadata when present, quietly), with
    reading errors naming the run, the variable and the chunk (``_guard``)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Failed to open Zarr store with consolidated")
        ds = xr.open_dataset(location, engine="zarr", chunks=None, cache=False,
                             consolidated=None, storage_options=dict(storage_options)
                             if storage_options else None)
    return guard(ds, location)


def _ranges(attrs: Mapping[str, Any]) -> list[tuple[int, int]]:
    """Committed points as ``[start, stop)`` ranges (``valid``, else the ``n_valid`` prefix)."""
    valid = attrs.get("valid")
    if isinstance(valid, list):
        return [(int(a), int(z)) for a, z in valid]
    n = int(attrs.get("n_valid") or 0)
    return [(0, n)] if n else []


def mask_valid(ds: xr.Dataset) -> xr.Dataset:
    """Mask (NaN) points not committed; cut an append axis to rows with committed points."""
    dims: Sequence[str] = ds.attrs.get("dims") or ()
    if ds.attrs.get("n_valid") is None or not dims or any(d not in ds.sizes for d in dims):
        return ds
    ranges = _ranges(ds.attrs)
    if ds.attrs.get("n_points") is None:  # append mode
        inner = math.prod(ds.sizes[d] for d in dims[1:])
        end = max((z for _, z in ranges), default=0)
        rows = math.ceil(end / inner) if inner else 0
        if rows < ds.sizes[dims[0]]:
            ds = ds.isel({dims[0]: slice(0, rows)})
    sizes = [ds.sizes[d] for d in dims]
    flat = np.zeros(math.prod(sizes), dtype=bool)
    for a, z in ranges:
        flat[a:z] = True
    if flat.all():
        return ds
    valid = xr.DataArray(flat.reshape(sizes), dims=list(dims))
    out = ds.copy()
    for name, var in ds.data_vars.items():
        if set(dims) <= set(var.dims):
            masked = var.where(valid)
            masked.attrs = dict(var.attrs)
            out[name] = masked
    return out


def load(
    run: RunRef,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> xr.Dataset:
    """The run as a lazy ``xarray.Dataset`` holding only committed points (see module doc).

    Works on completed runs, on runs still being written and on runs whose writer died: every
    point not committed reads as NaN.

    Args:
        run: A store path or URL, a run id or unique id prefix, or an index into the data
            directory's runs (0 = oldest, -1 = newest); see `resolve_run`.
        data_dir: Where ids and indexes are looked up (default: ``default_data_dir()``).
        storage_options: fsspec options of a URL store or ``data_dir``.

    Returns:
        The dataset: swept axes as coordinates, measured quantities as data variables with CF
        ``units``/``long_name``, the run's root attributes as ``attrs``.

    Raises:
        RunStoreError: The run cannot be found or opened (the message names it).
    """
    location = resolve_run(run, data_dir=data_dir, storage_options=storage_options)
    try:
        ds = open_dataset(location, storage_options)
    except Exception as e:
        raise RunStoreError(f"cannot open run {location!r}: {type(e).__name__}: {e}") from e
    return mask_valid(ds)


def load_meta(
    run: RunRef,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON documents stored in the run's ``meta/`` group (station, parameters, ...).

    Args:
        run: As for `load`.
        data_dir: Where ids and indexes are looked up (default: ``default_data_dir()``).
        storage_options: fsspec options of a URL store or ``data_dir``.

    Returns:
        Document name -> parsed JSON (``station``, ``snapshot``, ``parameters``, ``fit``,
        ``ground_truth`` for mock runs, ...); empty if the run has no ``meta/`` group.
    """
    location = resolve_run(run, data_dir=data_dir, storage_options=storage_options)
    kw: dict[str, Any] = {"storage_options": dict(storage_options)} if storage_options else {}
    group = zarr.open_group(location, mode="r", **kw)
    meta = group.get("meta")
    if not isinstance(meta, zarr.Group):
        return {}
    return {name: json.loads(str(arr[()])) for name, arr in meta.arrays()}


def run_info(location: str, storage_options: Mapping[str, Any] | None = None) -> RunInfo:
    """The listing line of one run store."""
    from dotstack.store.location import info_from_attrs

    attrs = read_root_attrs(location, storage_options)
    if attrs is None:
        raise RunStoreError(f"{location!r} is not a dotstack run")
    return info_from_attrs(location, attrs)


def _duration(r: RunInfo) -> str:
    """Start to end (or to the last heartbeat, marked ``+``, while running or dead)."""
    end = r.ended or r.heartbeat
    try:
        s = (datetime.fromisoformat(end) - datetime.fromisoformat(r.started)).total_seconds()
    except ValueError:
        return ""
    h, rest = divmod(max(0, round(s)), 3600)
    text = f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"
    return text if r.ended else text + "+"


def format_runs(runs: Sequence[RunInfo]) -> str:
    """A plain-text table of runs, one per line, with the index ``load`` accepts. A running run
    whose writer is gone shows ``dead`` or ``stale`` (see ``lifecycle``)."""
    header = ("#", "id", "started (UTC)", "ended (UTC)", "duration", "status", "points",
              "shape", "name", "path")
    rows = [header]
    for i, r in enumerate(runs):
        total = math.prod(r.shape) if r.shape else 0
        shape = " x ".join(f"{d}:{n}" for d, n in zip(r.dims, r.shape, strict=False))
        status = r.status if not r.reason else f"{r.status} ({r.reason[:30]})"
        rows.append((str(i), r.id[:8], r.started[:19].replace("T", " "),
                     r.ended[:19].replace("T", " ") or "-", _duration(r), status,
                     f"{r.n_valid}/{total}", shape, r.name, r.path))
    widths = [max(len(row[c]) for row in rows) for c in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
