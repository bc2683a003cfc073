"""QCoDeS datasets as our runs: `from_qcodes` writes one into a new run store.

The dataset is read as QCoDeS exports it (``to_xarray_dataset()``): its dimensions become the
run's axes, its data variables the run's quantities (QCoDeS ``unit``/``label`` as ``units``/
``long_name``).  The swept axes are the dimensions every variable shares (a variable's other
dimensions are its record axes); a dataset exported by `dotstack.interop.to_qcodes` keeps the
run's own split.  Data not on a grid (QCoDeS gives a ``multi_index``, or an ``index``) becomes one
axis of point numbers with the setpoints as quantities beside the measured ones.

The QCoDeS identity (guid, run ids, experiment, sample, timestamps, metadata, run description,
the snapshot's other parts) is stored as the ``qcodes`` document in ``meta/``, the snapshot's
station as ``snapshot`` (as our runs store it); a
dataset exported from dotstack gets its original documents (station, parameters, fit, ...) back.
The run is ``completed`` if the dataset is, else ``aborted``.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import xarray as xr
from qcodes.dataset import DataSetProtocol, connect, load_by_guid, load_by_id

from dotstack.store import Axis, Quantity, RunStoreError, RunWriter

_RUN_ID = "dotstack_run_id"


@contextlib.contextmanager
def _dataset(dataset: DataSetProtocol | int | str,
             db: str | os.PathLike[str] | None) -> Iterator[DataSetProtocol]:
    if isinstance(dataset, bool) or not isinstance(dataset, int | np.integer | str):
        if not isinstance(dataset, DataSetProtocol):
            raise TypeError(f"from_qcodes: {dataset!r} is not a QCoDeS dataset, run id or guid")
        yield dataset
        return
    conn = connect(os.fspath(db)) if db is not None else None
    try:
        if isinstance(dataset, str):
            yield load_by_guid(dataset, conn=conn)
        else:
            yield load_by_id(int(dataset), conn=conn)
    finally:
        if conn is not None:
            conn.close()


def _units(var: xr.DataArray) -> tuple[str, str]:
    units = var.attrs.get("units", var.attrs.get("unit", ""))
    long_name = var.attrs.get("long_name") or var.attrs.get("label") or var.name
    return str(units or ""), str(long_name)


def _not_on_grid(xds: xr.Dataset) -> xr.Dataset:
    """A dataset whose points are not on a grid as one axis ``point`` of point numbers, its
    setpoint coordinates as data variables along it."""
    dims = [str(d) for d in xds.dims]
    if len(dims) != 1:
        raise RunStoreError(f"QCoDeS dataset with dims {dims} is neither a grid nor a list of points")
    dim = dims[0]
    if dim == "multi_index":
        xds = xds.reset_index("multi_index")
    flat = xds.reset_coords().rename({dim: "point"})
    if dim in flat.data_vars:  # the plain "index" coordinate: replaced by point numbers
        flat = flat.drop_vars(dim)
    return flat.assign_coords(point=("point", np.arange(flat.sizes["point"]),
                                     {"units": "", "long_name": "point number"}))


def _on_grid(xds: xr.Dataset) -> bool:
    if "multi_index" in xds.dims or "index" in xds.dims:
        return False
    return all(d in xds.indexes and xds[d].ndim == 1 and xds[d].dtype.kind in "fiuc"
               for d in xds.dims)


def _documents(xds: xr.Dataset, ds: DataSetProtocol) -> tuple[dict[str, Any], dict[str, str]]:
    """The run's ``meta/`` documents, and the dotstack tags found in the QCoDeS metadata."""
    ours = {k: str(v) for k, v in ds.metadata.items() if str(k).startswith("dotstack_")}
    docs: dict[str, Any] = {}
    if "dotstack_meta" in ours:
        with contextlib.suppress(ValueError):
            loaded = json.loads(ours["dotstack_meta"])
            if isinstance(loaded, dict):
                docs.update(loaded)
    snapshot = dict(ds.snapshot or {})
    if isinstance(snapshot.get("station"), dict):  # QCoDeS: {"station": ..., "parameters": ...}
        docs["snapshot"] = snapshot.pop("station")
    docs["qcodes"] = {
        "guid": ds.guid, "run_id": ds.run_id, "captured_run_id": ds.captured_run_id,
        "counter": ds.counter, "captured_counter": ds.captured_counter, "name": ds.name,
        "exp_name": ds.exp_name, "sample_name": ds.sample_name,
        "run_timestamp_raw": ds.run_timestamp_raw,
        "completed_timestamp_raw": ds.completed_timestamp_raw,
        "metadata": {k: v for k, v in ds.metadata.items() if not str(k).startswith("dotstack_")},
        "snapshot": snapshot,  # what QCoDeS recorded besides the station (e.g. dond's parameters)
        "run_description": json.loads(str(xds.attrs.get("run_description") or "null")),
    }
    return docs, ours


