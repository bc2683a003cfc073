"""Child process of the safe-abort test: a slow-ramping realtime station, one sweep, ticks."""

import sys

from dotstack.experiments.sweep import RunInterrupted, SweepAxis, gate_sweep
from dotstack.station import LabStation

STATION = """
instruments:
  qdac: {type: dotstack.drivers.qdac2.QDac2}
  dmm: {type: qcodes.instrument_drivers.Keysight.Keysight34465A}
dotstack:
  mock: {seed: 2, clock: realtime}
  gates:
    P1: {instrument: qdac, channel: 1, limits: [-0.5, 0.5], max_ramp_rate: 0.05, max_step: 0.001}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8, nplc: 0.2}
"""


class Ticking:
    """The station's readout, printing a line per reading (the parent follows the progress)."""

    def __init__(self, inner):
        self.inner, self.unit = inner, inner.unit

    def read(self):
        print("tick", flush=True)
        return self.inner.read()

    def read_many(self, n):
        return self.inner.read_many(n)


with LabStation.from_yaml(STATION) as station:
    station.readouts["sensor"] = Ticking(station.readouts["sensor"])
    try:
        gate_sweep(station, "abort_test", [SweepAxis.linspace("P1", 0.0, 0.4, 401)],
                   data_dir=sys.argv[1], progress=False)
    except RunInterrupted as exc:
        print(f"aborted {exc.path}", flush=True)
        print(f"P1 {station.gate('P1').get():+.6f}", flush=True)
        sys.exit(130)
