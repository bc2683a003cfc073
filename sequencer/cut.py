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
  a repeat count later);
* hardware repeats (``regions``: a :class:`~dotstack.sequencer.Repeat`'s start, body length
  and count, in samples; only when the AWG has repeat counts): the repeat becomes windows of
  ``u`` whole bodies each (``u`` the fewest bodies filling ``min_length`` on the granularity
  grid; 1 for a body that can be a step itself), the remainder joining the last one, so its
  identical windows merge into ONE sequence-table step with a repeat count (``count / u``) and
  the program does not grow with the count. Bodies that do not play the same samples every
  time (a burst whose carrier does not complete whole periods per body) simply stay separate
  waveforms: unrolled, still exact. Repeats too short to fill one window, or whose windows
  cannot start on the granularity grid with ``min_length`` around them, are unrolled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import gcd


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
             block_cuts: Sequence[int] = (),
             regions: Sequence[tuple[int, int, int]] = ()) -> list[Window]:
    """Windows covering ``[0, total)``; ``intervals`` are (start, stop, constant);
    ``regions``: hardware repeats (start, body length, count), see the module docstring.

    ``total`` must be a multiple of ``granularity``. Returns one short window when the whole
    step is shorter than min_length (the caller packs or pads it).
    """
    fitted = _fit_regions(regions, total, granularity, min_length) if repeat else []
    out: list[Window] = []
    pos = 0
    for start, width, n_win, last in fitted:
        out.extend(_cut_range(intervals, pos, start, granularity, min_length, repeat,
                              block_cuts))
        out.extend(Window(start + k * width, width) for k in range(n_win - 1))
        out.append(Window(start + (n_win - 1) * width, last))
        pos = start + (n_win - 1) * width + last
    out.extend(_cut_range(intervals, pos, total, granularity, min_length, repeat, block_cuts))
    return out


def _fit_regions(regions: Sequence[tuple[int, int, int]], total: int, g: int,
                 min_length: int) -> list[tuple[int, int, int, int]]:
    """(start, window length, windows, last window length) of each usable repeat region."""
    out: list[tuple[int, int, int, int]] = []
    prev = 0
    for start, body, count in sorted(regions):
        if body <= 0 or count < 2 or start < prev:
            continue
        step = g // gcd(body, g)  # bodies per window: a multiple of this stays on the grid
        u = -(-max(-(-min_length // body), 1) // step) * step
        skip = next((j for j in range(min(g, count)) if (start + j * body) % g == 0), None)
        if skip is None:
            continue
        start, count = start + skip * body, count - skip
        if 0 < start - prev < min_length:  # too little before it: leave one window to it
            start, count = start + u * body, count - u
        n_win = count // u
        if n_win < 1:
            continue
        extra = count % u - count % u % step  # remainder bodies the last window keeps
        width, last = u * body, (u + extra) * body  # (the rest stay outside: on the grid)
        end = start + (n_win - 1) * width + last
        nxt = min([s for s, _, _ in regions if s >= end] + [total])
        if 0 < nxt - end < min_length:  # too little after it: give the last window back
            n_win -= 1
            last = width
            end = start + n_win * width
        if n_win < 1:
            continue
        out.append((start, width, n_win, last))
        prev = end
    return out


def _cut_range(intervals: Sequence[tuple[int, int, bool]], a: int, b: int, g: int,
               min_length: int, repeat: bool, block_cuts: Sequence[int]) -> list[Window]:
    """Windows covering ``[a, b)`` (multiples of ``g``; empty, or at least ``min_length``
    long unless it is the whole step)."""
    if b <= a:
        return []
    unit = _ceil(min_length, g)
    plateaus: list[list[int]] = []  # [start, k]
    if repeat:
        for x, y, const in intervals:
            lo, hi = max(_ceil(x, g), a), min((y // g) * g, b)
            if const and hi - lo >= 2 * unit:
                k = (hi - lo) // unit
                plateaus.append([hi - k * unit, k])
    cuts = sorted({c for c in block_cuts if c % g == 0 and a < c < b})
    out: list[Window] = []
    pos = a
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
    tail = b - pos
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
    out.extend(_split_gap(pos, b, min_length, cuts))
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
