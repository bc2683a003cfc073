"""A buffer of records at once (`analog_records`) and the carried bias-T state: the same
physics as record by record, one simulation for the lot."""

from __future__ import annotations

import numpy as np
import pytest
from tdtest_helpers import quiet_lab

from dotstack.mocks.physics.timedomain import TimeDomainLab
from dotstack.mocks.physics.timedomain.patterns import RasterPattern


def _lab() -> tuple[TimeDomainLab, RasterPattern]:
    td = TimeDomainLab(quiet_lab())
    pat = RasterPattern(points=(50, 20), amplitudes=(1.0, 1.0), dwell=1e-6, t_start=1e-3)
    td.attach_awg(pat, {"P1": 1, "P2": 2})
    td.lab.clock.advance(1.0)  # the records below lie in the lab's past
    return td, pat


def test_a_buffer_of_records_is_the_same_physics_as_record_by_record() -> None:
    td, pat = _lab()
    rate, n = 10e6, 400  # 40 us records every 50 us row: cut from one stretch
    starts = pat.t_start + 5 * pat.frame_time + np.arange(20) * pat.row_time
    batch = td.analog_records(starts, n, rate, single_shot=False, noise=False)
    each = np.array([td.analog_record(t, n, rate, single_shot=False, noise=False)
                     for t in starts])
    assert batch.shape == (20, n)
    step = float(np.ptp(each))
    np.testing.assert_allclose(batch, each, rtol=0, atol=2e-3 * step)


def test_records_in_one_buffer_share_one_noise_path_and_are_deterministic() -> None:
    td, pat = _lab()
    starts = pat.t_start + 3 * pat.frame_time + np.arange(10) * pat.row_time
    a = td.analog_records(starts, 400, 10e6)
    np.testing.assert_array_equal(a, td.analog_records(starts, 400, 10e6))
    noise = a - td.analog_records(starts, 400, 10e6, single_shot=False, noise=False)
    assert noise.std() == pytest.approx(td.readout.sample_sigma, rel=0.1)


def test_off_grid_or_far_apart_records_are_simulated_separately() -> None:
    td, _ = _lab()
    starts = np.array([2e-3, 2e-3 + 1.234567e-7, 0.3])  # off the 10 MS/s grid; far apart
    out = td.analog_records(starts, 100, 10e6, single_shot=False, noise=False)
    for row, t in zip(out, starts, strict=True):
        np.testing.assert_allclose(row, td.analog_record(t, 100, 10e6, single_shot=False,
                                                         noise=False), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="finite"):
        td.analog_records([np.nan], 100, 10e6)


def test_the_carried_bias_tee_state_equals_the_state_folded_in_from_history() -> None:
    td, pat = _lab()
    t1 = pat.t_start + 40 * pat.frame_time + 0.3 * pat.row_time  # 40 ms: 4 time constants
    t0 = t1 - 7 * pat.frame_time
    td._bias_states(t0)  # carried from t0 to t1 next
    carried = td._bias_states(t1)
    td._bias_cache.clear()
    fresh = td._bias_states(t1)
    assert set(carried) == {"P1", "P2"}
    for gate in carried:
        assert carried[gate] == pytest.approx(fresh[gate], abs=1e-6)
