"""The shape of a station file, as pydantic models: validation and the editors' JSON Schema.

`validate` checks one document against `StationFile` and returns every problem at once, each
as the path of the offending key and a message; references between sections (a gate's
instrument, a readout's ``sees``, two gates on one DAC channel) are checked in
`dotstack.station_config`, which turns both into `StationConfigError`.

The JSON Schema shipped as ``dotstack/stations/station.schema.json`` is generated from these
models; after changing them, run ``python -m dotstack.station_schema`` (a test fails while the
file is stale).  Editors with a YAML language server pick it up from a first line
``# yaml-language-server: $schema=<path or URL of station.schema.json>``.
"""

from __future__ import annotations

import difflib
import json
import keyword
import math
import numbers
import re
import sys
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

#: the JSON Schema file (in the source tree; shipped as package data)
SCHEMA_PATH = Path(__file__).resolve().parent / "stations" / "station.schema.json"

#: names the run store uses itself (data variables, dimensions, the metadata group): a gate is a
#: swept axis of a run, so it must not take one of them
RESERVED_NAMES = frozenset({"current", "frame", "meta", "record", "sample", "time", "trace"})

_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
_INSTRUMENT = r"^\w+$"  # QCoDeS' station schema
_CLASS_PATH = r"^\w+(\.\w+)+$"
_PORT = r"^\w+\.\w+$"
_DECIMAL = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def _problem(message: str) -> PydanticCustomError:
    """A validation error whose message is ``message`` as it stands."""
    return PydanticCustomError("station", "{message}", {"message": message})


def _show(value: Any) -> str:
    """``value`` for a message: its repr, shortened."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# -- value types ---------------------------------------------------------------------------
def _number(value: Any) -> Any:
    """A real number: int or float (not bool), or a decimal string (YAML 1.1 reads ``1.0e8``
    as one); NaN and inf are refused by the float type after this."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise _problem(f"expected a finite number, got {_show(value)}") from None
    if isinstance(value, str) and _DECIMAL.match(value.strip()):
        return float(value)
    raise _problem(f"expected a number, got {_show(value)}")


def _integer(value: Any) -> Any:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise _problem(f"expected an integer, got {_show(value)}")


def _pattern(regex: str, what: str, extra: Callable[[str], str | None] | None = None
             ) -> Callable[[str], str]:
    """A check that a string matches ``regex``; else the error ``what`` (``{value}``: the string)."""
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _problem(what.format(value=_show(value)))
        bad = extra(value) if extra else None
        if bad:
            raise _problem(bad)
        return value

    return check


def _gate_name_clash(name: str) -> str | None:
    if name in RESERVED_NAMES:
        return (f"gate name {name!r} is reserved by the run store "
                f"(reserved: {', '.join(sorted(RESERVED_NAMES))})")
    if keyword.iskeyword(name):
        return f"gate name {name!r} is a Python keyword; choose another"
    return None


Str = Annotated[str, Strict()]
# constraints before the BeforeValidator: they then apply to (and appear in the schema of) the
# number the validator returns
Number = Annotated[float, Field(allow_inf_nan=False), BeforeValidator(_number)]
Positive = Annotated[float, Field(allow_inf_nan=False, gt=0), BeforeValidator(_number)]
Integer = Annotated[int, BeforeValidator(_integer)]
GateName = Annotated[str, Strict(), AfterValidator(_pattern(
    _IDENTIFIER, "gate name {value} cannot name a variable of the run store: use letters, digits "
                 "and '_', not starting with a digit", _gate_name_clash)),
    WithJsonSchema({"type": "string", "pattern": _IDENTIFIER, "not": {"enum": sorted(RESERVED_NAMES)}})]
InstrumentName = Annotated[str, Strict(), AfterValidator(_pattern(
    _INSTRUMENT, "instrument name {value}: use letters, digits and '_' only")),
    WithJsonSchema({"type": "string", "pattern": _INSTRUMENT})]
ClassPath = Annotated[str, Strict(), AfterValidator(_pattern(
    _CLASS_PATH, "expected 'module.Class', got {value}")),
    WithJsonSchema({"type": "string", "pattern": _CLASS_PATH})]
Port = Annotated[str, Strict(), AfterValidator(_pattern(
    _PORT, "a port is '<instrument>.<connector>', got {value}")),
    WithJsonSchema({"type": "string", "pattern": _PORT})]


def _limits_pair(value: Any) -> Any:
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return value
    raise _problem(f"expected [min_V, max_V], got {_show(value)}")


def _limits_order(value: tuple[float, float]) -> tuple[float, float]:
    if value[0] > value[1]:
        raise _problem(f"min_v {value[0]} V is above max_v {value[1]} V")
    return value


Limits = Annotated[tuple[Number, Number], BeforeValidator(_limits_pair), AfterValidator(_limits_order)]


