"""RunWriter: stream one run into a zarr v3 group in xarray layout, safe against SIGKILL.

Points are buffered in memory, in reused blocks of one chunk each (``buffer``), and handed to
one background storage thread (``committer``) after ``flush_points`` points or ``flush_seconds``
seconds (checked on every write), whichever comes first: complete blocks if there are any, else
all. At most one flush is in flight; points arriving meanwhile join the next one, so acquisition
waits for storage only when 32 MiB of blocks are being filled (as much again may be stored).
A flush writes the data chunks, then commits ``n_valid`` in one atomic write of the root
``zarr.json``: a reader sees the previous commit or the next, and a killed writer loses only
uncommitted points. Points may be written in any order: a commit records every committed point
(root attribute ``valid``: ``[start, stop)`` ranges), so a point never written hides nothing.

While open, the writer keeps a heartbeat in the root (``heartbeat_utc``, its ``pid`` and
``host``), and a writer never closed is closed at interpreter exit as ``aborted`` (reason
``"not closed (interpreter exit)"``): see ``lifecycle``.

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
from threading import get_ident
from types import TracebackType
from typing import Any

import numpy as np

import dotstack
from dotstack.store import _zarrio as zio
from dotstack.store import lifecycle
from dotstack.store.buffer import Batch, Block, Window
from dotstack.store.committer import Committer
from dotstack.store.location import default_data_dir, run_path
from dotstack.store.spec import FORMAT_VERSION, Axis, Quantity, RunStoreError

STATUSES = ("completed", "aborted", "failed")
_BUFFER_BYTES = 32 << 20


_SCALARS = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})


def _utc() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunWriter:
    """Write one run. Use as a context manager: an exception marks it failed (Ctrl-C: aborted).

    ``axes`` are the swept coordinates (C order; ``axes[0].values=None`` = append mode),
    ``quantities`` the measured variables, ``point_axes`` coordinates of per-point dims
    (e.g. a record's sample ``time`` in s), ``meta`` JSON documents stored once in ``meta/``.
    The store is ``path`` if given, else a new folder in ``data_dir`` (see ``location``).

    Args:
        name: The run's name (also in its folder name).
        axes: The swept axes, outer first; only the first may be unbounded (append mode).
        quantities: The measured variables (scalars or per-point records).
        point_axes: Coordinates of the quantities' per-point dims.
        meta: JSON-able documents stored once in ``meta/`` (station, parameters, ...).
        data_dir: Folder or fsspec URL for a new run folder (default: ``default_data_dir()``).
        path: The store's exact path or URL (instead of a new folder in ``data_dir``).
        storage_options: fsspec options of a URL location.
        flush_points: Points after which buffered points are handed to storage.
        flush_seconds: Seconds after which buffered points are handed to storage.
        heartbeat_seconds: Interval of the liveness heartbeat in the root metadata.

    Raises:
        ValueError: An empty or inconsistent layout (duplicate names, an unbounded inner
            axis, point axes that match no quantity's dims) or non-positive intervals.
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
        heartbeat_seconds: float = 10.0,
    ) -> None:
        if not axes or not quantities:
            raise ValueError("a run needs at least one axis and one quantity")
        if flush_points < 1 or flush_seconds <= 0 or heartbeat_seconds <= 0:
            raise ValueError(f"flush_points={flush_points}, flush_seconds={flush_seconds}, "
                             f"heartbeat_seconds={heartbeat_seconds}: must be > 0")
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
        attrs: dict[str, Any] = {
            "dotstack_run": FORMAT_VERSION, "run_id": self.run_id, "name": name,
            "started": started.isoformat(timespec="milliseconds"), "ended": None,
            "status": "running", "reason": "", "dotstack_version": dotstack.__version__,
            "dims": [a.name for a in self.axes], "shape": list(self.sweep_shape),
            "n_points": self._total, "n_valid": 0, "valid": [], "n_written": 0,
            "heartbeat_utc": started.isoformat(timespec="milliseconds"),
            **lifecycle.process_attrs(float(heartbeat_seconds)),
        }
        docs = {key: self._json(key, doc) for key, doc in (meta or {}).items()}
        self._store = Committer.create(self.path, storage_options, attrs, self.axes,
                                       self.quantities, point_axes, docs, self._fp)
        self._names = frozenset(q.name for q in self.quantities) | (
            {self.axes[0].name} if self._append else set())
        self._win = Window(self.quantities, self._store.block, self._inner, _BUFFER_BYTES)
        self._next = 0
        self._last = time.monotonic()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dotstack-store")
        self._inflight: tuple[Future[None], Batch] | None = None
        self._closed = False
        self.user_thread = get_ident()  # the thread that wrote last (see ``lifecycle``)
        self._heartbeat = lifecycle.Heartbeat(self._store, self._pool, float(heartbeat_seconds))
        lifecycle.track(self)

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

    @staticmethod
    def _json(key: str, doc: Any) -> str:
        try:
            return json.dumps(doc, default=zio.json_default)
        except (TypeError, ValueError) as e:
            raise RunStoreError(f"meta document {key!r}: {e}") from e

    # ---- properties --------------------------------------------------------------------
    @property
    def n_valid(self) -> int:
        """Points committed to the store without a gap (a prefix of the flat index)."""
        return self._store.n_valid

    @property
    def n_written(self) -> int:
        """Points committed to the store (all of them, gaps or not)."""
        return int(self._store.attrs["n_written"])

    @property
    def status(self) -> str:
        """``running`` until closed, then the status given to ``close``."""
        return str(self._store.attrs["status"])

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
            if n is None and not q.shape and type(values[q.name]) in _SCALARS:
                continue  # the common case, a plain number: no numpy call
            want = q.shape if n is None else (n, *q.shape)
            got = np.shape(values[q.name])
            if got != want:
                raise ValueError(f"quantity {q.name!r}: shape {got}, expected {want}")
        if self._append and n is not None and np.shape(values[self.axes[0].name]) != (n,):
            raise ValueError(f"axis {self.axes[0].name!r}: needs {n} values")

    def write_point(self, index: int | Sequence[int], /, **values: Any) -> None:
        """Store one point: ``index`` is the flat (C-order) index or one index per axis.

        Args:
            index: The flat (C-order) point index, or one index per swept axis.
            **values: One value per quantity (an array of the quantity's shape for records;
                in append mode also the first axis' coordinate value).

        Raises:
            IndexError: The index is outside the run's points.
            RunStoreError: The run is closed.
        """
        if self._closed:
            raise RunStoreError(f"run {self.name!r} is closed")
        k = self._flat(index)
        self._check_values(values, None)
        self.user_thread = get_ident()
        w = self._win
        blk = w.live.get(k // w.size) or self._open(k // w.size)
        pos = k - blk.start
        for name, buf in blk.bufs:
            buf[pos] = values[name]
        if self._append:
            w.outer[k // self._inner] = float(values[self.axes[0].name])
        if not blk.mask[pos]:
            blk.mask[pos] = True
            blk.n += 1
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
        """Store ``n`` consecutive points from flat index ``start`` (arrays lead with ``n``).

        Args:
            start: Flat (C-order) index of the first point.
            **arrays: One array per quantity, of shape ``(n, *quantity.shape)``.
        """
        if self._closed:
            raise RunStoreError(f"run {self.name!r} is closed")
        n = len(arrays[self.quantities[0].name]) if self.quantities[0].name in arrays else 0
        if n == 0:
            self._check_values(arrays, 0)
            return
        self._flat(start)
        self._flat(start + n - 1)
        self._check_values(arrays, n)
        self.user_thread = get_ident()
        w = self._win
        if self._append:
            for i, v in enumerate(np.asarray(arrays[self.axes[0].name], dtype=float)):
                w.outer[(start + i) // self._inner] = float(v)
        k = start
        while k < start + n:  # block by block
            blk = w.live.get(k // w.size) or self._open(k // w.size)
            a, z = k - blk.start, min(w.size, start + n - blk.start)
            for name, buf in blk.bufs:
                buf[a:z] = np.asarray(arrays[name])[k - start : k - start + z - a]
            new = int(z - a - np.count_nonzero(blk.mask[a:z]))
            blk.mask[a:z] = True
            blk.n += new
            w.n += new
            k = blk.start + z
        self._next = start + n
        if w.n >= self._fp or time.monotonic() - self._last >= self._fs:
            self._handoff(force=False)

    def _open(self, b: int) -> Block:
        """Start buffer block ``b``; first hand everything over if the buffer budget is used."""
        if self._win.full():
            self._handoff(force=True)
        return self._win.open(b)

    def flush(self) -> None:
        """Commit everything written so far and wait for it."""
        self._handoff(force=True)
        self._collect()

    def _handoff(self, *, force: bool) -> None:
        """Give the storage thread a batch: all blocks (``force``), else the complete ones if
        any (a partial chunk is kept to be filled); waits only for a flush already in flight."""
        if self._inflight is not None:
            if not force and not self._inflight[0].done():
                return
            self._collect()
        if not self._win.live:
            return
        batch = self._win.take(whole_only=not force)
        self._last = time.monotonic()
        self._inflight = (self._storage(self._store.commit, batch), batch)

    def _collect(self) -> None:
        pending, self._inflight = self._inflight, None
        if pending is None:
            return
        fut, batch = pending
        try:
            fut.result()
        except Exception as e:
            raise RunStoreError(f"run {self.path!r}: flush failed: {e}") from e
        finally:
            self._win.release(batch)

    # ---- metadata and closing ----------------------------------------------------------
    def add_meta(self, key: str, doc: Any) -> None:
        """Store one more JSON document in ``meta/`` (e.g. ground truth known at the end)."""
        if self._closed:
            raise RunStoreError(f"run {self.name!r} is closed")
        if self._store.has_meta(key):
            raise RunStoreError(f"meta document {key!r} already written")
        text = self._json(key, doc)
        self._storage(self._store.add_meta, key, text).result()

    def _storage(self, fn: Any, *args: Any) -> Future[None]:
        """Run ``fn`` on the storage thread (see ``lifecycle.submit``)."""
        return lifecycle.submit(self._pool, fn, *args)

    def close(self, status: str = "completed", reason: str = "") -> None:
        """Commit all points, then record ``status`` and the end time, re-consolidated.

        Closing twice does nothing the second time.

        Args:
            status: ``"completed"``, ``"aborted"`` or ``"failed"``.
            reason: Why the run ended so (kept in the root attributes).
        """
        if status not in STATUSES:
            raise ValueError(f"status {status!r} not one of {STATUSES}")
        if self._closed:
            return
        self._closed = True
        lifecycle.untrack(self)
        self._heartbeat.stop()
        error: Exception | None = None
        try:
            self._handoff(force=True)
            self._collect()
        except Exception as e:
            error = e
            status, reason = "failed", reason or f"flush failed: {e}"
        try:
            self._storage(self._store.finish, status, reason, _utc()).result()
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
