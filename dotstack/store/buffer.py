"""In-memory point buffer of a RunWriter: fixed-size blocks of the flat point index, reused.

Block ``b`` holds flat points ``[b * size, (b + 1) * size)`` of every quantity. The writer
chooses ``size`` = one chunk along the flat index where it can, so a complete block is one
whole zarr chunk. Handed-over blocks go back to a free list once stored: a long run cycles
through the same few (already paged-in) buffers and never copies or regrows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dotstack.store.spec import Quantity

Spec = tuple[str, tuple[int, ...], np.dtype]


class Block:
    """Buffers for flat points [start, start + size); ``mask[i]``: point start + i written."""

    __slots__ = ("bufs", "mask", "n", "start")

    def __init__(self, specs: Sequence[Spec], size: int) -> None:
        self.bufs = tuple((name, np.empty((size, *shape), dtype)) for name, shape, dtype in specs)
        self.mask = np.zeros(size, dtype=bool)
        self.start = 0
        self.n = 0

    def reset(self, start: int) -> None:
        self.start = start
        self.n = 0
        self.mask[:] = False


@dataclass(frozen=True)
class Batch:
    """Blocks handed to the store (in flat order) and append-mode first-axis values by row."""

    blocks: tuple[Block, ...]
    outer: dict[int, float]


class Window:
    """Blocks being filled (``live``); ``n`` points written since the last hand-over."""

    def __init__(self, quantities: Sequence[Quantity], size: int, inner: int,
                 max_bytes: int) -> None:
        self.size = max(1, size)
        self._inner = max(1, inner)
        self._specs: list[Spec] = [(q.name, q.shape, np.dtype(q.dtype)) for q in quantities]
        self.block_bytes = self.size * sum(q.point_bytes for q in quantities)
        self.max_blocks = max(2, max_bytes // max(1, self.block_bytes))
        self.live: dict[int, Block] = {}
        self.outer: dict[int, float] = {}
        self.n = 0
        self._free: list[Block] = []
        self._held = 0  # blocks handed over and not yet released

    def full(self) -> bool:
        """True when one more block would exceed the memory budget."""
        return len(self.live) + self._held >= self.max_blocks

    def open(self, b: int) -> Block:
        """The live block number ``b``, taken from the free list (or made) if needed."""
        blk = self.live.get(b)
        if blk is None:
            blk = self._free.pop() if self._free else Block(self._specs, self.size)
            blk.reset(b * self.size)
            self.live[b] = blk
        return blk

    def take(self, whole_only: bool) -> Batch:
        """Hand over the complete blocks (``whole_only``, if there are any), else all blocks."""
        keys = sorted(b for b, blk in self.live.items() if blk.n == self.size) if whole_only \
            else []
        blocks = tuple(self.live.pop(b) for b in keys or sorted(self.live))
        self._held += len(blocks)
        self.n = sum(blk.n for blk in self.live.values())
        outer = self.outer
        if self.live:  # keep rows still being filled: they are written again
            first = min(blk.start for blk in self.live.values()) // self._inner
            self.outer = {r: v for r, v in outer.items() if r >= first}
        else:
            self.outer = {}
        return Batch(blocks, outer)

    def release(self, batch: Batch) -> None:
        """Return a stored batch's blocks to the free list."""
        self._held -= len(batch.blocks)
        self._free.extend(batch.blocks)
