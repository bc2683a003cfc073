"""Station validation (issue 10, point 4): every problem of a file at once, each naming its key
and line; duplicate YAML keys, two gates on one channel, unknown keys at any level, gate names
the run store cannot hold and hostile values refused; the JSON Schema for editors up to date."""

from __future__ import annotations

import fnmatch
import json
import pickle
import re
import tomllib
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from dotstack import station_schema, station_yaml
from dotstack.station import LabStation
from dotstack.station_config import Problem, StationConfig, StationConfigError
from dotstack.stations import MOCK, REAL_TEMPLATE

# line numbers below count from `instruments:` = line 1
GOOD = """\
instruments:
  qdac:
    type: dotstack.drivers.qdac2.QDac2
  dmm:
    type: qcodes.instrument_drivers.Keysight.Keysight34465A
dotstack:
  mock: {seed: 7}
  gates:
    P1: {instrument: qdac, channel: 1, limits: [-0.5, 0.5], max_ramp_rate: 5, max_step: 0.02}
    P2: {instrument: qdac, channel: 2, limits: [-0.5, 0.5]}
    S: {instrument: qdac, channel: 6, limits: [-0.3, 0.3]}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8, sees: [S, P1, P2]}
  triggers:
    qdac.trig1: dmm.ext
"""


def problems_of(text: str) -> list[Problem]:
    assert text != GOOD
    with pytest.raises(StationConfigError) as info:
        StationConfig.from_yaml(text, source="lab.yaml")
    return info.value.problems


def only_problem(text: str) -> str:
    found = problems_of(text)
    assert len(found) == 1, found
    return str(found[0])


def test_good_station_loads() -> None:
    cfg = StationConfig.from_yaml(GOOD)
    assert list(cfg.gates) == ["P1", "P2", "S"] and cfg.gates["P1"].limits.max_ramp_rate == 5
    assert cfg.readouts["sensor"].sees == ("S", "P1", "P2") and cfg.readouts["sensor"].gain == 1e8
    assert cfg.trigger_source("dmm.ext") == "qdac.trig1"


# -- the audit ------------------------------------------------------------------------------
def test_two_gates_on_one_dac_channel_are_refused() -> None:
    msg = only_problem(GOOD.replace("channel: 2,", "channel: 1,"))
    assert msg.startswith("lab.yaml:10: dotstack.gates.P2.channel: channel 1 of qdac is already gate P1 "
                          "(line 9)")


def test_duplicate_gate_name_is_refused_with_both_lines() -> None:
    text = GOOD.replace("    P2: {instrument: qdac, channel: 2",
                        "    P1: {instrument: qdac, channel: 2").replace("[S, P1, P2]", "[S, P1]")
    msg = only_problem(text)
    assert msg.startswith("lab.yaml:10: dotstack.gates.P1: duplicate key 'P1': first at line 9, "
                          "again at line 10")


@pytest.mark.parametrize(
    ("edit", "key", "first", "again"),
    [
        (("dotstack:\n", "dotstack: {}\ndotstack:\n"), "dotstack", 6, 7),
        (("  mock: {seed: 7}", "  mock: {seed: 7, seed: 8}"), "dotstack.mock.seed", 7, 7),
        (("channel: 6,", "channel: 6, channel: 7,"), "dotstack.gates.S.channel", 11, 11),
        (("  triggers:\n", "  triggers:\n    qdac.trig2: dmm.ext\n  triggers:\n"),
         "dotstack.triggers", 14, 16),
        (("    sensor: {", "    sensor: {instrument: dmm, gain: 1, sensor: 1}\n    sensor: {"),
         "dotstack.readout.sensor", 13, 14),
    ],
)
def test_duplicate_yaml_keys_anywhere_are_refused(edit: tuple[str, str], key: str, first: int,
                                                  again: int) -> None:
    found = [p for p in problems_of(GOOD.replace(*edit)) if "duplicate" in p.message]
    assert [(p.key, p.line) for p in found] == [(key, again)]
    assert f"first at line {first}, again at line {again}" in found[0].message


