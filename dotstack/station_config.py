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
Every error names the key that is wrong, e.g. ``dotstack.gates.P1.channel``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dotstack.drivers.protocols import ChannelLimits, LimitError


class StationConfigError(ValueError):
    """A station file that cannot be used; the message names the offending key."""


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
class MockConfig:
    """Mock mode: ``connect`` None starts the mock lab in this process; else connect to a server."""

    seed: int = 0
    connect: str | None = None
    base_port: int = 5025
    instruments: Mapping[str, str] = field(default_factory=dict)  # station name -> mock-lab name
    #: "virtual" (deterministic, nothing sleeps) or "realtime" (wall clock); None: virtual for an
    #: in-process lab, whatever a served lab runs for ``connect``
    clock: str | None = None


@dataclass(frozen=True)
class StationConfig:
    instruments: Mapping[str, Mapping[str, Any]]
    gates: Mapping[str, GateConfig]
    readouts: Mapping[str, ReadoutConfig]
    mock: MockConfig | None
    source: str = "<string>"
    #: trigger cables, source port -> destination ports ("<instrument>.<connector>")
    triggers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise StationConfigError(f"{source}: not valid YAML: {exc}") from exc
        return cls.from_dict(raw, source=source)

    @classmethod
    def from_dict(cls, raw: Any, *, source: str = "<string>") -> StationConfig:
        where = _Where(source)
        root = where.mapping(raw, "")
        instruments = where.mapping(root.get("instruments"), "instruments")
        for name, cfg in instruments.items():
            key = f"instruments.{name}"
            cfg = where.mapping(cfg, key)
            _check_type(where, cfg.get("type"), f"{key}.type")
        ds = where.mapping(root.get("dotstack", {}), "dotstack")
        unknown = set(ds) - {"mock", "gates", "readout", "triggers"}
        if unknown:
            raise where.error(f"dotstack.{sorted(unknown)[0]}", "unknown key")
        mock = _mock_config(where, ds.get("mock", False))
        for name, cfg in instruments.items():
            if mock is None and "address" not in cfg:
                raise where.error(f"instruments.{name}.address",
                                  "missing (a real instrument needs an address)")
        gates = {
            name: _gate(where, name, cfg, instruments) for name, cfg in
            where.mapping(ds.get("gates", {}), "dotstack.gates").items()
        }
        readouts = {
            name: _readout(where, name, cfg, instruments) for name, cfg in
            where.mapping(ds.get("readout", {}), "dotstack.readout").items()
        }
        for readout in readouts.values():
            bad = [g for g in readout.sees if g not in gates]
            if bad:
                raise where.error(f"dotstack.readout.{readout.name}.sees",
                                  f"{bad[0]!r} is not one of the station's gates {sorted(gates)}")
        triggers = _triggers(where, ds.get("triggers", {}), instruments)
        return cls(dict(instruments), gates, readouts, mock, source, triggers)

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
            "mock": None if self.mock is None else {
                "seed": self.mock.seed, "connect": self.mock.connect, "base_port": self.mock.base_port,
                "clock": self.mock.clock},
        }


def _finite_or_none(x: float) -> float | None:
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class _Where:
    source: str

    def error(self, key: str, problem: str) -> StationConfigError:
        return StationConfigError(f"{self.source}: {key or '<top level>'}: {problem}")

    def mapping(self, value: Any, key: str) -> dict[str, Any]:
        if value is None:
            raise self.error(key, "missing")
        if not isinstance(value, Mapping):
            raise self.error(key, f"expected a mapping, got {type(value).__name__}")
        return dict(value)

    def entry(self, raw: Any, key: str, instruments: Mapping[str, Any],
              allowed: set[str]) -> tuple[dict[str, Any], str]:
        """A gate or readout entry: a mapping of known keys naming one of the instruments."""
        cfg = self.mapping(raw, key)
        unknown = set(cfg) - allowed - {"instrument"}
        if unknown:
            raise self.error(f"{key}.{sorted(unknown)[0]}", "unknown key")
        instrument = cfg.get("instrument")
        if instrument not in instruments:
            raise self.error(f"{key}.instrument",
                             f"{instrument!r} is not one of the station's instruments {sorted(instruments)}")
        return cfg, str(instrument)

    def number(self, cfg: Mapping[str, Any], name: str, key: str, default: float | None = None) -> float:
        value = cfg.get(name, default)
        if value is None:
            raise self.error(f"{key}.{name}", "missing")
        if isinstance(value, str):  # YAML 1.1 reads 1.0e8 (no exponent sign) as a string
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{key}.{name}", f"expected a number, got {value!r}")
        return float(value)


