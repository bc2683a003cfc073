"""Experiment parameters on the command line: ``-p NAME=VALUE`` read against the experiment
function's signature, before anything connects to an instrument.

Each value is converted by its parameter's annotation (`str`, `int`, `float`, `bool`, fixed and
variable tuples, sequences, mappings, ``X | None``, `Literal`); anything else is read as YAML.
Sweeps ``tuple[float, float, int]`` accept ``-0.2,0.2,11`` as well as ``[-0.2, 0.2, 11]``.
Counts must be integers (``3.5`` is refused, not truncated), floats finite, names known and given
once.  `grid_points` multiplies the point counts of a call (sweep tuples and ``int`` parameters
named ``points``/``steps``/``*_points``/``*_steps``) so that the CLI can refuse absurd grids.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotstack.cli_errors import CliError

#: parameters the CLI fills itself (the station, and --out / --storage-options)
RESERVED: Mapping[str, str] = {"station": "--station", "data_dir": "--out",
                               "storage_options": "--storage-options"}
_NONE = {"none", "null", "~"}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_COUNT = re.compile(r"^(points|steps|.+_points|.+_steps)$")

#: documentation of parameters our experiments share, used when a docstring says nothing
COMMON_DOCS: Mapping[str, str] = {
    "gate": "the gate swept (a name from the station's dotstack.gates)",
    "gates": "the two gates swept, inner axis first",
    "start": "first voltage of the sweep (V)",
    "stop": "last voltage of the sweep (V)",
    "points": "number of points of the sweep (an integer >= 2)",
    "p1": "inner sweep: start, stop (V), points",
    "p2": "outer sweep: start, stop (V), points",
    "set_gates": "gate voltages set before the sweep, e.g. {B1: 0.3} (restored after)",
    "readout": "the readout to read (default: the one that sees the swept gate)",
    "plot": "write a PNG beside the run",
    "progress": "show a progress bar",
    "mode": "software (point by point) or hardware (timed DAC lists triggering the readout)",
    "dwell": "time per point of a hardware-timed row (s; default: the shortest that fits)",
    "settle": "lab time waited before each reading (s)",
    "flank": "which flank of the Coulomb peak to park on: rising or falling",
    "park": "park the gate on the chosen flank after the scan",
}


@dataclass(frozen=True)
class ParamSpec:
    """One experiment parameter as the CLI shows and reads it."""

    name: str
    annotation: Any
    default: Any  # inspect.Parameter.empty when required
    doc: str

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty

    @property
    def type_text(self) -> str:
        return _type_text(self.annotation)


def experiment_params(fn: Callable[..., Any]) -> dict[str, ParamSpec]:
    """The parameters of ``fn`` a user sets with ``-p`` (not the station, --out, --storage-options)."""
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: read those values as YAML
        hints = {}
    docs = param_docs(fn.__doc__ or "")
    out = {}
    for i, (name, p) in enumerate(inspect.signature(fn).parameters.items()):
        if i == 0 or name in RESERVED or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        out[name] = ParamSpec(name, hints.get(name, Any), p.default,
                              docs.get(name) or COMMON_DOCS.get(name, ""))
    return out


def parse_params(experiment: str, fn: Callable[..., Any], items: Sequence[str]) -> dict[str, Any]:
    """``NAME=VALUE`` items as keyword arguments of ``fn``; `CliError` naming the parameter."""
    specs = experiment_params(fn)
    kwargs: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise CliError(f"-p {item!r}: expected NAME=VALUE", hint='e.g. -p points=101')
        if name in RESERVED:
            raise CliError(f"-p {name}: set by the command line", hint=f"use {RESERVED[name]}")
        spec = specs.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(specs), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise CliError(f"{experiment} has no parameter {name!r}",
                           hint=f"{hint}`dotstack run {experiment} --help` lists them: "
                                + ", ".join(specs))
        if name in kwargs:
            raise CliError(f"-p {name} given twice", hint="give each parameter once")
        try:
            kwargs[name] = convert(name, raw.strip(), spec.annotation)
        except CliError as exc:
            if exc.hint is None:
                exc.hint = f"{name} is {spec.type_text}; `dotstack run {experiment} --help` lists them"
            raise
    missing = [s.name for s in specs.values() if s.required and s.name not in kwargs]
    if missing:
        raise CliError(f"{experiment} needs " + ", ".join(missing),
                       hint=f"set it with -p {missing[0]}=VALUE")
    return kwargs


def grid_points(fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(parameter, point count) of every count in a call of ``fn`` (defaults included), each
    checked to be an integer >= 2."""
    counts = []
    for name, spec in experiment_params(fn).items():
        value = kwargs.get(name, spec.default)
        if value is inspect.Parameter.empty or value is None:
            continue
        if _is_sweep(spec.annotation) and isinstance(value, tuple) and len(value) == 3:
            count, label = value[2], f"{name} points"
        elif _strip_none(spec.annotation) is int and _COUNT.match(name):
            count, label = value, name
        else:
            continue
        if isinstance(count, bool) or not isinstance(count, int) or count < 2:
            raise CliError(f"{label}: a sweep needs an integer >= 2 points, got {count!r}",
                           hint="e.g. 101")
        counts.append((name, int(count)))
    return counts


