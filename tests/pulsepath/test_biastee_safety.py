"""AWG programs are checked as the gates see them through their bias-Ts (issue 8, point 8):
a pattern with a nonzero mean charges the bias-T, and the gate swings beyond the samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dotstack.biastee import gate_range
from dotstack.drivers.protocols import LimitError
from dotstack.sequencer import AWG5208, AwgTarget, Hold, compile_schedule, par
from dotstack.station import LabStation
from dotstack.stations import MOCK


def brute_force(x: np.ndarray, rate: float, tau: float, plays: int) -> tuple[float, float]:
    """x - lp at every sample edge over ``plays`` plays from a discharged bias-T, stopping
    after any sample (the AWG then outputs 0 V)."""
    a = math.exp(-1.0 / (rate * tau))
    lp, lo, hi = 0.0, 0.0, 0.0
    for _ in range(plays):
        for v in x:
            for y in (lp, a * lp + (1 - a) * v):  # the lp at both edges of the sample
                lo, hi = min(lo, v - y, -y), max(hi, v - y, -y)
            lp = a * lp + (1 - a) * v
    return lo, hi


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-1, 1), min_size=1, max_size=30), st.floats(0.5, 50.0))
def test_the_bound_holds_every_play_and_is_reached(values: list[float], tau_samples: float) -> None:
    x = np.array(values)
    lo, hi = gate_range(x, 1.0, tau_samples)
    plays = 1 + int(20 * tau_samples / len(x))  # well into the steady state
    b_lo, b_hi = brute_force(x, 1.0, tau_samples, plays)
    assert lo <= b_lo + 1e-12 and hi >= b_hi - 1e-12  # never narrower than what happens
    assert lo == pytest.approx(b_lo, abs=0.02) and hi == pytest.approx(b_hi, abs=0.02)


def test_dc_coupled_lines_see_the_samples_and_idle_zero() -> None:
    assert gate_range([0.2, 0.5], 1e6, math.inf) == (0.0, 0.5)
    with pytest.raises(ValueError, match="finite"):
        gate_range([np.nan], 1e6, 1e-3)


def test_a_nonzero_mean_program_is_refused_through_the_bias_tee() -> None:
    with LabStation.from_file(MOCK) as station:
        station.gate("P1").set(-0.45)  # 50 mV above the -0.5 V limit: 0.5 V at the AWG below
        limits = station.limit_awg()
        assert limits["P1"][0] == pytest.approx(-0.5)
        lim = AWG5208.with_(sample_rate=1e6)
        # +0.7 V for 20 ms: within the samples' limits, but the bias-T charges to ~+0.6 V, and
        # when the AWG stops the gate drops ~0.06 V below its DC level: below -0.5 V
        prog = compile_schedule(par(P1=Hold(20e-3, 0.7)),
                                [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
        awg = station.instruments["awg"]
        awg.channel_map = {"P1": 1}
        before = awg.stats.commands
        with pytest.raises(LimitError, match="gate P1: through its bias-T"):
            station.check_pulses(prog)
        awg.prepare(prog)  # the samples alone pass the AWG's own check: the bias-T is why
        assert awg.stats.commands > before
        symmetric = compile_schedule(par(P1=[Hold(1e-3, 0.3), Hold(1e-3, -0.3)]),
                                     [AwgTarget("awg", lim, ("P1",))]).programs["awg"]
        station.check_pulses(symmetric)  # zero mean: fits
