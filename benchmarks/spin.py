"""Benchmark: the spin engine (goal: 1,000 single-shot records of a typical Ramsey/CPMG
sequence in <= 100 ms of simulation).

Run: python benchmarks/spin.py [--repeats N]

Workloads, each 1,000 shots of `SpinSimulator.run` with the default parameters (two spins,
1/f charge noise from 1 mHz to 1 MHz, PSB readout): a Ramsey (X90 - 10 us - X90, 3 segments), a
Hahn echo (5 segments) and CPMG-16 and CPMG-64 (35 and 131 segments) over 50 us.  Each line
prints best and median wall time over the repeats and the ratio best / 100 ms (<= 1: goal met).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from dotstack.mocks.physics.spin import SpinSegment, SpinSequence, SpinSimulator

GOAL_MS = 100.0
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
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


if __name__ == "__main__":
    main()
