"""Matplotlib pictures of a schedule (directly evaluated) and of a compiled program."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np

from dotstack.sequencer.evaluate import evaluate
from dotstack.sequencer.program import Program
from dotstack.sequencer.render import render
from dotstack.sequencer.schedule import Schedule, Sweep
from dotstack.sequencer.virtual_gates import VirtualGates


def plot_schedule(item: Schedule | Sweep, sample_rate: float, *, ax: Any = None,
                  virtual_gates: VirtualGates | None = None, max_points: int = 20) -> Any:
    """Plot every lane (V, or marker/acquire level) against time for the first points."""
    import matplotlib.pyplot as plt

    if isinstance(item, Sweep) and item.n_points > max_points:
        raise ValueError(f"sweep has {item.n_points} points; plot at most {max_points} "
                         "(pass a smaller sweep or raise max_points)")
    data, starts = evaluate(item, sample_rate, virtual_gates)
    if ax is None:
        _, ax = plt.subplots()
    for lane, values in data.items():
        t = np.arange(len(values)) / sample_rate
        ax.step(t * 1e6, values, where="post", label=lane)
    for s in starts[1:-1]:
        ax.axvline(s / sample_rate * 1e6, color="0.8", lw=0.5)
    ax.set_xlabel("time (µs)")
    ax.set_ylabel("level (V)")
    ax.legend(loc="best")
    return ax


def plot_program(program: Program, *, ax: Any = None, max_samples: int = 2_000_000) -> Any:
    """Plot the rendered channels of a program, shading sequence-table steps."""
    import matplotlib.pyplot as plt

    if program.n_samples > max_samples:
        raise ValueError(f"program has {program.n_samples} samples; limit is {max_samples}")
    if ax is None:
        _, ax = plt.subplots()
    sr = program.limits.sample_rate
    out = render(program)
    for ch, v in out.items():
        ax.plot(np.arange(len(v)) / sr * 1e6, v, label=ch, lw=0.8)
    lengths = program.waveform_lengths
    step_len = lengths[program.table.waveform[:, 0]] * program.table.repeat
    edges = np.concatenate([[0], np.cumsum(step_len)]) / sr * 1e6
    for i, (a, b) in enumerate(pairwise(edges)):
        if i % 2:
            ax.axvspan(a, b, color="0.93", zorder=0)
    ax.set_xlabel("time (µs)")
    ax.set_ylabel("output (V)")
    ax.set_title(f"{program.awg}: {len(program.table)} steps, {program.n_waveforms} "
                 "unique waveforms")
    ax.legend(loc="best")
    return ax
