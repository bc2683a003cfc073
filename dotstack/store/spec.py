"""Value types describing a run's layout, and the pure index/chunk arithmetic behind it."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FORMAT_VERSION = 1
"""Root attribute ``dotstack_run``: marks a zarr group as a dotstack run, and its layout version."""

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_RESERVED = {"meta"}


class RunStoreError(Exception):
    """A run store could not be written or read as asked (the message names the offender)."""


def _check_name(kind: str, name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name) or name in _RESERVED:
        raise ValueError(f"invalid {kind} name {name!r}: use letters, digits, '_', '.', '-'")


@dataclass(frozen=True, eq=False)
class Axis:
    """A coordinate: a swept axis of the run, or a per-point axis of a record (e.g. sample time).

    ``values=None`` marks the run's first axis as unbounded: the run is then written in append
    mode and every point carries this axis' value (e.g. a timestamp in s).
    """

    name: str
    units: str
    long_name: str = ""
    values: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_name("axis", self.name)
        if self.values is not None:
            arr = np.array(self.values)
            if arr.ndim != 1 or arr.size == 0:
                raise ValueError(f"axis {self.name!r}: values must be a non-empty 1-D sequence")
            arr.setflags(write=False)
            object.__setattr__(self, "values", arr)

    @property
    def bounded(self) -> bool:
        return self.values is not None

    def attrs(self) -> dict[str, Any]:
        return {"units": self.units, "long_name": self.long_name or self.name}


@dataclass(frozen=True, eq=False)
class Quantity:
    """A measured data variable; ``shape``/``dims`` describe one point (``()`` for a scalar).

    ``compressor``: ``"lz4"`` (blosc-lz4 + bit shuffle, default: 2-6x smaller on 12-bit
    digitizer signals, 1.2x on pure noise, >= 1 GB/s), ``"zstd"`` (blosc-zstd + bit shuffle:
    smaller still, ~2-3x slower) or None (raw bytes: least CPU).
    """

    name: str
    units: str
    long_name: str = ""
    dtype: str = "float64"
    shape: tuple[int, ...] = ()
    dims: tuple[str, ...] = ()
    compressor: str | None = "lz4"

    def __post_init__(self) -> None:
        _check_name("quantity", self.name)
        if self.compressor not in ("lz4", "zstd", None):
            raise ValueError(f"quantity {self.name!r}: compressor {self.compressor!r} not one "
                             "of 'lz4', 'zstd', None")
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        object.__setattr__(self, "dims", tuple(self.dims))
        if len(self.shape) != len(self.dims):
            raise ValueError(
                f"quantity {self.name!r}: shape {self.shape} needs one dim name per axis, "
                f"got dims {self.dims}"
            )
        if any(n < 1 for n in self.shape):
            raise ValueError(f"quantity {self.name!r}: shape {self.shape} has an empty axis")
        for d in self.dims:
            _check_name("dimension", d)
        np.dtype(self.dtype)  # raises TypeError naming an unknown dtype

    def attrs(self) -> dict[str, Any]:
        return {"units": self.units, "long_name": self.long_name or self.name}

    @property
    def point_bytes(self) -> int:
        return int(np.dtype(self.dtype).itemsize * math.prod(self.shape))


@dataclass(frozen=True)
class RunInfo:
    """One line of a runs listing (read from the root metadata only).

    ``status`` is as shown: the recorded status, except that a ``running`` run whose writer is
    gone is ``dead`` or ``stale`` (``recorded_status`` keeps ``running``; see ``lifecycle``).
    ``n_valid`` counts the committed points (gaps or not). ``ended`` is empty while running;
    ``heartbeat`` is the last time the writer was known alive.
    """

    id: str
    name: str
    path: str
    started: str
    status: str
    dims: tuple[str, ...]
    shape: tuple[int, ...]
    n_valid: int
    reason: str = ""
    ended: str = ""
    heartbeat: str = ""
    recorded_status: str = ""


def fill_value(dtype: np.dtype) -> Any:
    """NaN for floats (unwritten points read as NaN), zero otherwise."""
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "b":
        return False
    return 0


def flat_chunk_len(point_bytes: int, flush_points: int, total: int | None) -> int:
    """Points per chunk along the flat index: about one flush, clamped to 2–16 MiB of data."""
    lo = max(1, math.ceil((2 << 20) / max(point_bytes, 1)))
    hi = max(1, (16 << 20) // max(point_bytes, 1))
    n = min(max(flush_points, lo), hi)
    return n if total is None else max(1, min(n, total))


def chunk_shape(sweep_shape: Sequence[int], point_shape: Sequence[int], flat: int) -> tuple[int, ...]:
    """Chunk covering ``flat`` points of the sweep (trailing sweep dims whole first), whole points.

    A zero in ``sweep_shape`` (an empty append axis) counts as unbounded.
    """
    chunks: list[int] = []
    rem = flat
    for extent in reversed(sweep_shape):
        if extent and rem >= extent:
            chunks.append(extent)
            rem //= extent
        else:
            chunks.append(max(rem, 1))
            rem = 1
    return (*reversed(chunks), *point_shape)


def flat_chunk(sweep_shape: Sequence[int], chunks: Sequence[int]) -> int | None:
    """Flat length of one chunk if chunk boundaries fall on multiples of it, else None."""
    if len(sweep_shape) > 1 and tuple(chunks[1 : len(sweep_shape)]) != tuple(sweep_shape[1:]):
        return None
    return math.prod(chunks[: len(sweep_shape)])


def flat_regions(shape: Sequence[int], start: int, stop: int) -> list[tuple[slice, ...]]:
    """Split the C-order flat range [start, stop) of an array of ``shape`` into boxes.

    Returns at most ``2 * ndim - 1`` boxes, in flat order. ``shape[0]`` may be anything
    (unbounded first axis); only the trailing extents matter.
    """
    if start >= stop:
        return []
    if len(shape) <= 1:
        return [(slice(start, stop),)]
    inner = math.prod(shape[1:])
    r0, r1 = start // inner, (stop - 1) // inner
    if r0 == r1:
        return [(slice(r0, r0 + 1), *box) for box in
                flat_regions(shape[1:], start - r0 * inner, stop - r0 * inner)]
    out: list[tuple[slice, ...]] = []
    first_full = r0
    if start % inner:
        out += [(slice(r0, r0 + 1), *b) for b in flat_regions(shape[1:], start % inner, inner)]
        first_full = r0 + 1
    last_full = stop // inner
    if last_full > first_full:
        out.append((slice(first_full, last_full), *(slice(0, n) for n in shape[1:])))
    if stop % inner:
        out += [(slice(last_full, last_full + 1), *b) for b in
                flat_regions(shape[1:], 0, stop % inner)]
    return out


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs [a, b) of True in a 1-D boolean array."""
    if mask.size == 0:
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def slug(name: str) -> str:
    """A file-name-safe version of a run name."""
    s = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return s[:40] or "run"
