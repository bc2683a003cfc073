"""After a timeout or a dropped connection the DMM readout reopens its VISA session before the
next call: the station keeps working, and a late reply is never taken for the next answer."""

from __future__ import annotations

import pytest
from harness import STATION

from dotstack.drivers.transport import TransportError
from dotstack.mocks.scpi import Fault, FaultPlan
from dotstack.station import LabStation


@pytest.mark.parametrize("kind, message", [("timeout", "timeout after"),
                                           ("drop", "connection closed")])
def test_the_readout_works_again_after_a_transient_fault(kind: str, message: str) -> None:
    with LabStation.from_yaml(STATION) as station:
        sensor = station.readouts["sensor"]
        good = sensor.read()
        station.mock_lab.inject(FaultPlan.of(Fault(kind, "dmm", match="READ", count=1)))
        with pytest.raises(TransportError, match=message):
            sensor.read()
        assert [f.kind for f in station.mock_lab.fired_faults()] == [kind]
        again = [sensor.read() for _ in range(3)]  # a fresh session: real readings
        truth = station.mock_lab.lab.sensor_current(0.2, station.time())
        # readings of the lab's sensor (its 1/f noise moves them by ~20 % between readings)
        assert all(0.5 < v / truth < 2.0 for v in again), (good, again, truth)
