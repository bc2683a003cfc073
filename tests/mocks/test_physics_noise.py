"""Noise processes: statistics, random access in lab time, and the scalar/vector twins."""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest
from scipy.integrate import simpson
from scipy.signal import welch

from dotstack.mocks.physics import DeviceParams, ManualClock, NoiseParams, VirtualLab, model, scalar
from dotstack.mocks.physics.noise import BrownianPath, OneOverF, Telegraph, white_normal

WHITE_ONLY = NoiseParams(charge_noise_ev=0.0, dot_charge_noise_ev=0.0, telegraph_ev=0.0)


def test_white_noise_std_shrinks_as_one_over_sqrt_integration_time() -> None:
    lab = VirtualLab(seed=3, noise=WHITE_ONLY, clock=ManualClock())
    times = np.arange(4000) * 0.5
    stds = {}
    for duration in (0.004, 0.064):
        readings = lab.sensor_currents(times, duration)
        stds[duration] = readings.std()
        expected = WHITE_ONLY.current_density / math.sqrt(2 * duration)
        assert stds[duration] == pytest.approx(expected, rel=0.06)
    assert stds[0.004] / stds[0.064] == pytest.approx(4.0, rel=0.08)


def test_white_noise_readings_are_consistent_across_integration_windows() -> None:
    lab = VirtualLab(seed=3, noise=WHITE_ONLY, clock=ManualClock())
    for t0 in (0.0, 12.3456789, 3599.25):
        long = lab.sensor_current(1.0, t=t0)
        short = [lab.sensor_current(0.1, t=t0 + 0.1 * k) for k in range(10)]
        assert long == pytest.approx(float(np.mean(short)), rel=1e-9, abs=1e-22)
        assert np.std(short) > 0.0
        vec = lab.sensor_currents(t0 + 0.1 * np.arange(10), 0.1)
        assert np.allclose(vec, short, rtol=1e-9, atol=1e-22)
    # the Brownian path itself: increments add up, Var(W(b) - W(a)) = b - a, two-sided
    w = BrownianPath(seed=1, stream=1)
    assert float(w.mean(-0.5, 1.0)) == pytest.approx(
        float(np.mean(w.mean(-0.5 + 0.25 * np.arange(4), 0.25))), rel=1e-9)
    for width in (3e-5, 1e-3, 0.5):
        increments = w.path(np.arange(3000) * 0.7 + width) - w.path(np.arange(3000) * 0.7)
        assert increments.std() == pytest.approx(math.sqrt(width), rel=0.06)
    t = np.random.default_rng(0).uniform(-20.0, 200.0, 300)
    assert np.allclose([scalar.brownian_path(w, float(x)) for x in t], w.path(t), rtol=0,
                       atol=1e-12)


def test_white_normal_is_standard_normal_and_scalar_twin_agrees() -> None:
    t = np.linspace(-3.0, 1000.0, 20000)
    z = white_normal(5, 1, t, 0.02)
    assert abs(z.mean()) < 0.03 and z.std() == pytest.approx(1.0, rel=0.03)
    assert abs(np.corrcoef(z[:-1], z[1:])[0, 1]) < 0.03
    for x in t[::997]:
        assert scalar.white_normal(5, 1, float(x), 0.02) == float(white_normal(5, 1, x, 0.02))


