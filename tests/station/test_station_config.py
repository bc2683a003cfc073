"""Station files: good ones load; bad ones fail with an error naming the key."""

from __future__ import annotations

import textwrap

import pytest

from dotstack.drivers.protocols import ChannelLimits
from dotstack.station import LabStation
from dotstack.station_config import StationConfig, StationConfigError
from dotstack.stations import MOCK, REAL_TEMPLATE

GOOD = """
instruments:
  qdac:
    type: dotstack.drivers.qdac2.QDac2
  dmm:
    type: qcodes.instrument_drivers.Keysight.Keysight34465A
dotstack:
  mock: {seed: 7}
  gates:
    P1: {instrument: qdac, channel: 1, limits: [-0.5, 0.5], max_ramp_rate: 5, max_step: 0.02}
    S: {instrument: qdac, channel: 6, limits: [-0.3, 0.3]}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8}
"""


def test_shipped_configs_parse() -> None:
    mock = StationConfig.from_file(MOCK)
    assert mock.mock is not None and set(mock.gates) >= {"P1", "P2", "S", "SB1"}
    real = StationConfig.from_file(REAL_TEMPLATE)
    assert real.mock is None
    assert all("address" in cfg for cfg in real.instruments.values())
    assert real.gates["P1"].limits == ChannelLimits(-1.0, 1.0, 0.1, 0.005)


def test_yaml_exponent_without_sign_is_a_number() -> None:
    cfg = StationConfig.from_yaml(GOOD)
    assert cfg.readouts["sensor"].gain == 1e8


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (("type: dotstack.drivers.qdac2.QDac2", "type: dotstack.drivers.nope.Nope"), "instruments.qdac.type"),
        (("type: dotstack.drivers.qdac2.QDac2", "type: dotstack.drivers.qdac2.Nop"), "instruments.qdac.type"),
        (("instrument: qdac, channel: 1", "instrument: qdacx, channel: 1"), "dotstack.gates.P1.instrument"),
        (("channel: 1,", "channel: -1,"), "dotstack.gates.P1.channel"),
        (("limits: [-0.5, 0.5]", "limits: [0.5]"), "dotstack.gates.P1.limits"),
        (("limits: [-0.5, 0.5]", "limits: [0.5, -0.5]"), "dotstack.gates.P1"),
        (("max_ramp_rate: 5", "max_ramp_rate: fast"), "dotstack.gates.P1.max_ramp_rate"),
        (("gain: 1.0e8", "gain: -1"), "dotstack.readout.sensor.gain"),
        (("mock: {seed: 7}", "mock: {seed: 7, colour: red}"), "dotstack.mock.colour"),
        (("S: {", "S: {volts: 1, "), "dotstack.gates.S.volts"),
    ],
)
def test_bad_station_names_the_key(edit: tuple[str, str], key: str) -> None:
    text = GOOD.replace(*edit)
    assert text != GOOD
    with pytest.raises(StationConfigError, match=key.replace(".", r"\.")):
        StationConfig.from_yaml(text)


def test_real_station_needs_addresses() -> None:
    text = GOOD.replace("mock: {seed: 7}", "mock: false")
    with pytest.raises(StationConfigError, match=r"instruments\.qdac\.address: missing"):
        StationConfig.from_yaml(text)


def test_not_yaml() -> None:
    with pytest.raises(StationConfigError, match="not valid YAML"):
        StationConfig.from_yaml("instruments: [unclosed")


def test_gate_on_missing_channel_is_refused() -> None:
    text = GOOD.replace("channel: 6,", "channel: 30,")
    with pytest.raises(StationConfigError, match=r"dotstack\.gates\.S\.channel: channel 30 does not exist"):
        LabStation.from_yaml(text)


def test_station_limits_only_narrow() -> None:
    text = GOOD.replace("limits: [-0.3, 0.3]", "limits: [-12.0, 0.3]")
    with pytest.raises(StationConfigError, match=r"dotstack\.gates\.S\.limits: .*only narrow"):
        LabStation.from_yaml(text)


def test_mock_station_runs_gates_and_readout() -> None:
    with LabStation.from_yaml(textwrap.dedent(GOOD)) as station:
        gate = station.gate("S")
        assert gate.limits.min_v == -0.3 and gate.limits.max_v == 0.3
        gate.set(0.01)
        assert gate.get() == pytest.approx(0.01, abs=1e-6)
        assert station.mock_lab.lab.gate_voltages()["S"] == pytest.approx(0.01, abs=1e-6)
        with pytest.raises(ValueError, match="outside the limits"):
            gate.set(0.31)
        assert gate.get() == pytest.approx(0.01, abs=1e-6)
        current = station.readout().read()
        assert 1e-12 < current < 1e-8
        truth = station.ground_truth()
        assert truth is not None and truth["seed"] == 7
        with pytest.raises(KeyError, match="no gate 'Q9'"):
            station.gate("Q9")