def _sweep_dims(xds: xr.Dataset, ours: dict[str, str]) -> list[str]:
    with contextlib.suppress(ValueError, TypeError):
        dims = [str(d) for d in json.loads(ours.get("dotstack_dims", "[]"))]
        if dims and all(set(dims) <= {str(d) for d in xds[v].dims} for v in xds.data_vars):
            return dims
    first = [str(d) for d in xds[next(iter(xds.data_vars))].dims]
    return [d for d in first if all(d in xds[v].dims for v in xds.data_vars)]


def from_qcodes(dataset: DataSetProtocol | int | str, *, out: str | os.PathLike[str],
                db: str | os.PathLike[str] | None = None, name: str | None = None) -> str:
    """Write a QCoDeS dataset (a dataset object, a run id or a guid in ``db``; None: QCoDeS's
    configured database) into a new run store at ``out``; returns its path.  ``name`` defaults
    to the dataset's (the dotstack run's own name for one exported from dotstack)."""
    with _dataset(dataset, db) as ds:
        xds = ds.to_xarray_dataset()
        docs, ours = _documents(xds, ds)
        completed = bool(ds.completed)
        run_name = name or ours.get("dotstack_name") or ds.name or "qcodes_run"
    if not xds.data_vars:
        raise RunStoreError(f"QCoDeS dataset {run_name!r} has no measured parameters")
    if not _on_grid(xds):
        xds = _not_on_grid(xds)
    with contextlib.suppress(ValueError, TypeError):  # record index coordinates the export added
        synthetic = [d for d in json.loads(ours.get("dotstack_synthetic_coords", "[]"))
                     if d in xds.coords]
        xds = xds.drop_vars(synthetic)
    sweep = _sweep_dims(xds, ours)
    if not sweep:
        raise RunStoreError(f"QCoDeS dataset {run_name!r}: its variables share no dimension "
                            f"({ {str(v): list(map(str, xds[v].dims)) for v in xds.data_vars} })")
    axes = [Axis(d, *_units(xds[d]), values=np.asarray(xds[d].values)) for d in sweep]
    quantities, point_axes, arrays = [], {}, {}
    for v in xds.data_vars:
        var = xds[v]
        rest = [str(d) for d in var.dims if str(d) not in sweep]
        var = var.transpose(*sweep, *rest)
        quantities.append(Quantity(str(v), *_units(var), dtype=str(var.dtype),
                                   shape=tuple(var.shape[len(sweep):]), dims=tuple(rest)))
        for d in rest:
            if d in xds.coords and d not in point_axes:
                point_axes[d] = Axis(d, *_units(xds[d]), values=np.asarray(xds[d].values))
        arrays[str(v)] = np.asarray(var.values).reshape(-1, *var.shape[len(sweep):])
    writer = RunWriter(run_name, axes, quantities, point_axes=list(point_axes.values()),
                       meta=docs, path=out)
    with writer:
        writer.write_block(0, **arrays)
        if not completed:
            writer.close("aborted", "the QCoDeS dataset was not completed")
    return writer.path
