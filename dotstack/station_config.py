"""Station configuration: QCoDeS Station YAML plus a `dotstack:` section, validated into values.

```yaml
instruments:                       # QCoDeS Station format, passed to qcodes.Station unchanged
  qdac:
    type: dotstack.drivers.qdac2.QDac2
    address: TCPIP0::192.168.0.10::5025::SOCKET
  dmm:
    type: qcodes.instrument_drivers.Keysight.Keysight34465A
    address: TCPIP0::192.168.0.11::inst0::INSTR
dotstack:
  mock: false          # or {seed: 0, clock: virtual} (in-process mock lab), or
                       # {connect: 127.0.0.1, base_port: 5025} (a running `dotstack mock-lab serve`)
  gates:
    P1: {instrument: qdac, channel: 1, limits: [-1.0, 1.0], max_ramp_rate: 0.5, max_step: 0.005}
  readout:
    sensor: {instrument: dmm, gain: 1.0e8, nplc: 0.2, sees: [S, SB1, SB2, P1, P2]}
  triggers:            # trigger cables: source port -> destination port(s)
    qdac.trig1: dmm.ext
```
Loading checks the whole file and reports every problem at once, one per line, each naming the
file, the line and the key (``station.yaml:14: dotstack.gates.P1.channel: ...``): keys the format
does not know (at any level, the top level included), duplicate YAML keys, values of the wrong
type, NaN/inf or out of range, gate names the run store cannot hold, references to instruments
or gates that do not exist, two gates on one DAC channel, a trigger input fed twice.  The shape
is `dotstack.station_schema.StationFile` (pydantic; also the editors' JSON Schema); the
references between sections are checked here.
"""

from __future__ import annotations

import importlib
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dotstack import station_schema, station_yaml
from dotstack.drivers.protocols import ChannelLimits, LimitError
from dotstack.station_schema import StationFile


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a station file: where (file, line, key) and what."""

    source: str
    key: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return ": ".join(p for p in (where, self.key, self.message) if p)


class StationConfigError(ValueError):
    """A station file that cannot be used.

    The message lists every problem found, one per line, each naming the key; ``problems``
    holds them as `Problem` values.  Raised with a plain message (by `LabStation`, for what
    only the instruments can tell), ``problems`` holds that one message.
    """

    def __init__(self, problems: str | Sequence[Problem]) -> None:
        if isinstance(problems, str):
            self.problems = [Problem("", "", problems)]
            message = problems
        else:
            self.problems = list(problems)
            message = "\n".join(str(p) for p in self.problems)
            if len(self.problems) > 1:
                message = f"{self.problems[0].source}: {len(self.problems)} problems\n{message}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.problems,)


@dataclass(frozen=True)
class GateConfig:
    name: str
    instrument: str
    channel: int
    limits: ChannelLimits
    unit: str = "V"


@dataclass(frozen=True)
class ReadoutConfig:
    """A readout; ``sees`` names the gates whose effect it measures (empty: not declared)."""

    name: str
    instrument: str
    gain: float = 1.0
    nplc: float | None = None
    unit: str = "A"
    sees: tuple[str, ...] = ()


@dataclass(frozen=True)
class PulseLineConfig:
    """A gate's fast line: AWG ``instrument`` channel ``channel`` through ``attenuation_db``."""

    gate: str
    instrument: str
    channel: int
    attenuation_db: float = 0.0
    bias_tee_s: float | None = None  # None: not stated (DC-coupled; a mock lab's own line)


