"""Benchmark: a 100x100 charge-stability map with the charge sensor (goal <= 5 ms).

Run: python benchmarks/charge_map.py [--repeats N]

Measured here, in one run: the vectorised model (`charge_stability_map`), a naive per-pixel
Python loop of the same occupation minimisation and sensor model (on a 20x20 grid, scaled to
100x100), and, for information, the same map with every noise source through
`VirtualLab.sensor_currents` and single readings through `VirtualLab.sensor_current`.
Reference numbers for other simulators are quoted, not measured here.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

from dotstack.mocks.physics import DeviceParams, ManualClock, VirtualLab, charge_stability_map
from dotstack.mocks.physics.scalar import ScalarModel

GOAL_MS = 5.0
REFERENCES_MS = {"qarray (JAX)": 12.0, "qarray (Rust)": 100.0, "qtt": 120.0}
N = 100


def _times(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def naive_map(device: DeviceParams, p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Per-pixel Python loop: for every pixel, minimise over the candidate occupations with
    Boltzmann weights and evaluate the sensor, one float at a time."""
    model = ScalarModel(device)
    image = np.empty((len(p2), len(p1)))
    gates = dict.fromkeys(("P1", "P2", "B1", "B2", "B3", "S", "SB1", "SB2"), 0.0)
    for i, y in enumerate(p2):
        for j, x in enumerate(p1):
            gates["P1"], gates["P2"] = float(x), float(y)
            image[i, j] = model.sensor_current(gates, model.dot_state(gates))
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    device = DeviceParams()
    p1 = np.linspace(-0.2, 0.2, N)
    p2 = np.linspace(-0.2, 0.2, N)

    fast = _times(lambda: charge_stability_map(p1, p2, device=device), args.repeats)
    best, median = min(fast) * 1e3, statistics.median(fast) * 1e3
    verdict = "goal met" if best <= GOAL_MS else "goal missed"
    print(f"charge map {N}x{N} + sensor, vectorised: best {best:.2f} ms, median {median:.2f} ms "
          f"(best of {args.repeats}); ratio to the {GOAL_MS:.0f} ms goal {best / GOAL_MS:.2f} "
          f"-> {verdict}")
    refs = ", ".join(f"{name} {ms:g} ms (x{ms / best:.0f})" for name, ms in REFERENCES_MS.items())
    print(f"  reference, not measured here: {refs}")

    small = 20
    q1, q2 = np.linspace(-0.2, 0.2, small), np.linspace(-0.2, 0.2, small)
    slow = _times(lambda: naive_map(device, q1, q2), 3)
    scaled = min(slow) * 1e3 * (N * N) / (small * small)
    agree = np.max(np.abs(naive_map(device, q1, q2) - charge_stability_map(q1, q2, device=device)))
    print(f"naive per-pixel Python loop (measured {small}x{small}, scaled to {N}x{N}): "
          f"{scaled:.1f} ms; vectorised is x{scaled / best:.0f} faster "
          f"(max |difference| {agree:.1e} A)")

    lab = VirtualLab(device, clock=ManualClock())
    dwell = 0.01
    times = np.arange(N * N) * dwell
    noisy = _times(lambda: lab.sensor_currents(times, dwell), max(3, args.repeats // 10))
    nbest = min(noisy) * 1e3
    print(f"noisy map {N}x{N} (1/f + telegraph + white, VirtualLab.sensor_currents): best "
          f"{nbest:.2f} ms; ratio to the {GOAL_MS:.0f} ms goal {nbest / GOAL_MS:.2f} "
          "(information)")

    readings = 2000
    t0 = time.perf_counter()
    for k in range(readings):
        lab.sensor_current(dwell, t=k * dwell)
    per = (time.perf_counter() - t0) / readings * 1e6
    print(f"single noisy reading (VirtualLab.sensor_current, scalar path): {per:.1f} us; "
          f"{N}x{N} readings one by one {per * N * N / 1e3:.0f} ms (information)")


if __name__ == "__main__":
    main()