def test_same_seed_same_numbers_in_any_order_different_seed_different() -> None:
    times = np.linspace(0.0, 20.0, 300)

    def readings(seed: int) -> np.ndarray:
        lab = VirtualLab(seed=seed, clock=ManualClock())
        return np.array([lab.sensor_current(0.01, t=float(t)) for t in times])

    a, b, c = readings(1), readings(1), readings(2)
    assert np.array_equal(a, b)
    assert np.max(np.abs(a - c)) > 1e-12
    # order of evaluation does not matter: readings are functions of lab time
    lab = VirtualLab(seed=1, clock=ManualClock())
    backwards = np.array([lab.sensor_current(0.01, t=float(t)) for t in times[::-1]])[::-1]
    assert np.array_equal(a, backwards)
    # the processes themselves: random access, earlier times after later ones
    probe = np.array([3600.0, 5.0, 1234.5678, 0.0, 3599.999, 7.25, -3.0])
    order = np.random.default_rng(4).permutation(len(probe))
    for make in (lambda s: OneOverF(1e-6, (1e-3, 1e3), 2, seed=s, streams=[7]),
                 lambda s: BrownianPath(s, 7)):
        first, second = make(1), make(1)
        values = first.path(probe) if isinstance(first, BrownianPath) else first.value(probe)
        shuffled = np.empty_like(values)
        for i in order:  # one point at a time, in another order
            one = second.path(probe[i:i + 1]) if isinstance(second, BrownianPath) else \
                second.value(probe[i:i + 1])
            shuffled[i] = one[0]
        assert np.array_equal(values, shuffled)
        other = make(2)
        other_values = other.path(probe) if isinstance(other, BrownianPath) else \
            other.value(probe)
        nonzero = probe != 0.0  # W(0) = 0 for every seed
        assert not np.any(values[nonzero] == other_values[nonzero])


def test_one_over_f_window_average_is_the_integral_of_the_values() -> None:
    noise = OneOverF([1e-6, 2e-6], (1e-2, 1e2), 2, seed=0, streams=[3, 4])
    fine = np.linspace(3.3, 3.35, 400001)
    numeric = np.trapezoid(noise.value(fine), fine, axis=0) / 0.05
    assert np.allclose(noise.mean(3.3, 0.05), numeric, rtol=1e-6, atol=0)
    # windows on the grids (dyadic times): Simpson's rule is exact for the piecewise-quadratic
    # values, so the average agrees to rounding
    for t0, duration in ((1000.0, 2.0), (-0.75, 1.0)):
        fine = t0 + np.arange(int(duration * 2**15) + 1) * 2.0**-15
        numeric = simpson(noise.value(fine), x=fine, axis=0) / duration
        assert np.allclose(noise.mean(t0, duration), numeric, rtol=1e-9, atol=0)
    # the integral is continuous and its increments are the averages
    t = np.array([0.0, 0.3, 7.7, 64.0])
    y = noise.integral(t)
    assert np.allclose(np.diff(y, axis=0) / np.diff(t)[:, None], noise.mean(t[:-1], np.diff(t)),
                       rtol=1e-9)
    assert np.array_equal(noise.mean(2.5, 0.0), noise.value(2.5))


def test_one_over_f_scalar_twin_equals_vectorised_path() -> None:
    rng = np.random.default_rng(7)
    for band, streams in (((1e-3, 10.0), 5), ((1e-3, 1e3), [5, 6, 7])):
        noise = OneOverF(1e-6, band, 2, seed=3, streams=streams)
        t = np.concatenate([rng.uniform(0.0, 4000.0, 60), [0.0, 1e-9, -2.5, 4096.0]])
        d = rng.uniform(1e-4, 3.0, t.size)
        vec = np.atleast_2d(noise.mean(t, d).T).T
        scal = np.array([scalar.one_over_f_mean(noise, float(a), float(b))
                         for a, b in zip(t, d, strict=True)])
        assert np.allclose(scal, vec.reshape(scal.shape), rtol=1e-9, atol=1e-20)
        integ = np.array([scalar.one_over_f_integral(noise, float(a)) for a in t])
        assert np.allclose(integ, noise.integral(t).reshape(integ.shape), rtol=1e-12, atol=1e-22)