def _mock_flag(value: Any) -> Any:
    """``false``/null: real instruments; ``true``: the mock lab with defaults."""
    if value is False or value is None:
        return None
    return {} if value is True else value


def _one_or_more(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# -- the file ------------------------------------------------------------------------------
class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Instrument(_Section):
    """A QCoDeS instrument (QCoDeS' station format, passed to `qcodes.Station` unchanged)."""

    type: ClassPath
    """The driver class, 'module.Class'."""
    address: Str | None = None
    """VISA address (a real instrument needs one; the mock lab supplies its own)."""
    port: Integer | None = None
    init: dict[Str, Any] | None = None
    """Further keyword arguments of the driver."""
    enable_forced_reconnect: Annotated[bool, Strict()] | None = None
    add_parameters: dict[Str, Any] | None = None
    parameters: dict[Str, Any] | None = None
    driver: Str | None = None
    """Deprecated by QCoDeS: append it to `type`."""


class Gate(_Section):
    """A gate electrode: a DAC channel with the station's (narrowing) limits."""

    instrument: Str
    """The DAC, one of `instruments`."""
    channel: Annotated[int, Field(ge=1), BeforeValidator(_integer)]
    """The DAC channel (from 1); one gate per channel."""
    limits: Limits
    """[min_V, max_V]: may only narrow the driver's limits."""
    max_ramp_rate: Positive = Field(default_factory=lambda: math.inf)
    """Fastest ramp, V/s (omit: the driver's)."""
    max_step: Positive = Field(default_factory=lambda: math.inf)
    """Largest jump applied at once, V; larger moves are ramped (omit: the driver's)."""
    unit: Str = "V"


class Readout(_Section):
    """A DC readout: an instrument behind an amplifier."""

    instrument: Str
    """The meter, one of `instruments`."""
    gain: Positive = 1.0
    """Amplifier gain, V/A."""
    nplc: Positive | None = None
    """Integration time in power-line cycles (null: the instrument's)."""
    unit: Str = "A"
    sees: list[Str] = Field(default_factory=list)
    """The gates whose effect this readout measures (experiments pick or refuse by it)."""


class PulseLine(_Section):
    """An AWG channel's line to a gate, through the bias-T's AC port: gate = DC + gain * AWG."""

    instrument: Str
    """The AWG, one of `instruments`."""
    channel: Annotated[int, Field(ge=1), BeforeValidator(_integer)]
    """The AWG channel (from 1); one gate per channel."""
    attenuation_db: Number = 0.0
    """Attenuation of the line (dB, power: 20 dB is x0.1 in volts)."""
    bias_tee_s: Positive | None = None
    """The bias-T's time constant, s (null: a DC-coupled line); AWG programs are checked as the
    gate sees them through it."""


class FaultSpec(_Section):
    """A fault the mock lab injects (see `dotstack.mocks.scpi.faults`)."""

    kind: Literal["timeout", "drop", "garble", "error", "reset", "slow"]
    """What goes wrong."""
    instrument: Str
    """The station instrument it happens to."""
    at: Annotated[int, Field(ge=1), BeforeValidator(_integer)] = 1
    """The counted message it fires on (1: the first)."""
    match: Str | None = None
    """Count only messages matching this regular expression (case-insensitive)."""
    probability: Annotated[float, Field(allow_inf_nan=False, gt=0, le=1),
                           BeforeValidator(_number)] | None = None
    """Fire on each counted message from `at` on with this probability (seeded)."""
    count: Annotated[int, Field(ge=1), BeforeValidator(_integer)] | None = 1
    """How many counted messages in a row it affects (null: every later one)."""
    delay: Annotated[float, Field(allow_inf_nan=False, ge=0), BeforeValidator(_number)] = 0.0
    """slow: the reply's delay, s of lab time."""
    code: Annotated[int, Field(ge=-499, le=-100), BeforeValidator(_integer)] = -300
    """error: the SCPI error code."""


class Mock(_Section):
    """The mock lab: in this process, or a running `dotstack mock-lab serve` (`connect`)."""

    seed: Annotated[int, Field(ge=0), BeforeValidator(_integer)] = 0
    """Seed of the simulated device's noise."""
    connect: Str | None = None
    """Host of a running `dotstack mock-lab serve` (null: start the lab in this process)."""
    base_port: Annotated[int, Field(ge=1, le=65535), BeforeValidator(_integer)] = 5025
    """First port of the served lab."""
    instruments: dict[Str, Str] = Field(default_factory=dict)
    """Station instrument name -> the mock lab's instrument name, where they differ."""
    clock: Literal["virtual", "realtime"] | None = None
    """virtual: deterministic, nothing sleeps; realtime: the wall clock."""
    faults: list[FaultSpec] = Field(default_factory=list)
    """Faults to inject (in-process mock lab only): rehearse how a script copes."""


class Dotstack(_Section):
    """dotstack's own section: gates, readouts, trigger cabling, mock lab."""

    mock: Annotated[Mock | None, BeforeValidator(
        _mock_flag, json_schema_input_type=bool | Mock | None)] = None
    """false: real instruments; true or a mapping: the mock lab."""
    gates: dict[GateName, Gate] = Field(default_factory=dict)
    """Gate name -> its DAC channel and limits."""
    readout: dict[Str, Readout] = Field(default_factory=dict)
    """Readout name -> its instrument (the first is the default)."""
    triggers: dict[Port, Annotated[list[Port], BeforeValidator(
        _one_or_more, json_schema_input_type=Port | list[Port]), Field(min_length=1)]] = Field(
        default_factory=dict)
    """Trigger cables: output port -> input port(s), '<instrument>.<connector>'."""
    pulse_lines: dict[Str, PulseLine] = Field(default_factory=dict)
    """Gate name -> the AWG channel that drives it through its bias-T (for pulses, video mode)."""


class StationFile(_Section):
    """A dotstack station: QCoDeS' Station YAML plus a `dotstack` section."""

    instruments: dict[InstrumentName, Instrument]
    """QCoDeS instruments by name."""
    dotstack: Dotstack = Field(default_factory=Dotstack)


# -- validation ----------------------------------------------------------------------------
def validate(raw: Any) -> tuple[StationFile | None, list[tuple[tuple[str | int, ...], str]]]:
    """The validated file, or None and every problem as (path of the key, message)."""
    try:
        return StationFile.model_validate(raw), []
    except ValidationError as exc:
        found = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != "[key]")
            found.append((loc, _message(err)))
        return None, found