def test_duplicate_instrument_name_names_it() -> None:
    """Today's loader keeps the second `qdac` and fails later with "could not connect"."""
    text = GOOD.replace("  dmm:\n", "  qdac:\n    type: qcodes.instrument_drivers.Keysight.Keysight34465A\n"
                                    "  dmm:\n")
    msg = only_problem(text)
    assert msg.startswith("lab.yaml:4: instruments.qdac: duplicate key 'qdac': first at line 2, again at "
                          "line 4")
    with pytest.raises(StationConfigError, match=r"instruments\.qdac: duplicate key") as info:
        LabStation.from_yaml(text)
    assert "could not connect" not in str(info.value)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("dotstack:", "dotstak:"), "lab.yaml:6: dotstak: unknown key (did you mean 'dotstack'?"),
        (("dotstack:", "station: {}\ndotstack:"), "lab.yaml:6: station: unknown key (allowed: "
                                                  "instruments, dotstack)"),
        (("  gates:", "  gate: {}\n  gates:"), "lab.yaml:8: dotstack.gate: unknown key (did you mean "
                                              "'gates'?"),
        (("    type: dotstack.drivers.qdac2.QDac2",
          "    type: dotstack.drivers.qdac2.QDac2\n    adress: TCPIP0::1.2.3.4::5025::SOCKET"),
         "lab.yaml:4: instruments.qdac.adress: unknown key (did you mean 'address'?"),
    ],
)
def test_unknown_keys_are_refused_at_every_level(edit: tuple[str, str], expected: str) -> None:
    """QCoDeS' station schema allows only `instruments` at the top level (and its own instrument
    keys); dotstack adds `dotstack`."""
    assert only_problem(GOOD.replace(*edit)).startswith(expected)


@pytest.mark.parametrize("name", ["P 1", "P.1", "P/1", "1P", "", "P-1", "Pä", "current", "time",
                                  "frame", "meta", "class"])
def test_gate_names_the_run_store_cannot_hold_are_refused(name: str) -> None:
    quoted = json.dumps(name)
    msg = only_problem(GOOD.replace("    S: {", f"    {quoted}: {{").replace("[S, ", f"[{quoted}, "))
    key = f"dotstack.gates.{name}" if re.fullmatch(r"\w+", name) else f"dotstack.gates[{name!r}]"
    assert msg.startswith(f"lab.yaml:11: {key}: gate name {name!r} ")


@pytest.mark.parametrize("name", ["P3", "SB_2", "_x", "Current", "times"])
def test_gate_names_the_store_can_hold_pass(name: str) -> None:
    cfg = StationConfig.from_yaml(GOOD.replace("    S: {", f"    {name}: {{").replace("[S, ", f"[{name}, "))
    assert name in cfg.gates


def test_five_problems_in_one_file_are_reported_at_once() -> None:
    text = (GOOD.replace("dotstack:", "dotstak: {}\ndotstack:")          # 1 unknown top-level key
            .replace("limits: [-0.5, 0.5], max_ramp_rate", "limits: [.nan, 0.5], max_ramp_rate")  # 2 NaN
            .replace("channel: 2,", "channel: 1,")                     # 3 P2 on P1's channel
            .replace("    S: {", "    S: {instrument: qdac, channel: 7, limits: [0, 1]}\n"
                                 "    S: {")                         # 4 duplicate gate name
            .replace("  readout:", "    current: {instrument: qdac, channel: 8, limits: [0, 1]}\n"
                                   "  readout:"))                    # 5 a name the run store reserves
    with pytest.raises(StationConfigError) as info:
        StationConfig.from_yaml(text, source="lab.yaml")
    err = info.value
    assert [(p.line, p.key) for p in err.problems] == [
        (6, "dotstak"),
        (10, "dotstack.gates.P1.limits[0]"),
        (11, "dotstack.gates.P2.channel"),
        (13, "dotstack.gates.S"),
        (14, "dotstack.gates.current"),
    ], str(err)
    lines = str(err).splitlines()
    assert lines[0] == "lab.yaml: 5 problems"
    assert [line.split(": ")[1] for line in lines[1:]] == [p.key for p in err.problems]


