"""Benchmark: the spin engine (goal: 1,000 single-shot records of a typical Ramsey/CPMG
sequence in <= 100 ms of simulation) and the Rabi chevron end to end (goal: 50 x 50 points,
100 shots each, in <= 10 s in mock mode).

Run: python benchmarks/spin.py [--repeats N] [--no-chevron]

Workloads, each 1,000 shots of `SpinSimulator.run` with the default parameters (two spins,
1/f charge noise from 1 mHz to 1 MHz, PSB readout): a Ramsey (X90 - 10 us - X90, 3 segments), a
Hahn echo (5 segments) and CPMG-16 and CPMG-64 (35 and 131 segments) over 50 us.  Each line
prints best and median wall time over the repeats and the ratio best / 100 ms (<= 1: goal met).

The chevron line runs `dotstack.experiments.spin.rabi` on the mock station
(``dotstack/stations/mock.yaml``: AWG I/Q x SGS100A carrier -> spins -> PSB readout on the
digitizer, virtual clock): 50 drive frequencies (+-3 f_Rabi) x 50 burst times, 100 shots per
point, streamed to a temporary store and fitted; it prints the wall time (station opened
beforehand, not counted), the process CPU time (the in-process mock lab's threads included:
on a loaded machine the wall time mostly measures the load), the ratio of the wall time to
10 s and the fitted Rabi frequency's error.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from dotstack.mocks.physics.spin import SpinSegment, SpinSequence, SpinSimulator

GOAL_MS = 100.0
CHEVRON_GOAL_S = 10.0
SHOTS = 1000
AMP = 1e-3


def _sequences(sim: SpinSimulator) -> dict[str, SpinSequence]:
    truth = sim.ground_truth(drive_amplitude=AMP)
    f, f_rabi = truth["f_resonance_Hz"], truth["f_rabi_Hz"]
    half = SpinSegment(1 / (4 * f_rabi), drive_i=AMP, frequency=f)
    pi_y = SpinSegment(1 / (2 * f_rabi), drive_q=AMP, frequency=f)

    def cpmg(n: int, total: float = 50e-6) -> SpinSequence:
        tau = total / n
        segs = [half, SpinSegment(tau / 2)]
        for k in range(n):
            segs += [pi_y, SpinSegment(tau if k < n - 1 else tau / 2)]
        return SpinSequence.of([*segs, half])

    return {"ramsey": SpinSequence.of([half, SpinSegment(10e-6), half]),
            "hahn echo": cpmg(1), "cpmg-16": cpmg(16), "cpmg-64": cpmg(64)}


def chevron(points: int = 50, shots: int = 100) -> None:
    """The Rabi chevron end to end on the mock station (module docstring)."""
    from dotstack.experiments.spin import SPIN_EXPERIMENTS
    from dotstack.station import LabStation

    station_file = Path(__file__).resolve().parents[1] / "dotstack" / "stations" / "mock.yaml"
    station = LabStation.from_file(str(station_file))
    try:
        truth = station.ground_truth()["spin"]
        f_rabi = truth["rabi_Hz_per_dot_V"][0] * truth["mw_gain"] * 1.0 * 0.1 / 0.5
        freqs = truth["f_resonance_Hz"] + np.linspace(-3, 3, points) * f_rabi
        times = np.linspace(4e-9, 1e-6, points)
        with tempfile.TemporaryDirectory() as tmp:
            t0, c0 = time.perf_counter(), time.process_time()
            res = SPIN_EXPERIMENTS["rabi"](station, frequencies=freqs, times=times, shots=shots,
                                           data_dir=tmp)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        station.close()
    err = res.fit["f_rabi_Hz"] / f_rabi - 1.0
    print(f"spin rabi chevron {points}x{points} x {shots} shots end to end: {wall:6.2f} s "
          f"(CPU {cpu:6.2f} s, all threads); ratio to {CHEVRON_GOAL_S:.0f} s goal "
          f"{wall / CHEVRON_GOAL_S:.2f} (f_Rabi error {err * 100:+.2f} %)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-chevron", action="store_true", help="skip the end-to-end chevron")
    args = parser.parse_args()
    sim = SpinSimulator(seed=1)
    for name, seq in _sequences(sim).items():
        sim.run(seq, SHOTS)  # warm-up
        times = []
        for _ in range(max(1, args.repeats)):
            t0 = time.perf_counter()
            rec = sim.run(seq, SHOTS)
            times.append(time.perf_counter() - t0)
        assert rec.shots == SHOTS and not math.isnan(float(rec.signal.sum()))
        best, median = min(times) * 1e3, statistics.median(times) * 1e3
        print(f"spin {name:10s} {seq.size:4d} segments x {SHOTS} shots: best {best:6.1f} ms, "
              f"median {median:6.1f} ms; ratio to {GOAL_MS:.0f} ms goal {best / GOAL_MS:.2f}")
    if not args.no_chevron:
        chevron()


if __name__ == "__main__":
    main()
