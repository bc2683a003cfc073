"""Run store: one run = one zarr v3 group in xarray layout, streamed and safe against SIGKILL.

Write with :class:`RunWriter`; read with :func:`load` (an ``xarray.Dataset`` masked to the
committed points), :func:`load_meta` (the JSON documents in ``meta/``), :func:`list_runs` and
:func:`format_runs`. Plain ``xarray.open_zarr(path)`` works too, with or without dotstack.
The reading side (and so xarray) is imported on first use, keeping writer-only imports light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dotstack.store.location import default_data_dir
from dotstack.store.spec import Axis, Quantity, RunInfo, RunStoreError
from dotstack.store.writer import RunWriter

if TYPE_CHECKING:
    from dotstack.store.reader import format_runs, list_runs, load, load_meta, resolve_run

_READER = ("format_runs", "list_runs", "load", "load_meta", "resolve_run")

__all__ = [
    "Axis",
    "Quantity",
    "RunInfo",
    "RunStoreError",
    "RunWriter",
    "default_data_dir",
    "format_runs",
    "list_runs",
    "load",
    "load_meta",
    "resolve_run",
]


def __getattr__(name: str) -> Any:
    if name in _READER:
        from dotstack.store import reader

        return getattr(reader, name)
    raise AttributeError(f"module 'dotstack.store' has no attribute {name!r}")
