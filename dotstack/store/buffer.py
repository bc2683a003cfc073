"""In-memory point buffer of a RunWriter: a growable window over the flat point index."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dotstack.store.spec import Quantity


@dataclass(frozen=True)
class Batch:
    """Points handed to the store: ``mask[i]`` says flat point ``start + i`` was written."""

    start: int
    bufs: tuple[tuple[str, np.ndarray], ...]
    mask: np.ndarray
    outer: dict[int, float] = field(default_factory=dict)


class Window:
    """Buffers for flat points [start, start + cap); ``n`` of them written (``mask``)."""

    def __init__(self, quantities: Sequence[Quantity], cap: int, inner: int) -> None:
        self._inner = max(1, inner)
        self._specs = [(q.name, q.shape, np.dtype(q.dtype)) for q in quantities]
        self.point_bytes = sum(q.point_bytes for q in quantities)
        self.start = 0
        self.n = 0
        self.cap = 0
        self._alloc(max(1, cap))

    def _alloc(self, cap: int) -> None:
        self.cap = cap
        self.bufs = tuple((name, np.empty((cap, *shape), dtype)) for name, shape, dtype
                          in self._specs)
        self.mask = np.zeros(cap, dtype=bool)
        self.outer: dict[int, float] = {}

    def ensure(self, size: int) -> None:
        """Grow (doubling) so that positions [0, size) exist, keeping the contents."""
        if size <= self.cap:
            return
        old_bufs, old_mask, outer = self.bufs, self.mask, self.outer
        self._alloc(max(size, 2 * self.cap))
        for (_, new), (_, old) in zip(self.bufs, old_bufs, strict=True):
            new[: old.shape[0]] = old
        self.mask[: old_mask.size] = old_mask
        self.outer = outer

    def hi(self) -> int:
        """One past the last written position."""
        return int(np.flatnonzero(self.mask)[-1]) + 1 if self.n else 0

    def take(self, cut: int | None = None) -> Batch:
        """Hand over positions [0, cut) (all if None); the rest stays, re-based."""
        hi = self.hi()
        cut = hi if cut is None else cut
        batch = Batch(self.start, tuple((n, b[:cut]) for n, b in self.bufs),
                      self.mask[:cut].copy(), {})
        rest_bufs = [b[cut:hi] for _, b in self.bufs]
        rest_mask = self.mask[cut:hi]
        outer = self.outer
        self._alloc(self.cap)
        self.start += cut
        self.n = int(np.count_nonzero(rest_mask))
        for (_, new), old in zip(self.bufs, rest_bufs, strict=True):
            new[: old.shape[0]] = old
        self.mask[: rest_mask.size] = rest_mask
        if outer:
            batch.outer.update(outer)
            first = self.start // self._inner  # a row straddling the cut is written again
            self.outer = {r: v for r, v in outer.items() if r >= first}
        return batch