def _check_type(where: _Where, type_name: Any, key: str) -> None:
    if not isinstance(type_name, str) or "." not in type_name:
        raise where.error(key, f"expected 'module.Class', got {type_name!r}")
    module_name, _, class_name = type_name.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise where.error(key, f"unknown instrument type {type_name!r} ({exc})") from exc
    if not hasattr(module, class_name):
        raise where.error(key, f"unknown instrument type {type_name!r}: no {class_name} in {module_name}")


def _mock_config(where: _Where, raw: Any) -> MockConfig | None:
    if raw is False or raw is None:
        return None
    if raw is True:
        return MockConfig()
    cfg = where.mapping(raw, "dotstack.mock")
    unknown = set(cfg) - {"seed", "connect", "base_port", "instruments", "clock"}
    if unknown:
        raise where.error(f"dotstack.mock.{sorted(unknown)[0]}", "unknown key")
    seed = cfg.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise where.error("dotstack.mock.seed", f"expected an integer, got {seed!r}")
    names = where.mapping(cfg.get("instruments", {}), "dotstack.mock.instruments")
    clock = cfg.get("clock")
    if clock not in (None, "virtual", "realtime"):
        raise where.error("dotstack.mock.clock", f"expected 'virtual' or 'realtime', got {clock!r}")
    return MockConfig(seed=seed, connect=cfg.get("connect"),
                      base_port=int(where.number(cfg, "base_port", "dotstack.mock", 5025)),
                      instruments={str(k): str(v) for k, v in names.items()}, clock=clock)


def _gate(where: _Where, name: str, raw: Any, instruments: Mapping[str, Any]) -> GateConfig:
    key = f"dotstack.gates.{name}"
    cfg, instrument = where.entry(raw, key, instruments,
                                  {"channel", "limits", "max_ramp_rate", "max_step", "unit"})
    channel = cfg.get("channel")
    if not isinstance(channel, int) or isinstance(channel, bool) or channel < 1:
        raise where.error(f"{key}.channel", f"expected a channel number >= 1, got {channel!r}")
    limits = cfg.get("limits")
    if (not isinstance(limits, (list, tuple)) or len(limits) != 2
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in limits)):
        raise where.error(f"{key}.limits", f"expected [min_V, max_V], got {limits!r}")
    try:
        channel_limits = ChannelLimits(
            float(limits[0]), float(limits[1]),
            max_ramp_rate=where.number(cfg, "max_ramp_rate", key, math.inf),
            max_step=where.number(cfg, "max_step", key, math.inf),
        )
    except LimitError as exc:
        raise where.error(key, str(exc)) from exc
    return GateConfig(name, instrument, channel, channel_limits, str(cfg.get("unit", "V")))


def _readout(where: _Where, name: str, raw: Any, instruments: Mapping[str, Any]) -> ReadoutConfig:
    key = f"dotstack.readout.{name}"
    cfg, instrument = where.entry(raw, key, instruments, {"gain", "nplc", "unit", "sees"})
    gain = where.number(cfg, "gain", key, 1.0)
    if not gain > 0:
        raise where.error(f"{key}.gain", f"must be > 0, got {gain}")
    nplc = cfg.get("nplc")
    if nplc is not None:
        nplc = where.number(cfg, "nplc", key)
    sees = cfg.get("sees", [])
    if not isinstance(sees, list) or not all(isinstance(g, str) for g in sees):
        raise where.error(f"{key}.sees", f"expected a list of gate names, got {sees!r}")
    return ReadoutConfig(name, instrument, gain, nplc, str(cfg.get("unit", "A")), tuple(sees))


def _triggers(where: _Where, raw: Any, instruments: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """``source: dest`` or ``source: [dest, ...]``; ports are ``<instrument>.<connector>``."""
    lines = where.mapping(raw, "dotstack.triggers")
    result: dict[str, tuple[str, ...]] = {}
    fed_by: dict[str, str] = {}
    for source, dests in lines.items():
        key = f"dotstack.triggers.{source}"
        targets = [dests] if isinstance(dests, str) else dests
        if not isinstance(targets, list) or not targets:
            raise where.error(key, f"expected a port or a list of ports, got {dests!r}")
        for port in [source, *targets]:
            name, dot, connector = str(port).partition(".")
            if not (isinstance(port, str) and dot and connector and "." not in connector):
                raise where.error(key, f"a port is '<instrument>.<connector>', got {port!r}")
            if name not in instruments:
                raise where.error(key, f"{port!r}: {name!r} is not one of the station's "
                                       f"instruments {sorted(instruments)}")
        for port in targets:
            if port in fed_by:
                raise where.error(key, f"input {port} is already fed by {fed_by[port]}")
            fed_by[port] = source
        result[str(source)] = tuple(targets)
    return result
