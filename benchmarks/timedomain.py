"""Benchmark: the time-domain mock lab (goals: averaged 100x100 video frame <= 30 ms, raw 10 MS
frame <= 50 ms).

Run: python benchmarks/timedomain.py [--repeats N]

The frame is a video-mode raster played by a stand-in AWG (`RasterPattern`): P1 a sawtooth of
100 points per row, P2 a staircase of 100 rows, 2 us per pixel (a 20 ms frame), through the
default lines (20 dB, 10 ms bias-T), default tunnel rates, reflectometry and the lab's 1/f charge
noise on the dots.  Workloads:

- averaged frame: `averaged_records` of one frame, each pixel averaged over its dwell
  (``integrate=True``), with the amplifier noise; the first frame after the AWG starts, and a
  frame deep in a looping run (100 ms of bias-T history folded in) averaged over 100 triggers,
  with the 100 frames' drives compared (one simulation for the group) or, ``same_drive=True``,
  taken as equal;
- raw frame: `analog_record` of the same frame at 500 MS/s (10 MS), single shot (charge jumps
  drawn) with amplifier noise.

Each line prints best and median wall time over the repeats and the ratio best / goal (<= 1:
goal met).  The first call of a process also builds the noise table of the rate (printed).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from dotstack.mocks.physics import ManualClock, VirtualLab
from dotstack.mocks.physics.timedomain import TimeDomainLab
from dotstack.mocks.physics.timedomain.patterns import RasterPattern

FRAME_GOAL_MS = 30.0
RAW_GOAL_MS = 50.0
N = 100
DWELL = 2e-6
RAW_SAMPLES = 10_000_000


def _times(fn: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    fn()  # first call (warm-up)
    first = time.perf_counter() - t0
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return first, out


def _report(name: str, goal_ms: float, first: float, times: list[float]) -> None:
    best, median = min(times) * 1e3, statistics.median(times) * 1e3
    verdict = "goal met" if best <= goal_ms else "goal missed"
    print(f"{name}: best {best:.1f} ms, median {median:.1f} ms (first call {first * 1e3:.0f} ms); "
          f"ratio to the {goal_ms:.0f} ms goal {best / goal_ms:.2f} -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    lab = VirtualLab(seed=1, clock=ManualClock())
    td = TimeDomainLab(lab)
    pattern = RasterPattern(points=(N, N), amplitudes=(1.0, 1.0), dwell=DWELL, t_start=1e-3)
    td.attach_awg(pattern, {"P1": 1, "P2": 2})
    t0, rate = pattern.t_start, 1.0 / DWELL

    first, times = _times(lambda: td.averaged_records([t0], N * N, rate, integrate=True),
                          args.repeats)
    _report(f"averaged video frame {N}x{N} (first frame after the AWG starts, 1 trigger)",
            FRAME_GOAL_MS, first, times)

    deep = t0 + 50 * pattern.frame_time + np.arange(100) * pattern.frame_time
    first, times = _times(lambda: td.averaged_records(deep, N * N, rate, integrate=True),
                          max(3, args.repeats // 3))
    groups = len(td.drive_groups(deep, pattern.frame_time))
    _report(f"averaged video frame {N}x{N} (frames 50-149 of a looping run, 100 triggers, "
            f"drives compared: {groups} group)", FRAME_GOAL_MS, first, times)
    first, times = _times(lambda: td.averaged_records(deep, N * N, rate, integrate=True,
                                                      same_drive=True), args.repeats)
    _report(f"averaged video frame {N}x{N} (frames 50-149 of a looping run, 100 triggers, "
            "same_drive=True)", FRAME_GOAL_MS, first, times)

    raw_rate = RAW_SAMPLES / pattern.frame_time
    first, times = _times(lambda: td.analog_record(t0, RAW_SAMPLES, raw_rate), args.repeats)
    _report(f"raw frame {RAW_SAMPLES / 1e6:.0f} MS at {raw_rate / 1e6:.0f} MS/s (single shot, "
            f"noise; {td.last_record['dot1']})", RAW_GOAL_MS, first, times)


if __name__ == "__main__":
    main()
