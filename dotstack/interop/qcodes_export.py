"""Our runs as QCoDeS datasets: in a QCoDeS sqlite database, or as a netcdf file QCoDeS loads.

* `to_qcodes` writes a run into a QCoDeS database (``db``, else QCoDeS's configured one) as a
  completed ``DataSet`` of experiment ``experiment_name``: every swept axis and every record
  axis becomes a setpoint parameter, every data variable a parameter depending on them
  (units and long_name as QCoDeS ``unit``/``label``), with the grid's shape, so
  ``ds.to_xarray_dataset()`` gives back the run's grid in its own order.
* `qcodes_xarray` is the run as an ``xarray.Dataset`` in the layout QCoDeS exports (the
  attributes `qcodes.dataset.load_from_netcdf` needs: ``guid``, ``captured_run_id``,
  ``captured_counter``, ``ds_name``, ``exp_name``, ``sample_name``, ``run_description``,
  ``snapshot``, the raw timestamps, ``parent_dataset_links``; each variable's ParamSpec);
  `to_qcodes_netcdf` writes it where QCoDeS reads it (``engine="h5netcdf"``).  Our own
  ``dotstack.load(run).to_netcdf(f)`` lacks those attributes, so QCoDeS refuses it.

Both record the run's identity and documents as QCoDeS metadata (``dotstack_run_id``,
``dotstack_name``, ``dotstack_status``, ``dotstack_started``, ``dotstack_ended``,
``dotstack_dims``, ``dotstack_meta`` (the ``meta/`` JSON documents, the snapshot excepted: it
is the dataset's QCoDeS snapshot), so `dotstack.interop.from_qcodes` restores the run.
Points not committed (NaN in ``dotstack.load``) are exported as NaN.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import xarray as xr
from qcodes.dataset import InterDependencies_, RunDescriber, connect, load_or_create_experiment
from qcodes.dataset import new_data_set as _new_data_set
from qcodes.dataset.data_set import DataSet
from qcodes.dataset.descriptions.versioning.serialization import to_json_for_storage
from qcodes.dataset.guids import generate_guid
from qcodes.parameters import ParamSpecBase

from dotstack.store import RunStoreError, load, load_meta, resolve_run
from dotstack.store.reader import RunRef

#: QCoDeS metadata tags written by the export (and read back by the import)
META_PREFIX = "dotstack_"


class HasPath(Protocol):
    """A run's result (e.g. `dotstack.experiments.sweep.RunResult`): where the store is."""

    @property
    def path(self) -> str: ...


Run = RunRef | HasPath


@dataclass(frozen=True)
class QcodesLayout:
    """A run mapped onto QCoDeS parameters: the description, and one table per group of variables
    sharing setpoints (``columns``: parameter name -> flat values, one row per grid point)."""

    description: RunDescriber
    tables: tuple[dict[str, np.ndarray], ...]
    xarray: xr.Dataset  # the run with synthesized index coordinates, computed
    metadata: dict[str, str]
    snapshot: dict[str, Any]
    name: str


def _open(run: Run, data_dir: str | os.PathLike[str] | None,
          storage_options: Mapping[str, Any] | None) -> tuple[xr.Dataset, dict[str, Any]]:
    ref: RunRef = run if isinstance(run, str | int | np.integer | os.PathLike) else run.path
    location = resolve_run(ref, data_dir=data_dir, storage_options=storage_options)
    ds = load(location, storage_options=storage_options).compute()
    return ds, load_meta(location, storage_options=storage_options)


def _paramtype(name: str, dtype: np.dtype) -> str:
    if dtype.kind in "fiub":
        return "numeric"
    if dtype.kind == "c":
        return "complex"
    raise RunStoreError(f"variable {name!r}: dtype {dtype} has no QCoDeS parameter type "
                        "(numbers and complex numbers only)")


def _spec(name: str, var: xr.DataArray) -> ParamSpecBase:
    if not name.isidentifier():
        raise RunStoreError(f"variable {name!r}: a QCoDeS parameter name must be a Python "
                            "identifier (letters, digits, '_')")
    units = str(var.attrs.get("units", ""))
    return ParamSpecBase(name, _paramtype(name, var.dtype), str(var.attrs.get("long_name") or name),
                         units)


