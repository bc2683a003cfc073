"""RunWriter: stream one run into a zarr v3 group in xarray layout, safe against SIGKILL.

Points are buffered in memory and handed to one background worker after ``flush_points``
points or ``flush_seconds`` seconds (checked on every write), whichever comes first; at most one
flush is in flight and points arriving meanwhile join the next one, so acquisition never waits
for storage. A flush writes the data chunks, then (append mode) grows the arrays, then commits:
one atomic write of the root ``zarr.json`` carrying ``n_valid`` (the committed prefix of the
flat point index) and consolidated metadata of every array. A reader therefore sees either the
previous commit or the next one, never a mix; a killed writer loses only uncommitted points.

The location is a local path or any fsspec URL, e.g. ``s3://bucket/runs`` with
``storage_options={"key": ..., "secret": ..., "client_kwargs": {"endpoint_url": URL}}`` (s3fs).
"""

from __future__ import annotations

import json
import math
import os
import time
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import numpy as np
import zarr

import dotstack
from dotstack.store import _zarrio as zio
from dotstack.store.buffer import Batch, Window
from dotstack.store.location import default_data_dir, run_path
from dotstack.store.spec import (
    FORMAT_VERSION,
    Axis,
    Quantity,
    RunStoreError,
    chunk_shape,
    flat_chunk,
    flat_chunk_len,
    flat_regions,
    true_runs,
)

STATUSES = ("completed", "aborted", "failed")
_BUFFER_BYTES = 64 << 20