def test_one_over_f_model_psd_and_stationary_start() -> None:
    noise = OneOverF(2e-6, (1e-3, 1e3), 2, seed=0)
    f = np.geomspace(1e-3, 1e3, 200)
    assert np.allclose(noise.psd(f) * f / 4e-12, 1.0, rtol=0.1)
    assert noise.describe()["method"] == "sum of OU processes"
    # t = 0 is drawn from the stationary distribution: an ensemble of independent channels
    ensemble = OneOverF(1.0, (1e-1, 1e1), 2, seed=1, streams=list(range(400)))
    total = math.sqrt(float(ensemble.variances.sum()))
    at0 = ensemble.value(0.0)
    later = ensemble.value(123.4)
    assert at0.std() == pytest.approx(total, rel=0.15)
    assert later.std() == pytest.approx(total, rel=0.15)
    assert abs(np.corrcoef(at0, later)[0, 1]) < 0.2


def test_one_over_f_trace_has_a_continuous_one_over_f_spectrum() -> None:
    noise = OneOverF(1.0, (1e-3, 10.0), 2, seed=1)
    dt = 0.01
    trace = noise.value(np.arange(1 << 20) * dt)  # 2^20 samples over 2.9 h of lab time
    f, psd = welch(trace, fs=1.0 / dt, nperseg=1 << 18)
    edges = np.logspace(-3, 1, 41)  # 4 decades, log-binned
    centres = np.sqrt(edges[1:] * edges[:-1])
    binned = [psd[(f >= lo) & (f < hi)].mean() for lo, hi in itertools.pairwise(edges)]
    slope = np.polyfit(np.log10(centres), np.log10(binned), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.1)
    band = (f >= 1e-2) & (f <= 10.0)
    assert np.mean(psd[band] * f[band]) == pytest.approx(1.0, rel=0.1)  # amplitude^2 / f
    # no line spectrum: no bin holds more than 5 % of its decade's power (decades with
    # enough Welch bins for the criterion to mean something)
    for k in (-2, -1, 0):
        decade = (f >= 10.0**k) & (f < 10.0 ** (k + 1))
        assert psd[decade].max() < 0.05 * psd[decade].sum()


def test_memory_stays_bounded_over_an_hour_of_lab_time() -> None:
    tracemalloc.start()
    try:
        lab = VirtualLab(seed=2, noise=NoiseParams(charge_noise_band=(1e-3, 1e3)),
                         clock=ManualClock())
        before, _ = tracemalloc.get_traced_memory()
        for t in (3600.0, 0.5, 1800.25, 3599.0, 2.0, 3000.0):
            lab.sensor_current(0.01, t=t)
            lab.sensor_currents(np.array([t, t + 0.02]), 0.001)
            lab.transport_current(0.01, t=t)
            lab.dot_potential_noise([t])
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 40e6 and peak - before < 80e6


def test_dot_charge_noise_jitters_transition_lines_and_scales_with_amplitude() -> None:
    clock = ManualClock()
    times = np.linspace(0.0, 200.0, 400)
    sweep = np.linspace(-0.2, 0.2, 40001)
    probe = model.dot_state(DeviceParams(), {"P1": sweep})
    p1 = float(sweep[np.argmin(np.abs(probe.n1 - 2.5))])  # on a dot-1 transition
    spreads = {}
    for amp in (1e-6, 2e-6):
        lab = VirtualLab(seed=5, clock=clock, noise=NoiseParams(dot_charge_noise_ev=amp))
        shifts = lab.dot_potential_noise(times)
        assert shifts.shape == (400, 2)
        assert abs(np.corrcoef(shifts[:, 0], shifts[:, 1])[0, 1]) < 0.3  # independent dots
        occupation = model.dot_state(lab.device, {"P1": p1}, (shifts[:, 0], shifts[:, 1])).n1
        spreads[amp] = occupation.std()
        assert spreads[amp] > 1e-3  # the line moves under the fixed point
    assert spreads[2e-6] / spreads[1e-6] == pytest.approx(2.0, rel=0.1)  # linear regime
    # the readings see it: near the transition, not deep inside a Coulomb valley
    quiet = NoiseParams(current_density=0.0, charge_noise_ev=0.0, telegraph_ev=0.0,
                        dot_charge_noise_ev=0.0)
    noisy = NoiseParams(current_density=0.0, charge_noise_ev=0.0, telegraph_ev=0.0)
    for volts, moves in ((p1, True), (p1 + 0.025, False)):
        labs = [VirtualLab(seed=5, clock=ManualClock(), noise=n) for n in (quiet, noisy)]
        for lab in labs:
            lab.set_output("qdac", 1, volts)
        a = np.array([labs[0].sensor_current(0.01, t=float(t)) for t in times[:50]])
        b = np.array([labs[1].sensor_current(0.01, t=float(t)) for t in times[:50]])
        assert bool(np.max(np.abs(a - b)) > 1e-14) == moves
        assert np.allclose(labs[1].sensor_currents(times[:50], 0.01), b, rtol=1e-9, atol=0)