def qcodes_layout(run: Run, *, data_dir: str | os.PathLike[str] | None = None,
                  storage_options: Mapping[str, Any] | None = None) -> QcodesLayout:
    """Read ``run`` (a path/URL, id prefix or index as `dotstack.load` takes, or a `RunResult`)
    and map it onto QCoDeS parameters (see `QcodesLayout`)."""
    ds, meta = _open(run, data_dir, storage_options)
    synthetic = []
    for dim in ds.dims:
        if dim not in ds.coords:  # a record dim without coordinate: its sample index
            ds = ds.assign_coords({dim: (dim, np.arange(ds.sizes[dim]),
                                         {"units": "", "long_name": f"{dim} index"})})
            synthetic.append(str(dim))
    if not ds.data_vars:
        raise RunStoreError(f"run {ds.attrs.get('name', '?')!r} has no data variables to export")
    specs = {str(n): _spec(str(n), ds[n]) for n in [*ds.coords, *ds.data_vars]}
    dependencies = {specs[str(n)]: tuple(specs[str(d)] for d in ds[n].dims)
                    for n in ds.data_vars}
    shapes = {str(n): tuple(int(s) for s in ds[n].shape) for n in ds.data_vars}
    description = RunDescriber(InterDependencies_(dependencies=dependencies), shapes=shapes)
    groups: dict[tuple[str, ...], list[str]] = {}
    for n in ds.data_vars:
        groups.setdefault(tuple(str(d) for d in ds[n].dims), []).append(str(n))
    tables = []
    for dims, names in groups.items():
        grids = np.meshgrid(*(ds[d].values for d in dims), indexing="ij") if dims else []
        table = {d: g.reshape(-1) for d, g in zip(dims, grids, strict=True)}
        table.update({n: np.asarray(ds[n].values).reshape(-1) for n in names})
        tables.append(table)
    attrs = ds.attrs
    docs = {k: v for k, v in meta.items() if k != "snapshot"}
    metadata = {
        "dotstack_run_id": str(attrs.get("run_id", "")),
        "dotstack_name": str(attrs.get("name", "")),
        "dotstack_status": str(attrs.get("status", "")),
        "dotstack_reason": str(attrs.get("reason") or ""),
        "dotstack_started": str(attrs.get("started") or ""),
        "dotstack_ended": str(attrs.get("ended") or ""),
        "dotstack_version": str(attrs.get("dotstack_version", "")),
        "dotstack_dims": json.dumps(list(attrs.get("dims") or [])),
        "dotstack_synthetic_coords": json.dumps(synthetic),
        "dotstack_meta": json.dumps(docs),
    }
    snap = meta.get("snapshot")
    snapshot = {"station": snap} if isinstance(snap, dict) else {}
    return QcodesLayout(description, tuple(tables), ds, metadata, snapshot,
                        str(attrs.get("name") or "dotstack_run"))


def to_qcodes(run: Run, *, experiment_name: str = "dotstack", sample_name: str = "",
              db: str | os.PathLike[str] | None = None,
              data_dir: str | os.PathLike[str] | None = None,
              storage_options: Mapping[str, Any] | None = None) -> DataSet:
    """Write ``run`` into the QCoDeS database ``db`` (created if missing; None: QCoDeS's
    configured ``core.db_location``) as a completed dataset of experiment
    ``experiment_name``/``sample_name`` (created if missing); returns the dataset."""
    layout = qcodes_layout(run, data_dir=data_dir, storage_options=storage_options)
    conn = connect(os.fspath(db)) if db is not None else None
    exp = load_or_create_experiment(experiment_name, sample_name, conn=conn)
    ds = _new_data_set(layout.name, exp_id=exp.exp_id, conn=exp.conn)
    ds.prepare(snapshot=layout.snapshot, interdeps=layout.description.interdeps,
               shapes=layout.description.shapes)
    for tag, value in layout.metadata.items():
        ds.add_metadata(tag, value)
    for table in layout.tables:
        names = list(table)
        columns = [table[n].tolist() for n in names]
        ds.add_results([dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)])
    ds.mark_completed()
    return ds


def _timestamp(text: str) -> float:
    try:
        return datetime.fromisoformat(text).timestamp() if text else -1.0
    except ValueError:
        return -1.0


def qcodes_xarray(run: Run, *, experiment_name: str = "dotstack", sample_name: str = "",
                  data_dir: str | os.PathLike[str] | None = None,
                  storage_options: Mapping[str, Any] | None = None) -> xr.Dataset:
    """``run`` as an ``xarray.Dataset`` in QCoDeS's export layout: its ``to_netcdf(path)``
    (h5netcdf engine) is a file `qcodes.dataset.load_from_netcdf` loads.  A new QCoDeS guid
    is drawn for it; the run counts as QCoDeS run 1 of its (standalone) file."""
    layout = qcodes_layout(run, data_dir=data_dir, storage_options=storage_options)
    ds = layout.xarray.copy()
    interdeps = layout.description.interdeps
    for name in [*ds.coords, *ds.data_vars]:
        spec = interdeps.graph.nodes[str(name)]["value"]
        deps = [p.name for p in interdeps.dependencies.get(spec, ())]
        ds.variables[name].attrs = {"name": spec.name, "paramtype": spec.type, "label": spec.label,
                                    "unit": spec.unit, "inferred_from": [], "depends_on": deps,
                                    "units": spec.unit, "long_name": spec.label}
    started = _timestamp(layout.metadata["dotstack_started"])
    ended = _timestamp(layout.metadata["dotstack_ended"])
    ds.attrs = {
        "ds_name": layout.name, "exp_name": experiment_name, "sample_name": sample_name,
        "snapshot": json.dumps(layout.snapshot), "guid": generate_guid(),
        "run_timestamp": _fmt(started), "completed_timestamp": _fmt(ended),
        "captured_run_id": 1, "captured_counter": 1, "run_id": 1,
        "run_description": to_json_for_storage(layout.description),
        "parent_dataset_links": "[]", "run_timestamp_raw": started,
        "completed_timestamp_raw": ended, **layout.metadata,
    }
    return ds


def _fmt(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts >= 0 else ""


def to_qcodes_netcdf(run: Run, path: str | os.PathLike[str], *, experiment_name: str = "dotstack",
                     sample_name: str = "", data_dir: str | os.PathLike[str] | None = None,
                     storage_options: Mapping[str, Any] | None = None) -> str:
    """Write `qcodes_xarray` of ``run`` to the netcdf file ``path`` (h5netcdf, as QCoDeS reads
    it); returns the path."""
    ds = qcodes_xarray(run, experiment_name=experiment_name, sample_name=sample_name,
                       data_dir=data_dir, storage_options=storage_options)
    ds.to_netcdf(os.fspath(path), engine="h5netcdf")
    return os.fspath(path)