def check_grid(experiment: str, counts: Sequence[tuple[str, int]], limit: int) -> int:
    """The product of ``counts``; `CliError` if it exceeds ``limit``."""
    total = math.prod(n for _, n in counts)
    if total > limit:
        shape = " x ".join(f"{n} ({name})" for name, n in counts)
        raise CliError(f"{experiment}: a grid of {shape} = {total:,} points exceeds the limit of "
                       f"{limit:,}", hint="use fewer points, or raise the limit with --max-points")
    return total


def convert(name: str, raw: str, annotation: Any) -> Any:
    """``raw`` (command-line text) as a value of ``annotation``; `CliError` naming ``name``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) < len(args) and raw.lower() in _NONE:
            return None
        if str in members:
            return raw
        if Path in members:
            return Path(raw)
        errors = []
        for member in members:
            try:
                return convert(name, raw, member)
            except CliError as exc:
                errors.append(exc)
        if len(errors) == 1:
            raise errors[0]
        raise CliError(f"{name}: cannot read {raw!r} as {_type_text(annotation)}")
    if annotation is str:
        if not raw:
            raise CliError(f"{name}: empty value", hint=f"-p {name}=VALUE")
        return raw
    if annotation is Path:
        return Path(raw)
    if annotation is bool:
        low = raw.lower()
        if low in _TRUE | _FALSE:
            return low in _TRUE
        raise CliError(f"{name}: expected true or false, got {raw!r}")
    if annotation is int:
        return _integer(name, raw)
    if annotation is float:
        return _float(name, raw)
    if origin is typing.Literal:
        for choice in args:
            if str(choice) == raw:
                return choice
        raise CliError(f"{name}: {raw!r} is not one of " + ", ".join(map(str, args)))
    if origin is tuple or origin in (list, Sequence, typing.Sequence):
        return _sequence(name, raw, annotation, origin, args)
    if origin in (dict, Mapping, typing.Mapping):
        return _mapping(name, raw, args)
    return _yaml(name, raw)


def _integer(name: str, raw: str) -> int:
    value = _float(name, raw, what="an integer")
    if not value.is_integer():
        raise CliError(f"{name}: must be an integer, got {raw}", hint="counts are whole numbers, e.g. 101")
    return int(value)


def _float(name: str, raw: str, what: str = "a number") -> float:
    try:
        value = float(raw)
    except ValueError:
        raise CliError(f"{name}: expected {what}, got {raw!r}") from None
    if not math.isfinite(value):
        raise CliError(f"{name}: must be finite, got {raw}")
    return value


def _items(raw: str) -> list[str]:
    """``a,b,c``, ``[a, b, c]`` or ``(a, b, c)`` split into stripped items."""
    text = raw.strip()
    if len(text) >= 2 and (text[0], text[-1]) in (("[", "]"), ("(", ")")):
        text = text[1:-1]
    if not text.strip():
        return []
    return [part.strip() for part in text.split(",")]


def _sequence(name: str, raw: str, annotation: Any, origin: Any, args: tuple[Any, ...]) -> Any:
    items = _items(raw)
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(items) != len(args):
            sweep = _is_sweep(annotation)
            example = "-0.2,0.2,101" if sweep else ",".join(_EXAMPLE.get(a, "X") for a in args)
            labels = " (start, stop, points)" if sweep else ""
            raise CliError(f"{name}: expected {len(args)} values{labels}, got {len(items)} in {raw!r}",
                           hint=f"e.g. -p {name}={example} or -p \"{name}=[{example.replace(',', ', ')}]\"")
        types_ = list(args)
    else:
        types_ = [args[0] if args else Any] * len(items)
    if any(not item for item in items):
        raise CliError(f"{name}: empty item in {raw!r}")
    values = [convert(f"{name}[{i}]", item, t) for i, (item, t) in enumerate(zip(items, types_, strict=True))]
    return values if origin is list else tuple(values)


def _mapping(name: str, raw: str, args: tuple[Any, ...]) -> dict[str, Any]:
    """``{B1: 0.3, B2: 0.3}`` or ``B1=0.3,B2=0.3``; duplicate keys refused."""
    text = raw.strip()
    if len(text) >= 2 and text[0] == "{" and text[-1] == "}":
        text = text[1:-1]
    value_type = args[1] if len(args) == 2 else Any
    out: dict[str, Any] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, sep, value = (part.partition(":") if ":" in part else part.partition("="))
        key = key.strip()
        if not sep or not key:
            raise CliError(f"{name}: expected KEY: VALUE pairs, got {part!r}",
                           hint=f'e.g. -p "{name}={{B1: 0.3, B2: 0.3}}"')
        if key in out:
            raise CliError(f"{name}: key {key!r} given twice")
        out[key] = convert(f"{name}.{key}", value.strip(), value_type)
    return out


def _yaml(name: str, raw: str) -> Any:
    import yaml

    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise CliError(f"{name}: not a valid value ({str(exc).splitlines()[0]})") from None
    return tuple(value) if isinstance(value, list) else value


_EXAMPLE = {float: "0.1", int: "101", str: "P1"}


def _strip_none(annotation: Any) -> Any:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _is_sweep(annotation: Any) -> bool:
    ann = _strip_none(annotation)
    return typing.get_origin(ann) is tuple and typing.get_args(ann) == (float, float, int)


def _type_text(annotation: Any) -> str:
    if annotation is Any:
        return "any"
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    if _is_sweep(annotation):
        return "start,stop,points"
    text = str(annotation).replace("typing.", "").replace("collections.abc.", "")
    return re.sub(r"\b[a-z_]+\.(?:[a-z_]+\.)*([A-Z]\w*)", r"\1", text)


def param_docs(doc: str) -> dict[str, str]:
    """Per-parameter text of a docstring: numpydoc (``Parameters`` / ``----------``), Google
    (``Args:``) or Sphinx (``:param name:``) style."""
    lines = inspect.cleandoc(doc).splitlines()
    docs: dict[str, str] = {}
    for line in lines:
        m = re.match(r"\s*:param\s+(?:\S+\s+)?(\w+):\s*(.*)", line)
        if m:
            docs[m.group(1)] = m.group(2).strip()
    for i, line in enumerate(lines):
        head, indent = line.strip(), _depth(line)
        if head == "Parameters" and i + 1 < len(lines) and set(lines[i + 1].strip()) == {"-"}:
            docs.update(_section(lines[i + 2:], indent, r"(\w+)\s*(?::.*)?$", entry_depth=indent))
        elif head in ("Args:", "Arguments:", "Parameters:"):
            docs.update(_section(lines[i + 1:], indent, r"(\w+)\s*(?:\([^)]*\))?:\s*(.*)"))
    return docs


def _depth(line: str) -> int:
    return len(line) - len(line.lstrip())


def _section(lines: Sequence[str], indent: int, entry: str, entry_depth: int | None = None
             ) -> dict[str, str]:
    """Entries of a parameter section: lines at the entry depth match ``entry`` (group 1 the
    name, group 2 if any the start of its text); deeper lines continue the text."""
    docs: dict[str, str] = {}
    current = None
    for k, line in enumerate(lines):
        if not line.strip():
            continue
        depth = _depth(line)
        if entry_depth is None:
            if depth <= indent:
                break
            entry_depth = depth
        if depth < entry_depth or (k + 1 < len(lines) and set(lines[k + 1].strip()) == {"-"}):
            break
        if depth == entry_depth:
            m = re.match(entry, line.strip())
            if m is None:
                break
            current = m.group(1)
            docs[current] = m.group(2).strip() if m.lastindex and m.lastindex >= 2 else ""
        elif current is not None:
            docs[current] = f"{docs[current]} {line.strip()}".strip()
    return docs