def _utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunWriter:
    """Write one run. Use as a context manager: an exception marks it failed (Ctrl-C: aborted).

    ``axes`` are the swept coordinates (C order; ``axes[0].values=None`` = append mode),
    ``quantities`` the measured variables, ``point_axes`` coordinates of per-point dims
    (e.g. a record's sample ``time`` in s), ``meta`` JSON documents stored once in ``meta/``.
    The store is ``path`` if given, else a new folder in ``data_dir`` (see ``location``).
    """

    def __init__(
        self,
        name: str,
        axes: Sequence[Axis],
        quantities: Sequence[Quantity],
        *,
        point_axes: Sequence[Axis] = (),
        meta: Mapping[str, Any] | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        path: str | os.PathLike[str] | None = None,
        storage_options: Mapping[str, Any] | None = None,
        flush_points: int = 100,
        flush_seconds: float = 1.0,
    ) -> None:
        if not axes or not quantities:
            raise ValueError("a run needs at least one axis and one quantity")
        if flush_points < 1 or flush_seconds <= 0:
            raise ValueError(f"flush_points={flush_points}, flush_seconds={flush_seconds}: >0")
        self.axes, self.quantities = tuple(axes), tuple(quantities)
        self._check_spec(point_axes)
        self.run_id = str(uuid.uuid4())
        self.name = name
        started = datetime.now(UTC)
        if path is None:
            path = run_path(os.fspath(data_dir or default_data_dir()), name, self.run_id, started)
        self.path = os.fspath(path)
        self._append = not self.axes[0].bounded
        self.sweep_shape = tuple(0 if a.values is None else len(a.values) for a in self.axes)
        self._inner = math.prod(self.sweep_shape[1:])
        self._total = None if self._append else math.prod(self.sweep_shape)
        self._fp, self._fs = int(flush_points), float(flush_seconds)
        self._attrs: dict[str, Any] = {
            "dotstack_run": FORMAT_VERSION, "run_id": self.run_id, "name": name,
            "started": started.isoformat(timespec="milliseconds"), "ended": None,
            "status": "running", "reason": "", "dotstack_version": dotstack.__version__,
            "dims": [a.name for a in self.axes], "shape": list(self.sweep_shape),
            "n_points": self._total, "n_valid": 0,
        }
        docs = {key: self._json(key, doc) for key, doc in (meta or {}).items()}
        self._group = self._create(point_axes, docs, storage_options)
        self._doc = zio.read_doc(self._group)
        self._names = frozenset(q.name for q in self.quantities) | (
            {self.axes[0].name} if self._append else set())
        self._win = Window(self.quantities, self._fp, self._inner)
        self._max_points = max(4 * self._fp, _BUFFER_BYTES // max(1, self._win.point_bytes))
        self._flushed = np.zeros(self._total or 0, dtype=bool)
        self._extent = 0  # append mode: committed length of the first axis
        self._n_valid = 0
        self._next = 0
        self._last = time.monotonic()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dotstack-store")
        self._inflight: Future[None] | None = None
        self._closed = False

    # ---- setup -------------------------------------------------------------------------
    def _check_spec(self, point_axes: Sequence[Axis]) -> None:
        names = [a.name for a in self.axes] + [q.name for q in self.quantities]
        names += [a.name for a in point_axes]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"names used twice: {sorted(dupes)}")
        for a in self.axes[1:]:
            if not a.bounded:
                raise ValueError(f"axis {a.name!r}: only the first axis may be unbounded")
        sweep = {a.name for a in self.axes}
        sizes: dict[str, int] = {}
        for q in self.quantities:
            for d, n in zip(q.dims, q.shape, strict=True):
                if d in sweep:
                    raise ValueError(f"quantity {q.name!r}: point dim {d!r} is a swept axis")
                if sizes.setdefault(d, n) != n:
                    raise ValueError(f"quantity {q.name!r}: dim {d!r} has size {n}, "
                                     f"another quantity has {sizes[d]}")
        for a in point_axes:
            if a.values is None or a.name not in sizes or len(a.values) != sizes[a.name]:
                raise ValueError(f"point axis {a.name!r} must give values for a quantity's dim "
                                 f"(dims: {sizes})")
        self.point_axes = tuple(point_axes)

    def _create(self, point_axes: Sequence[Axis], meta: Mapping[str, str],
                storage_options: Mapping[str, Any] | None) -> zarr.Group:
        # built in memory, then copied with the root document last (atomic appearance)
        try:
            target = zio.target_store(self.path, storage_options)
        except FileExistsError as e:
            raise RunStoreError(f"run store {self.path!r} already exists") from e
        g = zarr.open_group(zarr.storage.MemoryStore(), mode="w", zarr_format=3,
                            attributes=self._attrs)
        flat = flat_chunk_len(8, self._fp, self._total)
        for i, a in enumerate(self.axes):
            n = self.sweep_shape[i]
            if a.values is None:
                rows = chunk_shape(self.sweep_shape, (), flat)[0]
                zio.create_array(g, a.name, shape=(0,), chunks=(rows,), dtype=np.dtype("f8"),
                                 dims=[a.name], attrs=a.attrs())
            else:
                arr = zio.create_array(g, a.name, shape=(n,), chunks=(n,),
                                       dtype=a.values.dtype, dims=[a.name], attrs=a.attrs())
                arr[:] = a.values
        for a in point_axes:
            assert a.values is not None
            arr = zio.create_array(g, a.name, shape=a.values.shape, chunks=a.values.shape,
                                   dtype=a.values.dtype, dims=[a.name], attrs=a.attrs())
            arr[:] = a.values
        self._chunks: dict[str, tuple[int, ...]] = {}
        for q in self.quantities:
            fl = flat_chunk_len(q.point_bytes, self._fp, self._total)
            ch = chunk_shape(self.sweep_shape, q.shape, fl)
            self._chunks[q.name] = ch
            zio.create_array(g, q.name, shape=self.sweep_shape + q.shape, chunks=ch,
                             dtype=np.dtype(q.dtype), dims=[a.name for a in self.axes] + list(
                                 q.dims), attrs=q.attrs(), codec=q.compressor)
        mg = g.create_group("meta")
        for key, text in meta.items():
            zio.create_json_doc(mg, key, text)
        zio.consolidate(g)
        zio.run([zio.copy_root_last(g.store, target)])
        g = zarr.open_group(target, mode="r+", use_consolidated=False)
        fcs = {flat_chunk(self.sweep_shape, ch) for ch in self._chunks.values()}
        self._flat_chunk = fcs.pop() if len(fcs) == 1 else None
        self._arrays: dict[str, zarr.Array] = {}
        for name in [a.name for a in self.axes] + [q.name for q in self.quantities]:
            node = g[name]
            assert isinstance(node, zarr.Array)
            self._arrays[name] = node
        return g

    @staticmethod
    def _json(key: str, doc: Any) -> str:
        try:
            return json.dumps(doc, default=zio.json_default)
        except (TypeError, ValueError) as e:
            raise RunStoreError(f"meta document {key!r}: {e}") from e

    # ---- properties --------------------------------------------------------------------
    @property
    def n_valid(self) -> int:
        """Points committed to the store (a prefix of the flat index)."""
        return self._n_valid

    @property
    def status(self) -> str:
        return str(self._attrs["status"])

    # ---- writing -----------------------------------------------------------------------
    def _flat(self, index: int | Sequence[int]) -> int:
        if isinstance(index, int | np.integer):
            k = int(index)
            if k < 0 or (self._total is not None and k >= self._total):
                raise IndexError(f"run {self.name!r}: point index {k} outside 0..{self._total}")
            return k
        idx = tuple(int(i) for i in index)
        if len(idx) != len(self.axes):
            raise IndexError(f"run {self.name!r}: index {idx} needs {len(self.axes)} entries "
                             f"({', '.join(a.name for a in self.axes)})")
        k = 0
        for i, n, a in zip(idx, self.sweep_shape, self.axes, strict=True):
            if i < 0 or (a.bounded and i >= n):
                raise IndexError(f"run {self.name!r}: index {i} of axis {a.name!r} outside 0..{n}")
            k = k * n + i if a.bounded else i
        return k

    def _check_values(self, values: Mapping[str, Any], n: int | None) -> None:
        if values.keys() != self._names:
            unknown = sorted(set(values) - self._names)
            missing = sorted(self._names - set(values))
            raise KeyError(f"run {self.name!r}: unknown {unknown}, missing {missing} "
                           f"(expected {sorted(self._names)})")
        for q in self.quantities:
            want = q.shape if n is None else (n, *q.shape)
            got = np.shape(values[q.name])
            if got != want:
                raise ValueError(f"quantity {q.name!r}: shape {got}, expected {want}")
        if self._append and n is not None and np.shape(values[self.axes[0].name]) != (n,):
            raise ValueError(f"axis {self.axes[0].name!r}: needs {n} values")

    def write_point(self, index: int | Sequence[int], /, **values: Any) -> None:
        """Store one point: ``index`` is the flat (C-order) index or one index per axis."""
        if self._closed:
            raise RunStoreError(f"run {self.name!r} is closed")
        k = self._flat(index)
        self._check_values(values, None)
        w = self._win
        pos = k - w.start
        if pos < 0 or pos >= w.cap or not w.n:
            pos = self._place(k, 1)
        for name, buf in w.bufs:
            buf[pos] = values[name]
        if self._append:
            w.outer[k // self._inner] = float(values[self.axes[0].name])
        if not w.mask[pos]:
            w.mask[pos] = True
            w.n += 1
        self._next = k + 1
        if w.n >= self._fp or time.monotonic() - self._last >= self._fs:
            self._handoff(force=False)

    def append(self, **values: Any) -> int:
        """Store the point after the last one written; returns its flat index."""
        k = self._next
        self.write_point(k, **values)
        return k

    def write_block(self, start: int, /, **arrays: Any) -> None:
        """Store ``n`` consecutive points from flat index ``start`` (arrays lead with ``n``)."""
        if self._closed:
            raise RunStoreError(f"run {self.name!r} is closed")
        n = len(arrays[self.quantities[0].name]) if self.quantities[0].name in arrays else 0
        if n == 0:
            self._check_values(arrays, 0)
            return
        self._flat(start)
        self._flat(start + n - 1)
        self._check_values(arrays, n)
        pos = self._place(start, n)
        w = self._win
        for name, buf in w.bufs:
            buf[pos : pos + n] = arrays[name]
        if self._append:
            for i, v in enumerate(np.asarray(arrays[self.axes[0].name], dtype=float)):
                w.outer[(start + i) // self._inner] = float(v)
        w.n += int(n - np.count_nonzero(w.mask[pos : pos + n]))
        w.mask[pos : pos + n] = True
        self._next = start + n
        if w.n >= self._fp or time.monotonic() - self._last >= self._fs:
            self._handoff(force=False)

    def _place(self, k: int, n: int) -> int:
        """Make the window hold flat points [k, k+n); returns the position of k."""
        w = self._win
        if w.n and (k < w.start or k + n - w.start > self._max_points):
            self._handoff(force=True)
        if not w.n:
            w.start = k
        w.ensure(k + n - w.start)
        return k - w.start

    def flush(self) -> None:
        """Commit everything written so far and wait for it."""
        self._handoff(force=True)
        self._collect()

    def _handoff(self, *, force: bool) -> None:
        if self._inflight is not None:
            if not force and not self._inflight.done():
                return
            self._collect()
        w = self._win
        if not w.n:
            return
        cut = None
        fc = self._flat_chunk
        if not force and fc:  # count trigger: hand over whole chunks, keep the partial one
            cut = ((w.start + w.hi()) // fc) * fc - w.start
        batch = w.take(cut if cut and 0 < cut < w.hi() else None)
        self._last = time.monotonic()
        self._inflight = self._pool.submit(self._commit, batch)

    def _collect(self) -> None:
        fut, self._inflight = self._inflight, None
        if fut is None:
            return
        try:
            fut.result()
        except Exception as e:
            raise RunStoreError(f"run {self.path!r}: flush failed: {e}") from e

    # ---- worker side -------------------------------------------------------------------
    def _commit(self, b: Batch) -> None:
        runs = [(b.start + a, b.start + z) for a, z in true_runs(b.mask)]
        if not runs:
            return
        if self._append:
            rows = math.ceil(runs[-1][1] / self._inner)
            if rows > self._extent:
                zio.run([self._arrays[n].async_array.resize((rows, *arr.shape[1:]))
                         for n, arr in self._arrays.items() if self._is_append_array(n)])
                self._extent = rows
        # boxes of one array may share a chunk: write them in order, arrays concurrently
        coros = [self._write_boxes(name, buf, b.start, runs) for name, buf in b.bufs]
        outer = {r: v for r, v in b.outer.items() if r < self._extent}
        if self._append and outer:
            idx = np.array(sorted(outer))
            vals = np.array([outer[r] for r in idx.tolist()])
            breaks = np.flatnonzero(np.diff(idx) != 1) + 1
            coord = self._arrays[self.axes[0].name].async_array
            for rr, vv in zip(np.split(idx, breaks), np.split(vals, breaks), strict=True):
                coros.append(coord.setitem(slice(int(rr[0]), int(rr[-1]) + 1), vv))
        zio.run(coros)
        self._advance(runs)
        self._write_root()

    async def _write_boxes(self, name: str, buf: np.ndarray, start: int,
                           runs: list[tuple[int, int]]) -> None:
        arr = self._arrays[name].async_array
        for a, z in runs:
            off = a
            for box in flat_regions(self.sweep_shape, a, z):
                shape = tuple(s.stop - s.start for s in box)
                cnt = math.prod(shape)
                data = buf[off - start : off - start + cnt]
                await arr.setitem(box, data.reshape(shape + data.shape[1:]))
                off += cnt

    def _is_append_array(self, name: str) -> bool:
        return name == self.axes[0].name or name in self._chunks

    def _advance(self, runs: list[tuple[int, int]]) -> None:
        end = runs[-1][1]
        if end > self._flushed.size:
            grown = np.zeros(max(end, 2 * self._flushed.size), dtype=bool)
            grown[: self._flushed.size] = self._flushed
            self._flushed = grown
        for a, z in runs:
            self._flushed[a:z] = True
        rest = self._flushed[self._n_valid :]
        gap = np.flatnonzero(~rest)
        self._n_valid += int(gap[0]) if gap.size else rest.size

    def _write_root(self) -> None:
        self._attrs["n_valid"] = self._n_valid
        if self._append:
            self._attrs["shape"] = [self._extent, *self.sweep_shape[1:]]
            nodes = self._doc["consolidated_metadata"]["metadata"]
            for name in self._arrays:
                if self._is_append_array(name):
                    nodes[name]["shape"][0] = self._extent
        self._doc["attributes"] = self._attrs
        zio.run([zio.write_root_doc(self._group, self._doc)])

    def _add_meta(self, key: str, text: str) -> None:
        mg = self._group["meta"]
        assert isinstance(mg, zarr.Group)
        arr = zio.create_json_doc(mg, key, text)
        self._doc["consolidated_metadata"]["metadata"][f"meta/{key}"] = zio.read_doc(arr)
        self._write_root()

    def _finish(self, status: str, reason: str) -> None:
        self._attrs.update(status=status, reason=reason, ended=_utc())
        nodes = self._doc["consolidated_metadata"]["metadata"]
        for name, arr in self._arrays.items():  # re-consolidate from the stored array docs
            nodes[name] = zio.read_doc(arr)
        self._write_root()

    # ---- metadata and closing ----------------------------------------------------------
    def add_meta(self, key: str, doc: Any) -> None:
        """Store one more JSON document in ``meta/`` (e.g. ground truth known at the end)."""
        if self._closed:
            raise RunStoreError(f"run {self.name!r} is closed")
        if f"meta/{key}" in self._doc["consolidated_metadata"]["metadata"]:
            raise RunStoreError(f"meta document {key!r} already written")
        text = self._json(key, doc)
        self._pool.submit(self._add_meta, key, text).result()

    def close(self, status: str = "completed", reason: str = "") -> None:
        """Commit all points, then record ``status`` and the end time, re-consolidated."""
        if status not in STATUSES:
            raise ValueError(f"status {status!r} not one of {STATUSES}")
        if self._closed:
            return
        self._closed = True
        error: Exception | None = None
        try:
            self._handoff(force=True)
            self._collect()
        except Exception as e:
            error = e
            status, reason = "failed", reason or f"flush failed: {e}"
        try:
            self._pool.submit(self._finish, status, reason).result()
        finally:
            self._pool.shutdown()
        if error is not None:
            raise error

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is None:
            self.close()
            return
        if isinstance(exc, KeyboardInterrupt):
            status, reason = "aborted", "KeyboardInterrupt"
        else:
            status, reason = "failed", f"{type(exc).__name__}: {exc}"
        try:
            self.close(status, reason)
        except Exception as close_error:  # the original exception matters more
            exc.add_note(f"while closing run {self.path!r}: {close_error}")
