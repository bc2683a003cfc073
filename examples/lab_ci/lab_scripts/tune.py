"""Tune the charge sensor: scan its plunger S over a Coulomb peak and park it on the steepest
rising flank, where the sensor is most sensitive to the dots' charge.

    python -m lab_scripts.tune station.yaml
"""

from __future__ import annotations

import sys

from dotstack.experiments.dc import sensor_scan
from dotstack.station import LabStation


def tune_sensor(station: LabStation, window: float = 0.025, points: int = 121) -> float:
    """Scan S over +-``window`` V in ``points`` steps, park it on the steepest rising flank of the
    tallest peak, and return that operating point (V)."""
    run = sensor_scan(station, "S", -window, window, points, plot=False, progress=False)
    if run.status != "completed" or "operating_point_V" not in run.fit:
        raise RuntimeError(f"sensor scan {run.path}: {run.status}, fit {dict(run.fit)}")
    return float(run.fit["operating_point_V"])


if __name__ == "__main__":
    with LabStation.from_file(sys.argv[1]) as lab:
        print(f"S parked at {tune_sensor(lab):+.6f} V")
