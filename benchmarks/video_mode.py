"""Benchmark: video mode end to end on the mock lab (goal: >= 30 frames/s for 100 x 100).

Run: python benchmarks/video_mode.py [--frames N] [--size N] [--display offscreen|none]

`video_mode` on the default mock station (in-process, virtual clock): a 100 x 100 raster of
P1 (fast) x P2 (slow), +-50 mV at the gates, 1 us per pixel, 10 us settle per row (an 11 ms
frame), through the 2 x 2 virtual-gate matrix of the lab's ground truth and the sensor
compensation (the AWG drives P1, P2 and S).  The raster is compiled and uploaded once (not
timed); each frame is then timed from the end of the previous one: arm the digitizer, start
the AWG, simulate the lab (AWG lines, bias-Ts, charge dynamics, reflectometry, noise, 12-bit
ADC) for the records, fetch through QCoDeS's ATS9360 driver and our controller, bin, append
to the zarr run, draw the live image (``offscreen``: drawn into an Agg canvas, shown nowhere).

Prints frames/s over the frames after the first five (warm-up: noise tables, caches) with the
ratio to the 30 fps goal (>= 1: met), the median frame time, and the share of it spent in the
simulated lab (the mock digitizer's buffer fill); then the process's CPU time per frame (all
threads), which other processes loading the machine do not inflate.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from dotstack.experiments.compensation import SensorCompensation
from dotstack.experiments.video import video_mode, virtual_plungers
from dotstack.mocks.instruments.ats9360 import capture
from dotstack.sequencer import VirtualGates
from dotstack.station import LabStation

GOAL_FPS = 30.0
WARMUP = 5
MOCK_YAML = Path(__file__).parents[1] / "dotstack" / "stations" / "mock.yaml"


class _FillTimer:
    """Wall time spent filling the mock board's DMA buffers (the simulated lab)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._orig = capture.Capture._fill
        timer = self

        def fill(board: capture.Capture, *args: object) -> None:
            t0 = time.perf_counter()
            try:
                timer._orig(board, *args)  # type: ignore[arg-type]
            finally:
                timer.total += time.perf_counter() - t0

        capture.Capture._fill = fill  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--display", default="offscreen", choices=("offscreen", "none"))
    args = parser.parse_args()
    fills = _FillTimer()
    stamps: list[float] = []
    fill_at: list[float] = []

    cpu: list[float] = []

    def on_frame(i: int, image: np.ndarray) -> None:
        stamps.append(time.perf_counter())
        cpu.append(time.process_time())
        fill_at.append(fills.total)

    with LabStation.from_file(MOCK_YAML) as station, tempfile.TemporaryDirectory() as tmp:
        truth = station.ground_truth()
        layer = virtual_plungers(truth["virtual_gates"]["matrix"])
        comp = truth["sensor_compensation"]
        compensation = SensorCompensation(comp["sensor"], comp["coefficients"])

        n = args.size
        t0 = time.perf_counter()
        result = video_mode(station, ("vP1", -0.05, 0.05, n), ("vP2", -0.05, 0.05, n),
                            frames=args.frames, virtual_gates=VirtualGates((layer,)),
                            compensation=compensation, display=args.display,
                            on_frame=on_frame, data_dir=tmp)
        total = time.perf_counter() - t0
    dt = np.diff(stamps[WARMUP - 1:])
    fps = len(dt) / float(dt.sum())
    lab_share = float(np.diff(fill_at[WARMUP - 1:]).sum() / dt.sum())
    verdict = "goal met" if fps >= GOAL_FPS else "goal missed"
    print(f"video mode {n}x{n} end to end ({args.display} display, virtual gates + sensor "
          f"compensation, {args.frames} frames, {result.status}): {fps:.1f} frames/s, median "
          f"frame {statistics.median(dt) * 1e3:.1f} ms ({lab_share:.0%} in the simulated lab); "
          f"ratio to the {GOAL_FPS:.0f} fps goal {fps / GOAL_FPS:.2f} -> {verdict}")
    cpu_per_frame = (cpu[-1] - cpu[WARMUP - 1]) / len(dt)
    print(f"  CPU time of this process per frame {cpu_per_frame * 1e3:.1f} ms (all threads; "
          f"what the wall time would be on an idle machine with one core for us): "
          f"{1 / cpu_per_frame:.1f} frames/s of CPU; whole run incl. compile, upload and "
          f"warm-up: {total:.2f} s")


if __name__ == "__main__":
    main()
