"""Where runs live: the data directory layout, local or any fsspec URL.

Layout: ``<data_dir>/<YYYY-MM-DD>/<HHMMSS>_<name>_<id8>.zarr`` (UTC date and time of the start,
the run name made file-name safe, the first 8 hex digits of the run's UUID). ``data_dir`` is a
local path or an fsspec URL (``s3://bucket/prefix`` with ``storage_options`` for s3fs, e.g.
``{"key": ..., "secret": ..., "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"}}``).
The default data directory is ``$DOTSTACK_DATA_DIR``, else ``./data``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import fsspec

from dotstack.store.spec import FORMAT_VERSION, RunInfo, slug

ENV_DATA_DIR = "DOTSTACK_DATA_DIR"


def default_data_dir() -> str:
    """``$DOTSTACK_DATA_DIR`` if set, else ``./data`` (absolute)."""
    return os.environ.get(ENV_DATA_DIR) or os.path.abspath("data")


def is_url(location: str) -> bool:
    return "://" in location


def join(base: str, *parts: str) -> str:
    """Join path parts with '/' for URLs and os.path for local paths."""
    if is_url(base):
        return "/".join([base.rstrip("/"), *parts])
    return os.path.join(base, *parts)


def run_path(data_dir: str, name: str, run_id: str, started: datetime) -> str:
    """The store location of a new run inside ``data_dir``."""
    leaf = f"{started:%H%M%S}_{slug(name)}_{run_id[:8]}.zarr"
    return join(data_dir, f"{started:%Y-%m-%d}", leaf)


def read_root_attrs(
    location: str, storage_options: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """Root attributes of a run store, or None if it is not a dotstack run."""
    fs, root = fsspec.core.url_to_fs(location, **(storage_options or {}))
    return _attrs_from(fs, root)


def _attrs_from(fs: Any, root: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(fs.cat_file(f"{root.rstrip('/')}/zarr.json"))
    except (FileNotFoundError, ValueError, OSError):
        return None
    attrs = doc.get("attributes") if isinstance(doc, dict) else None
    if not isinstance(attrs, dict) or attrs.get("dotstack_run") != FORMAT_VERSION:
        return None
    return attrs


def info_from_attrs(path: str, attrs: Mapping[str, Any]) -> RunInfo:
    from dotstack.store.lifecycle import shown_status

    return RunInfo(
        id=str(attrs.get("run_id", "")),
        name=str(attrs.get("name", "")),
        path=path,
        started=str(attrs.get("started", "")),
        status=shown_status(attrs),
        dims=tuple(attrs.get("dims", ())),
        shape=tuple(int(n) for n in attrs.get("shape", ())),
        n_valid=int(attrs.get("n_written", attrs.get("n_valid", 0))),
        reason=str(attrs.get("reason", "")),
        ended=str(attrs.get("ended") or ""),
        heartbeat=str(attrs.get("heartbeat_utc") or ""),
        recorded_status=str(attrs.get("status", "")),
    )


def exists(location: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether a directory (or, on object stores, a prefix) exists at ``location``."""
    fs, root = fsspec.core.url_to_fs(location, **(storage_options or {}))
    return bool(fs.isdir(root))


def scan_runs(data_dir: str, storage_options: Mapping[str, Any] | None = None) -> list[RunInfo]:
    """Every run under ``data_dir`` (layout above), oldest first. Reads one small file per run."""
    fs, root = fsspec.core.url_to_fs(data_dir, **(storage_options or {}))
    root = root.rstrip("/")
    found: list[RunInfo] = []
    for candidate in sorted(fs.glob(f"{root}/*/*.zarr")):
        attrs = _attrs_from(fs, candidate)
        if attrs is None:
            continue
        path = fs.unstrip_protocol(candidate) if is_url(data_dir) else candidate
        found.append(info_from_attrs(path, attrs))
    found.sort(key=lambda r: (r.started, r.path))
    return found
