"""Input checks shared by segments, schedules, limits and wiring.

Numbers may be Python or numpy scalars (``np.float32``, ``np.int64``, 0-d arrays); they are
stored as Python ``float``/``int`` so that hashing, equality and JSON behave alike. NaN and
infinities are refused where they are given, with the name of the offending field; bools
are refused where a number is meant (``repeat(x, True)``, ``Hold(level=True)``).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from dotstack.sequencer.errors import SequencerError


def _scalar(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    return value


def is_bool(value: Any) -> bool:
    return isinstance(value, bool | np.bool_)


def real(value: Any, what: str, *, minimum: float | None = None,
         positive: bool = False) -> float:
    """``value`` as a finite Python float; errors name ``what``."""
    value = _scalar(value)
    if is_bool(value) or not isinstance(value, numbers.Real):
        raise SequencerError(f"{what} must be a real number, got {value!r} "
                             f"({type(value).__name__})")
    out = float(value)
    if not math.isfinite(out):
        raise SequencerError(f"{what} is {out!r}: non-finite values (NaN, inf) are refused")
    if positive and out <= 0:
        raise SequencerError(f"{what} must be positive, got {out!r}")
    if minimum is not None and out < minimum:
        rule = "must not be negative" if minimum == 0 else f"must be >= {minimum:g}"
        raise SequencerError(f"{what} {rule}, got {out!r}")
    return out


def count(value: Any, what: str, *, minimum: int = 1) -> int:
    """``value`` as a Python int: integers and integral floats (3.0, np.int64(3)) only."""
    value = _scalar(value)
    if is_bool(value) or not isinstance(value, numbers.Real):
        raise SequencerError(f"{what} must be an integer, got {value!r} "
                             f"({type(value).__name__})")
    if isinstance(value, numbers.Integral):
        out = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or not f.is_integer():
            raise SequencerError(f"{what} must be an integer, got {value!r}")
        out = int(f)
    if out < minimum:
        raise SequencerError(f"{what} must be >= {minimum}, got {out}")
    return out


def flag(value: Any, what: str) -> bool:
    """A bool (Python or numpy)."""
    value = _scalar(value)
    if not is_bool(value):
        raise SequencerError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def reals(values: Iterable[Any], what: str) -> tuple[float, ...]:
    """Finite floats from any iterable of numbers (vectorised for numeric arrays)."""
    arr = np.asarray(values if isinstance(values, np.ndarray) else list(values))
    if arr.ndim != 1:
        raise SequencerError(f"{what} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "iuf":
        f = arr.astype(float)
        bad = np.flatnonzero(~np.isfinite(f))
        if len(bad):
            i = int(bad[0])
            raise SequencerError(f"{what}[{i}] is {float(f[i])!r}: non-finite values "
                                 "(NaN, inf) are refused")
        return tuple(f.tolist())
    return tuple(real(v, f"{what}[{i}]") for i, v in enumerate(arr.tolist()))


def pairs(items: Iterable[tuple[Any, Any]], what: str) -> tuple[tuple[str, float], ...]:
    """(name, finite float) pairs, e.g. per-channel delays."""
    return tuple((str(k), real(v, f"{what}[{k!r}]")) for k, v in items)
