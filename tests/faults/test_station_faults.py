"""Faults from the station file (``dotstack.mock.faults``): rehearse a script's error handling
on the mock lab by changing only the station configuration."""

from __future__ import annotations

import pytest

from dotstack.experiments.sweep import SweepAxis, gate_sweep
from dotstack.station import LabStation
from dotstack.station_config import StationConfig, StationConfigError

BASE = """\
instruments:
  qdac: {type: dotstack.drivers.qdac2.QDac2}
  dmm: {type: qcodes.instrument_drivers.Keysight.Keysight34465A}
dotstack:
  mock:
    seed: 3
    faults:
FAULTS
  gates:
    S: {instrument: qdac, channel: 6, limits: [-0.1, 0.1], max_ramp_rate: 5, max_step: 0.01}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8, nplc: 0.2}
"""


def station_text(faults: str) -> str:
    return BASE.replace("FAULTS", faults)


def test_a_fault_in_the_station_file_fails_the_run_naming_instrument_and_command(tmp_path) -> None:
    text = station_text("      - {kind: error, instrument: dmm, match: 'READ', at: 5}")
    with LabStation.from_yaml(text) as station:
        with pytest.raises(Exception, match=r"dmm") as info:
            gate_sweep(station, "faulty", [SweepAxis.linspace("S", -0.01, 0.01, 20)],
                       data_dir=tmp_path, progress=False)
        assert "READ" in str(info.value).upper()
        fired = station.mock_lab.fired_faults()
        assert [f.kind for f in fired] == ["error"]
        assert station.gate("S").get() == pytest.approx(0.0, abs=1e-6)


def test_faults_are_validated_naming_the_key() -> None:
    def problems(faults: str) -> str:
        with pytest.raises(StationConfigError) as info:
            StationConfig.from_yaml(station_text(faults), source="lab.yaml")
        return "\n".join(map(str, info.value.problems))

    assert "dotstack.mock.faults[0].kind" in problems("      - {kind: explode, instrument: dmm}")
    assert "dotstack.mock.faults[0].instrument: 'dvm' is not one of" in problems(
        "      - {kind: drop, instrument: dvm}")
    assert "dotstack.mock.faults[0].match" in problems(
        "      - {kind: drop, instrument: dmm, match: '(['}")
    assert "dotstack.mock.faults[0].probability" in problems(
        "      - {kind: drop, instrument: dmm, probability: 1.5}")
    assert "dotstack.mock.faults[0].at" in problems("      - {kind: drop, instrument: dmm, at: 0}")
    text = station_text("      - {kind: drop, instrument: dmm}").replace(
        "    seed: 3\n", "    seed: 3\n    connect: 127.0.0.1\n")
    with pytest.raises(StationConfigError, match="in-process mock lab only"):
        StationConfig.from_yaml(text)
