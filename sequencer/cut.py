"""Cutting one step's timeline into sequence-table windows.

Rules (all lengths in samples):

* every window starts and ends on a multiple of ``granularity`` and is at least
  ``min_length`` long;
* a constant stretch (all channels holding) of at least two units, a unit being
  ``min_length`` rounded up to the granularity, becomes one unit-long waveform played
  ``k`` times; what does not fill whole units goes to the window before it, which also
  borrows whole units when it is shorter than ``min_length``;
* non-constant stretches are cut at aligned block boundaries when both sides stay at
  least ``min_length`` long, so identical blocks become identical windows (merged into
  a repeat count later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    """``length`` samples from ``start``, played ``repeat`` times (constant if ``const``)."""

    start: int
    length: int
    repeat: int = 1
    const: bool = False

    @property
    def stop(self) -> int:
        return self.start + self.length * self.repeat


def _ceil(x: int, g: int) -> int:
    return -(-x // g) * g


def cut_step(intervals: Sequence[tuple[int, int, bool]], total: int, granularity: int,
             min_length: int, *, repeat: bool = True,
             block_cuts: Sequence[int] = ()) -> list[Window]:
    """Windows covering ``[0, total)``; ``intervals`` are (start, stop, constant).

    ``total`` must be a multiple of ``granularity``. Returns one short window when the whole
    step is shorter than ``min_length`` (the caller packs or pads it).
    """
    g = granularity
    unit = _ceil(min_length, g)
    plateaus: list[list[int]] = []  # [start, k]
    if repeat:
        for a, b, const in intervals:
            lo, hi = _ceil(a, g), (b // g) * g
            if const and hi - lo >= 2 * unit:
                k = (hi - lo) // unit
                plateaus.append([hi - k * unit, k])
    cuts = sorted({c for c in block_cuts if c % g == 0 and 0 < c < total})
    out: list[Window] = []
    pos = 0
    for ps, k in plateaus:
        gap = ps - pos
        if 0 < gap < min_length:
            m = -(-(min_length - gap) // unit)
            if m >= k:
                continue
            ps, k = ps + m * unit, k - m
        out.extend(_split_gap(pos, ps, min_length, cuts))
        out.append(Window(ps, unit, k, True))
        pos = ps + k * unit
    tail = total - pos
    if 0 < tail < min_length and out:
        last = out[-1]
        if last.const:
            m = -(-(min_length - tail) // unit)
            out.pop()
            if last.repeat - m >= 1:
                out.append(Window(last.start, unit, last.repeat - m, True))
                pos = last.start + (last.repeat - m) * unit
            else:
                pos = last.start
                if out and not out[-1].const:
                    pos = out.pop().start
        else:
            out.pop()
            pos = last.start
    out.extend(_split_gap(pos, total, min_length, cuts))
    return out


def _split_gap(a: int, b: int, min_length: int, cuts: Sequence[int]) -> list[Window]:
    if b <= a:
        return []
    out: list[Window] = []
    s = a
    for c in cuts:
        if c <= s or c >= b:
            continue
        if c - s >= min_length and b - c >= min_length:
            out.append(Window(s, c - s))
            s = c
    out.append(Window(s, b - s))
    return out
