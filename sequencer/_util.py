"""Small numeric helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt


def unique_rows(m: npt.NDArray[Any]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(index of first occurrence of each unique row, inverse) for a 2D array.

    Faster than ``np.unique(axis=0)``: columns are coded to integers and combined in
    mixed radix, re-coding whenever the combined key could overflow.
    """
    n = m.shape[0]
    key = np.zeros(n, dtype=np.int64)
    radix_total = 1
    for col in m.T:
        if n and np.issubdtype(col.dtype, np.integer) and int(col.max()) - int(col.min()) < 2**20:
            lo = int(col.min())
            code = col.astype(np.int64) - lo
            k = int(col.max()) - lo + 1
        else:
            _, code = np.unique(col, return_inverse=True)
            k = int(code.max(initial=0)) + 1
        if radix_total * k >= 2**62:
            _, key = np.unique(key, return_inverse=True)
            radix_total = int(key.max(initial=0)) + 1
        key = key * k + code.reshape(-1)
        radix_total *= k
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    return first.astype(np.int64), inv.reshape(-1).astype(np.int64)


_W: npt.NDArray[np.uint64] = np.zeros(0, dtype=np.uint64)
_PW: npt.NDArray[np.uint64] = np.zeros(1, dtype=np.uint64)


def fp_weights(n: int) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """Fixed pseudo-random uint64 weights w[:n] and their prefix sums (mod 2**64).

    A waveform's fingerprint is ``sum(code[i] * w[i]) mod 2**64``: linear, so it can be
    summed piece by piece in any order and still match exactly.
    """
    global _W, _PW
    if len(_W) < n:
        size = max(n, 2 * len(_W), 4096)
        _W = np.random.default_rng(0x5EC).integers(0, 2**63, size, dtype=np.uint64) * 2 + 1
        _PW = np.concatenate([np.zeros(1, np.uint64), np.cumsum(_W, dtype=np.uint64)])
    return _W[:n], _PW[:n + 1]


def as_uint64(data: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Sample values as uint64 (int16 codes wrap, float32 by bit pattern)."""
    if data.dtype == np.float32:
        return data.view(np.uint32).astype(np.uint64)
    return data.astype(np.int64).view(np.uint64)


def fingerprint(data: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    """Fingerprint of each row of a 2D array (or of a 1D array, as shape (1,))."""
    rows = np.atleast_2d(data)
    w, _ = fp_weights(rows.shape[1])
    with np.errstate(over="ignore"):
        return as_uint64(rows) @ w
