"""Benchmark: the hardware-timed DC raster against the software-stepped one, same run.

Run: python benchmarks/hardware_raster.py [--points N] [--realtime-points M]

Both scans map the charge-stability diagram of the mock lab through the full path a lab script
takes: `charge_stability` on a `LabStation` from the shipped mock station (our QDAC-II driver
in-process, the upstream QCoDeS Keysight 34465A driver over loopback PyVISA, the run streamed to
zarr).  ``software``: set P1, read the DMM, point by point.  ``hardware``: per row, a QDAC-II
timed list whose step markers trigger the DMM through the trigger cabling; one FETCh? per row.

On the *virtual* clock the wall time is the cost of simulating and talking to the instruments,
and the lab time is what the scan would take on the real set-up (instrument command times
modelled); on the *realtime* clock lab time is wall time (smaller grid: it really waits).
Each line prints the ratio software / hardware (> 1: the hardware raster is faster).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace

from dotstack.experiments.dc import charge_stability
from dotstack.station import LabStation
from dotstack.station_config import StationConfig
from dotstack.stations import MOCK


def _scan(station: LabStation, mode: str, points: int, out: str) -> tuple[float, float, str]:
    wall, lab = time.perf_counter(), station.time()
    run = charge_stability(station, p1=(-0.2, 0.2, points), p2=(-0.2, 0.2, points), mode=mode,
                           data_dir=out, plot=False, progress=False)
    return time.perf_counter() - wall, station.time() - lab, run.status


def _compare(clock: str, points: int) -> None:
    config = StationConfig.from_file(MOCK)
    assert config.mock is not None
    config = replace(config, mock=replace(config.mock, clock=clock))
    with tempfile.TemporaryDirectory() as out, LabStation(config) as station:
        _scan(station, "hardware", 21, out)  # warm up both paths (imports, first store);
        # 21 points: 20 mV steps, the largest the mock station lets a list jump
        _scan(station, "software", 21, out)
        sw = _scan(station, "software", points, out)
        hw = _scan(station, "hardware", points, out)
    n = points * points
    for name, (wall, lab, status) in (("software", sw), ("hardware", hw)):
        print(f"{clock:8s} {name:8s} {points}x{points}: wall {wall:7.2f} s "
              f"({wall / n * 1e6:6.0f} us/point), lab time {lab:7.2f} s ({lab / n * 1e3:5.2f} "
              f"ms/point), {status}")
    print(f"{clock:8s} hardware-timed raster {points}x{points}: wall-time ratio software/hardware "
          f"{sw[0] / hw[0]:.2f}, lab-time ratio {sw[1] / hw[1]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=81, help="points per axis, virtual clock")
    parser.add_argument("--realtime-points", type=int, default=21,
                        help="points per axis, realtime clock")
    args = parser.parse_args()
    _compare("virtual", args.points)
    _compare("realtime", args.realtime_points)


if __name__ == "__main__":
    main()
