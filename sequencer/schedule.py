"""Composition: blocks of parallel lanes, sequences, repeats, and sweeps.

A :class:`Block` holds segments on named lanes (gate names such as ``P1``, marker lanes,
digitizer-channel lanes, I/Q lanes) that start together. At compile time the block lasts as
long as its longest lane; shorter analog lanes rest (hold their last sample value, or a
burst's offset: 0 V for I/Q after a burst), marker lanes pad low and acquisition lanes pad
with nothing. An analog lane absent from a block rests at the value it ended with in the
previous block (0 V before its first segment).

Spin-qubit helpers: :func:`iq_burst` (a block with an IQ pair), :func:`iq_pair` (the two
segments, to place in lane lists yourself), :func:`phase_shift` (virtual Z on lanes). ``par``
merges blocks with other lanes: ``par(iq_burst("I", "Q", 40e-9, 0.0, 0.2), P1=Hold(40e-9,
0.1))`` plays the burst while P1 holds. :class:`Repeat` bodies are played by a hardware
repeat (one sequence-table step with a repeat count) where the AWG can (see ``cut.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from dotstack.sequencer.checks import count as as_count
from dotstack.sequencer.checks import flag, real, reals
from dotstack.sequencer.errors import SequencerError
from dotstack.sequencer.segments import Burst, Envelope, Num, Param, PhaseShift, Segment

Trigger = Literal["none", "start", "row", "point"]


@dataclass(frozen=True)
class Block:
    """Segments on lanes that start together (aligned at the block start)."""

    lanes: tuple[tuple[str, tuple[Segment, ...]], ...]

    def __post_init__(self) -> None:
        names = [name for name, _ in self.lanes]
        if len(set(names)) != len(names):
            raise SequencerError(f"duplicate lane in block: {names}")
        for name, segs in self.lanes:
            kinds = {s.kind for s in segs if s.kind != "gap"}
            if len(kinds) > 1:
                raise SequencerError(f"lane {name!r} mixes segment kinds {sorted(kinds)}")

    def params(self) -> set[str]:
        return {p for _, segs in self.lanes for s in segs for p in s.params()}


@dataclass(frozen=True)
class Repeat:
    """``body`` played ``count`` times in a row.

    ``count``: a positive integer (``3``, ``3.0``, ``np.int64(3)``); ``2.5``, ``True``, ``0``
    and negative counts are refused.
    """

    body: Schedule
    count: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", as_count(self.count, "repeat count"))


@dataclass(frozen=True)
class Schedule:
    """Blocks and repeats played one after another."""

    items: tuple[Block | Repeat, ...] = ()

    def __add__(self, other: Schedule) -> Schedule:
        return seq(self, other)

    def __mul__(self, count: int) -> Schedule:
        return repeat(self, count)

    def blocks(self) -> Iterator[Block]:
        """All blocks in play order, repeats unrolled."""
        for item in self.items:
            if isinstance(item, Block):
                yield item
            else:
                for _ in range(item.count):
                    yield from item.body.blocks()

    def params(self) -> set[str]:
        out: set[str] = set()
        for item in self.items:
            out |= item.params() if isinstance(item, Block) else item.body.params()
        return out

    def lanes(self) -> tuple[str, ...]:
        """Lane names in order of first appearance."""
        seen: dict[str, None] = {}
        for item in self.items:
            names = [n for n, _ in item.lanes] if isinstance(item, Block) else item.body.lanes()
            seen.update(dict.fromkeys(names))
        return tuple(seen)


LaneSpec = Mapping[str, Segment | Sequence[Segment]]


def par(*parts: LaneSpec | Schedule | Block | None, **kw: Segment | Sequence[Segment]
        ) -> Schedule:
    """One block: each lane plays its segments in sequence, all lanes start together.

    ``parts``: mappings lane -> segment(s), and blocks (or one-block schedules such as
    :func:`iq_burst`'s) whose lanes join this block; keywords add lanes. A lane given twice
    is refused.
    """
    entries: list[tuple[str, tuple[Segment, ...]]] = []
    for part in (*parts, kw):
        if part is None:
            continue
        if isinstance(part, Schedule):
            if len(part.items) != 1 or not isinstance(part.items[0], Block):
                raise SequencerError("par() merges single blocks; got a schedule of "
                                     f"{len(part.items)} items (use seq() to play them in turn)")
            part = part.items[0]
        if isinstance(part, Block):
            entries.extend(part.lanes)
            continue
        if not isinstance(part, Mapping):
            raise SequencerError(f"par() takes lane mappings and blocks, got {part!r}")
        for name, segs in part.items():
            if isinstance(segs, Segment):
                entries.append((name, (segs,)))
            elif isinstance(segs, Sequence) and all(isinstance(x, Segment) for x in segs):
                entries.append((name, tuple(segs)))
            else:
                raise SequencerError(f"lane {name!r}: expected a segment or a sequence of "
                                     f"segments, got {segs!r}")
    return Schedule((Block(tuple(entries)),))


def seq(*items: Schedule | Block) -> Schedule:
    """Play schedules/blocks one after another."""
    out: list[Block | Repeat] = []
    for item in items:
        if isinstance(item, Block):
            out.append(item)
        elif isinstance(item, Schedule):
            out.extend(item.items)
        else:
            raise SequencerError(f"cannot sequence {item!r}; expected Schedule or Block")
    return Schedule(tuple(out))


def repeat(item: Schedule | Block, count: int) -> Schedule:
    """Play ``item`` ``count`` times."""
    body = item if isinstance(item, Schedule) else Schedule((item,))
    return Schedule((Repeat(body, count),))


def iq_pair(duration: Num, frequency: Num, amplitude: Num, phase: float = 0.0,
            envelope: Envelope = "rect", sigma: Num = 0.25) -> tuple[Burst, Burst]:
    """(I segment, Q segment): ``I = A env cos(2π f t + φ + Z)``, ``Q = A env sin(...)``.

    ``t`` is program time and ``Z`` the lane's virtual-Z frame (apply :func:`phase_shift` to
    both lanes). ``f = 0`` gives a baseband envelope at the fixed phase ``φ + Z`` (for an IQ
    modulated source); ``f != 0`` a single sideband at the source's frequency + ``f``.
    ``phase`` is a plain number (the I lane needs ``phase + π/2``); sweep phases with a
    :func:`phase_shift` of a :class:`Param`.
    """
    if isinstance(phase, Param):
        raise SequencerError("iq_pair/iq_burst phase must be a number; sweep a phase with "
                             "phase_shift((i_lane, q_lane), Param(...)) before the burst")
    i_seg = Burst(duration=duration, frequency=frequency, amplitude=amplitude,
                  phase=phase + np.pi / 2, envelope=envelope, sigma=sigma)
    q_seg = Burst(duration=duration, frequency=frequency, amplitude=amplitude,
                  phase=phase, envelope=envelope, sigma=sigma)
    return i_seg, q_seg


def iq_burst(i_lane: str, q_lane: str, duration: Num, frequency: Num, amplitude: Num,
             phase: float = 0.0, envelope: Envelope = "rect", sigma: Num = 0.25) -> Schedule:
    """One block with an IQ pair (:func:`iq_pair`) on ``i_lane`` and ``q_lane``; both rest at
    0 V afterwards. Join gate lanes with ``par(iq_burst(...), P1=...)``."""
    i_seg, q_seg = iq_pair(duration, frequency, amplitude, phase, envelope, sigma)
    return par({i_lane: i_seg, q_lane: q_seg})


def phase_shift(lane: str | Sequence[str], radians: Num) -> Schedule:
    """Virtual Z: a zero-duration block advancing the carrier phase of ``lane`` (or of each
    lane given, e.g. an I/Q pair) by ``radians`` for every later burst in the sweep point.
    ``radians`` may be a :class:`Param`. Inside a block use ``PhaseShift(phase=...)``."""
    lanes = (lane,) if isinstance(lane, str) else tuple(lane)
    if not lanes or not all(isinstance(x, str) and x for x in lanes):
        raise SequencerError(f"phase_shift needs lane names, got {lane!r}")
    return par({x: PhaseShift(phase=radians) for x in lanes})


@dataclass(frozen=True)
class Axis:
    """A sweep axis: coordinate ``values`` and the parameters it drives.

    ``params`` maps parameter names to per-point values (same length as ``values``);
    by default the axis drives the parameter named like the axis.
    """

    name: str
    values: tuple[float, ...]
    params: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def __post_init__(self) -> None:
        vals = reals(self.values, f"axis {self.name!r} values")
        object.__setattr__(self, "values", vals)
        params = self.params or ((self.name, vals),)
        params = tuple((n, v if v is vals else reals(v, f"axis {self.name!r} parameter {n!r}"))
                       for n, v in params)
        for pname, pvals in params:
            if len(pvals) != len(vals):
                raise SequencerError(
                    f"axis {self.name!r}: parameter {pname!r} has {len(pvals)} values, "
                    f"axis has {len(vals)}")
        if not vals:
            raise SequencerError(f"axis {self.name!r} has no values")
        object.__setattr__(self, "params", params)


def axis(name: str | Param, values: Iterable[float],
         **params: Iterable[float]) -> Axis:
    """Build an :class:`Axis`; keyword arguments add further driven parameters."""
    key = name.name if isinstance(name, Param) else name
    vals = reals(values, f"axis {key!r} values")
    driven = ((key, vals), *((k, reals(v, f"axis {key!r} parameter {k!r}"))
                             for k, v in params.items()))
    return Axis(key, vals, driven)


@dataclass(frozen=True)
class Sweep:
    """A schedule played once per sweep point (C order: first axis outermost).

    ``trigger``: where the AWG waits for a trigger (program start, each row of the
    outermost axis, or each point). ``loop``: jump back to the first step at the end.
    """

    schedule: Schedule
    axes: tuple[Axis, ...] = ()
    trigger: Trigger = "none"
    loop: bool = False
    constants: tuple[tuple[str, float], ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "loop", flag(self.loop, "Sweep.loop"))
        object.__setattr__(self, "constants", tuple(
            (n, real(v, f"sweep constant {n!r}")) for n, v in self.constants))
        bound = {p for a in self.axes for p, _ in a.params} | {n for n, _ in self.constants}
        missing = self.schedule.params() - bound
        if missing:
            raise SequencerError(f"parameters {sorted(missing)} are not bound by any axis")
        if self.trigger not in ("none", "start", "row", "point"):
            raise SequencerError(f"unknown trigger mode {self.trigger!r}")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a.values) for a in self.axes)

    @property
    def n_points(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.axes else 1

    def param_values(self) -> dict[str, npt.NDArray[np.float64]]:
        """Per-point values of every bound parameter (length ``n_points``)."""
        out = {n: np.full(self.n_points, v) for n, v in self.constants}
        shape = self.shape
        for k, ax in enumerate(self.axes):
            idx = np.indices(shape)[k].ravel() if len(shape) > 1 else np.arange(shape[0])
            for pname, pvals in ax.params:
                out[pname] = np.asarray(pvals, dtype=float)[idx]
        return out


def sweep(schedule: Schedule, *axes: Axis | tuple[str | Param, Iterable[float]],
          trigger: Trigger = "none", loop: bool = False,
          constants: Mapping[str, float] | None = None) -> Sweep:
    """Sweep ``schedule`` over 1D/2D (or more) axes; each point becomes compiled steps."""
    built = tuple(a if isinstance(a, Axis) else axis(a[0], a[1]) for a in axes)
    consts = tuple((k, real(v, f"sweep constant {k!r}")) for k, v in (constants or {}).items())
    return Sweep(schedule, built, trigger, loop, consts)


def as_sweep(item: Schedule | Sweep) -> Sweep:
    """A schedule becomes a one-point sweep."""
    return item if isinstance(item, Sweep) else Sweep(item)
