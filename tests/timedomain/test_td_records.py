"""Records: noise statistics, averaging, determinism, single shots, the lab's analog hook."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tdtest_helpers import p1_at_half_filling, quiet_lab

from dotstack.mocks.physics import ManualClock, VirtualLab
from dotstack.mocks.physics.timedomain import Reflectometry, TimeDomainLab, TunnelRates
from dotstack.mocks.physics.timedomain.patterns import RasterPattern
from dotstack.mocks.physics.timedomain.readout import BandLimitedNoise


def test_raw_noise_has_the_amplifier_level_and_the_filter_correlation() -> None:
    td = TimeDomainLab(quiet_lab())
    t0, n, rate = 1e-3, 200_000, 100e6
    noise = td.analog_record(t0, n, rate) - td.expected_record(t0, n, rate)
    sigma = td.readout.sample_sigma
    assert noise.std() == pytest.approx(sigma, rel=0.03)
    rho = math.exp(-2 * math.pi * td.readout.bandwidth / rate)
    lag1 = float(np.mean(noise[1:] * noise[:-1]) / noise.var())
    assert lag1 == pytest.approx(rho, abs=0.02)


def test_table_noise_is_one_continuous_ar1_path_across_its_blocks() -> None:
    rho, sigma = 0.999, 2.0
    path = np.zeros(1 << 20)
    BandLimitedNoise.add(path, rho, sigma, np.random.default_rng(5))
    innovation = (path[1:] - rho * path[:-1]) / (sigma * math.sqrt(1 - rho * rho))
    assert innovation.std() == pytest.approx(1.0, rel=0.01)
    seams = np.arange(1, 16) * (1 << 16) - 1  # the innovation into the first sample of a block
    assert np.max(np.abs(innovation[seams])) < 5.0


@pytest.mark.parametrize("integrate", [False, True])
def test_averaged_record_noise_scales_as_one_over_sqrt_n(integrate: bool) -> None:
    td = TimeDomainLab(quiet_lab())
    n, rate = 20_000, 10e6
    starts = 1e-3 + np.arange(256) * 5e-3
    expected = td.expected_record(starts[0], n, rate, integrate=integrate)
    stds = {}
    for count in (1, 16, 256):
        avg = td.averaged_records(starts[:count], n, rate, integrate=integrate)
        stds[count] = float((avg - expected).std())
    assert stds[16] == pytest.approx(stds[1] / 4, rel=0.05)
    assert stds[256] == pytest.approx(stds[1] / 16, rel=0.05)
    if not integrate:
        assert stds[1] == pytest.approx(td.readout.sample_sigma, rel=0.03)


def test_averaged_frames_without_noise_are_the_exact_expectation() -> None:
    td = TimeDomainLab(quiet_lab())
    pat = RasterPattern(points=(20, 10), amplitudes=(1.0, 1.0), dwell=2e-6, t_start=1e-3)
    td.attach_awg(pat, {"P1": 1, "P2": 2})
    frames = pat.t_start + np.arange(8) * pat.frame_time
    assert len(td.drive_groups(frames, pat.frame_time)) == 1  # every frame plays the same
    rows = pat.t_start + np.arange(3) * pat.row_time
    assert len(td.drive_groups(rows, pat.row_time)) == 3  # each row its own slow level
    avg = td.averaged_records(frames, 200, 1 / pat.dwell, integrate=True, noise=False)
    np.testing.assert_allclose(avg, td.expected_record(frames[0], 200, 1 / pat.dwell,
                                                       integrate=True), rtol=0, atol=1e-12)
    mixed = td.averaged_records(rows, 20, 1 / pat.dwell, integrate=True, noise=False)
    each = [td.expected_record(t, 20, 1 / pat.dwell, integrate=True) for t in rows]
    np.testing.assert_allclose(mixed, np.mean(each, axis=0), rtol=0, atol=1e-12)


def _video_td(seed: int) -> TimeDomainLab:
    td = TimeDomainLab(VirtualLab(seed=seed, clock=ManualClock()))
    td.attach_awg(RasterPattern(points=(30, 20), dwell=1e-6, t_start=1e-3), {"P1": 1, "P2": 2})
    return td


def test_same_seed_same_record_different_seed_different_record() -> None:
    a, b, c = _video_td(4), _video_td(4), _video_td(5)
    args = (1e-3, 60_000, 100e6)
    rec = a.analog_record(*args)
    np.testing.assert_array_equal(rec, b.analog_record(*args))
    np.testing.assert_array_equal(rec, a.analog_record(*args))  # calling again changes nothing
    assert not np.array_equal(rec, c.analog_record(*args))
    assert not np.array_equal(rec[:1000], a.analog_record(1e-3 + 1e-3, 1000, 100e6))
    avg = a.averaged_records([1e-3, 1.6e-3], 600, 1e6, integrate=True)
    np.testing.assert_array_equal(avg, b.averaged_records([1e-3, 1.6e-3], 600, 1e6, integrate=True))


def test_single_shot_switches_between_two_levels_around_a_transition() -> None:
    lab = quiet_lab()
    lab.set_output("qdac", 1, p1_at_half_filling(lab.device, 4), t=0.0)  # on a dot-1 line
    td = TimeDomainLab(lab, tunnel=TunnelRates(gamma0=2e5), readout=Reflectometry(bandwidth=1e9))
    t0, n, rate = 1e-3, 200_000, 10e6  # 20 ms: thousands of tunnel events
    shot = td.analog_record(t0, n, rate, noise=False)
    assert td.last_record == {"dot1": "single_shot", "dot2": "single_shot"}
    levels = np.unique(np.round(shot, 7))
    assert levels.size <= 40  # two levels (and the readout filter's edges between them)
    low, high = shot.min(), shot.max()
    assert high - low == pytest.approx(abs(td.ground_truth(t0)["snr"]["dot1"]["step_per_electron_V"]),
                                       rel=0.05)
    upper = float(np.mean(shot > 0.5 * (low + high)))
    assert abs(upper - 0.5) < 0.05  # half filled
    # the ensemble mean (mean occupation in the sensor's potential, as the static model) lies
    # between the two charge states' levels
    mean = td.expected_record(t0, n, rate)
    assert low < mean.min() <= mean.max() < high
    over = TimeDomainLab(lab, tunnel=TunnelRates(gamma0=1e13))
    over.analog_record(t0, 1000, rate)
    assert over.last_record["dot1"].startswith("ensemble_mean")


def test_lab_dispatches_analog_records_to_the_registered_source() -> None:
    lab = quiet_lab()
    with pytest.raises(KeyError, match=r"ats\.chA"):
        lab.analog_record("ats.chA", 0.0, 10, 1e6)
    td = TimeDomainLab(lab)
    td.connect("ats.chA")
    rec = lab.analog_record("ats.chA", 1e-3, 1000, 1e7)
    np.testing.assert_array_equal(rec, td.analog_record(1e-3, 1000, 1e7))
    lab.register_analog_source("ats.chB", lambda t0, n, rate: np.full(n, t0))
    np.testing.assert_array_equal(lab.analog_record("ats.chB", 2.0, 3, 1.0), [2.0, 2.0, 2.0])
    with pytest.raises(KeyError, match=r"'ats\.chC'.*registered: \['ats\.chA', 'ats\.chB'\]"):
        lab.analog_record("ats.chC", 0.0, 10, 1e6)


def test_bad_requests_are_refused() -> None:
    td = TimeDomainLab(quiet_lab())
    with pytest.raises(ValueError, match="n >= 1"):
        td.analog_record(0.0, 0, 1e6)
    with pytest.raises(ValueError, match="rate"):
        td.expected_record(0.0, 10, -1.0)
    with pytest.raises(ValueError, match="unknown gate"):
        td.attach_awg(lambda ch, a, b: [], {"X1": 1})