# -- hostile values -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("edit", "key", "message"),
    [
        (("limits: [-0.5, 0.5], max_ramp", "limits: [.nan, 0.5], max_ramp"), "dotstack.gates.P1.limits[0]",
         "expected a finite number, got nan"),
        (("limits: [-0.5, 0.5], max_ramp", "limits: [-0.5, .inf], max_ramp"), "dotstack.gates.P1.limits[1]",
         "expected a finite number, got inf"),
        (("max_ramp_rate: 5", "max_ramp_rate: .inf"), "dotstack.gates.P1.max_ramp_rate",
         "expected a finite number, got inf (omit the key for no limit)"),
        (("max_ramp_rate: 5", "max_ramp_rate: 0"), "dotstack.gates.P1.max_ramp_rate", "must be > 0"),
        (("max_ramp_rate: 5", "max_ramp_rate: -1"), "dotstack.gates.P1.max_ramp_rate", "must be > 0"),
        (("max_step: 0.02", "max_step: 0"), "dotstack.gates.P1.max_step", "must be > 0"),
        (("max_ramp_rate: 5", "max_ramp_rate: true"), "dotstack.gates.P1.max_ramp_rate",
         "expected a number, got True"),
        (("max_step: 0.02", "max_step: yes"), "dotstack.gates.P1.max_step", "expected a number, got True"),
        (("max_step: 0.02", "max_step: 'np.float64(0.02)'"), "dotstack.gates.P1.max_step",
         "expected a number, got 'np.float64(0.02)'"),
        (("max_step: 0.02", "max_step: 20 mV"), "dotstack.gates.P1.max_step", "expected a number"),
        (("max_step: 0.02", "max_step: 'nan'"), "dotstack.gates.P1.max_step", "expected a number"),
        (("max_step: 0.02", "max_step: null"), "dotstack.gates.P1.max_step", "expected a number, got None"),
        (("max_step: 0.02", "max_step: 1e400"), "dotstack.gates.P1.max_step", "expected a finite number"),
        (("channel: 1,", "channel: true,"), "dotstack.gates.P1.channel", "expected an integer, got True"),
        (("channel: 1,", "channel: 1.0,"), "dotstack.gates.P1.channel", "expected an integer, got 1.0"),
        (("channel: 1,", "channel: 0,"), "dotstack.gates.P1.channel", "must be >= 1"),
        (("limits: [-0.5, 0.5], max_ramp", "limits: [true, 0.5], max_ramp"), "dotstack.gates.P1.limits[0]",
         "expected a number, got True"),
        (("limits: [-0.3, 0.3]", "limits: [0.3, -0.3]"), "dotstack.gates.S.limits", "min_v 0.3 V is above"),
        (("limits: [-0.3, 0.3]", "limits: -0.3"), "dotstack.gates.S.limits", "expected [min_V, max_V]"),
        (("gain: 1.0e8", "gain: .nan"), "dotstack.readout.sensor.gain", "expected a finite number"),
        (("gain: 1.0e8", "gain: 0"), "dotstack.readout.sensor.gain", "must be > 0"),
        (("gain: 1.0e8", "gain: 1.0e8, nplc: -1"), "dotstack.readout.sensor.nplc", "must be > 0"),
        (("seed: 7", "seed: true"), "dotstack.mock.seed", "expected an integer, got True"),
        (("seed: 7", "seed: 7, clock: fast"), "dotstack.mock.clock", "expected 'virtual' or 'realtime'"),
        (("[S, P1, P2]", "[S, P1, Q9]"), "dotstack.readout.sensor.sees[2]",
         "'Q9' is not one of the station's gates"),
        (("qdac.trig1: dmm.ext", "qdac.trig1: dmm2.ext"), "dotstack.triggers['qdac.trig1']",
         "'dmm2.ext': 'dmm2' is not one of the station's instruments"),
        (("qdac.trig1: dmm.ext", "qdac.trig1: dmm.ext\n    qdac.trig2: [dmm.ext]"),
         "dotstack.triggers['qdac.trig2'][0]", "input dmm.ext is already fed by qdac.trig1"),
        (("qdac.trig1: dmm.ext", "qdac.trig1: []"), "dotstack.triggers['qdac.trig1']",
         "expected at least 1 item(s), got []"),
        (("mock: {seed: 7}", "mock: {seed: 7, instruments: {qdac: qdac, dmm: qdac}}"),
         "dotstack.mock.instruments.dmm", "the mock lab's 'qdac' is already 'qdac'"),
    ],
)
def test_hostile_values_are_refused_naming_the_key(edit: tuple[str, str], key: str, message: str) -> None:
    msg = only_problem(GOOD.replace(*edit))
    assert re.match(rf"lab\.yaml:\d+: {re.escape(key)}: {re.escape(message)}", msg), msg


def test_limits_wider_than_the_driver_name_the_key() -> None:
    text = GOOD.replace("limits: [-0.3, 0.3]", "limits: [-0.3, 11.0]")
    with pytest.raises(StationConfigError, match=r"dotstack\.gates\.S\.limits: .*only narrow"):
        LabStation.from_yaml(text)


# -- the error ------------------------------------------------------------------------------
def test_error_lists_problems_one_per_line_and_keeps_them() -> None:
    text = GOOD.replace("channel: 2,", "channel: true,").replace("gain: 1.0e8", "gain: -1")
    with pytest.raises(StationConfigError) as info:
        StationConfig.from_yaml(text, source="lab.yaml")
    err = info.value
    assert str(err).splitlines() == ["lab.yaml: 2 problems", *map(str, err.problems)]
    assert err.problems[0] == Problem("lab.yaml", "dotstack.gates.P2.channel",
                                      "expected an integer, got True", 10)
    assert pickle.loads(pickle.dumps(err)).problems == err.problems
    plain = StationConfigError("station.yaml: dotstack.gates.S.channel: channel 30 does not exist")
    assert [str(p) for p in plain.problems] == [str(plain)]