def test_telegraph_statistics_and_determinism() -> None:
    rtn = Telegraph(2.0, 5.0, seed=4)
    knots, _ = rtn.extend(4000.0)
    dwell = np.diff(knots[knots < 4000.0])
    first = rtn.initial
    in_state1 = dwell[(first + np.arange(len(dwell))) % 2 == 1]
    in_state0 = dwell[(first + np.arange(len(dwell))) % 2 == 0]
    assert in_state0.mean() == pytest.approx(1 / 2.0, rel=0.05)
    assert in_state1.mean() == pytest.approx(1 / 5.0, rel=0.05)
    assert float(rtn.fraction(0.0, 4000.0)) == pytest.approx(2.0 / 7.0, rel=0.05)
    # the fraction is the integral of the state
    t = np.linspace(10.0, 11.0, 200001)
    assert float(rtn.fraction(10.0, 1.0)) == pytest.approx(rtn.state(t).mean(), abs=1e-4)
    assert scalar.telegraph_fraction(rtn, 10.0, 1.0) == pytest.approx(
        float(rtn.fraction(10.0, 1.0)), abs=1e-12)
    # lazily extended: the same process whatever order it is queried in
    other = Telegraph(2.0, 5.0, seed=4)
    probe = np.array([3000.0, 5.0, 17.25, 2999.0])
    assert np.array_equal(other.state(probe), rtn.state(probe))
    assert not np.array_equal(Telegraph(2.0, 5.0, seed=5).state(t[::1000]), rtn.state(t[::1000]))


def test_ground_truth_reports_the_charge_noise() -> None:
    lab = VirtualLab(seed=9, clock=ManualClock())
    cn = lab.ground_truth()["charge_noise"]
    assert cn["method"] == "sum of OU processes"
    assert cn["sensor_eV_per_sqrtHz_at_1Hz"] == lab.noise.charge_noise_ev
    assert cn["dot_eV_per_sqrtHz_at_1Hz"] == lab.noise.dot_charge_noise_ev
    assert cn["band_Hz"] == list(lab.noise.charge_noise_band)
    assert set(cn["streams"]) == {"sensor", "dot1", "dot2"}
    assert len(set(cn["streams"].values())) == 3
    silent = VirtualLab(noise=NoiseParams.none(), clock=ManualClock())
    assert np.array_equal(silent.dot_potential_noise([0.0, 1.0]), np.zeros((2, 2)))


def test_noise_params_none_and_validation() -> None:
    lab = VirtualLab(noise=NoiseParams.none(), clock=ManualClock())
    readings = lab.sensor_currents(np.linspace(0, 100, 50), 0.001)
    assert np.ptp(readings) == 0.0
    with pytest.raises(ValueError, match="telegraph_rates"):
        NoiseParams(telegraph_rates=(0.0, 1.0))
    with pytest.raises(ValueError, match="current_density"):
        NoiseParams(current_density=-1.0)
    with pytest.raises(ValueError, match="dot_charge_noise_ev"):
        NoiseParams(dot_charge_noise_ev=math.nan)