@dataclass(frozen=True)
class MockConfig:
    """Mock mode: ``connect`` None starts the mock lab in this process; else connect to a server."""

    seed: int = 0
    connect: str | None = None
    base_port: int = 5025
    instruments: Mapping[str, str] = field(default_factory=dict)  # station name -> mock-lab name
    #: "virtual" (deterministic, nothing sleeps) or "realtime" (wall clock); None: virtual for an
    #: in-process lab, whatever a served lab runs for ``connect``
    clock: str | None = None
    #: faults to inject (each a `dotstack.mocks.scpi.faults.Fault` as a mapping; the instrument
    #: by its mock-lab name)
    faults: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class StationConfig:
    instruments: Mapping[str, Mapping[str, Any]]
    gates: Mapping[str, GateConfig]
    readouts: Mapping[str, ReadoutConfig]
    mock: MockConfig | None
    source: str = "<string>"
    #: trigger cables, source port -> destination ports ("<instrument>.<connector>")
    triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: gate -> the AWG channel driving it through its bias-T
    pulse_lines: Mapping[str, PulseLineConfig] = field(default_factory=dict)

    @classmethod
    def from_file(cls, path: str | Path) -> StationConfig:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise StationConfigError(f"{path}: cannot read station file ({exc})") from exc
        return cls.from_yaml(text, source=str(path))

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<string>") -> StationConfig:
        try:
            loaded = station_yaml.load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = None if mark is None else int(mark.line) + 1
            raise StationConfigError([Problem(source, "", f"not valid YAML: {exc}", line)]) from exc
        return cls._validated(loaded.data, source, loaded)

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "<string>") -> StationConfig:
        return cls._validated(raw, source, None)

    @classmethod
    def _validated(cls, raw: Any, source: str, loaded: station_yaml.LoadedYaml | None) -> StationConfig:
        found = _Problems(source, loaded)
        if loaded is not None:
            for dup in loaded.problems:
                found.add(dup.path, dup.message, dup.line)
        if raw is None:
            found.add((), "the file is empty (expected `instruments:` and `dotstack:`)")
            found.raise_if_any()
        model, errors = station_schema.validate(raw)
        for path, message in errors:
            found.add(path, message)
        _check_references(raw, found)
        found.raise_if_any()
        assert model is not None
        config = cls._from_model(model, raw["instruments"], source, found)
        found.raise_if_any()
        return config

    @classmethod
    def _from_model(cls, model: StationFile, instruments: Mapping[str, Any], source: str,
                    found: _Problems) -> StationConfig:
        ds = model.dotstack
        gates = {}
        for name, g in ds.gates.items():
            try:
                limits = ChannelLimits(*g.limits, max_ramp_rate=g.max_ramp_rate, max_step=g.max_step)
            except LimitError as exc:  # the schema refuses all of these first; kept as a guard
                found.add(("dotstack", "gates", name, "limits"), str(exc))
                continue
            gates[name] = GateConfig(name, g.instrument, g.channel, limits, g.unit)
        readouts = {name: ReadoutConfig(name, r.instrument, r.gain, r.nplc, r.unit, tuple(r.sees))
                    for name, r in ds.readout.items()}
        mock = None if ds.mock is None else MockConfig(
            seed=ds.mock.seed, connect=ds.mock.connect, base_port=ds.mock.base_port,
            instruments=dict(ds.mock.instruments), clock=ds.mock.clock,
            faults=tuple({**f.model_dump(exclude_unset=True),
                          "instrument": ds.mock.instruments.get(f.instrument, f.instrument)}
                         for f in ds.mock.faults))
        triggers = {port: tuple(dests) for port, dests in ds.triggers.items()}
        lines = {gate: PulseLineConfig(gate, p.instrument, p.channel, p.attenuation_db,
                                       p.bias_tee_s)
                 for gate, p in ds.pulse_lines.items()}
        return cls(dict(instruments), gates, readouts, mock, source, triggers, lines)

    def trigger_source(self, port: str) -> str | None:
        """The output port cabled to input ``port`` (e.g. ``"dmm.ext"`` -> ``"qdac.trig1"``)."""
        for source, dests in self.triggers.items():
            if port in dests:
                return source
        return None

    def qcodes_yaml(self) -> str:
        """The `instruments:` section alone, as QCoDeS' Station.load_config expects it."""
        return yaml.safe_dump({"instruments": {k: dict(v) for k, v in self.instruments.items()}})

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (for the run's metadata)."""
        return {
            "source": self.source,
            "instruments": {k: dict(v) for k, v in self.instruments.items()},
            "gates": {k: {"instrument": g.instrument, "channel": g.channel,
                          "limits": [g.limits.min_v, g.limits.max_v],
                          "max_ramp_rate": _finite_or_none(g.limits.max_ramp_rate),
                          "max_step": _finite_or_none(g.limits.max_step)}
                      for k, g in self.gates.items()},
            "readout": {k: {"instrument": r.instrument, "gain": r.gain, "nplc": r.nplc, "unit": r.unit,
                            "sees": list(r.sees)}
                        for k, r in self.readouts.items()},
            "triggers": {k: list(v) for k, v in self.triggers.items()},
            "pulse_lines": {k: {"instrument": p.instrument, "channel": p.channel,
                                "attenuation_db": p.attenuation_db, "bias_tee_s": p.bias_tee_s}
                            for k, p in self.pulse_lines.items()},
            "mock": None if self.mock is None else {
                "seed": self.mock.seed, "connect": self.mock.connect, "base_port": self.mock.base_port,
                "clock": self.mock.clock, "faults": [dict(f) for f in self.mock.faults]},
        }


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


class _Problems:
    """The problems of one file, each with its key and (from YAML) line, in file order."""

    def __init__(self, source: str, loaded: station_yaml.LoadedYaml | None) -> None:
        self.source = source
        self.loaded = loaded
        self.found: list[Problem] = []

    def line(self, path: tuple[Any, ...]) -> int | None:
        return None if self.loaded is None else self.loaded.line(path)

    def add(self, path: tuple[Any, ...], message: str, line: int | None = None) -> None:
        problem = Problem(self.source, _key(path), message, self.line(path) if line is None else line)
        if problem not in self.found:
            self.found.append(problem)

    def raise_if_any(self) -> None:
        if self.found:
            ordered = sorted(self.found, key=lambda p: math.inf if p.line is None else p.line)
            raise StationConfigError(ordered)


def _key(path: tuple[Any, ...]) -> str:
    """``("dotstack", "gates", "P1", "limits", 0)`` -> ``dotstack.gates.P1.limits[0]``; a key
    that is not a plain name is quoted: ``dotstack.triggers['qdac.trig1']``."""
    key = ""
    for part in path:
        if isinstance(part, str) and _PLAIN.fullmatch(part):
            key += f".{part}" if key else part
        else:
            key += f"[{part!r}]"
    return key or "<top level>"


_PLAIN = re.compile(r"\w+")


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(mapping: Mapping[Any, Any]) -> list[str]:
    return sorted(str(k) for k in mapping)


def _check_references(raw: Any, found: _Problems) -> None:
    """What the schema cannot see: references between sections, one gate per DAC channel,
    one cable per trigger input, importable driver classes, addresses of real instruments.
    Works on the raw document, so that it reports even where the schema found problems."""
    root = _mapping(raw)
    instruments = _mapping(root.get("instruments"))
    ds = _mapping(root.get("dotstack"))
    mock = ds.get("mock", False)
    # a typo'd `dotstack:` leaves mock or real unknown: no address is then missing
    real = (mock is False or mock is None) and ("dotstack" in root or set(root) <= {"instruments"})
    for name, cfg in instruments.items():
        if not isinstance(cfg, Mapping):
            continue
        type_name = cfg.get("type")
        if isinstance(type_name, str) and "." in type_name:
            trouble = _import_problem(type_name)
            if trouble:
                found.add(("instruments", name, "type"), trouble)
        if real and cfg.get("address") is None:
            found.add(("instruments", name, "address"), "missing (a real instrument needs an address)")

    def instrument(path: tuple[Any, ...], name: Any) -> None:
        if isinstance(name, str) and name not in instruments:
            found.add(path, f"{name!r} is not one of the station's instruments {_names(instruments)}")

    gates = _mapping(ds.get("gates"))
    channels: dict[tuple[str, int], Any] = {}
    for name, gate in gates.items():
        gate = _mapping(gate)
        dac, channel = gate.get("instrument"), gate.get("channel")
        instrument(("dotstack", "gates", name, "instrument"), dac)
        if isinstance(dac, str) and isinstance(channel, numbers.Integral) and not isinstance(channel, bool):
            other = channels.setdefault((dac, int(channel)), name)
            if other != name:
                at = found.line(("dotstack", "gates", other))
                found.add(("dotstack", "gates", name, "channel"),
                          f"channel {channel} of {dac} is already gate {other}"
                          f"{f' (line {at})' if at else ''}: one gate per DAC channel")
    for name, readout in _mapping(ds.get("readout")).items():
        readout = _mapping(readout)
        instrument(("dotstack", "readout", name, "instrument"), readout.get("instrument"))
        sees = readout.get("sees")
        for i, gate_name in enumerate(sees if isinstance(sees, list) else []):
            if isinstance(gate_name, str) and gate_name not in gates:
                found.add(("dotstack", "readout", name, "sees", i),
                          f"{gate_name!r} is not one of the station's gates {_names(gates)}")
    fed_by: dict[str, Any] = {}
    for source, dests in _mapping(ds.get("triggers")).items():
        path: tuple[Any, ...] = ("dotstack", "triggers", source)
        ports: list[tuple[tuple[Any, ...], Any]] = [(path, source)]
        if isinstance(dests, str):
            ports.append((path, dests))
        elif isinstance(dests, list):
            ports.extend(((*path, i), port) for i, port in enumerate(dests))
        for where, port in ports:
            if isinstance(port, str) and "." in port:
                name = port.partition(".")[0]
                if name not in instruments:
                    found.add(where, f"{port!r}: {name!r} is not one of the station's "
                                     f"instruments {_names(instruments)}")
        for where, port in ports[1:]:
            if isinstance(port, str):
                first = fed_by.setdefault(port, source)
                if first != source:
                    found.add(where, f"input {port} is already fed by {first}")
    awg_channels: dict[tuple[str, int], Any] = {}
    for gate_name, line in _mapping(ds.get("pulse_lines")).items():
        line_key: tuple[Any, ...] = ("dotstack", "pulse_lines", gate_name)
        if gate_name not in gates:
            found.add(line_key, f"{gate_name!r} is not one of the station's gates {_names(gates)}")
        line = _mapping(line)
        awg, channel = line.get("instrument"), line.get("channel")
        instrument((*line_key, "instrument"), awg)
        if isinstance(awg, str) and isinstance(channel, numbers.Integral) \
                and not isinstance(channel, bool):
            other = awg_channels.setdefault((awg, int(channel)), gate_name)
            if other != gate_name:
                found.add((*line_key, "channel"), f"channel {channel} of {awg} already drives "
                                             f"{other}: one gate per AWG channel")
    mock_map = _mapping(mock)
    faults = mock_map.get("faults")
    for i, fault in enumerate(faults if isinstance(faults, list) else []):
        fault_key: tuple[Any, ...] = ("dotstack", "mock", "faults", i)
        if mock_map.get("connect") is not None:
            found.add(fault_key, "faults are injected into an in-process mock lab only (this station "
                             "connects to a served one)")
            break
        fault = _mapping(fault)
        instrument((*fault_key, "instrument"), fault.get("instrument"))
        pattern = fault.get("match")
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                found.add((*fault_key, "match"), f"{pattern!r} is not a regular expression ({exc})")
    lab_names: dict[Any, Any] = {}
    for name, lab_name in _mapping(_mapping(mock).get("instruments")).items():
        key = ("dotstack", "mock", "instruments", name)
        instrument(key, name)
        other = lab_names.setdefault(lab_name, name)
        if other != name:
            found.add(key, f"the mock lab's {lab_name!r} is already {other!r}")


def _import_problem(type_name: str) -> str | None:
    """Why ``module.Class`` cannot be imported, or None."""
    module_name, _, class_name = type_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        return f"unknown instrument type {type_name!r} ({exc})"
    if not hasattr(module, class_name):
        return f"unknown instrument type {type_name!r}: no {class_name} in {module_name}"
    return None
