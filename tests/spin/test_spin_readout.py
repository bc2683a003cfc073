"""Single-shot readout: simulated histograms give the model's fidelity (PSB and Elzerman)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from spintest_helpers import pulse

from dotstack.mocks.physics.spin import (
    ElzermanReadout,
    PsbReadout,
    SpinNoise,
    SpinSegment,
    SpinSimulator,
    fidelity,
)


def _histogram_fidelity(sim: SpinSimulator, shots: int) -> tuple[float, float]:
    """(best assignment fidelity over thresholds, that threshold) from simulated shots with
    spin 1 prepared down (idle) and up (pi pulse), as an experiment would find it."""
    down = sim.run([SpinSegment(1e-7)], shots, key=1).signal
    up = sim.run([pulse(sim, math.pi)], shots, key=2).signal
    grid = np.linspace(min(sim.readout.up_level, sim.readout.down_level),
                       max(sim.readout.up_level, sim.readout.down_level), 801)
    up_side = 1.0 if sim.readout.up_level > sim.readout.down_level else -1.0
    fids = [1 - 0.5 * (np.mean(up_side * (up - g) <= 0) + np.mean(up_side * (down - g) > 0))
            for g in grid]
    k = int(np.argmax(fids))
    return float(fids[k]), float(grid[k])


@pytest.mark.parametrize("readout", [PsbReadout(), PsbReadout(t1=20e-6, noise=0.01),
                                     ElzermanReadout(), ElzermanReadout(tunnel_out_rate=30e3)],
                         ids=["psb", "psb-fast-decay", "elzerman", "elzerman-slow"])
def test_readout_fidelity_within_0_02_of_the_model(readout: PsbReadout | ElzermanReadout) -> None:
    sim = SpinSimulator(noise=SpinNoise(amplitude_ev=0.0), readout=readout, seed=11)
    truth = sim.ground_truth(drive_amplitude=1e-3)
    measured, threshold = _histogram_fidelity(sim, 20_000)
    assert measured == pytest.approx(truth["readout_fidelity"], abs=0.02)
    assert 0.6 < truth["readout_fidelity"] < 0.999
    assert threshold == pytest.approx(truth["readout_threshold_V"], abs=0.01)


def test_psb_decay_during_readout_lowers_fidelity() -> None:
    slow = fidelity(PsbReadout(t1=1.0), 5e-3)[0]
    fast = fidelity(PsbReadout(t1=20e-6), 5e-3)[0]
    # no decay: two Gaussians 5 sigma apart
    assert slow == pytest.approx(0.5 * (1 + math.erf(2.5 / math.sqrt(2))), abs=1e-4)
    assert fast < slow - 0.05


def test_psb_signal_follows_the_pair() -> None:
    """Only spin 1 up with spin 2 down reads as the singlet; both down is blocked."""
    ro = PsbReadout(t1=1.0, noise=1e-6)
    up = np.array([[True, False], [False, False], [True, True], [False, True]])
    sig = ro.draw(up, np.random.default_rng(0))
    assert sig == pytest.approx([ro.singlet_level, ro.blocked_level, ro.blocked_level,
                                 ro.blocked_level], abs=1e-4)


def test_elzerman_relaxation_competes_with_tunnelling() -> None:
    """With T1 short against 1/tunnel_out_rate most up spins relax unseen: fidelity drops."""
    ro = ElzermanReadout()
    long_t1 = fidelity(ro, 1.0)[0]
    short_t1 = fidelity(ro, 2e-6)[0]
    assert short_t1 < long_t1 - 0.2
    quiet = ElzermanReadout(noise=1e-9)
    up = np.zeros((20_000, 2), dtype=bool)
    up[:, 0] = True
    sig = quiet.draw_with_t1(up, 2e-6, np.random.default_rng(1))
    rate = quiet.tunnel_out_rate + 1 / 2e-6
    p_blip = quiet.tunnel_out_rate / rate * -math.expm1(-rate * quiet.duration)
    assert np.mean(sig > quiet.loaded_level + 1e-6) == pytest.approx(p_blip, abs=0.015)
    down = quiet.draw_with_t1(~up, 2e-6, np.random.default_rng(2))
    assert down == pytest.approx(np.full(down.size, quiet.loaded_level), abs=1e-7)
