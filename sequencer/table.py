"""Sequence-table finishing: trigger waits, goto, repeat merging, hardware checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from dotstack.sequencer.errors import LimitError
from dotstack.sequencer.program import SequenceTable
from dotstack.sequencer.schedule import Sweep
from dotstack.sequencer.targets import AwgTarget


def finish_table(rows: dict[str, Any], sweep: Sweep, target: AwgTarget,
                 packed: int) -> SequenceTable:
    """Build the table; identical consecutive rows without a trigger wait become one row."""
    lim = target.limits
    wave, rep = rows["waveform"], rows["repeat"]
    n = len(rep)
    trig = np.zeros(n, dtype=bool)
    point_row = rows["point_row"]
    if sweep.trigger != "none":
        if not lim.supports_trigger_wait:
            raise LimitError(f"AWG {target.name!r} cannot wait for triggers "
                             f"(sweep trigger={sweep.trigger!r})", segment="(sweep)",
                             channel="*", limit="supports_trigger_wait")
        if sweep.trigger == "start":
            trig[0] = True
        elif sweep.trigger == "point":
            trig[point_row] = True
        else:
            inner = int(np.prod(sweep.shape[1:], dtype=np.int64)) if sweep.axes else 1
            trig[point_row[::inner]] = True
    if lim.supports_repeat and n > 1:
        same = np.all(wave[1:] == wave[:-1], axis=1) & ~trig[1:]
        starts = np.flatnonzero(np.concatenate([[True], ~same]))
        rep = np.add.reduceat(rep, starts)
        wave, trig = wave[starts], trig[starts]
    if np.any(rep > 1) and not lim.supports_repeat:
        raise LimitError(f"AWG {target.name!r} has no repeat counts", segment="(repeat)",
                         channel="*", limit="supports_repeat")
    if np.any(rep > lim.max_repeat):
        times = -(-rep // lim.max_repeat)
        idx = np.repeat(np.arange(len(rep)), times)
        new_rep = np.full(len(idx), lim.max_repeat, dtype=np.int64)
        last = np.cumsum(times) - 1
        new_rep[last] = rep - (times - 1) * lim.max_repeat
        first = np.concatenate([[0], last[:-1] + 1])
        new_trig = np.zeros(len(idx), dtype=bool)
        new_trig[first] = trig
        wave, rep, trig = wave[idx], new_rep, new_trig
    goto = np.full(len(rep), -1, dtype=np.int64)
    if sweep.loop:
        if not lim.supports_goto:
            raise LimitError(f"AWG {target.name!r} cannot jump back (loop=True)",
                             segment="(sweep)", channel="*", limit="supports_goto")
        goto[-1] = 0
    if len(rep) > lim.max_steps:
        raise LimitError(
            f"AWG {target.name!r}: {len(rep)} sequence steps exceed max_steps={lim.max_steps}"
            f" ({sweep.n_points} sweep points, {packed} per packed step)",
            segment="(whole program)", channel="*", limit="max_steps")
    return SequenceTable(target.channels, wave, rep.astype(np.int64), trig, goto,
                         np.full(len(rep), -1, dtype=np.int64))
