"""Shared helpers for sequencer tests (imported by name; the folder is not a package)."""

from __future__ import annotations

import numpy as np

from dotstack.sequencer import AwgLimits, Program, render
from dotstack.sequencer.evaluate import evaluate


def assert_round_trip(item, program: Program, virtual_gates=None, delays=None) -> None:
    """render(program) equals the schedule evaluated directly on the sample grid.

    Each point is evaluated at its program start (bursts keep their carrier phase in program
    time) and padded to its compiled step (analog lanes rest: hold, or a burst's offset);
    equal to one DAC code. A channel delayed by ``delays[ch]`` samples plays that whole
    stream late (holding its first sample before).
    """
    lim: AwgLimits = program.limits
    ps = program.point_starts
    stream_all, _ = evaluate(item, lim.sample_rate, virtual_gates, ps)
    out = render(program)
    tol = lim.lsb * 1.01 if program.output == "int16" else 1e-6
    n_points = len(ps) - 1
    for ch, got in out.items():
        assert len(got) == program.n_samples
        stream = stream_all.get(ch, np.zeros(len(got)))
        d = (delays or {}).get(ch, 0)
        if d:
            stream = np.concatenate([np.full(d, stream[0]), stream[:-d]])
        for p in range(n_points):
            a, b = ps[p], ps[p + 1]
            np.testing.assert_allclose(got[a:b], stream[a:b], atol=tol, rtol=0,
                                       err_msg=f"{ch} p{p}")