def test_from_dict_reports_without_lines_and_takes_numpy_numbers() -> None:
    raw = {"instruments": {"qdac": {"type": "dotstack.drivers.qdac2.QDac2"}},
           "dotstack": {"mock": True, "gates": {
               "P1": {"instrument": "qdac", "channel": np.int64(1), "limits": [np.float64(-0.1), 0.1],
                      "max_step": np.float32(0.5)}}}}
    assert StationConfig.from_dict(raw).gates["P1"].limits.min_v == -0.1
    raw["dotstack"]["gates"]["P2"] = {"instrument": "qdac", "channel": 1, "limits": [0, np.nan]}
    with pytest.raises(StationConfigError) as info:
        StationConfig.from_dict(raw)
    assert [str(p) for p in info.value.problems] == [
        "<string>: dotstack.gates.P2.limits[1]: expected a finite number, got nan",
        "<string>: dotstack.gates.P2.channel: channel 1 of qdac is already gate P1: one gate per DAC channel",
    ]


def test_yaml_1_2_numbers_and_merge_keys() -> None:
    """``1e8`` is a number (as in YAML 1.2, QCoDeS and editors), also for the instruments' init;
    a key that overrides a merged (``<<:``) one is not a duplicate."""
    text = (GOOD.replace("gain: 1.0e8", "gain: 1e8")
            .replace("    type: qcodes.instrument_drivers.Keysight.Keysight34465A",
                     "    type: qcodes.instrument_drivers.Keysight.Keysight34465A\n    init: {timeout: 1e1}")
            .replace("    P2: {instrument: qdac, channel: 2, limits: [-0.5, 0.5]}",
                     "    P2: &gate {instrument: qdac, channel: 2, limits: [-0.5, 0.5]}\n"
                     "    B1: {<<: *gate, channel: 3}"))
    cfg = StationConfig.from_yaml(text)
    assert cfg.readouts["sensor"].gain == 1e8 and cfg.instruments["dmm"]["init"] == {"timeout": 10.0}
    assert cfg.gates["B1"].channel == 3 and cfg.gates["B1"].limits == cfg.gates["P2"].limits
    assert "timeout: 10.0" in cfg.qcodes_yaml()


def test_not_yaml_names_the_line() -> None:
    msg = only_problem("instruments:\n  qdac: {type: [unclosed\n")
    assert msg.startswith("lab.yaml:3: not valid YAML")


@pytest.mark.parametrize("text", ["", "- a\n", "instruments: {}\ndotstack: {mock: true}\n"])
def test_degenerate_files(text: str) -> None:
    if "mock" in text:
        assert StationConfig.from_yaml(text).gates == {}
    else:
        assert only_problem(text).startswith("lab.yaml")


# -- the JSON Schema for editors ------------------------------------------------------------
def shipped_station_texts() -> list[str]:
    return [MOCK.read_text(), REAL_TEMPLATE.read_text(), GOOD]


def test_json_schema_file_is_up_to_date() -> None:
    assert station_schema.SCHEMA_PATH.read_text() == station_schema.schema_text(), (
        "stale: run `python -m dotstack.station_schema`")
    assert station_schema.main(["--check"]) == 0


def test_shipped_stations_validate_against_the_json_schema() -> None:
    schema = json.loads(station_schema.SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for text in shipped_station_texts():
        StationConfig.from_yaml(text)
        errors = [e.message for e in validator.iter_errors(station_yaml.load(text).data)]
        assert errors == []


@pytest.mark.parametrize(
    "edit",
    [("dotstack:", "dotstak:"), ("    S: {", "    time: {"), ("    S: {", "    'S 1': {"),
     ("channel: 6", "channel: 0"), ("max_ramp_rate: 5", "max_ramp_rate: -5"), ("seed: 7", "seed: 7, x: 1"),
     ("qdac.trig1: dmm.ext", "qdac: dmm.ext"), ("type: dotstack.drivers.qdac2.QDac2", "type: QDac2")],
)
def test_json_schema_refuses_what_the_loader_refuses(edit: tuple[str, str]) -> None:
    text = GOOD.replace(*edit)
    problems_of(text)
    validator = jsonschema.Draft202012Validator(json.loads(station_schema.SCHEMA_PATH.read_text()))
    assert not validator.is_valid(station_yaml.load(text).data)


def test_json_schema_is_package_data() -> None:
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    globs = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    name = station_schema.SCHEMA_PATH.name
    assert any(fnmatch.fnmatch(name, g) or fnmatch.fnmatch(f"stations/{name}", g)
               for patterns in globs.values() for g in patterns)
