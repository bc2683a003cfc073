"""Shared helpers for sequencer tests (imported by name; the folder is not a package)."""

from __future__ import annotations

import numpy as np

from dotstack.sequencer import AwgLimits, Program, render
from dotstack.sequencer.evaluate import evaluate


def assert_round_trip(item, program: Program, virtual_gates=None, delays=None) -> None:
    """render(program) equals the schedule evaluated directly on the sample grid.

    Within a step the output equals the direct evaluation (to one DAC code); samples the
    compiler padded at the end of a step hold the step's last value. A channel delayed by
    ``delays[ch]`` samples plays that whole stream late (holding its first sample before).
    """
    lim: AwgLimits = program.limits
    ref, starts = evaluate(item, lim.sample_rate, virtual_gates)
    out = render(program)
    tol = lim.lsb * 1.01 if program.output == "int16" else 1e-6
    ps = program.point_starts
    n_points = len(starts) - 1
    for ch, got in out.items():
        assert len(got) == program.n_samples
        want_all = ref.get(ch, np.zeros(int(starts[-1])))
        parts = []
        for p in range(n_points):
            want = want_all[starts[p]:starts[p + 1]]
            stop = ps[p + 1] if p < n_points - 1 else len(got)
            fill = want[-1] if len(want) else 0.0
            parts.append(np.concatenate([want, np.full(stop - ps[p] - len(want), fill)]))
        stream = np.concatenate(parts)
        d = (delays or {}).get(ch, 0)
        if d:
            stream = np.concatenate([np.full(d, stream[0]), stream[:-d]])
        for p in range(n_points):
            a, b = ps[p], (ps[p + 1] if p < n_points - 1 else len(got))
            np.testing.assert_allclose(got[a:b], stream[a:b], atol=tol, rtol=0,
                                       err_msg=f"{ch} p{p}")
