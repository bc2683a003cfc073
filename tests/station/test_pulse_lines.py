"""The station file's ``dotstack.pulse_lines``: which AWG channel drives which gate through how
much attenuation; checked against the station's gates and instruments, and against the mock
lab's own cabling when the lab runs in this process."""

from __future__ import annotations

import pytest

from dotstack.station import LabStation, PulseLine
from dotstack.station_config import StationConfig, StationConfigError
from dotstack.stations import MOCK, REAL_TEMPLATE

BASE = """\
instruments:
  qdac: {type: dotstack.drivers.qdac2.QDac2}
  awg: {type: dotstack.drivers.awg5208.AWG5208}
dotstack:
  mock: {seed: 7}
  gates:
    P1: {instrument: qdac, channel: 1, limits: [-0.5, 0.5]}
    P2: {instrument: qdac, channel: 2, limits: [-0.5, 0.5]}
  pulse_lines:
"""


def _problems(lines: str) -> str:
    with pytest.raises(StationConfigError) as info:
        StationConfig.from_yaml(BASE + lines, source="lab.yaml")
    return "\n".join(str(p) for p in info.value.problems)


def test_pulse_lines_are_read_with_their_gain() -> None:
    cfg = StationConfig.from_yaml(BASE + "    P1: {instrument: awg, channel: 1, attenuation_db: 20}\n")
    line = cfg.pulse_lines["P1"]
    assert (line.instrument, line.channel, line.attenuation_db) == ("awg", 1, 20.0)
    assert PulseLine("P1", "awg", 1, 20.0).gain == pytest.approx(0.1)
    assert cfg.as_dict()["pulse_lines"] == {"P1": {"instrument": "awg", "channel": 1,
                                                   "attenuation_db": 20.0, "bias_tee_s": None}}
    assert StationConfig.from_file(REAL_TEMPLATE).pulse_lines["P2"].channel == 2


@pytest.mark.parametrize("lines, message", [
    ("    B9: {instrument: awg, channel: 1}\n", "pulse_lines.B9: 'B9' is not one of the station's gates"),
    ("    P1: {instrument: awgg, channel: 1}\n", "pulse_lines.P1.instrument: 'awgg' is not one of"),
    ("    P1: {instrument: awg, channel: 1}\n    P2: {instrument: awg, channel: 1}\n",
     "pulse_lines.P2.channel: channel 1 of awg already drives P1"),
    ("    P1: {instrument: awg, channel: 0}\n", "pulse_lines.P1.channel: must be >= 1"),
    ("    P1: {instrument: awg, channel: 1.5}\n", "pulse_lines.P1.channel"),
    ("    P1: {instrument: awg, channel: 1, attenuation_db: .nan}\n", "pulse_lines.P1.attenuation_db"),
    ("    P1: {instrument: awg, chanel: 1}\n", "did you mean 'channel'"),
])
def test_bad_pulse_lines_are_refused_naming_the_key(lines: str, message: str) -> None:
    assert message in _problems(lines)


def test_the_mock_lab_refuses_a_file_that_contradicts_its_cabling() -> None:
    text = MOCK.read_text().replace("P2: {instrument: awg, channel: 2, attenuation_db: 20",
                                    "P2: {instrument: awg, channel: 2, attenuation_db: 10")
    with pytest.raises(StationConfigError, match=r"pulse_lines\.P2: the mock lab has awg channel 2 "
                                                 r"through 20 dB and a 0.01 s bias-T to P2, not awg "
                                                 r"channel 2 through 10 dB"):
        LabStation.from_yaml(text)
    text = MOCK.read_text().replace("P2: {instrument: awg, channel: 2, attenuation_db: 20, "
                                    "bias_tee_s: 0.01", "P2: {instrument: awg, channel: 2, "
                                    "attenuation_db: 20, bias_tee_s: 0.1")
    with pytest.raises(StationConfigError, match=r"not awg channel 2 through 20 dB and a 0.1 s"):
        LabStation.from_yaml(text)


def test_the_mock_station_file_states_the_labs_cabling() -> None:
    with LabStation.from_file(MOCK) as station:
        assert {g: (p.channel, p.attenuation_db, p.bias_tee_s)
                for g, p in station.pulse_lines.items()} == {
            "P1": (1, 20.0, 0.01), "P2": (2, 20.0, 0.01), "S": (3, 20.0, 0.01)}
