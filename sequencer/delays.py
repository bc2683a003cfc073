"""Channel and marker delays across step boundaries.

A channel delayed by ``d`` samples plays its undelayed stream (all sweep points one after
another, each padded to its step length) shifted late by ``d``: the last ``d`` samples of
step ``k`` open step ``k + 1``. Before the first step the channel holds the stream's first
sample (markers: low); with ``loop`` the first step opens with the end of the last one (the
steady state of the loop). The last ``d`` samples of a program without loop are not
played; the compile report says so. A trigger wait between steps breaks the continuity,
so delays with trigger waits between steps are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.assemble import ChannelSource, GroupAssembler
from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.program import Note
from dotstack.sequencer.schedule import Sweep
from dotstack.sequencer.targets import AwgTarget
from dotstack.sequencer.timeline import Group

Prepared = list[tuple[Group, GroupAssembler]]
Parts = list[tuple[npt.NDArray[np.int64], npt.NDArray[Any], int]]


@dataclass
class Carried:
    """What the last step spills past the program's end: per channel index, the last
    ``d`` undelayed analog samples and the marker bits of the last ``max marker delay``
    samples; ``delays`` (name, kind, samples) for the report."""

    analog: dict[int, npt.NDArray[np.float64]] = field(default_factory=dict)
    marks: dict[int, npt.NDArray[np.uint8]] = field(default_factory=dict)
    delays: list[tuple[str, str, int]] = field(default_factory=list)

    def notes(self, played: int, sample_rate: float, P: int) -> list[Note]:
        """Report the spilled samples beyond the ``played`` samples of end padding."""
        return [Note("delay_tail", f"{what} {name!r} is delayed by {d} samples "
                     f"({d / sample_rate:.6g} s): the last {d - played} samples of the last "
                     "step fall past the end of the program and are not played",
                     lane=name, points=(P - 1,)) for name, what, d in self.delays if d > played]


def source_delays(target: AwgTarget, channels: list[str],
                  markers: list[list[tuple[str, int]]]) -> tuple[list[int], list[list[int]]]:
    """Analog and marker-lane delays in samples, shifted so that the smallest is 0."""
    lim = target.limits
    analog = [lim.delay_samples(ch) for ch in channels]
    mark = [[lim.marker_delay_samples(lane) for lane, _ in ms] for ms in markers]
    lowest = min([*analog, *(d for ms in mark for d in ms)], default=0)
    return [d - lowest for d in analog], [[d - lowest for d in ms] for ms in mark]


def check_trigger_waits(sweep: Sweep, target: AwgTarget, sources: list[ChannelSource]) -> None:
    """Refuse delays when a trigger wait sits between two steps."""
    delayed = [(s.name, max(s.delay, s.marker_delay)) for s in sources
               if s.delay or s.marker_delay]
    if not delayed:
        return
    rows = sweep.shape[0] if sweep.axes else 1
    if (sweep.trigger == "point" and sweep.n_points > 1) or (
            sweep.trigger == "row" and rows > 1) or (sweep.loop and sweep.trigger != "none"):
        ch, d = delayed[0]
        raise SequencerError(
            f"AWG {target.name!r}: channel {ch!r} is delayed by {d} samples, but the sequence "
            f"waits for a trigger between steps (trigger={sweep.trigger!r}, loop={sweep.loop}); "
            "delayed samples cannot continue across a trigger wait. Use trigger='start' "
            "without loop, or no trigger, or remove the delays")


def carry(prepared: Prepared, sources: list[ChannelSource], sweep: Sweep) -> Carried:
    """Give every assembler the samples its delayed channels carry over from the previous
    step; returns what the last step spills past the end of the program."""
    P, loop = sweep.n_points, sweep.loop
    out = Carried()
    first = next((g, asm) for g, asm in prepared if 0 in g.points)
    row0 = int(np.flatnonzero(first[0].points == 0)[0])
    for c, src in enumerate(sources):
        if src.delay:
            d = src.delay
            parts: Parts = [(g.points, asm.source_values(c, max(asm.total - d, 0), asm.total),
                             asm.total) for g, asm in prepared]
            fill = np.full(d, first[1].source_values(c, 0, 1)[row0, 0])
            heads, out.analog[c] = _chain(P, parts, d, fill, loop)
            for g, asm in prepared:
                asm.set_head(c, heads[g.points])
            if not loop:
                out.delays.append((src.name, "channel", d))
        if src.marker_delay:
            dm = src.marker_delay
            mheads = np.zeros((P, dm), dtype=np.uint8)
            out.marks[c] = np.zeros(dm, dtype=np.uint8)
            for lane, bit, d in src.markers:
                if not d:
                    continue
                parts = [(g.points, asm.lane_bits(lane, max(asm.total - d, 0),
                                                  asm.total)[None], asm.total)
                         for g, asm in prepared]
                lane_heads, last = _chain(P, parts, d, np.zeros(d, dtype=np.uint8), loop)
                mheads[:, :d] |= lane_heads << np.uint8(bit)
                out.marks[c][:d] |= last << np.uint8(bit)
                if not loop:
                    out.delays.append((lane, "marker lane", d))
            for g, asm in prepared:
                asm.set_marker_head(c, mheads[g.points])
    return out


def _chain(P: int, parts: Parts, d: int, fill: npt.NDArray[Any], loop: bool
           ) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """Per point, the ``d`` stream samples just before it, (P, d); and the last ``d``.

    ``parts``: (points, last min(d, length) samples of each point's own stream (rows, or one row
    shared by all), step length) per group.
    """
    tails = np.empty((P, d), dtype=fill.dtype)
    short: dict[int, npt.NDArray[Any]] = {}
    for pts, rows, length in parts:
        if length >= d:
            tails[pts] = rows
        else:  # a step shorter than the delay: its tail reaches into earlier steps
            for i, p in enumerate(pts.tolist()):
                short[p] = rows[min(i, rows.shape[0] - 1)]
    if short:
        # a loop is periodic: pass again until what precedes point 0 is the loop's end
        program = sum(n * len(pts) for pts, _, n in parts)
        passes = 1 + -(-d // program) if loop else 1
        prev = fill
        for _ in range(passes):
            for p in range(P):
                own = short.get(p)
                if own is None:
                    prev = tails[p]
                else:
                    prev = np.concatenate([prev, own])[-d:]
                    tails[p] = prev
    heads = np.empty_like(tails)
    heads[1:] = tails[:-1]
    heads[0] = tails[-1] if loop else fill
    return heads, tails[-1].copy()
