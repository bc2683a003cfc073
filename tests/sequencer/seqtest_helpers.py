"""Shared helpers for sequencer tests (imported by name; the folder is not a package)."""

from __future__ import annotations

import numpy as np

from dotstack.sequencer import AwgLimits, Program, render
from dotstack.sequencer.evaluate import evaluate


def assert_round_trip(item, program: Program, virtual_gates=None, delays=None) -> None:
    """render(program) equals the schedule evaluated directly on the sample grid.

    Within a step the output equals the direct evaluation (to one DAC code); samples the
    compiler padded at the end of a step hold the step's last value.
    """
    lim: AwgLimits = program.limits
    ref, starts = evaluate(item, lim.sample_rate, virtual_gates)
    out = render(program)
    tol = lim.lsb * 1.01 if program.output == "int16" else 1e-6
    ps = program.point_starts
    for ch, got in out.items():
        assert len(got) == program.n_samples
        want_all = ref.get(ch, np.zeros(int(starts[-1])))
        d = (delays or {}).get(ch, 0)
        for p in range(len(starts) - 1):
            want = want_all[starts[p]:starts[p + 1]]
            n = len(want)
            seg = got[ps[p]:ps[p + 1]] if p < len(starts) - 2 else got[ps[p]:]
            if d:
                idx = np.clip(np.arange(n) - d, 0, n - 1)
                want = want[idx]
            np.testing.assert_allclose(seg[:n], want, atol=tol, rtol=0, err_msg=f"{ch} p{p}")
            if len(seg) > n and n:
                np.testing.assert_allclose(seg[n:], want[-1], atol=tol, rtol=0)

