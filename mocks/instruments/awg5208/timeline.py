"""`Player`: one sequence played on the lab clock, as a timeline of pieces.

From its start the sequencer walks the steps in order: a step that waits for a trigger holds
the output ("wait" piece) until a trigger of its input arrives, then plays; each step plays its
waveform ``repeat`` times (0: until an event jump, a forced jump or STOP), then goes to its
``goto`` (NEXT after the last step wraps to the first; END ends the sequence, the output holds
its last sample).  A trigger on a playing step's event-jump input jumps at once (or at the end
of the waveform with jump timing END).  The timeline is built lazily, step by step, as far as
someone asks (an output query, the next marker edge); triggers, jumps and STOP cut it.  Piece
start times are the trigger (or run) time plus a whole number of samples.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from dotstack.mocks.instruments.awg5208.state import Sequence, Target, Waveform

#: Oldest pieces are forgotten beyond this many (a looping sequence would grow without bound).
MAX_PIECES = 1_000_000
_MAX_EXTEND = 5_000_000  # pieces one extension may add before it gives up


class PlaybackError(ValueError):
    """A sequence the instrument cannot play (names the step and the track)."""


@dataclass
class Piece:
    """A stretch of the timeline: ``play`` (step ``step`` from its first sample, ``total``
    samples in all, inf: until cut), ``wait`` (for a trigger, before ``step``), ``end`` (after
    END, holding the last sample) or ``stop`` (after STOP)."""

    kind: str
    start: float
    step: int
    total: float = 0.0
    length: int = 0  # samples per repetition (play)


class Player:
    """The timeline of ``sequence`` started at lab time ``t0`` at ``rate`` Sa/s.

    ``waves[s][k]`` is the waveform of step ``s`` on track ``k + 1`` (resolved at RUN).
    """

    def __init__(self, sequence: Sequence, waves: list[list[Waveform]], rate: float,
                 t0: float) -> None:
        self.sequence = sequence
        self.waves = waves
        self.rate = float(rate)
        self.pieces: list[Piece] = []
        self.starts: list[float] = []
        self._epoch, self._offset = float(t0), 0  # next piece starts at epoch + offset / rate
        self._step: int | None = 0
        self._triggered = False  # the step at the cursor got its trigger
        self._open = False  # the last piece is open-ended (wait, infinite play, end, stop)
        self.t0 = float(t0)
        self._marker_masks: dict[int, int] = {}
        #: the sequence's and its waveforms' names (what editing would stop)
        self.names = {sequence.name} | {w.name for row in waves for w in row}

    def marker_mask(self, track: int) -> int:
        """The marker bits any waveform of ``track`` (0-based) sets (cached)."""
        mask = self._marker_masks.get(track)
        if mask is None:
            mask = 0
            for row in self.waves:
                mask |= int(np.bitwise_or.reduce(row[track].markers, initial=0))
            self._marker_masks[track] = mask
        return mask

    # -- building ------------------------------------------------------------------------
    @property
    def cursor(self) -> float:
        return self._epoch + self._offset / self.rate

    @property
    def done(self) -> bool:
        return self._step is None

    def _append(self, piece: Piece) -> None:
        if len(self.pieces) >= MAX_PIECES:
            del self.pieces[: MAX_PIECES // 2]
            del self.starts[: MAX_PIECES // 2]
        self.pieces.append(piece)
        self.starts.append(piece.start)

    def _target(self, target: Target, current: int) -> int | None:
        n = len(self.sequence.steps)
        if target == "NEXT":
            return (current + 1) % n
        if target == "FIRST":
            return 0
        if target == "LAST":
            return n - 1
        if target == "END":
            return None
        return int(target) - 1

    def extend(self, until: float) -> None:
        """Build the timeline until it covers lab time ``until`` (or cannot go on)."""
        added = 0
        while not self._open and self.cursor <= until:
            self._advance()
            added += 1
            if added > _MAX_EXTEND:
                raise PlaybackError(f"{self.sequence.name}: more than {_MAX_EXTEND} steps to "
                                    f"reach lab time {until} s (an endless sequence?)")

    def extend_one(self) -> bool:
        """Add one piece if the timeline can go on; False if it is open-ended."""
        if self._open:
            return False
        self._advance()
        return True

    def _advance(self) -> None:
        s = self._step
        t = self.cursor
        if s is None:
            self._append(Piece("end", t, -1))
            self._open = True
            return
        step = self.sequence.steps[s]
        if step.wait != "OFF" and not self._triggered:
            self._append(Piece("wait", t, s))
            self._open = True
            return
        self._triggered = False
        length = len(self.waves[s][0])
        if step.repeat == 0:
            self._append(Piece("play", t, s, math.inf, length))
            self._open = True
            return
        total = step.repeat * length
        self._append(Piece("play", t, s, float(total), length))
        self._offset += total
        self._step = self._target(step.goto, s)

    # -- events --------------------------------------------------------------------------
    def index_at(self, t: float) -> int:
        """Index of the piece that covers lab time ``t`` (-1: before the start)."""
        return bisect_right(self.starts, t) - 1

    def waiting(self, t: float) -> str | None:
        """The trigger input the sequence waits for at lab time ``t`` (None if it does not)."""
        self.extend(t)
        i = self.index_at(t)
        if i < 0 or self.pieces[i].kind != "wait":
            return None
        return self.sequence.steps[self.pieces[i].step].wait

    def trigger(self, source: str, t: float) -> bool:
        """A trigger on input ``source`` ("A", "B", "I") at ``t``; True if the timeline changed."""
        if self.done and self._open:
            return False
        self.extend(t)
        i = self.index_at(t)
        if i < 0:
            return False
        piece = self.pieces[i]
        step = self.sequence.steps[piece.step] if piece.step >= 0 else None
        if piece.kind == "wait" and step is not None and step.wait == source:
            self._truncate(i + 1)
            self._restart(t, piece.step, triggered=True)
            return True
        if piece.kind == "play" and step is not None and step.jump_input == source:
            self._jump(i, t, self._target(step.jump_to, piece.step),
                       at_end=self.sequence.jump_timing == "END")
            return True
        return False

    def force_jump(self, target: Target, t: float) -> bool:
        """Jump to ``target`` at ``t`` whatever the step does (SOURce:JUMP:FORCe)."""
        self.extend(t)
        i = self.index_at(t)
        if i < 0 or self.pieces[i].kind == "stop":
            return False
        current = max(self.pieces[i].step, 0)
        if target == "CURRENT":
            target = current + 1
        self._jump(i, t, self._target(target, current), at_end=False)
        return True

    def stop(self, t: float) -> None:
        """STOP at lab time ``t``: the timeline ends there."""
        self.extend(t)
        i = self.index_at(t)
        if i >= 0:
            self._cut(i, t)
        self._truncate(max(i + 1, 0))
        self._step = None
        self._append(Piece("stop", self._cut_time(i, t), -1))
        self._open = True

    # -- helpers -------------------------------------------------------------------------
    def _sample_after(self, piece: Piece, t: float) -> int:
        """Samples of ``piece`` played by lab time ``t`` (rounded up to a sample)."""
        return max(0, math.ceil((t - piece.start) * self.rate - 1e-6))

    def _cut_time(self, i: int, t: float) -> float:
        if i < 0 or self.pieces[i].kind != "play":
            return t
        p = self.pieces[i]
        return p.start + p.total / self.rate

    def _cut(self, i: int, t: float, at_end: bool = False) -> None:
        p = self.pieces[i]
        if p.kind != "play":
            return
        played = self._sample_after(p, t)
        if at_end:
            played = -(-played // p.length) * p.length
        p.total = float(min(p.total, played))

    def _truncate(self, n: int) -> None:
        del self.pieces[n:]
        del self.starts[n:]

    def _restart(self, t: float, step: int | None, triggered: bool = False) -> None:
        self._epoch, self._offset = t, 0
        self._step, self._triggered, self._open = step, triggered, False

    def _jump(self, i: int, t: float, target: int | None, at_end: bool) -> None:
        self._cut(i, t, at_end)
        self._truncate(i + 1)
        p = self.pieces[i]
        if p.kind == "play":
            self._epoch, self._offset = p.start, int(p.total)
            self._step, self._triggered, self._open = target, False, False
        else:
            self._restart(t, target)
