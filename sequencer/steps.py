"""Step lengths: granularity padding and lockstep between several AWGs.

Every AWG plays each sweep point as one step. With several AWGs the step of point ``p``
must last equally long on all of them, and be a multiple of each AWG's granularity. The
smallest time with that property on every AWG is the *step quantum* ``Q`` (the least
common multiple of ``granularity / sample_rate`` over the AWGs); each point's step is
the fewest quanta that hold its longest AWG's samples. With one AWG, ``Q`` is one
granularity unit, i.e. plain granularity padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from fractions import Fraction
from math import gcd, lcm

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.targets import AwgTarget
from dotstack.sequencer.timeline import Group, Timeline

IntArray = npt.NDArray[np.int64]
MAX_QUANTUM = 1 << 20  # samples; grids that only meet less often than this are refused


def _rate(sample_rate: float) -> Fraction:
    return Fraction(sample_rate).limit_denominator(10**6)


def step_quanta(awgs: Sequence[AwgTarget]) -> dict[str, int]:
    """Samples per step quantum of each AWG."""
    if len(awgs) == 1:
        return {awgs[0].name: awgs[0].limits.granularity}
    units = [Fraction(t.limits.granularity) / _rate(t.limits.sample_rate) for t in awgs]
    quantum = Fraction(lcm(*(u.numerator for u in units)), gcd(*(u.denominator for u in units)))
    out = {t.name: int(quantum * _rate(t.limits.sample_rate)) for t in awgs}
    worst = max(out, key=lambda k: out[k])
    if out[worst] > MAX_QUANTUM:
        desc = ", ".join(f"{t.name!r} ({t.limits.sample_rate:g} Sa/s, granularity "
                         f"{t.limits.granularity})" for t in awgs)
        raise SequencerError(
            f"AWGs {desc} cannot be kept in lockstep: a step length that is a whole number "
            f"of granularity units on all of them is a multiple of {float(quantum):.6g} s "
            f"({out[worst]} samples on {worst!r}); choose sample rates with a simple ratio")
    return out


def step_totals(timelines: dict[str, tuple[Timeline, int]], quanta: dict[str, int]
                ) -> dict[str, IntArray]:
    """Per AWG (timeline, samples added per step) and point, the step length in samples:
    the samples to play rounded up to the common number of quanta (at least one)."""
    if len(timelines) == 1:  # per group: every point of a group has the same length
        (name, (tl, extra)), = timelines.items()
        q = quanta[name]
        out = np.empty(tl.n_points, dtype=np.int64)
        for g in tl.groups:
            out[g.points] = max(-(-(g.length + extra) // q) * q, q)
        return {name: out}
    k = np.ones(next(iter(timelines.values()))[0].n_points, dtype=np.int64)
    for name, (tl, extra) in timelines.items():
        np.maximum(k, -(-(tl.step_lengths + extra) // quanta[name]), out=k)
    return {name: k * quanta[name] for name in timelines}


def split_groups(groups: list[Group], totals: IntArray, lockstep: bool
                 ) -> list[tuple[Group, int]]:
    """Groups whose points all share one step length (split where lockstep differs; one
    AWG alone never needs it: its step length follows from the group's structure)."""
    if not lockstep:
        return [(g, int(totals[g.points[0]])) for g in groups]
    out: list[tuple[Group, int]] = []
    for g in groups:
        t = totals[g.points]
        if bool((t == t[0]).all()):
            out.append((g, int(t[0])))
        else:
            out.extend((replace(g, points=g.points[t == v]), int(v)) for v in np.unique(t))
    return out
