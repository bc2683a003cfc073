"""The speed-ups behind the spin path give what the plain computations give: the AWG mock's
cached volts per (waveform, scaling), and `channel_runs` against sample-by-sample playback."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from dotstack.mocks.instruments.awg5208.output import Scaling
from dotstack.mocks.physics.spin_runs import channel_runs


def test_cached_volts_equal_the_conversion_and_follow_edits() -> None:
    samples = np.linspace(-1, 1, 2400).astype(np.float32)
    on = Scaling(amplitude=0.5, offset=0.01, on=True)
    first = on.volts_of(samples)
    assert np.array_equal(first, on.volts(samples))
    assert on.volts_of(samples) is first  # converted once
    with pytest.raises(ValueError):
        first[0] = 1.0  # shared: read-only
    other = Scaling(amplitude=0.25, on=True)
    assert np.array_equal(other.volts_of(samples), other.volts(samples))
    samples[:10] = 0.5  # the waveform is rewritten in place (WLISt:WAVeform:DATA)
    again = on.volts_of(samples)
    assert again is not first and np.array_equal(again, on.volts(samples))
    assert not np.any(Scaling(on=False).volts_of(samples))


@dataclass(frozen=True)
class _Seg:
    start: float
    samples: np.ndarray
    repeat: float
    rate: float


def _played(segments: list[_Seg], times: np.ndarray, idle: float) -> np.ndarray:
    """Sample-by-sample: each segment's repetitions laid out, the value at each time."""
    out = np.full(times.shape, idle)
    for seg in segments:
        n = seg.samples.size
        if seg.rate <= 0:
            out[times >= seg.start] = seg.samples[0]
            continue
        k = np.floor((times - seg.start) * seg.rate + 1e-9).astype(int)
        inside = (k >= 0) & (k < n * seg.repeat)
        out[inside] = seg.samples[k[inside] % n]
    return out


def test_channel_runs_match_sample_by_sample_playback() -> None:
    rate = 1e6
    rng = np.random.default_rng(3)
    wave_a = np.repeat(rng.choice([0.0, 0.1, -0.2], 6), 4)  # 24 samples, runs of 4
    wave_b = np.zeros(24)
    frozen = wave_a.copy()
    frozen.flags.writeable = False  # the AWG mock's shared volts are read-only
    segs, t = [], 0.0
    for k in range(12):
        w = (wave_a, wave_b, frozen)[k % 3]
        reps = 1 + k % 3
        segs.append(_Seg(t, w, reps, rate))
        t += w.size * reps / rate
    segs.append(_Seg(t, np.array([0.3]), 1, 0.0))  # a hold without an end
    t0, t1 = 5.5e-6, t + 20e-6
    runs = channel_runs(segs, t0, t1, idle=-1.0)
    grid = t0 + (np.arange(int((t1 - t0) * rate * 4)) + 0.5) / (4 * rate)
    assert np.array_equal(runs.at(grid), _played(segs, grid, -1.0))
    assert np.all(np.diff(runs.starts) > 0) and np.all(runs.values[1:] != runs.values[:-1])