def _message(err: Any) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "station":
        return str(ctx.get("message", err["msg"]))
    if kind == "missing":
        return "missing"
    if kind == "extra_forbidden":
        return _unknown_key(err["loc"])
    expected = {
        "dict_type": "a mapping", "model_type": "a mapping", "list_type": "a list",
        "string_type": "a string", "bool_type": "true or false", "finite_number": "a finite number",
        "literal_error": str(ctx.get("expected")),
    }
    if kind in expected:
        hint = " (omit the key for no limit)" if kind == "finite_number" and err["loc"][-1] in (
            "max_ramp_rate", "max_step") else ""
        return f"expected {expected[kind]}, got {_show(value)}{hint}"
    bounds = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"must be {bounds[kind]} {limit:g}, got {_show(value)}"
    if kind == "too_short":
        return f"expected at least {ctx.get('min_length')} item(s), got {_show(value)}"
    return f"{err['msg']} (got {_show(value)})"


def _unknown_key(loc: tuple[Any, ...]) -> str:
    model = _model_at(StationFile, loc[:-1])
    allowed = list(model.model_fields) if model else []
    if not allowed:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key ({hint}allowed: {', '.join(allowed)})"


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model validating the mapping at ``loc`` (through fields and dict values)."""
    t: Any = root
    for part in loc:
        t = _unwrap(t)
        if isinstance(t, type) and issubclass(t, BaseModel) and part in t.model_fields:
            t = t.model_fields[part].annotation
        elif typing.get_origin(t) is dict:
            t = typing.get_args(t)[1]
        else:
            return None
    t = _unwrap(t)
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _unwrap(t: Any) -> Any:
    while True:
        origin = typing.get_origin(t)
        if origin is Annotated:
            t = typing.get_args(t)[0]
        elif origin in (typing.Union, types.UnionType):
            t = next(a for a in typing.get_args(t) if a is not type(None))
        else:
            return t


# -- JSON Schema ---------------------------------------------------------------------------
class _Generator(GenerateJsonSchema):
    """Mappings keyed by a name pattern refuse other names (`propertyNames`), rather than
    leaving them unchecked (pydantic's `patternProperties`)."""

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        out = super().dict_schema(schema)
        patterns = out.pop("patternProperties", None)
        if patterns:
            (pattern, values), = patterns.items()
            out["propertyNames"] = {"pattern": pattern, **out.get("propertyNames", {})}
            out["additionalProperties"] = values
        return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a station file (for editors; the loader checks more)."""
    schema = StationFile.model_json_schema(schema_generator=_Generator)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m dotstack.station_schema [--check]``: write (or check) `SCHEMA_PATH`."""
    args = sys.argv[1:] if argv is None else argv
    text = schema_text()
    current = SCHEMA_PATH.read_text() if SCHEMA_PATH.exists() else None
    if "--check" in args:
        if current != text:
            print(f"{SCHEMA_PATH} is stale: run python -m dotstack.station_schema", file=sys.stderr)
            return 1
        return 0
    if current != text:
        SCHEMA_PATH.write_text(text)
        print(f"wrote {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
